// tsr_delay_lanes: the skew (lane i delayed i cycles) in front of the array and the deskew
// (lane i delayed Lanes-1-i) behind it. Two models: skew at Lanes=5 Width=9 (the array's
// activation + bank lane), deskew at Lanes=3 Width=32 (a column sum lane).
#include <cstdint>
#include <random>
#include <vector>

#include "Vtsr_delay_lanes.h"
#include "Vtsr_delay_lanes_deskew.h"
#include "block_bench.hpp"

namespace {

using tessera::rtl_test::BlockBench;

// Feeds random lane values for many cycles and checks out[t][i] == in[t - delay(i)].
template <class Model, class Pack, class Unpack>
void check_delays(BlockBench<Model>& bench, int lanes, int width, const std::vector<int>& delay,
                  std::uint64_t seed, Pack pack, Unpack unpack) {
  std::mt19937_64 rng(seed);
  const std::uint64_t mask = width >= 64 ? ~0ull : (1ull << width) - 1;
  std::vector<std::vector<std::uint64_t>> in;
  int mismatches = 0;
  for (int t = 0; t < 2000; ++t) {
    std::vector<std::uint64_t> lane_values(lanes);
    for (auto& v : lane_values) v = rng() & mask;
    in.push_back(lane_values);
    pack(bench.dut(), lane_values);
    bench.settle();
    for (int i = 0; i < lanes; ++i) {
      const int src = t - delay[i];
      if (src < 0) continue;  // still the power-up contents
      const std::uint64_t got = unpack(bench.dut(), i);
      if (got != in[src][i] && ++mismatches <= 5) {
        FAIL_CHECK("cycle " << t << " lane " << i << ": expected the value of cycle " << src << " ("
                            << in[src][i] << "), got " << got);
      }
    }
    bench.tick();
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("delay_lanes: skew delays lane i by i cycles", "[delay_lanes]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_delay_lanes_tests", "delay_lanes: skew delays lane i by i cycles");
  INFO("seed " << seed);
  BlockBench<Vtsr_delay_lanes> skew;
  check_delays(
      skew, 5, 9, {0, 1, 2, 3, 4}, seed,
      [](Vtsr_delay_lanes& d, const std::vector<std::uint64_t>& v) {
        // 45 bits: lane i at [9i +: 9].
        std::uint64_t word = 0;
        for (int i = 0; i < 5; ++i) word |= v[i] << (9 * i);
        d.data_i = word;
      },
      [](Vtsr_delay_lanes& d, int i) { return (d.data_o >> (9 * i)) & 0x1FF; });
}

TEST_CASE("delay_lanes: deskew delays lane i by Lanes-1-i cycles", "[delay_lanes]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_delay_lanes_tests", "delay_lanes: deskew delays lane i by Lanes-1-i cycles");
  INFO("seed " << seed);
  BlockBench<Vtsr_delay_lanes_deskew> deskew;
  check_delays(
      deskew, 3, 32, {2, 1, 0}, seed,
      [](Vtsr_delay_lanes_deskew& d, const std::vector<std::uint64_t>& v) {
        for (int i = 0; i < 3; ++i) d.data_i[i] = static_cast<std::uint32_t>(v[i]);
      },
      [](Vtsr_delay_lanes_deskew& d, int i) { return std::uint64_t{d.data_o[i]}; });
}
