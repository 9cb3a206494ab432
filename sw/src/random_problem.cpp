#include "tessera/random_problem.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

// A draw in [0, bound) from integer arithmetic alone, the same on every machine.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t bound) { return rng() % bound; }

std::int8_t nonzero_int8(std::mt19937_64& rng) {
  const auto value = static_cast<int>(below(rng, 255)) - 128;  // [-128, 126]
  return static_cast<std::int8_t>(value >= 0 ? value + 1 : value);
}

// Selection sampling (Knuth's Algorithm S): exactly `wanted` of the `count` places
// `place(0..count-1)`, each set of that size equally likely.
template <typename Place>
void select_places(std::mt19937_64& rng, std::uint64_t count, std::uint64_t wanted, Place place) {
  for (std::uint64_t i = 0; i < count && wanted > 0; ++i) {
    if (below(rng, count - i) < wanted) {
      place(i);
      --wanted;
    }
  }
}

}  // namespace

GemmProblem random_problem(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed,
                           const RandomOptions& options) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  GemmProblem p;
  p.a = Tensor<std::int8_t>(m, k);
  p.b = Tensor<std::int8_t>(k, n);
  for (auto& v : p.a.data) v = static_cast<std::int8_t>(uniform(-128, 127));
  for (auto& v : p.b.data) v = static_cast<std::int8_t>(uniform(-128, 127));
  p.bias.resize(n);
  for (auto& v : p.bias) v = static_cast<std::int32_t>(uniform(-(1 << 16), 1 << 16));
  if (!options.requant && !options.relu) return p;

  // Accumulators spread about sqrt(K) * 128 * 128 / 3: scale that to about +-64, with a
  // per-channel jitter of up to 2x either way.
  const double scale = 64.0 / (std::sqrt(static_cast<double>(k)) * 5461.0);
  Requant rq;
  const std::size_t channels = options.per_channel ? n : 1;
  for (std::size_t i = 0; i < channels; ++i) {
    const double jitter = 0.5 + 1.5 * static_cast<double>(uniform(0, 1 << 20)) / (1 << 20);
    int exponent = 0;
    const double mantissa = std::frexp(scale * jitter, &exponent);  // in [0.5, 1)
    rq.multiplier.push_back(
        static_cast<std::int32_t>(std::min(std::llround(mantissa * 2147483648.0), 2147483647LL)));
    rq.shift.push_back(std::clamp(exponent, -31, 30));
  }
  rq.zero_point = static_cast<std::int32_t>(uniform(-8, 8));
  rq.rounding = options.rounding;
  if (options.relu) p.clamp_lo = rq.zero_point;
  p.requant = rq;
  return p;
}

GemmProblem random_sparse_problem(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed,
                                  const SparsePattern& pattern, const RandomOptions& options) {
  if (pattern.nm && pattern.nm->kind != SparseFormat::Kind::kNM) {
    throw InputError("sparse pattern: expected an N:M format, got " + format_name(*pattern.nm));
  }
  if (pattern.nm && pattern.operand == SparseOperand::kA) {
    throw InputError("sparse pattern: N:M applies to B; a sparse A takes a density");
  }
  if (!pattern.nm && !(pattern.density >= 0.0 && pattern.density <= 1.0)) {
    throw InputError("density " + std::to_string(pattern.density) + " is outside [0, 1]");
  }
  GemmProblem p = random_problem(m, k, n, seed, options);
  // A stream of its own, so that the other operand, bias and requantization stay those of
  // the same seed.
  std::mt19937_64 rng(seed ^ 0x5350'4152'5345'0001ull);
  Tensor<std::int8_t>& sparse = pattern.operand == SparseOperand::kA ? p.a : p.b;
  std::fill(sparse.data.begin(), sparse.data.end(), std::int8_t{0});
  if (pattern.nm) {
    const unsigned group = pattern.nm->m, per_group = pattern.nm->n;
    for (std::size_t col = 0; col < n; ++col) {
      for (std::size_t k0 = 0; k0 < k; k0 += group) {
        const std::size_t size = std::min<std::size_t>(group, k - k0);
        select_places(rng, size, std::min<std::size_t>(per_group, size),
                      [&](std::uint64_t i) { p.b.at(k0 + i, col) = nonzero_int8(rng); });
      }
    }
    return p;
  }
  const std::uint64_t places = sparse.data.size();
  const auto wanted = static_cast<std::uint64_t>(std::llround(pattern.density * double(places)));
  select_places(rng, places, wanted, [&](std::uint64_t i) { sparse.data[i] = nonzero_int8(rng); });
  return p;
}

}  // namespace tessera
