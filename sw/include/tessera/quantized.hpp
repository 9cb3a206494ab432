// Quantized GEMMs as ONNX and TFLite define them: int8 or uint8 operands and output, zero
// points, float scales. The engine multiplies int8 by int8, so the runtime lowers one of
// these to an engine GemmProblem (docs/quantization.md):
// - a uint8 tensor is its int8 image (value - 128) with its zero point moved by 128;
// - the input zero point's term, -za·Σk b[k, n], is a per-channel constant: into the bias;
// - a uint8 output is the int8 output + 128 (zero point and clamp moved by 128);
// - a weight zero point left after that (zb ≠ 0 for int8, ≠ 128 for uint8) adds
//   -zb[n]·Σk a[m, k], which differs per row: the engine then returns the raw int32 sums
//   and the host adds the correction and requantizes (same MAC count, int32 results).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/golden.hpp"
#include "tessera/tensor.hpp"

namespace tessera {

enum class DType { kInt8, kUint8 };
const char* dtype_name(DType type);
std::int32_t dtype_min(DType type);
std::int32_t dtype_max(DType type);

struct QuantizedGemm {
  Tensor<std::int32_t> a;  ///< [M, K], values of a_type
  DType a_type = DType::kInt8;
  std::int32_t a_zero_point = 0;
  Tensor<std::int32_t> b;  ///< [K, N], values of b_type
  DType b_type = DType::kInt8;
  std::vector<std::int32_t> b_zero_point;  ///< empty (0), 1 (per tensor) or N (per column)
  std::vector<std::int32_t> bias;          ///< empty or [N], added to Σ (a - za)(b - zb)
  /// Requantization with its zero point in out_type; absent: raw int32 output.
  std::optional<Requant> requant;
  DType out_type = DType::kInt8;
  std::optional<std::int32_t> clamp_lo, clamp_hi;  ///< default: out_type's range

  std::size_t m() const { return a.rows(); }
  std::size_t k() const { return a.cols(); }
  std::size_t n() const { return b.cols(); }
  std::int32_t b_zero(std::size_t n) const;
  std::int32_t lo() const { return clamp_lo.value_or(dtype_min(out_type)); }
  std::int32_t hi() const { return clamp_hi.value_or(dtype_max(out_type)); }
};

/// The output stage of channel n for the int32 `acc` (bias included): requantization,
/// zero point (added without wrapping, as TFLite and ONNX Runtime add it) and clamp into
/// out_type; `acc` itself without requant. Only requant, out_type and clamp are read.
std::int32_t output_stage(std::int32_t acc, const QuantizedGemm& gemm, std::size_t n);

/// Throws InputError naming the field: shapes, values outside their dtype, zero points
/// outside the operand's or output's dtype, clamp outside the output's range.
void validate(const QuantizedGemm& gemm);

/// y[m, n] = clamp(MultiplyByQuantizedMultiplier(Σk (a - za)(b - zb[n]) + bias[n]) + zy)
/// straight from the definition (int32 sums wrap, as the engine's do).
Tensor<std::int32_t> golden_quantized_gemm(const QuantizedGemm& gemm);

/// What the engine runs for a QuantizedGemm, and how its output becomes the answer.
struct LoweredGemm {
  GemmProblem engine;  ///< int8 operands
  /// The weight zero point's row term is left: the engine's output is raw Σ a'·b', and
  /// finish() corrects it and requantizes on the host.
  bool host_epilogue = false;
  QuantizedGemm source;  ///< for finish(): zero points, bias, requantization, output type

  /// The engine's output as the QuantizedGemm's: values of out_type (or int32 when raw).
  Tensor<std::int32_t> finish(const Tensor<std::int32_t>& engine_output) const;
};
LoweredGemm lower(const QuantizedGemm& gemm);

/// TFLite QuantizeMultiplier: real = multiplier · 2^(shift - 31), multiplier in
/// [2^30, 2^31) (0 for 0), shift clamped to the engine's [-31, 30] the way TFLite does
/// (below: multiplier 0; above: the largest representable). Throws InputError for a
/// negative, NaN or infinite scale, naming `field`.
struct QuantizedMultiplier {
  std::int32_t multiplier = 0;
  std::int32_t shift = 0;
};
QuantizedMultiplier quantize_multiplier(double real, const std::string& field);

}  // namespace tessera
