// Golden reference: requantization arithmetic against values derived by hand from the
// gemmlowp/TFLite definitions, plus a randomized cross-check against an independent
// formulation. If these drift, every RTL comparison downstream drifts with them.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>

#include "tessera/errors.hpp"
#include "tessera/golden.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kHalf = 1 << 30;  // multiplier 0.5 in Q31
// TFLite's multiplier for 1/sqrt(2): round(0.70710678 * 2^31).
constexpr std::int32_t kInvSqrt2 = 1518500250;

Tensor<std::int8_t> matrix(std::size_t rows, std::size_t cols,
                           std::initializer_list<int> values) {
  Tensor<std::int8_t> t(rows, cols);
  REQUIRE(values.size() == rows * cols);
  std::size_t i = 0;
  for (int v : values) t.data[i++] = static_cast<std::int8_t>(v);
  return t;
}

Tensor<std::int8_t> filled(std::size_t rows, std::size_t cols, std::int8_t value) {
  Tensor<std::int8_t> t(rows, cols);
  std::fill(t.data.begin(), t.data.end(), value);
  return t;
}

// GCC/Clang extension; __extension__ keeps -Wpedantic builds quiet about it.
__extension__ typedef __int128 Int128;

// Independent formulation: exact wide arithmetic with the rounding rules stated
// directly rather than through gemmlowp's nudge-and-truncate trick.
std::int32_t reference_mbqm(std::int32_t x, std::int32_t multiplier, int shift) {
  const int left = std::max(shift, 0);
  const int right = std::max(-shift, 0);
  // Left shift as multiplication modulo 2^32.
  const Int128 wide_shifted = static_cast<Int128>(x) * (static_cast<Int128>(1) << left);
  const auto shifted =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(wide_shifted));
  // SRDHM = round(shifted * multiplier / 2^31) with ties toward +infinity, saturated;
  // >> on a signed __int128 is a floor division.
  const Int128 product = static_cast<Int128>(shifted) * multiplier;
  Int128 high = (product + (static_cast<Int128>(1) << 30)) >> 31;
  if (high > kMax) high = kMax;
  // RoundingDivideByPOT = round half away from zero, which is what roundl does; the
  // quotient of a 32-bit value by a power of two is exact in long double.
  const long double quotient = std::ldexp(static_cast<long double>(high), -right);
  return static_cast<std::int32_t>(std::roundl(quotient));
}

}  // namespace

TEST_CASE("SRDHM saturates the one overflowing product", "[golden]") {
  // -1.0 * -1.0 = +1.0 is not representable in Q31; gemmlowp returns INT32_MAX.
  CHECK(saturating_rounding_doubling_high_mul(kMin, kMin) == kMax);
  // -1.0 * (1 - 2^-31) = -(2^31 - 1) / 2^31 exactly: no rounding at all.
  CHECK(saturating_rounding_doubling_high_mul(kMin, kMax) == -kMax);
  // (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31, rounds to 2^31 - 2.
  CHECK(saturating_rounding_doubling_high_mul(kMax, kMax) == kMax - 1);
}

TEST_CASE("SRDHM with TFLite's 1/sqrt(2) multiplier", "[golden]") {
  // 1000 * 1518500250 / 2^31 = 707.107 -> 707; the sign is symmetric away from ties.
  CHECK(saturating_rounding_doubling_high_mul(1000, kInvSqrt2) == 707);
  CHECK(saturating_rounding_doubling_high_mul(-1000, kInvSqrt2) == -707);
  // 2^30 * 2^30 / 2^31 = 2^29 exactly.
  CHECK(saturating_rounding_doubling_high_mul(kHalf, kHalf) == 1 << 29);
}

