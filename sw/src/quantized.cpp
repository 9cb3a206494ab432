// Lowering of int8/uint8 GEMMs with zero points onto the engine's int8 GEMM, and their
// reference straight from the definition (docs/quantization.md).
#include "tessera/quantized.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

// The int8 image of a dtype: uint8 values and zero points move down by 128.
std::int32_t offset(DType type) { return type == DType::kUint8 ? 128 : 0; }

std::int32_t wrap(std::int64_t value) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(value)));
}

void check_range(std::int32_t value, DType type, const std::string& field) {
  if (value < dtype_min(type) || value > dtype_max(type)) {
    throw InputError(field + " = " + std::to_string(value) + " is outside the " +
                     dtype_name(type) + " range [" + std::to_string(dtype_min(type)) + ", " +
                     std::to_string(dtype_max(type)) + "]");
  }
}

void check_values(const Tensor<std::int32_t>& t, DType type, const char* name) {
  for (std::size_t i = 0; i < t.data.size(); ++i) {
    if (t.data[i] < dtype_min(type) || t.data[i] > dtype_max(type)) {
      check_range(t.data[i], type, std::string(name) + " element " + std::to_string(i));
    }
  }
}

Tensor<std::int8_t> int8_image(const Tensor<std::int32_t>& t, DType type) {
  Tensor<std::int8_t> out;
  out.shape = t.shape;
  out.data.reserve(t.data.size());
  for (std::int32_t v : t.data) out.data.push_back(static_cast<std::int8_t>(v - offset(type)));
  return out;
}

}  // namespace

std::int32_t output_stage(std::int32_t acc, const QuantizedGemm& gemm, std::size_t n) {
  if (!gemm.requant) return acc;
  const Requant& rq = *gemm.requant;
  const std::int32_t scaled = multiply_by_quantized_multiplier(
      acc, rq.multiplier[rq.multiplier.size() == 1 ? 0 : n],
      rq.shift[rq.shift.size() == 1 ? 0 : n], rq.rounding);
  const std::int64_t y = std::int64_t{scaled} + rq.zero_point;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(y, gemm.lo(), gemm.hi()));
}

const char* dtype_name(DType type) { return type == DType::kUint8 ? "uint8" : "int8"; }
std::int32_t dtype_min(DType type) { return type == DType::kUint8 ? 0 : -128; }
std::int32_t dtype_max(DType type) { return type == DType::kUint8 ? 255 : 127; }

std::int32_t QuantizedGemm::b_zero(std::size_t n) const {
  if (b_zero_point.empty()) return 0;
  return b_zero_point[b_zero_point.size() == 1 ? 0 : n];
}

void validate(const QuantizedGemm& gemm) {
  if (gemm.a.shape.size() != 2 || gemm.b.shape.size() != 2) {
    throw InputError("a and b must be 2-D matrices [M,K] and [K,N]");
  }
  if (gemm.a.cols() != gemm.b.rows()) {
    throw InputError("shape mismatch: a is [M,K] with K=" + std::to_string(gemm.a.cols()) +
                     " but b has " + std::to_string(gemm.b.rows()) + " rows");
  }
  check_values(gemm.a, gemm.a_type, "a");
  check_values(gemm.b, gemm.b_type, "b");
  check_range(gemm.a_zero_point, gemm.a_type, "a_zero_point");
  const std::size_t n = gemm.n();
  if (gemm.b_zero_point.size() > 1 && gemm.b_zero_point.size() != n) {
    throw InputError("b_zero_point has " + std::to_string(gemm.b_zero_point.size()) +
                     " values, expected 1 (per tensor) or N=" + std::to_string(n) +
                     " (per column)");
  }
  for (std::int32_t zb : gemm.b_zero_point) check_range(zb, gemm.b_type, "b_zero_point");
  if (gemm.requant) {
    check_range(gemm.requant->zero_point, gemm.out_type, "requant.zero_point");
    check_range(gemm.lo(), gemm.out_type, "clamp low");
    check_range(gemm.hi(), gemm.out_type, "clamp high");
    if (gemm.lo() > gemm.hi()) {
      throw InputError("clamp: low " + std::to_string(gemm.lo()) + " is above high " +
                       std::to_string(gemm.hi()));
    }
  }
  // Shapes, bias and requantization lengths: the engine problem's own checks.
  validate(lower(gemm).engine);
}

