// Sparse operands for the sparse-gather path (docs/isa.md, "SPGEMM", "SPGEMMA"): the
// formats a kernel can declare, N:M validation, the packer that compresses a dense int8
// B [K, N] into per-column entry lists (weight value + K index), or A [M, K] into per-row
// ones (sparse activations), and the cycle models "auto" chooses by. The packer knows
// nothing of a Device: the runtime passes it the engine's geometry (sparse_runtime.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tessera/tensor.hpp"

namespace tessera {

struct SparseFormat {
  enum class Kind {
    kNM,            // at most n nonzeros in every m consecutive K of a column
    kUnstructured,  // any pattern: each column lists its nonzeros
    kAuto,          // the packer picks the fewest cycles (choose_format)
    kDense,         // the plain GEMM path (only ever chosen by auto)
  };
  Kind kind = Kind::kUnstructured;
  unsigned n = 0, m = 0;  ///< kNM only

  static SparseFormat nm(unsigned n, unsigned m) { return {Kind::kNM, n, m}; }
  bool operator==(const SparseFormat&) const = default;
};

inline constexpr unsigned kMaxNmGroup = 16;  ///< the largest M of an N:M format

/// Which operand is stored compressed: B (weights, SPGEMM) or A (activations, SPGEMMA).
enum class SparseOperand { kA, kB };

/// What a kernel or a run declares sparse. A sparse A is unstructured (or auto): N:M is a
/// pruning pattern of weights.
struct SparseSpec {
  SparseOperand operand = SparseOperand::kB;
  SparseFormat format;
  bool operator==(const SparseSpec&) const = default;
};

/// "N:M" (1 <= N < M <= kMaxNmGroup), "unstructured" or "auto"; throws InputError naming
/// the text and what is accepted.
SparseFormat parse_sparse_format(const std::string& text);
/// "2:4", "unstructured", "auto", "dense".
std::string format_name(const SparseFormat& format);
/// "a" or "b", as a kernel's "sparse.operand" names it.
const char* operand_name(SparseOperand operand);

/// Throws InputError for the first group of M consecutive K values of a column, columns
/// in order and K ascending within each, that holds more than N nonzeros:
/// "<name> is not 2:4: column 5, k 8..11 has 3 nonzeros". A last group cut short by K
/// counts its missing rows as zeros.
void check_nm(const Tensor<std::int8_t>& b, unsigned n, unsigned m, const std::string& name = "b");
/// Whether check_nm would pass.
bool is_nm(const Tensor<std::int8_t>& b, unsigned n, unsigned m);

/// What the packer needs to know of the engine. For SPGEMMA the roles swap: a block of
/// `cols` entry lists is a row block of A, and GBUF holds `rows` channels of B.
struct SparseGeometry {
  unsigned rows = 0;            ///< activation rows one SPGEMM takes (M block), <= 64
  unsigned cols = 0;            ///< output channels a column block holds
  std::size_t max_chunk_k = 0;  ///< K one SPGEMM reduces (<= 256, and half of GBUF)
};

/// One column block's entries in one K chunk, `len` per column: entry j of column c is
/// the weight values[j * cols + c] (byte c of a WGT word) multiplying A[m, k0 + index],
/// index = indices[j * cols + c] (byte c of a META word), relative to the chunk. Unused
/// entries hold value 0 and index 0.
struct SparseBlock {
  unsigned len = 1;  ///< >= 1
  std::vector<std::int8_t> values;
  std::vector<std::uint8_t> indices;
};

struct SparseChunk {
  std::size_t k0 = 0, k = 0;        ///< the rows [k0, k0 + k) of B
  std::vector<SparseBlock> blocks;  ///< column block nt: channels nt*cols .. nt*cols + cols-1
};

struct SparseB {
  SparseFormat format;  ///< kNM or kUnstructured
  std::size_t k = 0, n = 0;
  unsigned cols = 0;
  std::size_t nonzeros = 0;
  std::vector<SparseChunk> chunks;  ///< K ascending, covering [0, K)
};

/// The K of each chunk: max_chunk_k, for N:M rounded down to whole groups of M so that
/// no group straddles two chunks. Throws InputError when not even one group fits.
std::size_t chunk_k(const SparseFormat& format, const SparseGeometry& geometry);

/// Packs B [K, N] (zeros where it is sparse). Unstructured: each column lists its
/// nonzeros in K order, len = the most any column of the block has (at least 1). N:M:
/// group g of a column fills entries g*N .. g*N + N-1 (its nonzeros first), so
/// len = ceil(k / M) * N in every block of a chunk; B is checked first (check_nm).
/// Throws InputError for a format that is neither N:M nor unstructured.
SparseB pack_sparse(const Tensor<std::int8_t>& b, const SparseFormat& format,
                    const SparseGeometry& geometry);

/// A [M, K] compressed per row for SPGEMMA: pack_sparse of Aᵀ, unstructured, so that
/// row m of A is column m of the result (n = M, block mt = rows mt*cols .. mt*cols +
/// cols-1, k = K). Every row lists its nonzeros in K order.
SparseB pack_sparse_a(const Tensor<std::int8_t>& a, const SparseGeometry& geometry);

/// The WGT and META words of `block` padded to `len` >= block.len entries, appended:
/// `len` words of `cols` bytes each.
void append_block_words(const SparseBlock& block, unsigned len, unsigned cols,
                        std::vector<std::uint8_t>& wgt_words,
                        std::vector<std::uint8_t>& meta_words);

/// Cycle model (docs/isa.md, SPGEMM): a column block over an M block of r rows keeps the
/// sparse lanes max(len, r) cycles; summed over M blocks, K chunks and column blocks.
std::uint64_t sparse_cycles(const SparseB& packed, std::size_t m, unsigned rows);
/// The same for SPGEMMA (docs/isa.md): a row block of r output rows keeps the lanes
/// max(len, r) cycles for each column block of B; summed over row blocks, K chunks and
/// the ceil(n / cols) column blocks. `packed_a` is pack_sparse_a's.
std::uint64_t sparse_a_cycles(const SparseB& packed_a, std::size_t n);
/// The dense path's model on a Rows x Cols array: kt*nt folds, each taking M cycles, but
/// no fewer than Rows + Cols (the weight preload of the next fold, docs/architecture.md).
std::uint64_t dense_cycles(std::size_t m, std::size_t k, std::size_t n, unsigned rows,
                           unsigned cols);

struct FormatChoice {
  SparseOperand operand = SparseOperand::kB;  ///< which operand runs compressed (kB: dense)
  SparseFormat format;                        ///< kNM, kUnstructured or kDense
  std::uint64_t cycles = 0;
  struct Candidate {
    SparseOperand operand = SparseOperand::kB;
    SparseFormat format;
    std::uint64_t cycles = 0;
  };
  std::vector<Candidate> candidates;  ///< every format considered, in the order tried
};

/// "auto": the fewest model cycles over M rows among 1:4 and 2:4 (where B conforms),
/// unstructured and dense. On a tie dense wins, then the first in that order (a
/// structured format is the more predictable one).
FormatChoice choose_format(const Tensor<std::int8_t>& b, std::size_t m,
                           const SparseGeometry& geometry, unsigned dense_rows,
                           unsigned dense_cols);
/// "auto" for a sparse A: A unstructured (SPGEMMA on `a_geometry`) first, then
/// choose_format's candidates for B on `b_geometry` (a layer whose weights are sparser
/// than its activations runs SPGEMM), ties broken as there.
FormatChoice choose_format_a(const Tensor<std::int8_t>& a, const Tensor<std::int8_t>& b,
                             const SparseGeometry& a_geometry, const SparseGeometry& b_geometry,
                             unsigned dense_rows, unsigned dense_cols);

std::size_t count_nonzeros(const Tensor<std::int8_t>& b);

}  // namespace tessera
