// Golden reference with the RTL's exact integer semantics (docs/isa.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/tensor.hpp"

namespace tessera {

/// gemmlowp SaturatingRoundingDoublingHighMul.
std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b);
/// gemmlowp RoundingDivideByPOT, exponent in [0, 31].
std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent);

/// The two ways TFLite's MultiplyByQuantizedMultiplier rounds (docs/isa.md).
enum class Rounding {
  kDouble,  // gemmlowp: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT
  kSingle,  // TFLITE_SINGLE_ROUNDING: one rounding of the exact 64-bit product
};
/// "double" / "single", as the kernel JSON and the CLI spell them.
const char* rounding_name(Rounding rounding);
/// Throws InputError naming `field` for any other text.
Rounding parse_rounding(const std::string& text, const std::string& field);

/// TFLite MultiplyByQuantizedMultiplier, shift in [-31, 30]. Double rounding: the left
/// shift wraps like the RTL does. Single rounding: (x * multiplier + 2^(30 - shift)) >>
/// (31 - shift) in 64 bits, its low 32 bits kept.
std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier, int shift,
                                              Rounding rounding = Rounding::kDouble);

struct Requant {
  std::vector<std::int32_t> multiplier;  ///< 1 (per tensor) or N (per channel)
  std::vector<std::int32_t> shift;       ///< 1 or N; > 0 shifts left
  std::int32_t zero_point = 0;
  Rounding rounding = Rounding::kDouble;
};

struct GemmProblem {
  Tensor<std::int8_t> a;           ///< [M, K]
  Tensor<std::int8_t> b;           ///< [K, N]
  std::vector<std::int32_t> bias;  ///< empty or [N]
  std::optional<Requant> requant;
  std::int32_t clamp_lo = -128;  ///< used with requant only
  std::int32_t clamp_hi = 127;

  std::size_t m() const { return a.rows(); }
  std::size_t k() const { return a.cols(); }
  std::size_t n() const { return b.cols(); }
};

/// Output as int32 [M, N]; with requant every value lies in [clamp_lo, clamp_hi].
Tensor<std::int32_t> golden_gemm(const GemmProblem& problem);

/// The output stage of channel n for the wrapped int32 sum `acc` = Σ a·b: bias, then with
/// requant MultiplyByQuantizedMultiplier, zero point and clamp. Every path that forms
/// the sum some other way (K split across passes, the sparse path) ends here.
std::int32_t golden_epilogue(std::int32_t acc, const GemmProblem& problem, std::size_t n);

/// Throws InputError when shapes or parameter lengths disagree, naming the field.
void validate(const GemmProblem& problem);

}  // namespace tessera