Tensor<std::int32_t> golden_quantized_gemm(const QuantizedGemm& gemm) {
  validate(gemm);
  Tensor<std::int32_t> out(gemm.m(), gemm.n());
  for (std::size_t m = 0; m < gemm.m(); ++m) {
    for (std::size_t n = 0; n < gemm.n(); ++n) {
      std::int64_t sum = 0;
      for (std::size_t k = 0; k < gemm.k(); ++k) {
        sum += std::int64_t{gemm.a.at(m, k) - gemm.a_zero_point} *
               (gemm.b.at(k, n) - gemm.b_zero(n));
      }
      const std::int32_t bias = gemm.bias.empty() ? 0 : gemm.bias[n];
      out.at(m, n) = output_stage(wrap(sum + bias), gemm, n);
    }
  }
  return out;
}

LoweredGemm lower(const QuantizedGemm& gemm) {
  LoweredGemm lowered;
  lowered.source = gemm;
  GemmProblem& p = lowered.engine;
  p.a = int8_image(gemm.a, gemm.a_type);
  p.b = int8_image(gemm.b, gemm.b_type);
  const std::size_t n_size = gemm.b.shape.size() == 2 ? gemm.n() : 0;
  for (std::size_t n = 0; n < n_size; ++n) {
    lowered.host_epilogue |= gemm.b_zero(n) != offset(gemm.b_type);
  }
  if (lowered.host_epilogue) return lowered;  // raw Σ a'·b'; finish() does the rest

  // Σ (a' - za') b' = Σ a'·b' - za'·Σk b'[k, n]: the second term joins the bias.
  const std::int32_t za = gemm.a_zero_point - offset(gemm.a_type);
  if (za != 0 || !gemm.bias.empty()) {
    p.bias.assign(n_size, 0);
    for (std::size_t n = 0; n < n_size; ++n) {
      std::int64_t column = 0;
      for (std::size_t k = 0; k < gemm.k(); ++k) column += p.b.at(k, n);
      const std::int32_t bias = gemm.bias.empty() ? 0 : gemm.bias[n];
      p.bias[n] = wrap(std::int64_t{bias} - std::int64_t{za} * column);
    }
  }
  if (gemm.requant) {
    const std::int32_t out = offset(gemm.out_type);
    p.requant = *gemm.requant;
    p.requant->zero_point -= out;
    p.clamp_lo = gemm.lo() - out;
    p.clamp_hi = gemm.hi() - out;
  }
  return lowered;
}

Tensor<std::int32_t> LoweredGemm::finish(const Tensor<std::int32_t>& engine_output) const {
  Tensor<std::int32_t> out = engine_output;
  const QuantizedGemm& q = source;
  if (!host_epilogue) {
    if (q.requant && q.out_type == DType::kUint8) {
      for (auto& v : out.data) v += 128;
    }
    return out;
  }
  // Σ (a' - za')(b' - zb') = Σ a'b' - za'·Σk b' - zb'·Σk a' + K·za'·zb', then the bias.
  const std::int64_t za = q.a_zero_point - offset(q.a_type);
  const auto k_size = static_cast<std::int64_t>(q.k());
  std::vector<std::int64_t> row_sum(q.m(), 0), column_sum(q.n(), 0);
  for (std::size_t m = 0; m < q.m(); ++m) {
    for (std::size_t k = 0; k < q.k(); ++k) row_sum[m] += engine.a.at(m, k);
  }
  for (std::size_t n = 0; n < q.n(); ++n) {
    for (std::size_t k = 0; k < q.k(); ++k) column_sum[n] += engine.b.at(k, n);
  }
  for (std::size_t m = 0; m < q.m(); ++m) {
    for (std::size_t n = 0; n < q.n(); ++n) {
      const std::int64_t zb = q.b_zero(n) - offset(q.b_type);
      const std::int64_t bias = q.bias.empty() ? 0 : q.bias[n];
      const std::int64_t acc = std::int64_t{engine_output.at(m, n)} - za * column_sum[n] -
                               zb * row_sum[m] + k_size * za * zb + bias;
      out.at(m, n) = output_stage(wrap(acc), q, n);
    }
  }
  return out;
}

QuantizedMultiplier quantize_multiplier(double real, const std::string& field) {
  if (!std::isfinite(real) || real < 0) {
    throw InputError(field + ": a scale must be finite and >= 0, got " + std::to_string(real));
  }
  if (real == 0) return {};
  int shift = 0;
  const double fraction = std::frexp(real, &shift);  // [0.5, 1)
  std::int64_t fixed = std::llround(fraction * 2147483648.0);  // halves away from zero
  if (fixed == (std::int64_t{1} << 31)) {
    fixed /= 2;
    ++shift;
  }
  if (shift < -31) return {};
  if (shift > 30) return {2147483647, 30};
  return {static_cast<std::int32_t>(fixed), shift};
}

}  // namespace tessera
