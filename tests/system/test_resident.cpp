// Resident operands: weights and parameters stay in the engine's scratchpads across
// run_gemm calls while they do not change. What is sent is counted at the transport, by
// decoding the command words written to CMD0..CMD3 and the input bytes streamed, not
// taken from anything the runtime reports about itself.
#include <catch2/catch.hpp>

#include "backend.hpp"
#include "counting_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"

using namespace tessera;
using tessera::test::CountingTransport;

namespace {

constexpr unsigned kAct = static_cast<unsigned>(isa::Target::kAct);
constexpr unsigned kWgt = static_cast<unsigned>(isa::Target::kWgt);
constexpr unsigned kParam = static_cast<unsigned>(isa::Target::kParam);

// Runs the problem and checks it bit-exactly; returns what the run sent.
CountingTransport::Counts run_exact(Device& device, CountingTransport& counter,
                                    const GemmProblem& problem) {
  counter.counts = {};
  const GemmRun run = run_gemm(device, problem);
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run.output.shape == want.shape);
  CHECK(run.output.data == want.data);
  return counter.counts;
}

struct Rig {
  std::unique_ptr<Transport> engine = test::make_test_transport();
  CountingTransport counter{*engine};
  Device device{counter};
};

}  // namespace

TEST_CASE("a second identical run sends no weights and no parameters", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  // Several column blocks and row blocks, more rows than one M chunk.
  const GemmProblem problem = random_problem(3 * cfg.rows + 5, 2 * cfg.rows + 3, 3 * cfg.cols + 2,
                                             501, {true, false, true});
  const auto first = run_exact(rig.device, rig.counter, problem);
  CHECK(first.loads[kWgt] > 0);
  CHECK(first.loads[kParam] > 0);
  CHECK(first.load_words[kWgt] >= 3 * (2 * cfg.rows + 3));  // every row of B, at least

  const auto second = run_exact(rig.device, rig.counter, problem);
  CHECK(second.loads[kWgt] == 0);
  CHECK(second.loads[kParam] == 0);
  CHECK(second.gemms > 0);
  // Whatever is still sent is activations, one input beat a word.
  CHECK(second.stream_bytes == second.load_words[kAct] * cfg.in_beat_bytes);
  CHECK(second.stream_bytes < first.stream_bytes);
}

TEST_CASE("changing one weight or one bias reloads it, and the result follows", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  GemmProblem problem =
      random_problem(2 * cfg.rows + 1, 2 * cfg.rows, 2 * cfg.cols + 1, 502, {true, true, true});
  const auto first = run_exact(rig.device, rig.counter, problem);

  problem.b.at(cfg.rows + 1, cfg.cols) =
      static_cast<std::int8_t>(problem.b.at(cfg.rows + 1, cfg.cols) ^ 0x55);
  const auto weight_changed = run_exact(rig.device, rig.counter, problem);
  CHECK(weight_changed.loads[kWgt] >= 1);
  CHECK(weight_changed.load_words[kWgt] < first.load_words[kWgt]);
  CHECK(weight_changed.loads[kParam] == 0);

  problem.bias[1] += 1000;
  const auto bias_changed = run_exact(rig.device, rig.counter, problem);
  CHECK(bias_changed.loads[kWgt] == 0);
  CHECK(bias_changed.loads[kParam] >= 1);
}

TEST_CASE("two weight matrices in turn both stay exact, and both stay resident when they fit",
          "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const std::size_t k = 2 * cfg.rows, n = 2 * cfg.cols;  // 4 blocks of Rows words each
  const GemmProblem one = random_problem(cfg.rows + 3, k, n, 503, {true, false, true});
  const GemmProblem two = random_problem(cfg.rows + 3, k, n, 504, {true, false, true});
  const bool both_fit =
      2 * (k / cfg.rows) * (n / cfg.cols) * cfg.rows <= cfg.wgt_depth && 2 * n <= cfg.param_depth;
  REQUIRE(both_fit);  // both engine builds have the room; the case is about using it
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    const auto with_one = run_exact(rig.device, rig.counter, one);
    const auto with_two = run_exact(rig.device, rig.counter, two);
    if (round > 0) {
      CHECK(with_one.loads[kWgt] == 0);
      CHECK(with_two.loads[kWgt] == 0);
      CHECK(with_one.loads[kParam] == 0);
      CHECK(with_two.loads[kParam] == 0);
    }
  }
}

