// Seeded random GEMM problems for the CLI, the tests and the regression runner.
#pragma once

#include <cstdint>
#include <optional>

#include "tessera/golden.hpp"
#include "tessera/sparse.hpp"

namespace tessera {

struct RandomOptions {
  bool requant = false;                   ///< int8 output through requantization
  bool relu = false;                      ///< requantize and clamp at the zero point
  bool per_channel = true;                ///< per-channel multiplier/shift (else per-tensor)
  Rounding rounding = Rounding::kDouble;  ///< of the requantization
};

/// Same seed, same problem, on every machine (std::mt19937_64 and integer draws only,
/// except for the requantization scale, which goes through frexp of a fixed formula).
GemmProblem random_problem(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed,
                           const RandomOptions& options = {});

/// Where a sparse operand has its nonzeros: `density` of its places (exactly
/// round(density*K*N) of B's, or round(density*M*K) of A's, anywhere), or, for B, an N:M
/// pattern with exactly N in every group of M consecutive K of a column (all of a last
/// group cut shorter than N).
struct SparsePattern {
  double density = 1.0;
  std::optional<SparseFormat> nm;  ///< kNM: the pattern instead of a density
  SparseOperand operand = SparseOperand::kB;
};

/// random_problem with the same seed (the same bias and requantization, and the same
/// other operand), the sparse operand replaced by one with `pattern`'s zeros, nonzeros
/// uniform over [-128, 127] without 0. Throws InputError for a density outside [0, 1], an
/// nm that is not N:M, or an nm for A.
GemmProblem random_sparse_problem(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed,
                                  const SparsePattern& pattern, const RandomOptions& options = {});

}  // namespace tessera