TEST_CASE("SRDHM rounds exact ties toward +infinity", "[golden]") {
  // x * 0.5: ab = x * 2^30. Positive: (ab + 2^30) / 2^31 truncated, so 0.5 -> 1 and
  // 1.5 -> 2. Negative: nudge is 1 - 2^30, so (-2^30 + 1 - 2^30) / 2^31 = -0.99.. -> 0
  // and (-3*2^30 + 1 - 2^30) / 2^31 = -1.99.. -> -1.
  CHECK(saturating_rounding_doubling_high_mul(1, kHalf) == 1);
  CHECK(saturating_rounding_doubling_high_mul(3, kHalf) == 2);
  CHECK(saturating_rounding_doubling_high_mul(-1, kHalf) == 0);
  CHECK(saturating_rounding_doubling_high_mul(-3, kHalf) == -1);
  // Just past the tie: -(2^30 + 1) + 1 - 2^30 = -2^31 -> exactly -1.
  CHECK(saturating_rounding_doubling_high_mul(-1, kHalf + 1) == -1);
}

TEST_CASE("RoundingDivideByPOT rounds ties away from zero", "[golden]") {
  // exponent 1: mask 1, threshold 0 (+1 if negative).
  // 5: 5>>1 = 2, remainder 1 > 0 -> 3.     -5: -5>>1 = -3, remainder 1 > 1? no -> -3.
  CHECK(rounding_divide_by_pot(5, 1) == 3);
  CHECK(rounding_divide_by_pot(-5, 1) == -3);
  CHECK(rounding_divide_by_pot(4, 1) == 2);
  CHECK(rounding_divide_by_pot(-4, 1) == -2);
  // exponent 2: mask 3, threshold 1 (2 if negative).
  // 6/4 = 1.5: 1 + (2 > 1) = 2.        -6/4 = -1.5: -6>>2 = -2, -6&3 = 2 > 2? no -> -2.
  CHECK(rounding_divide_by_pot(6, 2) == 2);
  CHECK(rounding_divide_by_pot(-6, 2) == -2);
  // 7/4 = 1.75 -> 2.                    -7/4: -7>>2 = -2, -7&3 = 1 > 2? no -> -2.
  CHECK(rounding_divide_by_pot(7, 2) == 2);
  CHECK(rounding_divide_by_pot(-7, 2) == -2);
  // 2/4 = 0.5 -> 1.                     -2/4: -2>>2 = -1, -2&3 = 2 > 2? no -> -1.
  CHECK(rounding_divide_by_pot(2, 2) == 1);
  CHECK(rounding_divide_by_pot(-2, 2) == -1);
  // 1/4 = 0.25 -> 0.                    -1/4: -1>>2 = -1, -1&3 = 3 > 2 -> 0.
  CHECK(rounding_divide_by_pot(1, 2) == 0);
  CHECK(rounding_divide_by_pot(-1, 2) == 0);
}

TEST_CASE("RoundingDivideByPOT at exponents 0 and 31", "[golden]") {
  // Exponent 0: mask 0, remainder 0, the value passes through.
  CHECK(rounding_divide_by_pot(-7, 0) == -7);
  CHECK(rounding_divide_by_pot(kMin, 0) == kMin);
  CHECK(rounding_divide_by_pot(kMax, 0) == kMax);
  // Exponent 31: mask 0x7FFFFFFF, threshold 0x3FFFFFFF (0x40000000 if negative).
  CHECK(rounding_divide_by_pot(kMax, 31) == 1);        // 0.99999 -> 1
  CHECK(rounding_divide_by_pot(kHalf, 31) == 1);       // 0.5 -> 1
  CHECK(rounding_divide_by_pot(kHalf - 1, 31) == 0);   // just under 0.5
  CHECK(rounding_divide_by_pot(kMin, 31) == -1);       // exactly -1
  CHECK(rounding_divide_by_pot(-kHalf, 31) == -1);     // -0.5 -> -1
  CHECK(rounding_divide_by_pot(-kHalf + 1, 31) == 0);  // just above -0.5
  // Exponent 1 at the extremes: -2^31/2 exact; (2^31-1)/2 = 2^30 - 0.5 -> 2^30.
  CHECK(rounding_divide_by_pot(kMin, 1) == -(1 << 30));
  CHECK(rounding_divide_by_pot(kMax, 1) == 1 << 30);
}

