// tsr_requant: one store lane, bit-exact against TFLite's integer requantization in both
// rounding modes (double: gemmlowp / TFLite Micro; single: TFLITE_SINGLE_ROUNDING).
// Stage-1 inputs (requant, acc, bias, multiplier, shift) are presented in cycle t, the zero
// point in t+7 and the clamp in t+8 (tsr_pkg::rq_zp_at, rq_clamp_at: the store unit
// presents them there), and the result shows after the ninth edge (tsr_pkg::rq_latency);
// the Lean lane (the iCEBreaker's, here with double rounding only) takes each three
// cycles sooner, and the Deep lane (the ULX3S's) shows its result a cycle later. The test keeps that pipeline full with a new vector every cycle,
// and holds each setting only in its own cycle, so a wrong latency, a setting read in the
// wrong stage or a leak between neighbouring vectors shows as a mismatch.
//
// Only results inside the int8 clamp window show the multiplier path's low bits, so most
// vectors are built to land near the window (the "targeted" and "tie" generators); the rest
// hammer the edges (INT32_MIN/MAX, every shift, degenerate multipliers) and raw mode.
// The lane built without single rounding (RoundSingle = 0, the iCEBreaker's) runs the same
// vectors and must round every one of them twice, whatever its flag says.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vtsr_requant.h"
#include "Vtsr_requant_deep.h"
#include "Vtsr_requant_double.h"
#include "block_bench.hpp"
#include "tessera/golden.hpp"

namespace {

using tessera::rtl_test::BlockBench;

// tsr_pkg::rq_latency, rq_zp_at, rq_clamp_at; a Lean lane has three stages fewer, a Deep
// lane one more.
struct Timing {
  int latency, zp_at, clamp_at;
};
constexpr Timing kFull{9, 7, 8};
constexpr Timing kLean{6, 4, 5};
constexpr Timing kDeep{10, 7, 8};
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

// ---- reference: the golden model's TFLite / gemmlowp requantization --------------------
using tessera::multiply_by_quantized_multiplier;
using tessera::Rounding;
using tessera::rounding_divide_by_pot;
using tessera::saturating_rounding_doubling_high_mul;

std::int32_t wrap(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
}

struct Vector {
  std::int32_t acc, bias, mult;
  int shift;  // -31..30
  bool requant;
  std::int8_t zero_point, clamp_lo, clamp_hi;
  bool single = false;  // single rounding: bit 7 of shift_i
};

// round_single: the lane has single rounding (RoundSingle), so it obeys the flag.
std::int32_t reference(const Vector& v, bool round_single = true) {
  const std::int32_t biased = wrap(std::int64_t{v.acc} + v.bias);
  if (!v.requant) return biased;
  const std::int32_t scaled = multiply_by_quantized_multiplier(
      biased, v.mult, v.shift,
      v.single && round_single ? Rounding::kSingle : Rounding::kDouble);
  const std::int32_t with_zp = wrap(std::int64_t{scaled} + v.zero_point);
  return std::clamp<std::int32_t>(with_zp, v.clamp_lo, v.clamp_hi);
}

std::string describe(const Vector& v) {
  std::ostringstream s;
  s << "acc=" << v.acc << " bias=" << v.bias << " mult=" << v.mult << " shift=" << v.shift
    << " rounding=" << (v.single ? "single" : "double") << " requant=" << v.requant << " zp=" << int{v.zero_point} << " clamp=[" << int{v.clamp_lo}
    << ", " << int{v.clamp_hi} << "]";
  return s.str();
}

// ---- the pipelined driver ------------------------------------------------------------
template <class Model, bool RoundSingle, const Timing& kTiming>
class Bench : public BlockBench<Model> {
 public:
  using BlockBench<Model>::dut;
  using BlockBench<Model>::tick;
  static constexpr int kLatency = kTiming.latency;
  static constexpr int kZpAt = kTiming.zp_at;
  static constexpr int kClampAt = kTiming.clamp_at;

