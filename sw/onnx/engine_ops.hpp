// The engine's share of an ONNX graph: matrix products and convolutions as int8 GEMMs
// (quantized.hpp lowers uint8 and zero points), their int32 sums requantized on the host
// the way ONNX Runtime requantizes (host_ops.hpp, requantize).
#pragma once

#include "host_ops.hpp"

namespace tessera::onnx_ops {

// QLinearMatMul: A [..., M, K] × B [K, N] (or batched [..., K, N]), per-tensor or
// per-column B scale and zero point.
HostTensor qlinear_matmul(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                          LayerStats& stats);
// MatMulInteger: the int32 sums of the same product.
HostTensor matmul_integer(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                          LayerStats& stats);
// QLinearConv / ConvInteger: 2-D, NCHW, any stride, padding, dilation and group.
HostTensor qlinear_conv(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                        LayerStats& stats);
HostTensor conv_integer(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                        LayerStats& stats);
// A Gemm in QDQ form, fused as ONNX Runtime fuses it (com.microsoft QGemm's inputs:
// A, a_scale, a_zero_point, B, b_scale, b_zero_point, C (int32 bias), y_scale,
// y_zero_point); transB either way, alpha = beta = 1.
HostTensor qgemm(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                 LayerStats& stats);

}  // namespace tessera::onnx_ops
