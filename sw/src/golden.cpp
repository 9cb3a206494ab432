// Golden GEMM with the engine's integer semantics. Every wrap and rounding here is
// deliberate: the RTL is compared against this bit for bit (docs/isa.md).
#include "tessera/golden.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

constexpr std::int32_t kInt32Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr int kShiftMin = -31;  // right shift by up to 31
constexpr int kShiftMax = 30;   // left shift by up to 30
constexpr std::int32_t kInt8Min = -128;
constexpr std::int32_t kInt8Max = 127;

// The engine adds in 32-bit registers that wrap; unsigned arithmetic gives the same
// bits without signed-overflow UB, and C++20 defines the conversion back.
std::int32_t wrapping_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) +
                                   static_cast<std::uint32_t>(b));
}

std::string dims(std::size_t a, std::size_t b) {
  return "[" + std::to_string(a) + "," + std::to_string(b) + "]";
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out += (i == 0 ? "" : ",") + std::to_string(shape[i]);
  }
  return out + "]";
}

void check_matrix(const Tensor<std::int8_t>& t, const char* name, const char* dim_names) {
  if (t.shape.size() != 2) {
    throw InputError(std::string(name) + " must be a 2-D int8 matrix " + dim_names +
                     ", got shape " + shape_text(t.shape));
  }
  if (t.data.size() != t.shape[0] * t.shape[1]) {
    throw InputError(std::string(name) + " holds " + std::to_string(t.data.size()) +
                     " values but its shape " + shape_text(t.shape) + " needs " +
                     std::to_string(t.shape[0] * t.shape[1]));
  }
}

void check_channel_count(std::size_t size, std::size_t n, const char* field) {
  if (size != 1 && size != n) {
    throw InputError(std::string(field) + " has " + std::to_string(size) +
                     " values, expected 1 (per tensor) or N=" + std::to_string(n) +
                     " (per channel)");
  }
}

void check_int8_range(std::int32_t value, const std::string& field) {
  if (value < kInt8Min || value > kInt8Max) {
    throw InputError(field + " = " + std::to_string(value) +
                     " is outside the int8 range [-128, 127]");
  }
}

}  // namespace

std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  // The one product whose doubled high half does not fit in int32.
  if (a == kInt32Min && b == kInt32Min) return kInt32Max;
  const std::int64_t ab = std::int64_t{a} * std::int64_t{b};
  const std::int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
  // gemmlowp relies on C++'s truncating division here, not an arithmetic shift: with
  // the asymmetric nudge it rounds ties toward +infinity.
  return static_cast<std::int32_t>((ab + nudge) / (1ll << 31));
}

std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  // 64-bit so that exponent 31 does not overflow the mask computation.
  const auto mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

const char* rounding_name(Rounding rounding) {
  return rounding == Rounding::kSingle ? "single" : "double";
}

Rounding parse_rounding(const std::string& text, const std::string& field) {
  if (text == "double") return Rounding::kDouble;
  if (text == "single") return Rounding::kSingle;
  throw InputError(field + ": expected \"double\" or \"single\", got \"" + text + "\"");
}

std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier,
                                              int shift, Rounding rounding) {
  if (rounding == Rounding::kSingle) {
    // |x * multiplier| <= 2^62 and the rounding term <= 2^61: no 64-bit overflow.
    const int total_shift = 31 - shift;
    const std::int64_t rounded = std::int64_t{x} * std::int64_t{multiplier} +
                                 (std::int64_t{1} << (total_shift - 1));
    // Arithmetic shift (C++20), then the low 32 bits, as the RTL keeps them.
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(
        static_cast<std::uint64_t>(rounded >> total_shift)));
  }
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  // The RTL shifts a 32-bit register: bits shifted out are lost, not saturated.
  const auto shifted =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

Tensor<std::int32_t> golden_gemm(const GemmProblem& problem) {
  validate(problem);
  const std::size_t m_size = problem.m(), k_size = problem.k(), n_size = problem.n();
  Tensor<std::int32_t> out(m_size, n_size);
  for (std::size_t m = 0; m < m_size; ++m) {
    for (std::size_t n = 0; n < n_size; ++n) {
      std::uint32_t sum = 0;
      for (std::size_t k = 0; k < k_size; ++k) {
        // An int8 product always fits in int32; only the running sum wraps.
        sum += static_cast<std::uint32_t>(std::int32_t{problem.a.at(m, k)} *
                                          std::int32_t{problem.b.at(k, n)});
      }
      out.at(m, n) = golden_epilogue(static_cast<std::int32_t>(sum), problem, n);
    }
  }
  return out;
}

std::int32_t golden_epilogue(std::int32_t acc, const GemmProblem& problem, std::size_t n) {
  if (!problem.bias.empty()) acc = wrapping_add(acc, problem.bias[n]);
  if (!problem.requant) return acc;
  const Requant& rq = *problem.requant;
  const std::int32_t multiplier = rq.multiplier[rq.multiplier.size() == 1 ? 0 : n];
  const std::int32_t shift = rq.shift[rq.shift.size() == 1 ? 0 : n];
  const std::int32_t scaled =
      multiply_by_quantized_multiplier(acc, multiplier, shift, rq.rounding);
  return std::clamp(wrapping_add(scaled, rq.zero_point), problem.clamp_lo, problem.clamp_hi);
}

void validate(const GemmProblem& problem) {
  check_matrix(problem.a, "a", "[M,K]");
  check_matrix(problem.b, "b", "[K,N]");
  const std::size_t m = problem.m(), k = problem.k(), n = problem.n();
  if (k != problem.b.rows()) {
    throw InputError("shape mismatch: a is [M,K]=" + dims(m, k) +
                     " but b is [K,N]=" + dims(problem.b.rows(), n));
  }
  if (m == 0 || k == 0 || n == 0) {
    throw InputError("empty problem: a is [M,K]=" + dims(m, k) + " and b is [K,N]=" +
                     dims(k, n) + "; M, K and N must all be at least 1");
  }
  if (!problem.bias.empty() && problem.bias.size() != n) {
    throw InputError("bias has " + std::to_string(problem.bias.size()) +
                     " values, expected N=" + std::to_string(n) +
                     " (b is [K,N]=" + dims(k, n) + ")");
  }
  if (problem.requant) {
    const Requant& rq = *problem.requant;
    check_channel_count(rq.multiplier.size(), n, "requant.multiplier");
    check_channel_count(rq.shift.size(), n, "requant.shift");
    for (std::size_t i = 0; i < rq.shift.size(); ++i) {
      if (rq.shift[i] < kShiftMin || rq.shift[i] > kShiftMax) {
        throw InputError("requant.shift[" + std::to_string(i) +
                         "] = " + std::to_string(rq.shift[i]) + " is outside [-31, 30]");
      }
    }
    check_int8_range(rq.zero_point, "requant.zero_point");
  }
  // Checked with or without requant: the engine rejects a reversed clamp either way
  // (BAD_FIELD).
  check_int8_range(problem.clamp_lo, "clamp lo");
  check_int8_range(problem.clamp_hi, "clamp hi");
  if (problem.clamp_lo > problem.clamp_hi) {
    throw InputError("clamp [" + std::to_string(problem.clamp_lo) + ", " +
                     std::to_string(problem.clamp_hi) + "]: lo must not exceed hi");
  }
}

}  // namespace tessera