TEST_CASE("B larger than WGT still runs exactly, and a repeat still runs exactly", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  // Each column block needs 2 Rows words; more blocks than the WGT holds.
  const std::size_t n = (cfg.wgt_depth / (2 * cfg.rows) + 1) * cfg.cols;
  const GemmProblem problem = random_problem(cfg.rows + 2, 2 * cfg.rows, n, 505, {});
  run_exact(rig.device, rig.counter, problem);
  run_exact(rig.device, rig.counter, problem);
}

TEST_CASE("residency is dropped after an engine error and CLEAR, and after a reset", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const GemmProblem problem =
      random_problem(cfg.rows + 4, 2 * cfg.rows + 1, 2 * cfg.cols + 3, 506, {true, false, true});
  run_exact(rig.device, rig.counter, problem);
  REQUIRE(run_exact(rig.device, rig.counter, problem).loads[kWgt] == 0);

  // A LOAD past the end of WGT latches ADDR_RANGE; the host learns of it and clears.
  rig.device.push(isa::encode(isa::LoadCommand{isa::Target::kWgt, cfg.wgt_depth - 1, 2}));
  rig.device.transport().wait_idle(10'000);
  CHECK_THROWS_AS(rig.device.check_error(), EngineError);
  rig.device.clear();
  const auto after_error = run_exact(rig.device, rig.counter, problem);
  CHECK(after_error.loads[kWgt] > 0);
  CHECK(after_error.loads[kParam] > 0);
  REQUIRE(run_exact(rig.device, rig.counter, problem).loads[kWgt] == 0);

  // A CLEAR on its own drops it too: a LOAD it aborted may have written part of its range.
  rig.device.clear();
  CHECK(run_exact(rig.device, rig.counter, problem).loads[kWgt] > 0);

  rig.device.reset();
  const auto after_reset = run_exact(rig.device, rig.counter, problem);
  CHECK(after_reset.loads[kWgt] > 0);
  CHECK(after_reset.loads[kParam] > 0);
}

TEST_CASE("a LOAD pushed around the runtime is not mistaken for resident weights", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const GemmProblem problem =
      random_problem(cfg.rows + 1, cfg.rows, 2 * cfg.cols, 507, {true, false, true});
  run_exact(rig.device, rig.counter, problem);
  // Overwrite all of WGT with zeros through a raw LOAD: the next run must resend B.
  std::vector<std::uint8_t> zeros(std::size_t{cfg.wgt_depth} * cfg.cols, 0);
  rig.device.push(isa::encode(isa::LoadCommand{isa::Target::kWgt, 0, cfg.wgt_depth}));
  rig.device.queue_words(zeros, cfg.cols);  // after its LOAD, as a bounded transport needs
  const auto after = run_exact(rig.device, rig.counter, problem);
  CHECK(after.loads[kWgt] > 0);
}

namespace {

ResidentWeights upload(Device& device, const GemmProblem& problem) {
  return upload_weights(device, problem.b, problem.bias, problem.requant, problem.clamp_lo,
                        problem.clamp_hi);
}

// run_gemm(device, a, weights), checked bit-exactly against the golden reference of
// `problem` with its A replaced by `a`; returns what the run sent.
CountingTransport::Counts run_resident_exact(Device& device, CountingTransport& counter,
                                             const Tensor<std::int8_t>& a,
                                             const ResidentWeights& weights, GemmProblem problem) {
  counter.counts = {};
  problem.a = a;
  const GemmRun run = run_gemm(device, a, weights);
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run.output.shape == want.shape);
  CHECK(run.output.data == want.data);
  return counter.counts;
}

}  // namespace

