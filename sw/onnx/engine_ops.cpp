// Matrix products and convolutions of an ONNX graph as QuantizedGemm / QuantizedConv2d
// problems for a MatrixBackend; the output scale of a QLinear operator is
// (x_scale · w_scale[c]) / y_scale in float32, as ONNX Runtime computes it.
#include "engine_ops.hpp"

#include <string>

#include "tessera/errors.hpp"

namespace tessera::onnx_ops {
namespace {

[[noreturn]] void fail(const OnnxNode& node, const std::string& what) {
  throw InputError("node '" + node.name + "' (" + node.op_type + "): " + what);
}

DType operand_type(const OnnxNode& node, const HostTensor& tensor, const char* what) {
  if (tensor.type == ElemType::kUint8) return DType::kUint8;
  if (tensor.type == ElemType::kInt8) return DType::kInt8;
  fail(node, std::string(what) + " is " + elem_type_name(tensor.type) + ", expected uint8 or int8");
}

std::vector<std::int32_t> narrow(const std::vector<std::int64_t>& values) {
  return {values.begin(), values.end()};
}

// Rows [first, first + rows) of a row-major [.., cols] tensor as an int32 matrix.
Tensor<std::int32_t> matrix(const HostTensor& tensor, std::size_t first, std::size_t rows,
                            std::size_t cols) {
  Tensor<std::int32_t> out(rows, cols);
  const auto begin = tensor.ints.begin() + static_cast<std::ptrdiff_t>(first * cols);
  std::copy(begin, begin + static_cast<std::ptrdiff_t>(rows * cols), out.data.begin());
  return out;
}

HostTensor int32_tensor(std::vector<std::size_t> shape, const std::vector<std::int32_t>& values) {
  HostTensor out;
  out.type = ElemType::kInt32;
  out.shape = std::move(shape);
  out.ints.assign(values.begin(), values.end());
  return out;
}

// Σ (a − za)(b − zb[n]) + bias[n] for A [..., M, K] and B [K, N] or [..., K, N] (same
// leading dimensions): one GEMM with the leading dimensions folded into M when B is 2-D,
// one GEMM per matrix otherwise.
HostTensor integer_matmul(const OnnxNode& node, const HostTensor& a, std::int64_t a_zero,
                          const HostTensor& b, const HostTensor* b_zero,
                          const std::vector<std::int32_t>& bias, MatrixBackend& backend,
                          LayerStats& stats) {
  if (a.shape.size() < 2 || b.shape.size() < 2) {
    fail(node, "A and B must be at least 2-D (a 1-D operand is not supported)");
  }
  const std::size_t k = a.shape.back();
  const std::size_t n = b.shape.back();
  if (b.shape[b.shape.size() - 2] != k) {
    fail(node, "A's K = " + std::to_string(k) + " but B has " +
                   std::to_string(b.shape[b.shape.size() - 2]) + " rows");
  }
  const bool batched_b = b.shape.size() > 2;
  if (batched_b && (b.shape.size() != a.shape.size() ||
                    !std::equal(b.shape.begin(), b.shape.end() - 2, a.shape.begin()))) {
    fail(node, "a batched B must have A's leading dimensions (broadcasting is not supported)");
  }
  QuantizedGemm gemm;
  gemm.a_type = operand_type(node, a, "A");
  gemm.a_zero_point = static_cast<std::int32_t>(a_zero);
  gemm.b_type = operand_type(node, b, "B");
  gemm.b_zero_point = narrow(int_values(node, b_zero, n, "B's zero point"));
  gemm.bias = bias;
  std::vector<std::size_t> out_shape(a.shape.begin(), a.shape.end() - 1);
  out_shape.push_back(n);
  const std::size_t rows = a.size() / k;
  std::vector<std::int32_t> out;
  out.reserve(rows * n);
  const std::size_t batches = batched_b ? rows / a.shape[a.shape.size() - 2] : 1;
  const std::size_t m = rows / batches;
  for (std::size_t batch = 0; batch < batches; ++batch) {
    gemm.a = matrix(a, batch * m, m, k);
    gemm.b = matrix(b, batched_b ? batch * k : 0, k, n);
    validate(gemm);
    const Tensor<std::int32_t> sums = backend.gemm(gemm, stats);
    out.insert(out.end(), sums.data.begin(), sums.data.end());
  }
  return int32_tensor(std::move(out_shape), out);
}

// The output scales of a QLinear operator, one per output channel (or one).
std::vector<float> output_scales(const OnnxNode& node, float x_scale,
                                 const std::vector<float>& w_scale, float y_scale) {
  if (y_scale == 0) fail(node, "y_scale is 0");
  std::vector<float> out;
  for (const float w : w_scale) out.push_back(x_scale * w / y_scale);
  return out;
}

// A QLinear operator's output: the zero point's type (uint8 or int8), requantized.
HostTensor qlinear_output(const OnnxNode& node, const HostTensor& sums, const Inputs& inputs,
                          std::size_t x_scale, std::size_t w_scale, std::size_t y_scale,
                          std::size_t y_zero, std::size_t channels, std::size_t channel_axis) {
  const float xs = float_values(node, required(node, inputs, x_scale), 1, "x scale")[0];
  const auto ws = float_values(node, required(node, inputs, w_scale), channels, "weight scale");
  const float ys = float_values(node, required(node, inputs, y_scale), 1, "y scale")[0];
  const HostTensor* zero = optional(inputs, y_zero);
  const std::int64_t zy = int_values(node, zero, 1, "y zero point")[0];
  const ElemType type = zero_point_type(zero, ElemType::kUint8);
  if (type != ElemType::kUint8 && type != ElemType::kInt8)
    fail(node, "y zero point must be uint8 or int8");
  return requantize(sums, output_scales(node, xs, ws, ys), channel_axis, zy, type);
}

std::int64_t scalar_zero(const OnnxNode& node, const HostTensor* zero, const char* what) {
  return int_values(node, zero, 1, what)[0];
}

// Σ over the convolution of (x − zx)(w − zw[oc]) + bias[oc], NCHW.
HostTensor integer_conv(const OnnxNode& node, const HostTensor& x, std::int64_t x_zero,
                        const HostTensor& w, const HostTensor* w_zero,
                        const std::vector<std::int32_t>& bias, MatrixBackend& backend,
                        LayerStats& stats) {
  if (x.shape.size() != 4 || w.shape.size() != 4) {
    fail(node, "only 2-D convolutions (4-D input and weight) are supported");
  }
  const auto kernel = node.ints_attr("kernel_shape");
  if (!kernel.empty() && (kernel.size() != 2 || static_cast<std::size_t>(kernel[0]) != w.shape[2] ||
                          static_cast<std::size_t>(kernel[1]) != w.shape[3])) {
    fail(node, "kernel_shape does not match the weight's shape");
  }
  const Window2d window = window_2d(node, x.shape, w.shape[2], w.shape[3], false);
  QuantizedConv2d conv;
  conv.layout = Layout::kNchw;
  conv.input.shape = x.shape;
  conv.input.data.assign(x.ints.begin(), x.ints.end());
  conv.input_type = operand_type(node, x, "x");
  conv.input_zero_point = static_cast<std::int32_t>(x_zero);
  conv.weight.shape = w.shape;
  conv.weight.data.assign(w.ints.begin(), w.ints.end());
  conv.weight_type = operand_type(node, w, "w");
  conv.weight_zero_point = narrow(int_values(node, w_zero, w.shape[0], "w's zero point"));
  conv.bias = bias;
  conv.strides = {window.stride_h, window.stride_w};
  conv.dilations = {window.dilation_h, window.dilation_w};
  conv.pads = {window.pad_top, window.pad_left, window.pad_bottom, window.pad_right};
  const std::int64_t group = node.int_attr("group", 1);
  if (group < 1) fail(node, "group must be >= 1");
  conv.group = static_cast<std::size_t>(group);
  try {
    validate(conv);
  } catch (const InputError& e) {
    fail(node, e.what());
  }
  const Tensor<std::int32_t> sums = backend.conv(conv, stats);
  return int32_tensor(sums.shape, sums.data);
}

std::vector<std::int32_t> int32_bias(const OnnxNode& node, const HostTensor* bias, std::size_t n) {
  if (bias == nullptr) return {};
  expect_type(node, *bias, ElemType::kInt32, "bias");
  if (bias->size() != n) {
    fail(node,
         "bias has " + std::to_string(bias->size()) + " values, expected " + std::to_string(n));
  }
  return narrow(bias->ints);
}

}  // namespace

HostTensor qlinear_matmul(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                          LayerStats& stats) {
  const HostTensor& a = required(node, inputs, 0);
  const HostTensor& b = required(node, inputs, 3);
  const HostTensor sums =
      integer_matmul(node, a, scalar_zero(node, optional(inputs, 2), "a_zero_point"), b,
                     optional(inputs, 5), {}, backend, stats);
  return qlinear_output(node, sums, inputs, 1, 4, 6, 7, b.shape.back(), sums.shape.size() - 1);
}

HostTensor matmul_integer(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                          LayerStats& stats) {
  return integer_matmul(node, required(node, inputs, 0),
                        scalar_zero(node, optional(inputs, 2), "a_zero_point"),
                        required(node, inputs, 1), optional(inputs, 3), {}, backend, stats);
}

HostTensor qlinear_conv(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                        LayerStats& stats) {
  const HostTensor& w = required(node, inputs, 3);
  const HostTensor sums = integer_conv(
      node, required(node, inputs, 0), scalar_zero(node, optional(inputs, 2), "x_zero_point"), w,
      optional(inputs, 5), int32_bias(node, optional(inputs, 8), w.shape.at(0)), backend, stats);
  return qlinear_output(node, sums, inputs, 1, 4, 6, 7, w.shape[0], 1);
}

HostTensor conv_integer(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                        LayerStats& stats) {
  return integer_conv(node, required(node, inputs, 0),
                      scalar_zero(node, optional(inputs, 2), "x_zero_point"),
                      required(node, inputs, 1), optional(inputs, 3), {}, backend, stats);
}

HostTensor qgemm(const OnnxNode& node, const Inputs& inputs, MatrixBackend& backend,
                 LayerStats& stats) {
  if (node.int_attr("transA", 0) != 0) fail(node, "transA = 1 is not supported");
  if (node.float_attr("alpha", 1.0f) != 1.0f || node.float_attr("beta", 1.0f) != 1.0f) {
    fail(node, "alpha and beta other than 1 are not supported");
  }
  const HostTensor& a = required(node, inputs, 0);
  HostTensor b = required(node, inputs, 3);
  if (a.shape.size() != 2 || b.shape.size() != 2) fail(node, "A and B must be 2-D");
  if (node.int_attr("transB", 0) != 0) {
    b = transpose(OnnxNode{node.name, "Transpose", "", {}, {}, {}}, {&b});
  }
  const std::size_t n = b.shape[1];
  const HostTensor sums =
      integer_matmul(node, a, scalar_zero(node, optional(inputs, 2), "a_zero_point"), b,
                     optional(inputs, 5), int32_bias(node, optional(inputs, 6), n), backend, stats);
  return qlinear_output(node, sums, inputs, 1, 4, 7, 8, n, 1);
}

}  // namespace tessera::onnx_ops
