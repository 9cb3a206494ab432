// The host's share of an ONNX graph: element-wise, shape and pooling operators, and the
// output stages of the engine's operators, each computed the way ONNX Runtime's CPU
// kernels compute it (float32 arithmetic in the same order, round half to even), so that
// results are equal bit for bit (docs/onnx.md lists the one exception, Softmax).
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/onnx.hpp"

namespace tessera::onnx_ops {

using Inputs = std::vector<const HostTensor*>;  // nullptr for an omitted optional input

// Helpers shared with the engine's operators.
std::int64_t type_min(ElemType type);
std::int64_t type_max(ElemType type);
// Throws InputError naming the node and the input when `tensor` is not of `type`.
void expect_type(const OnnxNode& node, const HostTensor& tensor, ElemType type, const char* what);
const HostTensor& required(const OnnxNode& node, const Inputs& inputs, std::size_t index);
// nullptr when the input is omitted ("" or past the end).
const HostTensor* optional(const Inputs& inputs, std::size_t index);
// A scale or zero point: a scalar or 1-element tensor, or (per_axis) one of `count`.
std::vector<float> float_values(const OnnxNode& node, const HostTensor& tensor, std::size_t count,
                                const char* what);
std::vector<std::int64_t> int_values(const OnnxNode& node, const HostTensor* tensor,
                                     std::size_t count, const char* what);
// A zero point's element type, or `fallback` when the input is omitted.
ElemType zero_point_type(const HostTensor* zero_point, ElemType fallback);

// ONNX Runtime's requantization of int32 sums (MlasRequantizeOutput):
// clamp(round_half_even(float(acc) · scale[c]) + zero_point) into `type`, where c is the
// index along `channel_axis` (scale of 1 element: per tensor).
HostTensor requantize(const HostTensor& acc, const std::vector<float>& scale,
                      std::size_t channel_axis, std::int64_t zero_point, ElemType type);

HostTensor quantize_linear(const OnnxNode& node, const Inputs& inputs);
HostTensor dequantize_linear(const OnnxNode& node, const Inputs& inputs);
HostTensor qlinear_add(const OnnxNode& node, const Inputs& inputs);
HostTensor add(const OnnxNode& node, const Inputs& inputs);
HostTensor relu(const OnnxNode& node, const Inputs& inputs);
HostTensor clip(const OnnxNode& node, const Inputs& inputs, std::int64_t opset);
HostTensor reshape(const OnnxNode& node, const Inputs& inputs);
HostTensor flatten(const OnnxNode& node, const Inputs& inputs);
HostTensor transpose(const OnnxNode& node, const Inputs& inputs);
HostTensor max_pool(const OnnxNode& node, const Inputs& inputs);
HostTensor average_pool(const OnnxNode& node, const Inputs& inputs, std::int64_t opset);
HostTensor global_average_pool(const OnnxNode& node, const Inputs& inputs);
HostTensor softmax(const OnnxNode& node, const Inputs& inputs, std::int64_t opset);

// Conv / pooling geometry from a node's attributes for a [N, C, H, W] input and a
// KH × KW window: pads (top, left, bottom, right), strides, dilations and the output size.
struct Window2d {
  std::size_t kh = 1, kw = 1;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t dilation_h = 1, dilation_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t oh = 0, ow = 0;
};
Window2d window_2d(const OnnxNode& node, const std::vector<std::size_t>& input_shape,
                   std::size_t kh, std::size_t kw, bool ceil_mode);

}  // namespace tessera::onnx_ops
