// End-to-end testbench for tsr_top at the configuration scripts/synth.sh synthesizes
// (Rows=4 Cols=4 ActDepth=64 WgtDepth=64 AccDepth=16 ParamDepth=16). Compiled twice from
// this one file: against the RTL (test rtl_top_tb, which shows the testbench is right) and
// against Yosys's gate-level netlist (netlist_check.sh, test rtl_netlist), because a
// synthesis frontend can mis-synthesize silently.
//
// Only the top-level ports are used (the netlist has nothing else): LOADs and GEMMs go in
// through the AXI4-Lite command registers and the AXI4-Stream slave, results come back on
// the AXI4-Stream master and are compared bit-exactly with a small C++ reference (its
// requantization and command encoding from libtessera: netlist_check.sh compiles
// sw/src/golden.cpp and sw/src/isa.cpp in, CMake links the tessera library).
//
// Usage: <binary> [--seed N] [--verbose]. Exit 0 when every case matches, 1 with the first
// mismatch printed, 2 on a configuration mismatch (wrong netlist).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine_bench.hpp"

namespace {

using namespace tessera::rtl_test;

std::vector<Step> make_cases(std::mt19937_64& rng) {
  std::vector<Step> steps;
  {
    Gemm g = random_gemm("raw int32, 5x8 * 8x8 (kt=2, nt=2)", 5, 8, 8, rng);
    g.params[1].bias = INT32_MAX;  // acc + bias wraps
    g.params[6].bias = INT32_MIN;
    steps.push_back({{g}});
  }
  {
    Gemm g =
        random_gemm("raw int32, M=16 (AccDepth), bases 3/8/2, result back-pressure", 16, 4, 4, rng);
    g.act_base = 3;
    g.wgt_base = 8;
    g.param_base = 2;
    steps.push_back({{g}, false, 40});
  }
  {
    Gemm g = random_gemm("raw int32, M=1, 1x16 * 16x12 (kt=4, nt=3)", 1, 16, 12, rng);
    steps.push_back({{g}});
  }
  {
    Gemm g =
        random_gemm("requantized per-channel, 3x12 * 12x4, zp -5, clamp [-100, 90]", 3, 12, 4, rng);
    g.requant = true;
    g.zero_point = -5;
    g.clamp_lo = -100;
    g.clamp_hi = 90;
    scale_params(g, rng);
    g.params[2].shift = 1;  // one channel shifting left, with a small multiplier
    g.params[2].mult = 0x00012345;
    steps.push_back({{g}});
  }
  {
    Gemm g =
        random_gemm("requantized per-tensor, 7x5 * 5x3 (padded), commands queued", 7, 5, 3, rng);
    g.requant = true;
    g.per_channel = false;
    g.zero_point = 3;
    scale_params(g, rng);
    steps.push_back({{g}, true});
  }
  {
    // docs/isa.md: per_channel=0 takes the multiplier/shift of param_base for all channels.
    Gemm g = random_gemm("requantized per-tensor, 3x4 * 4x8 (nt=2)", 3, 4, 8, rng);
    g.requant = true;
    g.per_channel = false;
    scale_params(g, rng);
    steps.push_back({{g}});
  }
  {
    // The runtime's double-buffering: the second GEMM's operands go elsewhere, and its LOADs
    // run while the first computes.
    Gemm g1 = random_gemm("back-to-back #1, raw 6x8 * 8x8", 6, 8, 8, rng);
    Gemm g2 = random_gemm("back-to-back #2, requantized 4x4 * 4x8", 4, 4, 8, rng);
    g2.act_base = 32;
    g2.wgt_base = 32;
    g2.param_base = 8;
    g2.requant = true;
    g2.clamp_lo = 0;  // ReLU
    scale_params(g2, rng);
    steps.push_back({{g1, g2}, true});
  }
  if (kSparse) {
    // The sparse-gather path: B with most entries zero, packed per column.
    const auto thin = [&](Gemm& g, unsigned keep_percent) {
      for (auto& b : g.b)
        if (rng() % 100 >= keep_percent) b = 0;
      g.sparse = true;
    };
    Gemm s1 = random_gemm("SPGEMM raw, 3x12 * 12x8 (nt=2), 30 % dense", 3, 12, 8, rng);
    thin(s1, 30);
    s1.gbuf_base = 4;
    s1.wgt_base = 8;
    s1.meta_base = 2;
    steps.push_back({{s1}});
    // Behind a dense GEMM and ahead of one, commands queued before any data.
    Gemm d1 = random_gemm("dense before, raw 4x4 * 4x4", 4, 4, 4, rng);
    Gemm s2 = random_gemm("SPGEMM requantized, 4x20 * 20x4, 50 % dense", 4, 20, 4, rng);
    thin(s2, 50);
    s2.requant = true;
    s2.zero_point = 2;
    scale_params(s2, rng);
    s2.param_base = 4;
    s2.wgt_base = 16;
    Gemm d2 = random_gemm("dense after, raw 2x8 * 8x4", 2, 8, 4, rng);
    d2.act_base = 16;
    d2.wgt_base = 40;
    d2.param_base = 8;
    steps.push_back({{d1, s2, d2}, true});
    // SPGEMMA: sparse activations (two row blocks), behind and ahead of SPGEMMs, so each
    // hand-off direction follows the other.
    Gemm a1 = random_gemm("SPGEMMA requantized, 8x10 * 10x4, A 40 % dense", 2 * kCols, 10,
                          kCols, rng);
    for (auto& a : a1.a)
      if (rng() % 100 >= 40) a = 0;
    a1.sparse = a1.sparse_a = true;
    a1.requant = true;
    a1.clamp_lo = 0;  // ReLU
    scale_params(a1, rng);
    a1.gbuf_base = 12;
    a1.wgt_base = 24;
    a1.meta_base = 10;
    a1.param_base = 8;
    Gemm s3 = random_gemm("SPGEMM raw, 2x6 * 6x4, 50 % dense", 2, 6, 4, rng);
    thin(s3, 50);
    s3.gbuf_base = 24;
    s3.wgt_base = 48;
    s3.meta_base = 24;
    steps.push_back({{s3, a1, s3}, true});
  }
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (!std::strcmp(argv[i], "--verbose")) {
      verbose = true;
    } else {
      std::fprintf(stderr, "usage: %s [--seed N] [--verbose]\n", argv[0]);
      return 2;
    }
  }
  std::printf("tsr_top end-to-end testbench, seed %llu (replay: %s --seed %llu)\n",
              static_cast<unsigned long long>(seed), argv[0],
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  try {
    Engine engine(seed ^ 0x9E3779B97F4A7C15ull);
    check_config(engine);
    int failures = 0;
    for (const Step& step : make_cases(rng)) {
      std::string names;
      for (const Gemm& g : step.gemms) names += (names.empty() ? "" : " + ") + g.name;
      const std::uint64_t start = engine.cycle;
      const StepResult result = run_step(engine, step, rng, verbose);
      if (!result.mismatch.empty()) {
        std::printf("FAIL %s\n  first mismatch: %s\n", names.c_str(), result.mismatch.c_str());
        ++failures;
        break;  // the engine state is suspect from here on
      }
      std::printf("ok   %s (%llu cycles)\n", names.c_str(),
                  static_cast<unsigned long long>(engine.cycle - start));
    }
    if (failures) return 1;
  } catch (const Failure& f) {
    std::printf("FAIL %s\n", f.what.c_str());
    return 1;
  } catch (const ConfigMismatch& c) {
    std::printf("config mismatch: %s (a netlist synthesized with other parameters?)\n",
                c.what.c_str());
    return 2;
  }
  std::printf("all GEMMs match the reference bit-exactly\n");
  return 0;
}