TEST_CASE("upload_weights sends B once: GEMMs on the handle send only activations", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const std::size_t k = 2 * cfg.rows + 3, n = 3 * cfg.cols + 2;
  // Per-channel requantization, the second problem per tensor.
  for (const bool per_channel : {true, false}) {
    INFO("per_channel " << per_channel);
    const GemmProblem problem =
        random_problem(3 * cfg.rows + 5, k, n, per_channel ? 511 : 512, {true, false, per_channel});
    rig.counter.counts = {};
    const ResidentWeights weights = upload(rig.device, problem);
    const auto uploaded = rig.counter.counts;
    CHECK(uploaded.loads[kWgt] == 1);
    CHECK(uploaded.loads[kParam] == 1);
    CHECK(uploaded.gemms == 0);
    CHECK(uploaded.stream_bytes ==
          (uploaded.load_words[kWgt] + uploaded.load_words[kParam]) * cfg.in_beat_bytes);

    // Three different A's, each of several M chunks: no weight or parameter byte again.
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
      const Tensor<std::int8_t> a = random_problem(2 * cfg.rows + 7 * seed + 1, k, 1, 520 + seed).a;
      const auto sent = run_resident_exact(rig.device, rig.counter, a, weights, problem);
      CHECK(sent.loads[kWgt] == 0);
      CHECK(sent.loads[kParam] == 0);
      CHECK(sent.gemms > 0);
      CHECK(sent.stream_bytes == sent.load_words[kAct] * cfg.in_beat_bytes);
    }
  }
}

TEST_CASE("resident weights evicted by another B are sent again, and stay exact", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const GemmProblem problem =
      random_problem(cfg.rows + 2, cfg.rows, 2 * cfg.cols, 513, {true, false, true});
  const ResidentWeights weights = upload(rig.device, problem);
  // A raw LOAD over all of WGT evicts it.
  std::vector<std::uint8_t> zeros(std::size_t{cfg.wgt_depth} * cfg.cols, 0);
  rig.device.push(isa::encode(isa::LoadCommand{isa::Target::kWgt, 0, cfg.wgt_depth}));
  rig.device.queue_words(zeros, cfg.cols);
  const auto after = run_resident_exact(rig.device, rig.counter, problem.a, weights, problem);
  CHECK(after.loads[kWgt] > 0);
  const auto again = run_resident_exact(rig.device, rig.counter, problem.a, weights, problem);
  CHECK(again.loads[kWgt] == 0);
}

TEST_CASE("resident weights beyond one pass of K, and beyond WGT, run exactly", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const std::size_t long_k = max_k(cfg) + cfg.rows + 3;
  const GemmProblem split =
      random_problem(cfg.rows + 1, long_k, cfg.cols + 1, 514, {true, false, true});
  const ResidentWeights split_weights = upload(rig.device, split);
  run_resident_exact(rig.device, rig.counter, split.a, split_weights, split);

  const std::size_t wide_n = (cfg.wgt_depth / (2 * cfg.rows) + 1) * cfg.cols;
  const GemmProblem wide = random_problem(cfg.rows + 2, 2 * cfg.rows, wide_n, 515, {});
  const ResidentWeights wide_weights = upload(rig.device, wide);
  run_resident_exact(rig.device, rig.counter, wide.a, wide_weights, wide);
}

TEST_CASE("resident weights refuse a malformed B and an A of another K", "[runtime]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const GemmProblem problem = random_problem(4, cfg.rows, cfg.cols, 516, {true, true, true});
  std::vector<std::int32_t> short_bias(problem.n() - 1, 0);
  CHECK_THROWS_WITH(upload_weights(rig.device, problem.b, short_bias), Catch::Contains("bias has"));
  Tensor<std::int8_t> flat;
  flat.shape = {problem.b.data.size()};
  flat.data = problem.b.data;
  CHECK_THROWS_AS(upload_weights(rig.device, flat), InputError);

  const ResidentWeights weights = upload(rig.device, problem);
  const Tensor<std::int8_t> wrong_k(3, cfg.rows + 1);
  CHECK_THROWS_WITH(run_gemm(rig.device, wrong_k, weights), Catch::Contains("shape mismatch"));
  // Nothing was sent for the refused calls, and the handle still works.
  run_resident_exact(rig.device, rig.counter, problem.a, weights, problem);
}