TEST_CASE("MultiplyByQuantizedMultiplier with right shifts", "[golden]") {
  CHECK(multiply_by_quantized_multiplier(1000, kInvSqrt2, 0) == 707);
  // 707 / 2 = 353.5 -> 354; and -707 / 2 = -353.5 -> -354 (away from zero).
  CHECK(multiply_by_quantized_multiplier(1000, kInvSqrt2, -1) == 354);
  CHECK(multiply_by_quantized_multiplier(-1000, kInvSqrt2, -1) == -354);
  // SRDHM(1000, 0.5) = 500; 500 / 128 = 3.906 -> 500>>7 = 3, remainder 116 > 63 -> 4.
  CHECK(multiply_by_quantized_multiplier(1000, kHalf, -7) == 4);
  // TFLite rounds twice: 5 * 0.5 = 2.5 -> 3, then 3 / 2 = 1.5 -> 2, although
  // 5 * 0.25 = 1.25 would round to 1. The engine must reproduce the 2.
  CHECK(multiply_by_quantized_multiplier(5, kHalf, -1) == 2);
  // Shift -31: SRDHM(MAX, MAX) = 2^31 - 2, / 2^31 = 0.99999 -> 1.
  CHECK(multiply_by_quantized_multiplier(kMax, kMax, -31) == 1);
  // SRDHM(MIN, MAX) = -(2^31 - 1); >>31 = -1, remainder 1 <= 0x40000000 -> -1.
  CHECK(multiply_by_quantized_multiplier(kMin, kMax, -31) == -1);
}

TEST_CASE("MultiplyByQuantizedMultiplier with left shifts, wrapping like the RTL",
          "[golden]") {
  // 3 << 2 = 12, * 0.5 = 6.
  CHECK(multiply_by_quantized_multiplier(3, kHalf, 2) == 6);
  // 100 << 3 = 800; 800 * 1518500250 = 1214800200000, + 2^30, / 2^31 = 566.18 -> 566.
  CHECK(multiply_by_quantized_multiplier(100, kInvSqrt2, 3) == 566);
  // 1 << 30 = 2^30; * 0.5 = 2^29 (the largest legal left shift, no wrap).
  CHECK(multiply_by_quantized_multiplier(1, kHalf, 30) == 1 << 29);
  // 2 << 30 = 2^31 wraps to INT32_MIN; * 0.5 = -2^30 (not +2^30).
  CHECK(multiply_by_quantized_multiplier(2, kHalf, 30) == -(1 << 30));
  // 2^29 << 2 wraps to INT32_MIN as well.
  CHECK(multiply_by_quantized_multiplier(1 << 29, kHalf, 2) == -(1 << 30));
  // 0x60000000 << 1 = 0xC0000000 = -2^30; * 0.5 = -2^29.
  CHECK(multiply_by_quantized_multiplier(0x60000000, kHalf, 1) == -(1 << 29));
  // 2^30 << 1 wraps to INT32_MIN, and INT32_MIN * INT32_MIN saturates.
  CHECK(multiply_by_quantized_multiplier(kHalf, kMin, 1) == kMax);
}

