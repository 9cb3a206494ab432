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
