// Seeded random GEMM problems for the CLI, the tests and the regression runner.
#pragma once

#include <cstdint>

#include "tessera/golden.hpp"

namespace tessera {

struct RandomOptions {
  bool requant = false;      // int8 output through requantization
  bool relu = false;         // requantize and clamp at the zero point
  bool per_channel = true;   // per-channel multiplier/shift (else per-tensor)
};

// Same seed, same problem, on every machine (std::mt19937_64 and integer draws only,
// except for the requantization scale, which goes through frexp of a fixed formula).
GemmProblem random_problem(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed,
                           const RandomOptions& options = {});

}  // namespace tessera
