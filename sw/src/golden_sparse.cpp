#include "tessera/golden_sparse.hpp"

#include <string>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

// Σ over the entries of `packed` times the dense operand, then golden_epilogue. Entry j
// of column c is (value, K index k) in both forms: of a packed B it meets A[m, k] at
// output (m, c) for every row m; of a packed A (pack_sparse_a: its columns are A's
// rows) it meets B[k, n] at output (c, n) for every channel n. Sums are kept unsigned so
// that they wrap like the engine's accumulators without signed overflow.
Tensor<std::int32_t> golden_packed(const GemmProblem& problem, const SparseB& packed,
                                   SparseOperand operand) {
  validate(problem);
  const bool sparse_a = operand == SparseOperand::kA;
  // The packed form is B [K, N], or Aᵀ [K, M].
  const char* what = sparse_a ? "packed A" : "packed B";
  const std::size_t columns = sparse_a ? problem.m() : problem.n();
  if (packed.k != problem.k() || packed.n != columns) {
    throw InputError(std::string(what) + " is [" + std::to_string(packed.k) + "," +
                     std::to_string(packed.n) + "] but the problem's " +
                     (sparse_a ? "a transposed" : "b") + " is [" + std::to_string(problem.k()) +
                     "," + std::to_string(columns) + "]");
  }
  const std::size_t n_size = problem.n(), others = sparse_a ? problem.n() : problem.m();
  std::vector<std::uint32_t> sums(problem.m() * n_size, 0);
  const std::size_t cols = packed.cols;
  for (const SparseChunk& chunk : packed.chunks) {
    for (std::size_t block = 0; block < chunk.blocks.size(); ++block) {
      const SparseBlock& entries = chunk.blocks[block];
      for (std::size_t j = 0; j < entries.len; ++j) {
        for (std::size_t c = 0; c < cols && block * cols + c < columns; ++c) {
          const std::size_t column = block * cols + c, index = entries.indices[j * cols + c];
          if (index >= chunk.k) {
            throw InputError(std::string(what) + ": entry " + std::to_string(j) + " of " +
                             (sparse_a ? "row " : "column ") + std::to_string(column) +
                             " has index " + std::to_string(index) +
                             " past its chunk of K = " + std::to_string(chunk.k));
          }
          const std::int32_t value = entries.values[j * cols + c];
          const std::size_t k = chunk.k0 + index;
          for (std::size_t other = 0; other < others; ++other) {
            const std::size_t m = sparse_a ? column : other, n = sparse_a ? other : column;
            const std::int32_t dense = sparse_a ? problem.b.at(k, n) : problem.a.at(m, k);
            sums[m * n_size + n] += static_cast<std::uint32_t>(value * dense);
          }
        }
      }
    }
  }
  Tensor<std::int32_t> out(problem.m(), n_size);
  for (std::size_t m = 0; m < problem.m(); ++m) {
    for (std::size_t n = 0; n < n_size; ++n) {
      out.at(m, n) = golden_epilogue(static_cast<std::int32_t>(sums[m * n_size + n]), problem, n);
    }
  }
  return out;
}

}  // namespace

Tensor<std::int32_t> golden_spgemm(const GemmProblem& problem, const SparseB& packed) {
  return golden_packed(problem, packed, SparseOperand::kB);
}

Tensor<std::int32_t> golden_spgemma(const GemmProblem& problem, const SparseB& packed_a) {
  return golden_packed(problem, packed_a, SparseOperand::kA);
}

}  // namespace tessera
