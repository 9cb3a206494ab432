// Quantized Conv2D: its definition, and its lowering to one GEMM per group (im2col).
#include "tessera/conv.hpp"

#include <string>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

using Dims = QuantizedConv2d::Dims;

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out += (i == 0 ? "" : ",") + std::to_string(shape[i]);
  }
  return out + "]";
}

// Element offsets of the three tensors in either layout.
std::size_t input_at(const QuantizedConv2d& conv, const Dims& d, std::size_t n, std::size_t c,
                     std::size_t y, std::size_t x) {
  return conv.layout == Layout::kNhwc ? ((n * d.h + y) * d.w + x) * d.c + c
                                      : ((n * d.c + c) * d.h + y) * d.w + x;
}

std::size_t weight_at(const QuantizedConv2d& conv, const Dims& d, std::size_t oc,
                      std::size_t ci, std::size_t ky, std::size_t kx) {
  const std::size_t cg = d.c / conv.group;
  return conv.layout == Layout::kNhwc ? ((oc * d.kh + ky) * d.kw + kx) * cg + ci
                                      : ((oc * cg + ci) * d.kh + ky) * d.kw + kx;
}

std::size_t output_at(const QuantizedConv2d& conv, const Dims& d, std::size_t n, std::size_t oc,
                      std::size_t oy, std::size_t ox) {
  return conv.layout == Layout::kNhwc ? ((n * d.oh + oy) * d.ow + ox) * d.oc + oc
                                      : ((n * d.oc + oc) * d.oh + oy) * d.ow + ox;
}

// The input row and column tap (ky, kx) of output (oy, ox) reads, or false in the padding.
bool tap(const QuantizedConv2d& conv, const Dims& d, std::size_t oy, std::size_t ox,
         std::size_t ky, std::size_t kx, std::size_t& y, std::size_t& x) {
  const std::size_t py = oy * conv.strides[0] + ky * conv.dilations[0];
  const std::size_t px = ox * conv.strides[1] + kx * conv.dilations[1];
  if (py < conv.pads[0] || px < conv.pads[1]) return false;
  y = py - conv.pads[0];
  x = px - conv.pads[1];
  return y < d.h && x < d.w;
}

// The per-channel vector's entries of channels [first, first + count), or the per-tensor
// one as it is.
std::vector<std::int32_t> slice(const std::vector<std::int32_t>& v, std::size_t first,
                                std::size_t count) {
  if (v.size() <= 1) return v;
  return {v.begin() + static_cast<std::ptrdiff_t>(first),
          v.begin() + static_cast<std::ptrdiff_t>(first + count)};
}

// The output stage's settings as a QuantizedGemm (no operands): requant, type, clamp.
QuantizedGemm output_settings(const QuantizedConv2d& conv) {
  QuantizedGemm stage;
  stage.requant = conv.requant;
  stage.out_type = conv.out_type;
  stage.clamp_lo = conv.clamp_lo;
  stage.clamp_hi = conv.clamp_hi;
  return stage;
}

// The output, zeros, in the convolution's layout.
Tensor<std::int32_t> output_tensor(const QuantizedConv2d& conv, const Dims& d) {
  Tensor<std::int32_t> out;
  out.shape = conv.layout == Layout::kNhwc ? std::vector<std::size_t>{d.n, d.oh, d.ow, d.oc}
                                           : std::vector<std::size_t>{d.n, d.oc, d.oh, d.ow};
  out.data.resize(d.n * d.oc * d.oh * d.ow);
  return out;
}

}  // namespace