  // Runs every vector through the lane, one per cycle; returns the number of mismatches and
  // reports the first few.
  int run(const std::vector<Vector>& vectors) {
    auto& d = dut();
    int mismatches = 0;
    const std::size_t n = vectors.size();
    for (std::size_t t = 0; t < n + kLatency; ++t) {
      if (t < n) {
        const Vector& v = vectors[t];
        d.requant_i = v.requant;
        d.acc_i = static_cast<std::uint32_t>(v.acc);
        d.bias_i = static_cast<std::uint32_t>(v.bias);
        d.mult_i = static_cast<std::uint32_t>(v.mult);
        d.shift_i = static_cast<std::uint8_t>((v.shift & 0x7F) | (v.single ? 0x80 : 0));
      } else {
        d.acc_i = d.bias_i = d.mult_i = 0;
        d.shift_i = 0;
        d.requant_i = 0;
      }
      // Each vector's settings in their own cycle only; a neighbour's everywhere else.
      if (t >= kZpAt && t - kZpAt < n) {
        d.zero_point_i = static_cast<std::uint8_t>(vectors[t - kZpAt].zero_point);
      }
      if (t >= kClampAt && t - kClampAt < n) {
        const Vector& v = vectors[t - kClampAt];
        d.clamp_lo_i = static_cast<std::uint8_t>(v.clamp_lo);
        d.clamp_hi_i = static_cast<std::uint8_t>(v.clamp_hi);
      }
      tick();
      if (t >= kLatency - 1 && t - (kLatency - 1) < n) {
        const Vector& v = vectors[t - (kLatency - 1)];
        const auto got = static_cast<std::int32_t>(d.data_o);
        const std::int32_t expected = reference(v, RoundSingle);
        if (got != expected && ++mismatches <= 8) {
          FAIL_CHECK("vector " << t - (kLatency - 1) << ": " << describe(v) << ": expected "
                               << expected << ", got " << got);
        }
      }
    }
    return mismatches;
  }
};

using RequantBench = Bench<Vtsr_requant, true, kFull>;
using DoubleOnlyBench = Bench<Vtsr_requant_double, false, kLean>;  // the iCEBreaker's lane
using DeepBench = Bench<Vtsr_requant_deep, true, kDeep>;            // the ULX3S's lane

// ---- vector generators -----------------------------------------------------------------
constexpr std::array<std::int32_t, 14> kEdgeValues = {
    kMin, kMin + 1, kMax, kMax - 1, 0, 1, -1, 2, -2, 1 << 30, -(1 << 30), 0x40000001, 127, -128};
constexpr std::array<std::int32_t, 9> kEdgeMultipliers = {
    0, kMin, kMax, 1 << 30, (1 << 30) + 1, 1, -1, 0x5A5A5A5A, kMin + 1};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t bits() { return rng_(); }
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(0, 99) < percent; }
  std::int8_t int8() { return static_cast<std::int8_t>(rng_()); }

  // |v| log-uniform over 2^0 .. 2^31, random sign: every magnitude equally likely.
  std::int32_t log_uniform() {
    const int bits = uniform(0, 31);
    const std::uint32_t v = static_cast<std::uint32_t>(rng_()) >> (32 - std::max(bits, 1));
    return static_cast<std::int32_t>(chance(50) ? v : 0u - v);
  }

  std::int32_t value() {
    switch (uniform(0, 3)) {
      case 0:
        return kEdgeValues[uniform(0, kEdgeValues.size() - 1)];
      case 1:
        return static_cast<std::int32_t>(rng_());
      default:
        return log_uniform();
    }
  }

  std::int32_t multiplier() {
    switch (uniform(0, 4)) {
      case 0:
        return kEdgeMultipliers[uniform(0, kEdgeMultipliers.size() - 1)];
      case 1:
        return static_cast<std::int32_t>((1u << 30) + (rng_() & 0x3FFFFFFF));  // TFLite's range
      case 2:
        return static_cast<std::int32_t>(rng_());
      default:
        return log_uniform();
    }
  }

  int shift() {
    if (chance(20)) return std::array{-31, -30, -1, 0, 1, 29, 30}[uniform(0, 6)];
    return uniform(-31, 30);
  }

  // Job settings: clamp lo <= hi (the dispatcher rejects the rest), often the full int8
  // range or ReLU-like, mostly requantizing.
  void job(Vector& v) {
    v.single = chance(50);
    v.requant = chance(90);
    v.zero_point = chance(20) ? std::int8_t{0} : int8();
    switch (uniform(0, 3)) {
      case 0:
        v.clamp_lo = -128;
        v.clamp_hi = 127;
        break;
      case 1:
        v.clamp_lo = v.zero_point;
        v.clamp_hi = 127;
        break;
      default: {
        std::int8_t a = int8(), b = int8();
        if (a > b) std::swap(a, b);
        v.clamp_lo = a;
        v.clamp_hi = b;
      }
    }
  }

  // Splits x = acc + bias (wrapping) with a random bias.
  void split(Vector& v, std::int32_t x) {
    v.bias = chance(30) ? 0 : value();
    v.acc = wrap(std::int64_t{x} - v.bias);
  }

  Vector random() {
    Vector v{};
    v.acc = value();
    v.bias = value();
    v.mult = multiplier();
    v.shift = shift();
    job(v);
    return v;
  }

  // x chosen so that the result lands near the int8 window, where every bit counts.
  Vector targeted() {
    for (;;) {
      Vector v{};
      v.mult = multiplier();
      v.shift = shift();
      if (v.mult == 0) continue;
      const int left = std::max(v.shift, 0), right = std::max(-v.shift, 0);
      const double target = uniform(-300, 300) + uniform(-4, 4) / 8.0;
      const double x = target * std::ldexp(1.0, 31 + right - left) / v.mult;
      if (!(std::fabs(x) < 2147483000.0)) continue;
      const auto x_int = static_cast<std::int64_t>(std::llround(x)) + uniform(-2, 2);
      split(v, wrap(x_int));
      job(v);
      v.requant = true;
      if (chance(50)) {  // mostly the full window, so the result shows
        v.clamp_lo = -128;
        v.clamp_hi = 127;
      }
      return v;
    }
  }

  // Exact rounding ties in RoundingDivideByPOT: with multiplier INT32_MIN the high mul is an
  // exact negation, so x = -(k * 2^n +- 2^(n-1)) reaches the divide as an exact half.
  // And ties in the doubling high mul itself: odd x times 2^30.
  Vector tie() {
    Vector v{};
    if (chance(50)) {
      const int n = uniform(1, 31);
      const std::int64_t k = uniform(-200, 200);
      const std::int64_t half = std::int64_t{1} << (n - 1);
      const std::int64_t y = k * (std::int64_t{1} << n) + (chance(50) ? half : -half);
      v.mult = kMin;
      v.shift = -n;
      split(v, wrap(-y));
    } else {
      v.mult = 1 << 30;
      v.shift = -uniform(0, 3);
      split(v, 2 * uniform(-600, 600) + 1);
    }
    job(v);
    v.requant = true;
    return v;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("requant: reference self-check against hand-worked TFLite values", "[requant]") {
  // Guards the golden model's requantization, so that the RTL is compared with the real
  // thing.
  CHECK(saturating_rounding_doubling_high_mul(kMin, kMin) == kMax);
  CHECK(saturating_rounding_doubling_high_mul(kMax, kMax) == kMax - 1);
  CHECK(saturating_rounding_doubling_high_mul(3, 1 << 30) == 2);    // 1.5 rounds up
  CHECK(saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);  // -1.5: gemmlowp's nudge
  CHECK(saturating_rounding_doubling_high_mul(-5, 1 << 30) == -2);  // -2.5
  CHECK(saturating_rounding_doubling_high_mul(100, kMin) == -100);
  CHECK(rounding_divide_by_pot(5, 1) == 3);    // 2.5 -> 3 (half away from zero)
  CHECK(rounding_divide_by_pot(-5, 1) == -3);  // -2.5 -> -3
  CHECK(rounding_divide_by_pot(-4, 1) == -2);
  CHECK(rounding_divide_by_pot(kMin, 31) == -1);
  CHECK(rounding_divide_by_pot(kMax, 31) == 1);
  CHECK(rounding_divide_by_pot(0x3FFFFFFF, 31) == 0);
  CHECK(rounding_divide_by_pot(0x40000000, 31) == 1);
  CHECK(multiply_by_quantized_multiplier(1000, 1 << 30, -2) == 125);
  // 2^30 << 1 wraps to INT32_MIN, then halved; 3 << 30 wraps to -2^30, times (1 - 2^-31).
  CHECK(multiply_by_quantized_multiplier(1 << 30, 1 << 30, 1) == -(1 << 30));
  CHECK(multiply_by_quantized_multiplier(3, kMax, 30) == -(1 << 30) + 1);
  // Single rounding, (x*m + 2^(30-shift)) >> (31-shift): ties go up, once.
  constexpr auto kSingle = Rounding::kSingle;
  CHECK(multiply_by_quantized_multiplier(3, 1 << 30, 0, kSingle) == 2);    // 1.5
  CHECK(multiply_by_quantized_multiplier(-3, 1 << 30, 0, kSingle) == -1);  // -1.5
  CHECK(multiply_by_quantized_multiplier(-5, 1 << 30, 0, kSingle) == -2);  // -2.5
  // Where the modes part: 5/4 is 2.5 then 2 when rounded twice, 1 when once; -6/4 is a
  // tie the double mode's RoundingDivideByPOT takes away from zero.
  CHECK(multiply_by_quantized_multiplier(5, 1 << 30, -1) == 2);
  CHECK(multiply_by_quantized_multiplier(5, 1 << 30, -1, kSingle) == 1);
  CHECK(multiply_by_quantized_multiplier(-6, 1 << 30, -1) == -2);
  CHECK(multiply_by_quantized_multiplier(-6, 1 << 30, -1, kSingle) == -1);
  // The single mode's product is exact, never a wrapped left shift.
  CHECK(multiply_by_quantized_multiplier(1 << 30, 1 << 30, 1, kSingle) == 1 << 30);
  CHECK(multiply_by_quantized_multiplier(kMin, kMin, -31, kSingle) == 1);  // 2^62 / 2^62
  CHECK(multiply_by_quantized_multiplier(kMax, kMax, 0, kSingle) == kMax - 1);
  // 2^62 / 2^31 does not fit: its low 32 bits, where the double mode saturates.
  CHECK(multiply_by_quantized_multiplier(kMin, kMin, 0, kSingle) == kMin);
  CHECK(multiply_by_quantized_multiplier(kMin, kMin, 0) == kMax);
}

// A raw value shows after exactly the lane's latency, and not a cycle before or after.
template <class LaneBench>
void check_latency() {
  LaneBench lane;
  auto& d = lane.dut();
  d.requant_i = 0;
  d.acc_i = 1234;
  d.bias_i = 1;
  d.mult_i = 0;
  d.shift_i = 0;
  lane.tick();
  d.acc_i = 0;
  d.bias_i = 0;
  for (int edge = 2; edge <= LaneBench::kLatency + 2; ++edge) {
    lane.tick();
    INFO("after edge " << edge);
    CHECK(d.data_o == (edge == LaneBench::kLatency ? 1235u : 0u));
  }
}

TEST_CASE("requant: latency is exactly 9 cycles, 6 for the Lean lane, 10 for the Deep",
          "[requant]") {
  check_latency<RequantBench>();
  check_latency<DoubleOnlyBench>();
  check_latency<DeepBench>();
}

TEST_CASE("requant: raw mode passes acc + bias, wrapping", "[requant]") {
  RequantBench lane;
  std::vector<Vector> vectors;
  for (std::int32_t acc : kEdgeValues)
    for (std::int32_t bias : kEdgeValues)
      vectors.push_back({acc, bias, kMax, -31, false, 5, -3, 3});
  CHECK(lane.run(vectors) == 0);
  DoubleOnlyBench double_only;
  CHECK(double_only.run(vectors) == 0);
  DeepBench deep;
  CHECK(deep.run(vectors) == 0);
}

TEST_CASE("requant: every shift against the edge values", "[requant]") {
  RequantBench lane;
  std::vector<Vector> vectors;
  for (bool single : {false, true})
    for (int shift = -31; shift <= 30; ++shift)
      for (std::int32_t x : kEdgeValues)
        for (std::int32_t mult : kEdgeMultipliers)
          for (std::int8_t zp : {std::int8_t{0}, std::int8_t{-128}, std::int8_t{127}}) {
            vectors.push_back({x, 0, mult, shift, true, zp, -128, 127, single});
            // the bias path, ReLU6-like
            vectors.push_back({0, x, mult, shift, true, zp, 0, 6, single});
          }
  CHECK(lane.run(vectors) == 0);
  DoubleOnlyBench double_only;
  CHECK(double_only.run(vectors) == 0);
  DeepBench deep;
  CHECK(deep.run(vectors) == 0);
}

TEST_CASE("requant: the zero point add wraps before the clamp", "[requant]") {
  // A scaled value at the int32 edge plus the zero point wraps to the other end of the
  // range, so the clamp picks the opposite bound (a saturating add would not).
  RequantBench lane;
  std::vector<Vector> vectors = {
      {kMax, 0, kMax, 0, true, 1, -128, 127},     // INT32_MAX - 1 + 1: no wrap, 127
      {kMax, 0, kMax, 0, true, 2, -128, 127},     // INT32_MAX - 1 + 2 wraps: -128
      {kMin, 0, kMin, 0, true, 127, -128, 127},   // saturated INT32_MAX + 127 wraps: -128
      {kMin, 0, kMin, 0, true, 0, -128, 127},     // saturated INT32_MAX: 127
      {kMin, 0, kMax, 0, true, -128, -128, 127},  // INT32_MIN + 1 - 128 wraps: 127
      {kMin, 0, kMax, 0, true, -1, -128, 127},    // INT32_MIN: -128
  };
  CHECK(lane.run(vectors) == 0);
  DoubleOnlyBench double_only;
  CHECK(double_only.run(vectors) == 0);
  DeepBench deep;
  CHECK(deep.run(vectors) == 0);
}

TEST_CASE("requant: seeded random vectors, bit-exact", "[requant]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_requant_tests", "requant: seeded random vectors, bit-exact");
  INFO("seed " << seed);
  Generator gen(seed);
  RequantBench lane;
  std::vector<Vector> vectors;
  constexpr int kVectors = 600000;
  vectors.reserve(kVectors);
  int in_window = 0;
  for (int i = 0; i < kVectors; ++i) {
    const int kind = gen.uniform(0, 9);
    Vector v = kind < 5 ? gen.targeted() : kind < 7 ? gen.tie() : gen.random();
    vectors.push_back(v);
    const std::int32_t r = reference(v);
    if (v.requant && r > v.clamp_lo && r < v.clamp_hi) ++in_window;
  }
  // Sanity of the generator: most requantized results must be inside the clamp window,
  // or the test would only be checking the clamp.
  CHECK(in_window > kVectors / 4);
  CHECK(lane.run(vectors) == 0);
  DoubleOnlyBench double_only;
  CHECK(double_only.run(vectors) == 0);
  DeepBench deep;
  CHECK(deep.run(vectors) == 0);
}
