// The output stage as the engine receives it, shared by the dense and the sparse paths:
// one PARAM word per output channel, and the command fields (requant, zero point, clamp).
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/device.hpp"
#include "tessera/golden.hpp"

namespace tessera {

// PARAM words of channels [0, channels), isa::kParamBytes each: bias, multiplier, shift
// and rounding flag of channel n; the padding channels past N repeat the last one (a valid shift).
std::vector<std::uint8_t> param_words(const GemmProblem& problem, std::size_t channels);

// Throws EngineError when the problem asks for single rounding and the engine predates
// it (FEATURES bit 7 clear, ISA before 1.4): its PARAM words would be rounded twice.
void require_rounding(const EngineConfig& config, const GemmProblem& problem);

// Sets the output-stage fields a GEMM and an SPGEMM share: per-tensor requantization
// where one multiplier and shift serve every channel (each PARAM word still carries them,
// and its channel's bias), per-channel otherwise; with requantization the zero point and
// the clamp.
template <typename Command>
void set_output_stage(Command& cmd, const GemmProblem& problem) {
  cmd.requant = problem.requant.has_value();
  cmd.per_channel = false;
  if (!problem.requant) return;
  cmd.per_channel = problem.requant->multiplier.size() > 1 || problem.requant->shift.size() > 1;
  cmd.zero_point = static_cast<std::int8_t>(problem.requant->zero_point);
  cmd.clamp_lo = static_cast<std::int8_t>(problem.clamp_lo);
  cmd.clamp_hi = static_cast<std::int8_t>(problem.clamp_hi);
}

}  // namespace tessera