TEST_CASE("MultiplyByQuantizedMultiplier matches an independent formulation",
          "[golden]") {
  // Catch's --rng-seed picks the seed; without it, a fresh one each run.
  const std::uint32_t seed =
      Catch::rngSeed() != 0 ? Catch::rngSeed() : std::random_device{}();
  std::cout << "mbqm cross-check seed " << seed << "; reproduce with: unit_tests"
            << " --rng-seed " << seed
            << " \"MultiplyByQuantizedMultiplier matches an independent formulation\"\n";
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> any_int32(kMin, kMax);
  std::uniform_int_distribution<std::int32_t> small(-70000, 70000);
  // TFLite multipliers are normalized into [2^30, 2^31); the RTL accepts any int32.
  std::uniform_int_distribution<std::int32_t> tflite_multiplier(kHalf, kMax);
  std::uniform_int_distribution<int> shift_dist(-31, 30);
  std::uniform_int_distribution<int> pick(0, 3);
  const std::int32_t edges[] = {kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax};

  int mismatches = 0;
  for (int i = 0; i < 200000; ++i) {
    std::int32_t x = 0;
    switch (pick(rng)) {
      case 0: x = any_int32(rng); break;
      case 1: x = small(rng); break;  // typical accumulators: ties are frequent
      case 2: x = edges[static_cast<std::size_t>(rng() % std::size(edges))]; break;
      default: x = any_int32(rng) >> (rng() % 31); break;
    }
    const std::int32_t multiplier =
        pick(rng) == 0 ? any_int32(rng) : tflite_multiplier(rng);
    const int shift = shift_dist(rng);
    const std::int32_t got = multiply_by_quantized_multiplier(x, multiplier, shift);
    const std::int32_t want = reference_mbqm(x, multiplier, shift);
    // Report the first few in full; one summary check keeps a broken build readable.
    if (got != want && ++mismatches <= 10) {
      FAIL_CHECK("x=" << x << " multiplier=" << multiplier << " shift=" << shift
                      << ": got " << got << ", reference " << want);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("golden_gemm per-tensor and per-channel requantization", "[golden]") {
  GemmProblem p;
  p.a = matrix(2, 2,
               {1, 2,  //
                3, 4});
  p.b = matrix(2, 3,
               {1, 0, 2,  //
                0, 1, -1});
  // A.B = [[1, 2, 0], [3, 4, 2]]; + bias = [[11, -8, 100], [13, -6, 102]].
  p.bias = {10, -10, 100};

  SECTION("raw int32 output is acc + bias") {
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{11, -8, 100, 13, -6, 102});
  }
  SECTION("per tensor: everything * 0.5") {
    p.requant = Requant{{kHalf}, {0}, 0};
    // 11 -> 5.5 -> 6, 13 -> 6.5 -> 7 (ties up); -8 -> -4, -6 -> -3 exact;
    // 100 -> 50, 102 -> 51.
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{6, -4, 50, 7, -3, 51});
  }
  SECTION("per channel: each column its own multiplier and shift") {
    p.requant = Requant{{kHalf, kInvSqrt2, kHalf}, {0, 1, -2}, 0};
    // ch0: * 0.5 as above -> 6, 7.
    // ch1: << 1, * 0.7071: -16 -> (-24296004000 + 1 - 2^30) / 2^31 = -11.8 -> -11;
    //      -12 -> (-18222003000 + 1 - 2^30) / 2^31 = -8.98 -> -8.
    // ch2: * 0.5 then / 4: 100 -> 50 -> 12.5 -> 13; 102 -> 51 -> 12.75 -> 13.
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{6, -11, 13, 7, -8, 13});
  }
  SECTION("per-channel multiplier with one shared shift") {
    p.requant = Requant{{kHalf, kInvSqrt2, kHalf}, {0}, 0};
    // ch1 without the shift: -8 * 0.7071 = -5.66 -> -6; -6 * 0.7071 = -4.24 -> -4.
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{6, -6, 50, 7, -4, 51});
  }
}

TEST_CASE("golden_gemm zero point and clamp", "[golden]") {
  GemmProblem p;
  p.a = matrix(4, 1, {-100, 10, 100, 127});
  p.b = matrix(1, 1, {2});
  // acc = [-200, 20, 200, 254]; * 0.5 = [-100, 10, 100, 127];
  // + zero point 5 = [-95, 15, 105, 132].
  p.requant = Requant{{kHalf}, {0}, 5};

  SECTION("default clamp is the int8 range") {
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{-95, 15, 105, 127});
  }
  SECTION("ReLU: clamp [0, 127]") {
    p.clamp_lo = 0;
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{0, 15, 105, 127});
  }
  SECTION("ReLU6-like: clamp [zp, zp + 60] with 6.0 quantized to 60 steps") {
    p.clamp_lo = 5;
    p.clamp_hi = 65;
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{5, 15, 65, 65});
  }
  SECTION("negative zero point") {
    p.requant->zero_point = -128;
    // [-100, 10, 100, 127] - 128 = [-228, -118, -28, -1], clamped to -128 at the low end.
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{-128, -118, -28, -1});
  }
  SECTION("without requant the clamp does not apply") {
    p.requant.reset();
    p.clamp_lo = 0;
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{-200, 20, 200, 254});
  }
}

