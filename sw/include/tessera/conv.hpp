// Quantized 2-D convolution, lowered to the engine's GEMM by im2col (docs/quantization.md,
// "Convolution"). Grouped and depthwise convolutions are one GEMM per group, on the engine.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/quantized.hpp"

namespace tessera {

enum class Layout {
  kNhwc,  // input [N, H, W, C], weight [OC, KH, KW, C/group] (TFLite), output [N, OH, OW, OC]
  kNchw,  // input [N, C, H, W], weight [OC, C/group, KH, KW] (ONNX), output [N, OC, OH, OW]
};

struct QuantizedConv2d {
  Tensor<std::int32_t> input;  ///< 4-D, values of input_type
  DType input_type = DType::kInt8;
  std::int32_t input_zero_point = 0;  ///< also the value of the padding
  Tensor<std::int32_t> weight;        ///< 4-D, values of weight_type
  DType weight_type = DType::kInt8;
  std::vector<std::int32_t> weight_zero_point;  ///< empty, 1 or OC
  std::vector<std::int32_t> bias;               ///< empty or OC
  std::optional<Requant> requant;               ///< 1 or OC multipliers and shifts
  DType out_type = DType::kInt8;
  std::optional<std::int32_t> clamp_lo, clamp_hi;

  Layout layout = Layout::kNhwc;
  std::array<std::size_t, 2> strides = {1, 1};     ///< H, W
  std::array<std::size_t, 4> pads = {0, 0, 0, 0};  ///< top, left, bottom, right
  std::array<std::size_t, 2> dilations = {1, 1};   ///< H, W
  std::size_t group = 1;  ///< C and OC divide by it; group = C is depthwise

  /// [N, C, H, W, OC, KH, KW] and the output's [OH, OW], whatever the layout.
  struct Dims {
    std::size_t n, c, h, w, oc, kh, kw, oh, ow;
  };
  Dims dims() const;  ///< throws InputError naming what does not fit
};

/// Throws InputError naming the field: shapes, group, strides, dilations, the kernel
/// larger than the padded input, and every check of QuantizedGemm.
void validate(const QuantizedConv2d& conv);

/// The definition, loop by loop: out[n, oc, oh, ow] = epilogue(Σ over (c, kh, kw) of the
/// group of (x - zx)(w - zw[oc]) + bias[oc]), padding taken as zx.
Tensor<std::int32_t> golden_conv2d(const QuantizedConv2d& conv);

/// One GEMM per group: A is im2col of the group's channels, [N·OH·OW, KH·KW·C/group] with
/// the padding filled with the input zero point, B its weights [KH·KW·C/group, OC/group].
std::vector<QuantizedGemm> conv_gemms(const QuantizedConv2d& conv);
/// The groups' GEMM outputs, [N·OH·OW, OC/group] each, as the convolution's output tensor.
Tensor<std::int32_t> conv_output(const QuantizedConv2d& conv,
                                 const std::vector<Tensor<std::int32_t>>& gemm_outputs);

}  // namespace tessera
