#include "tessera/random_problem.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace tessera {

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
  if (options.relu) p.clamp_lo = rq.zero_point;
  p.requant = rq;
  return p;
}

}  // namespace tessera