TEST_CASE("golden_gemm accumulates with wrapping int32", "[golden]") {
  GemmProblem p;
  SECTION("bias lands exactly on INT32_MAX, then one past it") {
    // 133144 * 127 * 127 = 133144 * 16129 = 2147479576 = INT32_MAX - 4071.
    p.a = filled(1, 133144, 127);
    p.b = filled(133144, 2, 127);
    p.bias = {4071, 4072};
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{kMax, kMin});
  }
  SECTION("products alone wrap upward") {
    // 133145 * 16129 = 2147495705; - 2^32 = -2147471591.
    p.a = filled(1, 133145, 127);
    p.b = filled(133145, 1, 127);
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{-2147471591});
  }
  SECTION("products alone wrap downward") {
    // 132105 * (-128 * 127) = -2147498880; + 2^32 = 2147468416.
    p.a = filled(1, 132105, -128);
    p.b = filled(132105, 1, 127);
    CHECK(golden_gemm(p).data == std::vector<std::int32_t>{2147468416});
  }
}

TEST_CASE("validate names the offending field", "[golden]") {
  GemmProblem p;
  p.a = filled(3, 5, 1);
  p.b = filled(5, 2, 1);
  REQUIRE_NOTHROW(validate(p));

  SECTION("a is not 2-D") {
    p.a.shape = {15};
    CHECK_THROWS_WITH(validate(p), Contains("a must be a 2-D") && Contains("[15]"));
  }
  SECTION("shape mismatch") {
    p.b = filled(4, 2, 1);
    CHECK_THROWS_WITH(validate(p),
                      Contains("shape mismatch: a is [M,K]=[3,5] but b is [K,N]=[4,2]"));
  }
  SECTION("empty dimension") {
    p.a = filled(0, 5, 1);
    CHECK_THROWS_AS(validate(p), InputError);
  }
  SECTION("bias length") {
    p.bias = {1, 2, 3};
    CHECK_THROWS_WITH(validate(p), Contains("bias") && Contains("N=2"));
  }
  SECTION("multiplier length") {
    p.requant = Requant{{1, 2, 3}, {0}, 0};
    CHECK_THROWS_WITH(validate(p), Contains("requant.multiplier"));
  }
  SECTION("shift length") {
    p.requant = Requant{{kHalf}, {0, 0, 0}, 0};
    CHECK_THROWS_WITH(validate(p), Contains("requant.shift"));
  }
  SECTION("shift range") {
    p.requant = Requant{{kHalf}, {31}, 0};
    CHECK_THROWS_WITH(validate(p), Contains("requant.shift") && Contains("[-31, 30]"));
    p.requant = Requant{{kHalf}, {-32}, 0};
    CHECK_THROWS_WITH(validate(p), Contains("requant.shift"));
    p.requant = Requant{{kHalf}, {-31}, 0};
    CHECK_NOTHROW(validate(p));
  }
  SECTION("zero point range") {
    p.requant = Requant{{kHalf}, {0}, 128};
    CHECK_THROWS_WITH(validate(p), Contains("requant.zero_point"));
  }
  SECTION("clamp order and range") {
    p.requant = Requant{{kHalf}, {0}, 0};
    p.clamp_lo = 10;
    p.clamp_hi = 9;
    CHECK_THROWS_WITH(validate(p), Contains("clamp"));
    p.clamp_lo = -129;
    CHECK_THROWS_WITH(validate(p), Contains("clamp"));
  }
  SECTION("golden_gemm refuses what validate refuses") {
    p.bias = {1};
    CHECK_THROWS_AS(golden_gemm(p), InputError);
  }
}
