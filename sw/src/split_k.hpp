// K longer than one pass, for the dense and the sparse paths alike: the engine reduces
// slices of K into raw int32 partial sums, the host adds them (wrapping, like the
// accumulators) and applies bias, requantization and clamp with golden_epilogue, which
// the RTL matches bit for bit.
#pragma once

#include <functional>

#include "tessera/golden.hpp"
#include "tessera/runtime.hpp"

namespace tessera {

// The slice of A's columns and B's rows [k0, k0 + k), as a raw int32 GEMM without bias.
GemmProblem k_slice(const GemmProblem& problem, std::size_t k0, std::size_t k);

// Runs `run_pass` on each slice of at most `max_pass` K, in K order, and sums their
// outputs, cycles and commands.
GemmRun run_split_k(const GemmProblem& problem, std::size_t max_pass,
                    const std::function<GemmRun(const GemmProblem&)>& run_pass);

}  // namespace tessera