QuantizedConv2d::Dims QuantizedConv2d::dims() const {
  if (input.shape.size() != 4) {
    throw InputError("input must be 4-D (" +
                     std::string(layout == Layout::kNhwc ? "[N,H,W,C]" : "[N,C,H,W]") +
                     "), got shape " + shape_text(input.shape));
  }
  if (weight.shape.size() != 4) {
    throw InputError("weight must be 4-D (" +
                     std::string(layout == Layout::kNhwc ? "[OC,KH,KW,C/group]"
                                                         : "[OC,C/group,KH,KW]") +
                     "), got shape " + shape_text(weight.shape));
  }
  Dims d{};
  const auto& i = input.shape;
  const auto& w = weight.shape;
  std::size_t cg = 0;
  if (layout == Layout::kNhwc) {
    d.n = i[0], d.h = i[1], d.w = i[2], d.c = i[3];
    d.oc = w[0], d.kh = w[1], d.kw = w[2], cg = w[3];
  } else {
    d.n = i[0], d.c = i[1], d.h = i[2], d.w = i[3];
    d.oc = w[0], cg = w[1], d.kh = w[2], d.kw = w[3];
  }
  if (d.n * d.c * d.h * d.w == 0 || d.oc * cg * d.kh * d.kw == 0) {
    throw InputError("input " + shape_text(i) + " and weight " + shape_text(w) +
                     " must have no zero dimension");
  }
  if (group == 0 || d.c != cg * group || d.oc % group != 0) {
    throw InputError("group " + std::to_string(group) + ": input channels " +
                     std::to_string(d.c) + " must be group x the weight's " +
                     std::to_string(cg) + ", and output channels " + std::to_string(d.oc) +
                     " a multiple of group");
  }
  for (std::size_t s : strides) {
    if (s == 0) throw InputError("strides must be >= 1");
  }
  for (std::size_t s : dilations) {
    if (s == 0) throw InputError("dilations must be >= 1");
  }
  const std::size_t span_h = (d.kh - 1) * dilations[0] + 1;
  const std::size_t span_w = (d.kw - 1) * dilations[1] + 1;
  const std::size_t padded_h = d.h + pads[0] + pads[2], padded_w = d.w + pads[1] + pads[3];
  if (span_h > padded_h || span_w > padded_w) {
    throw InputError("the kernel spans " + std::to_string(span_h) + "x" +
                     std::to_string(span_w) + " (with dilation), more than the padded input " +
                     std::to_string(padded_h) + "x" + std::to_string(padded_w));
  }
  d.oh = (padded_h - span_h) / strides[0] + 1;
  d.ow = (padded_w - span_w) / strides[1] + 1;
  return d;
}

void validate(const QuantizedConv2d& conv) {
  const Dims d = conv.dims();
  if (!conv.bias.empty() && conv.bias.size() != d.oc) {
    throw InputError("bias has " + std::to_string(conv.bias.size()) +
                     " values, expected OC=" + std::to_string(d.oc));
  }
  if (conv.weight_zero_point.size() > 1 && conv.weight_zero_point.size() != d.oc) {
    throw InputError("weight_zero_point has " + std::to_string(conv.weight_zero_point.size()) +
                     " values, expected 1 or OC=" + std::to_string(d.oc));
  }
  if (conv.requant) {
    for (const auto* v : {&conv.requant->multiplier, &conv.requant->shift}) {
      if (v->size() != 1 && v->size() != d.oc) {
        throw InputError("requantization has " + std::to_string(v->size()) +
                         " multipliers or shifts, expected 1 or OC=" + std::to_string(d.oc));
      }
    }
  }
  // Values, zero points, clamp: the group GEMMs' own checks.
  for (const QuantizedGemm& gemm : conv_gemms(conv)) validate(gemm);
}

Tensor<std::int32_t> golden_conv2d(const QuantizedConv2d& conv) {
  validate(conv);
  const Dims d = conv.dims();
  const std::size_t cg = d.c / conv.group, ocg = d.oc / conv.group;
  const QuantizedGemm stage = output_settings(conv);
  Tensor<std::int32_t> out = output_tensor(conv, d);
  for (std::size_t n = 0; n < d.n; ++n) {
    for (std::size_t oc = 0; oc < d.oc; ++oc) {
      const std::size_t g = oc / ocg;
      const std::int64_t zw =
          conv.weight_zero_point.empty()
              ? 0
              : conv.weight_zero_point[conv.weight_zero_point.size() == 1 ? 0 : oc];
      for (std::size_t oy = 0; oy < d.oh; ++oy) {
        for (std::size_t ox = 0; ox < d.ow; ++ox) {
          std::int64_t sum = 0;
          for (std::size_t ci = 0; ci < cg; ++ci) {
            for (std::size_t ky = 0; ky < d.kh; ++ky) {
              for (std::size_t kx = 0; kx < d.kw; ++kx) {
                std::size_t y = 0, x = 0;
                const std::int64_t value =
                    tap(conv, d, oy, ox, ky, kx, y, x)
                        ? conv.input.data[input_at(conv, d, n, g * cg + ci, y, x)]
                        : conv.input_zero_point;
                sum += (value - conv.input_zero_point) *
                       (conv.weight.data[weight_at(conv, d, oc, ci, ky, kx)] - zw);
              }
            }
          }
          sum += conv.bias.empty() ? 0 : conv.bias[oc];
          const auto acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(sum));
          out.data[output_at(conv, d, n, oc, oy, ox)] = output_stage(acc, stage, oc);
        }
      }
    }
  }
  return out;
}

