// Runtime <-> engine: seeded random GEMMs of awkward shapes, bit-exact against the
// golden reference, on whichever engine build this binary links.
#include <catch2/catch.hpp>
#include <sstream>

#include "backend.hpp"
#include "sim_transport.hpp"
#include "tessera/device.hpp"
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
      << (o.relu ? " relu" : "") << (o.per_channel ? "" : " per-tensor")
      << "  (reproduce: tessera gemm --m " << s.m << " --k " << s.k << " --n " << s.n << " --seed "
      << seed << (o.relu ? " --relu" : (o.requant ? " --requant" : "")) << " --check, on a "
      << sim::sim_config_name() << " build)";
  return out.str();
}

void check_gemm(Device& device, const Shape& shape, std::uint64_t seed,
                const RandomOptions& options) {
  INFO(describe(shape, seed, options));
  const GemmProblem problem = random_problem(shape.m, shape.k, shape.n, seed, options);
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
  }
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
}

TEST_CASE("back-to-back runs on one device stay exact", "[runtime]") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    check_gemm(device, {9 + seed, 5 * seed, 3 + 2 * seed}, seed,
               {seed % 2 == 0, seed % 3 == 0, true});
  }
}
