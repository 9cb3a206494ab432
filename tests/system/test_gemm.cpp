// Runtime <-> engine: seeded random GEMMs of awkward shapes, bit-exact against the
// golden reference, on whichever engine build this binary links.
#include <catch2/catch.hpp>
#include <sstream>

#include "backend.hpp"
#include "sim_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/quantized.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"

using namespace tessera;

namespace {

struct Shape {
  std::size_t m, k, n;
};

std::string describe(const Shape& s, std::uint64_t seed, const RandomOptions& o) {
  std::ostringstream out;
  out << s.m << "x" << s.k << "x" << s.n << " seed " << seed << (o.requant ? " requant" : "")
      << (o.relu ? " relu" : "") << (o.per_channel ? "" : " per-tensor") << " rounding "
      << rounding_name(o.rounding) << "  (reproduce: tessera gemm --m " << s.m << " --k " << s.k
      << " --n " << s.n << " --seed " << seed
      << (o.relu ? " --relu" : (o.requant ? " --requant" : "")) << " --rounding "
      << rounding_name(o.rounding) << " --check, on a " << sim::sim_config_name() << " build)";
  return out.str();
}

void check_problem(Device& device, const GemmProblem& problem) {
  const GemmRun run = run_gemm(device, problem);
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run.output.shape == want.shape);
  for (std::size_t r = 0; r < want.rows(); ++r) {
    for (std::size_t c = 0; c < want.cols(); ++c) {
      INFO("first mismatch at row " << r << ", col " << c);
      REQUIRE(run.output.at(r, c) == want.at(r, c));
    }
  }
  CHECK(run.cycles > 0);
}

void check_gemm(Device& device, const Shape& shape, std::uint64_t seed,
                const RandomOptions& options) {
  INFO(describe(shape, seed, options));
  check_problem(device, random_problem(shape.m, shape.k, shape.n, seed, options));
}

constexpr RandomOptions kSingle{true, false, true, Rounding::kSingle};
constexpr RandomOptions kSingleReluPerTensor{true, true, false, Rounding::kSingle};

}  // namespace

TEST_CASE("random GEMMs of awkward shapes match the golden reference", "[runtime]") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto& cfg = device.config();
  const std::size_t r = cfg.rows, c = cfg.cols;
  const std::size_t big_m = 2 * cfg.acc_depth + 3;  // more rows than an accumulator bank
  const std::vector<Shape> shapes = {
      {1, 1, 1},
      {7, 13, 5},
      {31, 17, 29},
      {r, r, c},
      {r + 1, r - 1, c + 1},
      {3, 9 * r + 2, 2},                  // K >> Rows
      {2 * r + 5, 4 * r + 3, 3 * c + 1},  // several folds each way
      {big_m, 2 * r + 1, c + 3},
      {5, r + 2, cfg.param_depth + c + 1},  // more output channels than PARAM holds
  };
  std::uint64_t seed = 1000;
  for (const Shape& shape : shapes) {
    check_gemm(device, shape, ++seed, {});
    check_gemm(device, shape, ++seed, {true, false, true});
    check_gemm(device, shape, ++seed, {true, true, false});
    check_gemm(device, shape, ++seed, kSingle);
  }
}

TEST_CASE("both rounding modes run in the engine, each exact to its reference", "[runtime]") {
  // Small sums scaled by 1/4 .. 3/16 land on and near ties, where the modes part: the
  // same GEMM must come back different in some outputs, each side equal to its golden.
  auto transport = test::make_test_transport();
  Device device(*transport);
  GemmProblem problem = random_problem(24, 7, 2 * device.config().cols + 1, 5150, kSingle);
  for (auto& v : problem.a.data) v = static_cast<std::int8_t>(v % 4);
  for (auto& v : problem.b.data) v = static_cast<std::int8_t>(v % 4);
  for (auto& v : problem.bias) v %= 16;
  auto& rq = *problem.requant;
  for (std::size_t n = 0; n < rq.multiplier.size(); ++n) {
    rq.multiplier[n] = n % 2 == 0 ? 1 << 30 : 3 << 29;  // 0.5 and 0.75
    rq.shift[n] = -1 - static_cast<int>(n % 3);
  }
  problem.clamp_lo = -128;
  problem.clamp_hi = 127;
  const Tensor<std::int32_t> single = golden_gemm(problem);
  check_problem(device, problem);
  rq.rounding = Rounding::kDouble;
  const Tensor<std::int32_t> twice = golden_gemm(problem);
  check_problem(device, problem);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < single.data.size(); ++i) differ += single.data[i] != twice.data[i];
  INFO(differ << " of " << single.data.size() << " outputs differ between the modes");
  CHECK(differ > 0);
}

TEST_CASE("the largest K one pass reduces, and more rows than the scratchpad holds", "[runtime]") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto& cfg = device.config();
  const std::size_t k = max_k(cfg);
  const std::size_t m = cfg.act_depth / (k / cfg.rows) + 7;  // ACT cannot hold all of A
  check_gemm(device, {m, k, cfg.cols + 1}, 77, {true, false, true});
}

TEST_CASE("K beyond one pass is split, with the epilogue on the host", "[runtime]") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const std::size_t k = 2 * max_k(device.config()) + 5;
  check_gemm(device, {9, k, 5}, 91, {});
  check_gemm(device, {9, k, 5}, 92, {true, true, true});
  check_gemm(device, {9, k, 5}, 93, kSingleReluPerTensor);
}

TEST_CASE("back-to-back runs on one device stay exact", "[runtime]") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    check_gemm(device, {9 + seed, 5 * seed, 3 + 2 * seed}, seed,
               {seed % 2 == 0, seed % 3 == 0, true});
  }
}

TEST_CASE("quantized GEMMs (uint8, zero points) lowered onto the engine stay exact",
          "[runtime][quantized]") {
  // Both lowerings: zero points folded into the bias (the engine requantizes), and a
  // weight zero point's row term corrected on the host after a raw engine GEMM.
  auto transport = test::make_test_transport();
  Device device(*transport);
  const std::size_t m = device.config().rows + 3, k = 2 * device.config().rows + 1,
                    n = device.config().cols + 2;
  const GemmProblem base = random_problem(m, k, n, 6060, kSingle);
  for (const bool weight_zero : {false, true}) {
    for (const DType type : {DType::kUint8, DType::kInt8}) {
      QuantizedGemm q;
      q.a_type = q.out_type = type;
      q.a.shape = base.a.shape;
      q.b.shape = base.b.shape;
      const std::int32_t lift = type == DType::kUint8 ? 128 : 0;
      for (std::int8_t v : base.a.data) q.a.data.push_back(v + lift);
      for (std::int8_t v : base.b.data) q.b.data.push_back(v);
      q.a_zero_point = lift + 9;
      if (weight_zero) {
        for (std::size_t i = 0; i < n; ++i) q.b_zero_point.push_back(static_cast<int>(i % 5) - 2);
      }
      q.bias = base.bias;
      q.requant = base.requant;
      q.requant->zero_point = lift - 3;
      INFO((weight_zero ? "with" : "without") << " a weight zero point, " << dtype_name(type));
      const LoweredGemm lowered = lower(q);
      CHECK(lowered.host_epilogue == weight_zero);
      const GemmRun run = run_gemm(device, lowered.engine);
      CHECK(lowered.finish(run.output).data == golden_quantized_gemm(q).data);
    }
  }
}
