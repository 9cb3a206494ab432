#include "tessera/golden_sparse.hpp"

#include <string>

#include "tessera/errors.hpp"

namespace tessera {

Tensor<std::int32_t> golden_spgemm(const GemmProblem& problem, const SparseB& packed) {
  validate(problem);
  if (packed.k != problem.k() || packed.n != problem.n()) {
    throw InputError("packed B is [" + std::to_string(packed.k) + "," + std::to_string(packed.n) +
                     "] but the problem's b is [" + std::to_string(problem.k()) + "," +
                     std::to_string(problem.n()) + "]");
  }
  const std::size_t m_size = problem.m(), n_size = problem.n(), cols = packed.cols;
  // Unsigned sums wrap like the engine's int32 accumulators, without signed overflow.
  std::vector<std::uint32_t> sums(m_size * n_size, 0);
  for (const SparseChunk& chunk : packed.chunks) {
    for (std::size_t nt = 0; nt < chunk.blocks.size(); ++nt) {
      const SparseBlock& block = chunk.blocks[nt];
      for (std::size_t j = 0; j < block.len; ++j) {
        for (std::size_t c = 0; c < cols && nt * cols + c < n_size; ++c) {
          const std::size_t index = block.indices[j * cols + c];
          if (index >= chunk.k) {
            throw InputError("packed B: entry " + std::to_string(j) + " of column " +
                             std::to_string(nt * cols + c) + " has index " + std::to_string(index) +
                             " past its chunk of K = " + std::to_string(chunk.k));
          }
          const std::int32_t value = block.values[j * cols + c];
          for (std::size_t m = 0; m < m_size; ++m) {
            sums[m * n_size + nt * cols + c] +=
                static_cast<std::uint32_t>(value * std::int32_t{problem.a.at(m, chunk.k0 + index)});
          }
        }
      }
    }
  }
  Tensor<std::int32_t> out(m_size, n_size);
  for (std::size_t m = 0; m < m_size; ++m) {
    for (std::size_t n = 0; n < n_size; ++n) {
      out.at(m, n) = golden_epilogue(static_cast<std::int32_t>(sums[m * n_size + n]), problem, n);
    }
  }
  return out;
}

}  // namespace tessera
