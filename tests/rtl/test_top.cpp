// tsr_top at 4x4 through its ports (engine_bench.hpp): the behaviours of the store path that
// only show with the whole engine, i.e. where a block test cannot see them. The broad GEMM
// sweep is netlist_tb.cpp's (rtl_top_tb here, rtl_netlist on the gate-level netlist).
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>

#include "block_bench.hpp"
#include "engine_bench.hpp"

using namespace tessera::rtl_test;

namespace {

// A requantized GEMM over two column blocks whose channels carry different scales.
Gemm two_block_requant_gemm(std::mt19937_64& rng, bool per_channel) {
  Gemm g = random_gemm("requantized, 3x4 * 4x8 (nt=2)", 3, 4, 8, rng);
  g.requant = true;
  g.per_channel = per_channel;
  scale_params(g, rng);
  return g;
}

}  // namespace

TEST_CASE("top: per-channel requantization takes each channel's multiplier and shift", "[top]") {
  const std::uint64_t seed = test_seed(
      "rtl_top_tests", "top: per-channel requantization takes each channel's multiplier and shift");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  Engine engine(seed);
  const StepResult result = run_step(engine, {{two_block_requant_gemm(rng, true)}}, rng, false);
  CHECK(result.mismatch == "");
}

// docs/isa.md: per_channel=0 applies the multiplier/shift of the command's first channel
// (param_base) to every column block, not each block's own first channel.
TEST_CASE("top: per-tensor requantization uses param_base's scale for every column block",
          "[top]") {
  const std::uint64_t seed =
      test_seed("rtl_top_tests",
                "top: per-tensor requantization uses param_base's scale for every column block");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  Engine engine(seed);
  Gemm g = two_block_requant_gemm(rng, false);
  REQUIRE(g.expected(true) != g.expected());  // the data can tell the two readings apart
  const StepResult result = run_step(engine, {{g}}, rng, false);
  CHECK(result.mismatch == "");
}
