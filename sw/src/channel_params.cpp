#include "channel_params.hpp"

#include <algorithm>
#include <cstring>

#include "tessera/errors.hpp"
#include "tessera/isa.hpp"

namespace tessera {

std::vector<std::uint8_t> param_words(const GemmProblem& problem, std::size_t channels) {
  std::vector<std::uint8_t> params(channels * isa::kParamBytes, 0);
  for (std::size_t channel = 0; channel < channels; ++channel) {
    const std::size_t n = std::min(channel, problem.n() - 1);
    std::uint8_t* word = &params[channel * isa::kParamBytes];
    const std::int32_t bias = problem.bias.empty() ? 0 : problem.bias[n];
    std::int32_t multiplier = 0, shift = 0;
    std::uint8_t flags = 0;
    if (problem.requant) {
      const auto& rq = *problem.requant;
      multiplier = rq.multiplier.size() == 1 ? rq.multiplier[0] : rq.multiplier[n];
      shift = rq.shift.size() == 1 ? rq.shift[0] : rq.shift[n];
      if (rq.rounding == Rounding::kSingle) flags |= isa::kParamSingleRounding;
    }
    std::memcpy(word, &bias, 4);
    std::memcpy(word + 4, &multiplier, 4);
    word[8] = static_cast<std::uint8_t>(static_cast<std::int8_t>(shift));
    word[9] = flags;
  }
  return params;
}

void require_rounding(const EngineConfig& config, const GemmProblem& problem) {
  if (!problem.requant || problem.requant->rounding != Rounding::kSingle) return;
  if (config.round_single()) return;
  throw EngineError(
      "requant.rounding \"single\" needs an engine with single rounding (FEATURES bit 7, "
      "ISA 1.4); this one has FEATURES bit 7 clear");
}

}  // namespace tessera
