// Golden reference for the sparse-gather path, computed from the packed form alone, so
// that a packer bug cannot hide behind a golden that reads the dense operand.
#pragma once

#include "tessera/golden.hpp"
#include "tessera/sparse.hpp"

namespace tessera {

/// out[m, n] = golden_epilogue(Σ over chunks and entries j of value(j, c) · A[m, k0 +
/// index(j, c)], channel n) with wrapping int32 sums, n = nt*cols + c: what SPGEMM computes
/// (docs/isa.md). problem.b is not read, only its shape checked against `packed`; A,
/// bias, requantization and clamp come from `problem`. Throws InputError when an index
/// lies outside its chunk (the engine's BAD_META) or the shapes disagree.
Tensor<std::int32_t> golden_spgemm(const GemmProblem& problem, const SparseB& packed);

/// What SPGEMMA computes (docs/isa.md), from A packed by pack_sparse_a: out[m, n] =
/// golden_epilogue(Σ over chunks and entries j of row m of value(j, m) · B[k0 + index(j,
/// m), n]). problem.a is not read, only its shape checked; B and the output stage come
/// from `problem`. Throws InputError as golden_spgemm does.
Tensor<std::int32_t> golden_spgemma(const GemmProblem& problem, const SparseB& packed_a);

}  // namespace tessera