std::vector<QuantizedGemm> conv_gemms(const QuantizedConv2d& conv) {
  const Dims d = conv.dims();
  const std::size_t cg = d.c / conv.group, ocg = d.oc / conv.group;
  const std::size_t rows = d.n * d.oh * d.ow, depth = d.kh * d.kw * cg;
  std::vector<QuantizedGemm> gemms;
  for (std::size_t g = 0; g < conv.group; ++g) {
    QuantizedGemm q = output_settings(conv);
    q.a_type = conv.input_type;
    q.a_zero_point = conv.input_zero_point;
    q.b_type = conv.weight_type;
    q.b_zero_point = slice(conv.weight_zero_point, g * ocg, ocg);
    if (!conv.bias.empty()) q.bias = slice(conv.bias, g * ocg, ocg);
    if (q.requant) {
      q.requant->multiplier = slice(conv.requant->multiplier, g * ocg, ocg);
      q.requant->shift = slice(conv.requant->shift, g * ocg, ocg);
    }
    // im2col: row (n, oy, ox), column (ky, kx, ci); padding reads the input zero point,
    // so it adds nothing to Σ (x - zx)(w - zw).
    q.a = Tensor<std::int32_t>(rows, depth);
    for (std::size_t n = 0; n < d.n; ++n) {
      for (std::size_t oy = 0; oy < d.oh; ++oy) {
        for (std::size_t ox = 0; ox < d.ow; ++ox) {
          const std::size_t row = (n * d.oh + oy) * d.ow + ox;
          for (std::size_t ky = 0; ky < d.kh; ++ky) {
            for (std::size_t kx = 0; kx < d.kw; ++kx) {
              std::size_t y = 0, x = 0;
              const bool inside = tap(conv, d, oy, ox, ky, kx, y, x);
              for (std::size_t ci = 0; ci < cg; ++ci) {
                q.a.at(row, (ky * d.kw + kx) * cg + ci) =
                    inside ? conv.input.data[input_at(conv, d, n, g * cg + ci, y, x)]
                           : conv.input_zero_point;
              }
            }
          }
        }
      }
    }
    q.b = Tensor<std::int32_t>(depth, ocg);
    for (std::size_t o = 0; o < ocg; ++o) {
      for (std::size_t ky = 0; ky < d.kh; ++ky) {
        for (std::size_t kx = 0; kx < d.kw; ++kx) {
          for (std::size_t ci = 0; ci < cg; ++ci) {
            q.b.at((ky * d.kw + kx) * cg + ci, o) =
                conv.weight.data[weight_at(conv, d, g * ocg + o, ci, ky, kx)];
          }
        }
      }
    }
    gemms.push_back(std::move(q));
  }
  return gemms;
}

Tensor<std::int32_t> conv_output(const QuantizedConv2d& conv,
                                 const std::vector<Tensor<std::int32_t>>& gemm_outputs) {
  const Dims d = conv.dims();
  const std::size_t ocg = d.oc / conv.group;
  Tensor<std::int32_t> out = output_tensor(conv, d);
  for (std::size_t g = 0; g < conv.group; ++g) {
    for (std::size_t n = 0; n < d.n; ++n) {
      for (std::size_t oy = 0; oy < d.oh; ++oy) {
        for (std::size_t ox = 0; ox < d.ow; ++ox) {
          for (std::size_t o = 0; o < ocg; ++o) {
            out.data[output_at(conv, d, n, g * ocg + o, oy, ox)] =
                gemm_outputs.at(g).at((n * d.oh + oy) * d.ow + ox, o);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace tessera
