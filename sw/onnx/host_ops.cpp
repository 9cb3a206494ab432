// Host operators, each written to give ONNX Runtime's CPU result bit for bit: float32
// arithmetic in the order its kernels use, std::nearbyint for round-half-to-even
// (the default rounding mode), saturation where it saturates.
#include "host_ops.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>

#include "tessera/errors.hpp"

namespace tessera::onnx_ops {
namespace {

[[noreturn]] void fail(const OnnxNode& node, const std::string& what) {
  throw InputError("node '" + node.name + "' (" + node.op_type + "): " + what);
}

std::size_t product(const std::vector<std::size_t>& shape, std::size_t first, std::size_t last) {
  std::size_t p = 1;
  for (std::size_t i = first; i < last; ++i) p *= shape[i];
  return p;
}

// An axis attribute in [-rank, rank) (or [-rank, rank] with `inclusive`) as an index.
std::size_t normalize_axis(const OnnxNode& node, std::int64_t axis, std::size_t rank,
                           bool inclusive = false) {
  const auto r = static_cast<std::int64_t>(rank);
  const std::int64_t limit = inclusive ? r : r - 1;
  if (axis < -r || axis > limit) {
    fail(node,
         "axis " + std::to_string(axis) + " is outside a rank-" + std::to_string(rank) + " tensor");
  }
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

HostTensor like(const HostTensor& source, ElemType type) {
  HostTensor out;
  out.type = type;
  out.shape = source.shape;
  if (type == ElemType::kFloat) {
    out.floats.resize(source.size());
  } else {
    out.ints.resize(source.size());
  }
  return out;
}

// Numpy broadcasting of two shapes.
std::vector<std::size_t> broadcast_shape(const OnnxNode& node, const std::vector<std::size_t>& a,
                                         const std::vector<std::size_t>& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  std::vector<std::size_t> out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const std::size_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      fail(node, "shapes " + format_shape(a) + " and " + format_shape(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// For each element of `out_shape`, the index of the element of `shape` it reads.
std::vector<std::size_t> broadcast_index(const std::vector<std::size_t>& shape,
                                         const std::vector<std::size_t>& out_shape) {
  const std::size_t rank = out_shape.size();
  std::vector<std::size_t> strides(rank, 0);
  std::size_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i + rank - shape.size()] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  const std::size_t total = product(out_shape, 0, rank);
  std::vector<std::size_t> index(total);
  std::vector<std::size_t> coord(rank, 0);
  for (std::size_t flat = 0; flat < total; ++flat) {
    std::size_t at = 0;
    for (std::size_t d = 0; d < rank; ++d) at += coord[d] * strides[d];
    index[flat] = at;
    for (std::size_t d = rank; d-- > 0;) {
      if (++coord[d] < out_shape[d]) break;
      coord[d] = 0;
    }
  }
  return index;
}

std::int64_t saturate(std::int64_t value, ElemType type) {
  return std::clamp(value, type_min(type), type_max(type));
}

// ONNX Runtime's float → integer step: clamp to [lo − zp, hi − zp] in float, round half
// to even, add the zero point.
std::int64_t quantize_value(float value, std::int64_t zero_point, ElemType type) {
  value = std::max(value, static_cast<float>(type_min(type) - zero_point));
  value = std::min(value, static_cast<float>(type_max(type) - zero_point));
  return static_cast<std::int64_t>(std::nearbyint(value)) + zero_point;
}

// The per-axis index of element `flat` of a tensor of `shape`.
std::size_t axis_index(const std::vector<std::size_t>& shape, std::size_t axis, std::size_t flat) {
  return (flat / product(shape, axis + 1, shape.size())) % shape[axis];
}

// How many scales a QuantizeLinear / DequantizeLinear has: 1, or the axis dimension.
std::size_t scale_count(const OnnxNode& node, const HostTensor& x, const HostTensor& scale,
                        std::size_t& axis) {
  if (scale.size() == 1) return 1;
  axis = normalize_axis(node, node.int_attr("axis", 1), x.shape.size());
  return x.shape[axis];
}

}  // namespace

std::int64_t type_min(ElemType type) {
  switch (type) {
    case ElemType::kUint8:
      return 0;
    case ElemType::kInt8:
      return -128;
    case ElemType::kInt32:
      return std::numeric_limits<std::int32_t>::min();
    default:
      return std::numeric_limits<std::int64_t>::min();
  }
}

std::int64_t type_max(ElemType type) {
  switch (type) {
    case ElemType::kUint8:
      return 255;
    case ElemType::kInt8:
      return 127;
    case ElemType::kInt32:
      return std::numeric_limits<std::int32_t>::max();
    default:
      return std::numeric_limits<std::int64_t>::max();
  }
}

void expect_type(const OnnxNode& node, const HostTensor& tensor, ElemType type, const char* what) {
  if (tensor.type != type) {
    fail(node, std::string(what) + " is " + elem_type_name(tensor.type) + ", expected " +
                   elem_type_name(type));
  }
}

const HostTensor& required(const OnnxNode& node, const Inputs& inputs, std::size_t index) {
  if (index >= inputs.size() || inputs[index] == nullptr) {
    fail(node, "input " + std::to_string(index) + " is required");
  }
  return *inputs[index];
}

const HostTensor* optional(const Inputs& inputs, std::size_t index) {
  return index < inputs.size() ? inputs[index] : nullptr;
}

std::vector<float> float_values(const OnnxNode& node, const HostTensor& tensor, std::size_t count,
                                const char* what) {
  expect_type(node, tensor, ElemType::kFloat, what);
  if (tensor.size() != 1 && tensor.size() != count) {
    fail(node, std::string(what) + " has " + std::to_string(tensor.size()) +
                   " values, expected 1 or " + std::to_string(count));
  }
  return tensor.floats;
}

std::vector<std::int64_t> int_values(const OnnxNode& node, const HostTensor* tensor,
                                     std::size_t count, const char* what) {
  if (tensor == nullptr) return {0};
  if (tensor->is_float()) fail(node, std::string(what) + " must be an integer tensor");
  if (tensor->size() != 1 && tensor->size() != count) {
    fail(node, std::string(what) + " has " + std::to_string(tensor->size()) +
                   " values, expected 1 or " + std::to_string(count));
  }
  return tensor->ints;
}

ElemType zero_point_type(const HostTensor* zero_point, ElemType fallback) {
  return zero_point ? zero_point->type : fallback;
}

HostTensor requantize(const HostTensor& acc, const std::vector<float>& scale,
                      std::size_t channel_axis, std::int64_t zero_point, ElemType type) {
  HostTensor out = like(acc, type);
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const float s = scale.size() == 1 ? scale[0] : scale[axis_index(acc.shape, channel_axis, i)];
    const float value = static_cast<float>(static_cast<std::int32_t>(acc.ints[i])) * s;
    out.ints[i] = quantize_value(value, zero_point, type);
  }
  return out;
}

HostTensor quantize_linear(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& x = required(node, inputs, 0);
  const HostTensor& scale = required(node, inputs, 1);
  const HostTensor* zero_point = optional(inputs, 2);
  expect_type(node, x, ElemType::kFloat, "x");
  std::size_t axis = 0;
  const std::size_t count = scale_count(node, x, scale, axis);
  const auto scales = float_values(node, scale, count, "y_scale");
  const auto zeros = int_values(node, zero_point, count, "y_zero_point");
  const ElemType type = zero_point_type(zero_point, ElemType::kUint8);
  if (type != ElemType::kUint8 && type != ElemType::kInt8) {
    fail(node, std::string("y_zero_point is ") + elem_type_name(type) + ", expected uint8 or int8");
  }
  HostTensor out = like(x, type);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = count == 1 ? 0 : axis_index(x.shape, axis, i);
    const std::int64_t zp = zeros.size() == 1 ? zeros[0] : zeros[c];
    out.ints[i] = quantize_value(x.floats[i] / scales[count == 1 ? 0 : c], zp, type);
  }
  return out;
}

HostTensor dequantize_linear(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& x = required(node, inputs, 0);
  const HostTensor& scale = required(node, inputs, 1);
  const HostTensor* zero_point = optional(inputs, 2);
  if (x.is_float()) fail(node, "x must be uint8, int8 or int32");
  std::size_t axis = 0;
  const std::size_t count = scale_count(node, x, scale, axis);
  const auto scales = float_values(node, scale, count, "x_scale");
  const auto zeros = int_values(node, zero_point, count, "x_zero_point");
  HostTensor out = like(x, ElemType::kFloat);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = count == 1 ? 0 : axis_index(x.shape, axis, i);
    const std::int64_t zp = zeros.size() == 1 ? zeros[0] : zeros[c];
    const auto centered = static_cast<std::int32_t>(x.ints[i] - zp);
    out.floats[i] = static_cast<float>(centered) * scales[count == 1 ? 0 : c];
  }
  return out;
}

// com.microsoft QLinearAdd as ONNX Runtime's x86 kernel computes it: the zero points fold
// into one float constant, then c = round(a·(sa/sc) + (b·(sb/sc) + constant)) with fused
// multiply-adds, saturated; a scalar operand is folded into the constant with a plain
// multiply and add.
HostTensor qlinear_add(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& a = required(node, inputs, 0);
  const HostTensor& b = required(node, inputs, 3);
  const float scale_a = float_values(node, required(node, inputs, 1), 1, "A_scale")[0];
  const float scale_b = float_values(node, required(node, inputs, 4), 1, "B_scale")[0];
  const float scale_c = float_values(node, required(node, inputs, 6), 1, "C_scale")[0];
  const std::int64_t zero_a = int_values(node, optional(inputs, 2), 1, "A_zero_point")[0];
  const std::int64_t zero_b = int_values(node, optional(inputs, 5), 1, "B_zero_point")[0];
  const HostTensor* zc_tensor = optional(inputs, 7);
  const std::int64_t zero_c = int_values(node, zc_tensor, 1, "C_zero_point")[0];
  if (a.type != ElemType::kUint8 && a.type != ElemType::kInt8)
    fail(node, "A must be uint8 or int8");
  expect_type(node, b, a.type, "B");

  const float ratio_a = scale_a / scale_c;
  const float ratio_b = scale_b / scale_c;
  const float fixed = static_cast<float>(zero_c) -
                      (ratio_a * static_cast<float>(zero_a) + ratio_b * static_cast<float>(zero_b));
  HostTensor out;
  out.type = a.type;
  out.shape = broadcast_shape(node, a.shape, b.shape);
  const std::size_t total = product(out.shape, 0, out.shape.size());
  out.ints.resize(total);
  const auto finish = [&](float value) {
    return saturate(static_cast<std::int64_t>(std::nearbyint(value)), out.type);
  };
  if (a.size() == 1 || b.size() == 1) {
    // The scalar operand goes into the constant; the other streams through one FMA.
    const bool scalar_b = b.size() == 1;
    const HostTensor& stream = scalar_b ? a : b;
    const float stream_ratio = scalar_b ? ratio_a : ratio_b;
    const float scalar = static_cast<float>((scalar_b ? b : a).ints[0]);
    const float constant = fixed + scalar * (scalar_b ? ratio_b : ratio_a);
    const auto index = broadcast_index(stream.shape, out.shape);
    for (std::size_t i = 0; i < total; ++i) {
      out.ints[i] =
          finish(std::fma(static_cast<float>(stream.ints[index[i]]), stream_ratio, constant));
    }
    return out;
  }
  const auto index_a = broadcast_index(a.shape, out.shape);
  const auto index_b = broadcast_index(b.shape, out.shape);
  for (std::size_t i = 0; i < total; ++i) {
    const float partial = std::fma(static_cast<float>(b.ints[index_b[i]]), ratio_b, fixed);
    out.ints[i] = finish(std::fma(static_cast<float>(a.ints[index_a[i]]), ratio_a, partial));
  }
  return out;
}

HostTensor add(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& a = required(node, inputs, 0);
  const HostTensor& b = required(node, inputs, 1);
  expect_type(node, b, a.type, "B");
  HostTensor out;
  out.type = a.type;
  out.shape = broadcast_shape(node, a.shape, b.shape);
  const std::size_t total = product(out.shape, 0, out.shape.size());
  const auto index_a = broadcast_index(a.shape, out.shape);
  const auto index_b = broadcast_index(b.shape, out.shape);
  if (a.is_float()) {
    out.floats.resize(total);
    for (std::size_t i = 0; i < total; ++i)
      out.floats[i] = a.floats[index_a[i]] + b.floats[index_b[i]];
    return out;
  }
  if (a.type != ElemType::kInt32 && a.type != ElemType::kInt64) {
    fail(node, std::string("Add of ") + elem_type_name(a.type) + " is not an ONNX operator");
  }
  out.ints.resize(total);
  for (std::size_t i = 0; i < total; ++i) {
    // int32 adds wrap, as ONNX Runtime's do.
    const std::int64_t sum = a.ints[index_a[i]] + b.ints[index_b[i]];
    out.ints[i] = a.type == ElemType::kInt32
                      ? static_cast<std::int32_t>(static_cast<std::uint32_t>(sum))
                      : sum;
  }
  return out;
}

HostTensor relu(const OnnxNode& node, const Inputs& inputs) {
  HostTensor out = required(node, inputs, 0);
  for (float& v : out.floats) v = std::max(v, 0.0f);
  for (std::int64_t& v : out.ints) v = std::max<std::int64_t>(v, 0);
  return out;
}

HostTensor clip(const OnnxNode& node, const Inputs& inputs, std::int64_t opset) {
  HostTensor out = required(node, inputs, 0);
  if (out.is_float()) {
    float lo = -std::numeric_limits<float>::infinity(), hi = -lo;
    if (opset < 11) {
      lo = node.float_attr("min", lo);
      hi = node.float_attr("max", hi);
    } else {
      if (optional(inputs, 1)) lo = float_values(node, *inputs[1], 1, "min")[0];
      if (optional(inputs, 2)) hi = float_values(node, *inputs[2], 1, "max")[0];
    }
    for (float& v : out.floats) v = std::min(std::max(v, lo), hi);
    return out;
  }
  std::int64_t lo = type_min(out.type), hi = type_max(out.type);
  if (optional(inputs, 1)) lo = int_values(node, inputs[1], 1, "min")[0];
  if (optional(inputs, 2)) hi = int_values(node, inputs[2], 1, "max")[0];
  for (std::int64_t& v : out.ints) v = std::min(std::max(v, lo), hi);
  return out;
}

HostTensor reshape(const OnnxNode& node, const Inputs& inputs) {
  HostTensor out = required(node, inputs, 0);
  const HostTensor& shape = required(node, inputs, 1);
  expect_type(node, shape, ElemType::kInt64, "shape");
  const bool allow_zero = node.int_attr("allowzero", 0) != 0;
  std::vector<std::size_t> dims;
  std::optional<std::size_t> inferred;
  std::size_t known = 1;
  for (std::size_t i = 0; i < shape.ints.size(); ++i) {
    const std::int64_t d = shape.ints[i];
    if (d == -1) {
      if (inferred) fail(node, "shape has more than one -1");
      inferred = i;
      dims.push_back(1);
    } else if (d == 0 && !allow_zero) {
      if (i >= out.shape.size())
        fail(node, "shape copies dimension " + std::to_string(i) + " the input lacks");
      dims.push_back(out.shape[i]);
      known *= out.shape[i];
    } else if (d < 0) {
      fail(node, "shape has a negative dimension " + std::to_string(d));
    } else {
      dims.push_back(static_cast<std::size_t>(d));
      known *= static_cast<std::size_t>(d);
    }
  }
  if (inferred) {
    if (known == 0 || out.size() % known != 0) {
      fail(node, "cannot reshape " + format_shape(out.shape) + " with a -1 dimension");
    }
    dims[*inferred] = out.size() / known;
  }
  if (product(dims, 0, dims.size()) != out.size()) {
    fail(node, "cannot reshape " + format_shape(out.shape) + " into " + format_shape(dims));
  }
  out.shape = dims;
  return out;
}

HostTensor flatten(const OnnxNode& node, const Inputs& inputs) {
  HostTensor out = required(node, inputs, 0);
  const std::size_t axis = normalize_axis(node, node.int_attr("axis", 1), out.shape.size(), true);
  out.shape = {product(out.shape, 0, axis), product(out.shape, axis, out.shape.size())};
  return out;
}

HostTensor transpose(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& x = required(node, inputs, 0);
  const std::size_t rank = x.shape.size();
  std::vector<std::size_t> perm(rank);
  const auto attr = node.ints_attr("perm");
  if (attr.empty()) {
    for (std::size_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
  } else {
    if (attr.size() != rank)
      fail(node,
           "perm has " + std::to_string(attr.size()) + " entries, rank is " + std::to_string(rank));
    std::vector<bool> seen(rank, false);
    for (std::size_t i = 0; i < rank; ++i) {
      perm[i] = normalize_axis(node, attr[i], rank);
      if (seen[perm[i]]) fail(node, "perm is not a permutation");
      seen[perm[i]] = true;
    }
  }
  HostTensor out;
  out.type = x.type;
  for (std::size_t i = 0; i < rank; ++i) out.shape.push_back(x.shape[perm[i]]);
  // Source strides, permuted to walk the output in order.
  std::vector<std::size_t> stride(rank);
  for (std::size_t i = 0; i < rank; ++i) stride[i] = product(x.shape, perm[i] + 1, rank);
  const std::size_t total = x.size();
  std::vector<std::size_t> coord(rank, 0);
  if (x.is_float())
    out.floats.resize(total);
  else
    out.ints.resize(total);
  for (std::size_t flat = 0; flat < total; ++flat) {
    std::size_t at = 0;
    for (std::size_t d = 0; d < rank; ++d) at += coord[d] * stride[d];
    if (x.is_float())
      out.floats[flat] = x.floats[at];
    else
      out.ints[flat] = x.ints[at];
    for (std::size_t d = rank; d-- > 0;) {
      if (++coord[d] < out.shape[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

Window2d window_2d(const OnnxNode& node, const std::vector<std::size_t>& shape, std::size_t kh,
                   std::size_t kw, bool ceil_mode) {
  if (shape.size() != 4) fail(node, "input must be 4-D [N, C, H, W], got " + format_shape(shape));
  Window2d w;
  w.kh = kh;
  w.kw = kw;
  const auto pick = [&](const char* name, std::size_t count, std::size_t fallback) {
    auto v = node.ints_attr(name);
    if (v.empty()) return std::vector<std::size_t>(count, fallback);
    if (v.size() != count)
      fail(node, std::string(name) + " needs " + std::to_string(count) + " values");
    std::vector<std::size_t> out;
    for (auto x : v) {
      if (x < 0 || (fallback == 1 && x == 0))
        fail(node, std::string(name) + " has a value out of range");
      out.push_back(static_cast<std::size_t>(x));
    }
    return out;
  };
  const auto strides = pick("strides", 2, 1);
  const auto dilations = pick("dilations", 2, 1);
  auto pads = pick("pads", 4, 0);
  w.stride_h = strides[0];
  w.stride_w = strides[1];
  w.dilation_h = dilations[0];
  w.dilation_w = dilations[1];
  const std::size_t h = shape[2], width = shape[3];
  const std::size_t span_h = (kh - 1) * w.dilation_h + 1, span_w = (kw - 1) * w.dilation_w + 1;
  const std::string auto_pad = node.string_attr("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const auto same = [&](std::size_t in, std::size_t stride, std::size_t span, std::size_t& lo,
                          std::size_t& hi) {
      const std::size_t out = (in + stride - 1) / stride;
      const std::size_t need = (out - 1) * stride + span;
      const std::size_t total = need > in ? need - in : 0;
      lo = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      hi = total - lo;
    };
    same(h, w.stride_h, span_h, pads[0], pads[2]);
    same(width, w.stride_w, span_w, pads[1], pads[3]);
  } else if (auto_pad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (auto_pad != "NOTSET") {
    fail(node, "auto_pad '" + auto_pad + "' is not supported");
  }
  w.pad_top = pads[0];
  w.pad_left = pads[1];
  w.pad_bottom = pads[2];
  w.pad_right = pads[3];
  const std::size_t padded_h = h + w.pad_top + w.pad_bottom;
  const std::size_t padded_w = width + w.pad_left + w.pad_right;
  if (padded_h < span_h || padded_w < span_w) {
    fail(node, "the window is larger than the padded input " + format_shape(shape));
  }
  const auto out_size = [&](std::size_t padded, std::size_t span, std::size_t stride,
                            std::size_t pad_begin, std::size_t in) {
    std::size_t out = (padded - span) / stride + 1;
    if (ceil_mode && (padded - span) % stride != 0) {
      ++out;
      // A window may not start in the end padding alone.
      if ((out - 1) * stride >= in + pad_begin) --out;
    }
    return out;
  };
  w.oh = out_size(padded_h, span_h, w.stride_h, w.pad_top, h);
  w.ow = out_size(padded_w, span_w, w.stride_w, w.pad_left, width);
  return w;
}

namespace {

std::array<std::size_t, 2> kernel_shape(const OnnxNode& node) {
  const auto k = node.ints_attr("kernel_shape");
  if (k.size() != 2 || k[0] < 1 || k[1] < 1)
    fail(node, "kernel_shape must be two positive values (2-D pooling)");
  return {static_cast<std::size_t>(k[0]), static_cast<std::size_t>(k[1])};
}

// Calls visit(index in the plane) for each input of output (oy, ox)'s window that lies
// inside the input, row by row.
template <typename Visit>
void for_each_tap(const Window2d& w, std::size_t h, std::size_t width, std::size_t oy,
                  std::size_t ox, Visit visit) {
  for (std::size_t ky = 0; ky < w.kh; ++ky) {
    const std::size_t py = oy * w.stride_h + ky * w.dilation_h;
    if (py < w.pad_top || py - w.pad_top >= h) continue;
    for (std::size_t kx = 0; kx < w.kw; ++kx) {
      const std::size_t px = ox * w.stride_w + kx * w.dilation_w;
      if (px < w.pad_left || px - w.pad_left >= width) continue;
      visit((py - w.pad_top) * width + (px - w.pad_left));
    }
  }
}

}  // namespace

HostTensor max_pool(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& x = required(node, inputs, 0);
  if (node.int_attr("storage_order", 0) != 0) fail(node, "storage_order 1 is not supported");
  if (node.outputs.size() > 1 && !node.outputs[1].empty())
    fail(node, "the Indices output is not supported");
  const auto [kh, kw] = kernel_shape(node);
  const Window2d w = window_2d(node, x.shape, kh, kw, node.int_attr("ceil_mode", 0) != 0);
  const std::size_t planes = x.shape[0] * x.shape[1], h = x.shape[2], width = x.shape[3];
  HostTensor out;
  out.type = x.type;
  out.shape = {x.shape[0], x.shape[1], w.oh, w.ow};
  if (x.is_float())
    out.floats.resize(planes * w.oh * w.ow);
  else
    out.ints.resize(planes * w.oh * w.ow);
  std::size_t o = 0;
  for (std::size_t p = 0; p < planes; ++p) {
    const std::size_t base = p * h * width;
    for (std::size_t oy = 0; oy < w.oh; ++oy) {
      for (std::size_t ox = 0; ox < w.ow; ++ox, ++o) {
        if (x.is_float()) {
          float m = std::numeric_limits<float>::lowest();
          for_each_tap(w, h, width, oy, ox,
                       [&](std::size_t at) { m = std::max(m, x.floats[base + at]); });
          out.floats[o] = m;
        } else {
          std::int64_t m = type_min(x.type);
          for_each_tap(w, h, width, oy, ox,
                       [&](std::size_t at) { m = std::max(m, x.ints[base + at]); });
          out.ints[o] = m;
        }
      }
    }
  }
  return out;
}

// The window sum of one output in ONNX Runtime's order. MLAS's vectorized 2-D kernel (no
// dilation, strides up to 2 along the width, windows up to 32) first sums
// each column of the window over its rows (from the first row's value), the padding
// columns being 0, then sums those column sums across the window's width; MLAS's other
// kernel and ONNX Runtime's own add every input of the window, row by row, to 0.
static float window_sum(const float* plane, const Window2d& w, bool own_kernel, std::size_t h,
                        std::size_t width, std::size_t oy, std::size_t ox) {
  const auto clipped = [](std::size_t begin_padded, std::size_t span, std::size_t pad,
                          std::size_t size) {
    const std::size_t begin = begin_padded > pad ? begin_padded - pad : 0;
    const std::size_t end =
        std::min(begin_padded + span > pad ? begin_padded + span - pad : 0, size);
    return std::pair{begin, std::max(begin, end)};
  };
  const auto [y0, y1] = clipped(oy * w.stride_h, w.kh, w.pad_top, h);
  const bool vectorized = !own_kernel && w.stride_w <= 2 && w.kh <= 32 && w.kw <= 32 &&
                          w.dilation_h == 1 && w.dilation_w == 1;
  if (!vectorized) {
    float sum = 0;
    for_each_tap(w, h, width, oy, ox, [&](std::size_t at) { sum += plane[at]; });
    return sum;
  }
  float sum = 0;
  for (std::size_t kx = 0; kx < w.kw; ++kx) {
    const std::size_t px = ox * w.stride_w + kx;  // column in padded coordinates
    float column = 0;
    if (px >= w.pad_left && px - w.pad_left < width && y0 < y1) {
      const std::size_t x = px - w.pad_left;
      column = plane[y0 * width + x];
      for (std::size_t y = y0 + 1; y < y1; ++y) column += plane[y * width + x];
    }
    sum = kx == 0 ? column : sum + column;
  }
  return sum;
}

HostTensor average_pool(const OnnxNode& node, const Inputs& inputs, std::int64_t opset) {
  const HostTensor& x = required(node, inputs, 0);
  expect_type(node, x, ElemType::kFloat, "X");
  const auto [kh, kw] = kernel_shape(node);
  const bool ceil_mode = node.int_attr("ceil_mode", 0) != 0;
  const Window2d w = window_2d(node, x.shape, kh, kw, ceil_mode);
  const bool include_pad = node.int_attr("count_include_pad", 0) != 0;
  // ONNX Runtime runs AveragePool-19 (the version with dilations), and ceil_mode with
  // count_include_pad, in its own kernel; the rest in MLAS's (window_sum).
  const bool own_kernel = opset >= 19 || (ceil_mode && include_pad);
  const std::size_t planes = x.shape[0] * x.shape[1], h = x.shape[2], width = x.shape[3];
  HostTensor out;
  out.type = ElemType::kFloat;
  out.shape = {x.shape[0], x.shape[1], w.oh, w.ow};
  out.floats.resize(planes * w.oh * w.ow);
  float* result = out.floats.data();
  for (std::size_t p = 0; p < planes; ++p) {
    const float* plane = x.floats.data() + p * h * width;
    for (std::size_t oy = 0; oy < w.oh; ++oy) {
      for (std::size_t ox = 0; ox < w.ow; ++ox) {
        // Divided by how many of the window's inputs are inside the input, or (include_pad)
        // inside the padded input: the window's size unless ceil_mode lets it run past.
        std::size_t count = 0;
        if (include_pad) {
          for (std::size_t ky = 0; ky < w.kh; ++ky) {
            for (std::size_t kx = 0; kx < w.kw; ++kx) {
              count += oy * w.stride_h + ky * w.dilation_h < h + w.pad_top + w.pad_bottom &&
                       ox * w.stride_w + kx * w.dilation_w < width + w.pad_left + w.pad_right;
            }
          }
        } else {
          for_each_tap(w, h, width, oy, ox, [&](std::size_t) { ++count; });
        }
        *result++ = window_sum(plane, w, own_kernel, h, width, oy, ox) /
                    static_cast<float>(std::max<std::size_t>(count, 1));
      }
    }
  }
  return out;
}

// ONNX Runtime's global average: four running sums over groups of four consecutive
// inputs, combined as (s0 + s2) + (s1 + s3), then the remaining inputs one by one.
HostTensor global_average_pool(const OnnxNode& node, const Inputs& inputs) {
  const HostTensor& x = required(node, inputs, 0);
  expect_type(node, x, ElemType::kFloat, "X");
  if (x.shape.size() < 3)
    fail(node, "input must be [N, C, spatial...], got " + format_shape(x.shape));
  const std::size_t planes = x.shape[0] * x.shape[1];
  const std::size_t area = product(x.shape, 2, x.shape.size());
  HostTensor out;
  out.type = ElemType::kFloat;
  out.shape = {x.shape[0], x.shape[1]};
  out.shape.resize(x.shape.size(), 1);
  out.floats.resize(planes);
  for (std::size_t p = 0; p < planes; ++p) {
    const float* v = x.floats.data() + p * area;
    std::array<float, 4> lanes = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= area; i += 4) {
      for (std::size_t lane = 0; lane < 4; ++lane) lanes[lane] += v[i + lane];
    }
    float sum = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
    for (; i < area; ++i) sum += v[i];
    out.floats[p] = sum / static_cast<float>(area);
  }
  return out;
}

HostTensor softmax(const OnnxNode& node, const Inputs& inputs, std::int64_t opset) {
  const HostTensor& x = required(node, inputs, 0);
  expect_type(node, x, ElemType::kFloat, "input");
  const std::size_t rank = x.shape.size();
  const std::size_t axis = normalize_axis(node, node.int_attr("axis", opset >= 13 ? -1 : 1), rank);
  // Opset 13 normalizes along one axis; before it, over the flattened [axis:] block.
  const std::size_t inner = opset >= 13 ? product(x.shape, axis + 1, rank) : 1;
  const std::size_t length = opset >= 13 ? x.shape[axis] : product(x.shape, axis, rank);
  const std::size_t outer = x.size() / (inner * length);
  HostTensor out = x;
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t in = 0; in < inner; ++in) {
      const auto at = [&](std::size_t i) { return (o * length + i) * inner + in; };
      float top = -std::numeric_limits<float>::infinity();
      for (std::size_t i = 0; i < length; ++i) top = std::max(top, x.floats[at(i)]);
      float sum = 0;
      for (std::size_t i = 0; i < length; ++i) {
        out.floats[at(i)] = std::exp(x.floats[at(i)] - top);
        sum += out.floats[at(i)];
      }
      for (std::size_t i = 0; i < length; ++i) out.floats[at(i)] /= sum;
    }
  }
  return out;
}

}  // namespace tessera::onnx_ops
