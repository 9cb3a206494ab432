// The packer: dense int8 B [K, N] to SPGEMM's compressed layout (docs/isa.md, "SPGEMM"),
// and A [M, K] to SPGEMMA's, with the N:M check and the cycle models that "auto" picks a
// format by.
#include "tessera/sparse.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// The first group of a column with more than n nonzeros, columns in order.
struct Violation {
  std::size_t column = 0, k_first = 0, k_last = 0, count = 0;
};

std::optional<Violation> first_violation(const Tensor<std::int8_t>& b, unsigned n, unsigned m) {
  for (std::size_t col = 0; col < b.cols(); ++col) {
    for (std::size_t k0 = 0; k0 < b.rows(); k0 += m) {
      const std::size_t k_end = std::min(b.rows(), k0 + m);
      std::size_t count = 0;
      for (std::size_t k = k0; k < k_end; ++k) count += b.at(k, col) != 0;
      if (count > n) return Violation{col, k0, k_end - 1, count};
    }
  }
  return std::nullopt;
}

std::optional<unsigned> parse_count(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Entries of one column of one chunk, in entry order.
struct Entry {
  std::int8_t value = 0;
  std::uint8_t index = 0;
};

std::vector<Entry> unstructured_entries(const Tensor<std::int8_t>& b, std::size_t col,
                                        std::size_t k0, std::size_t k) {
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < k; ++i) {
    const std::int8_t value = b.at(k0 + i, col);
    if (value != 0) entries.push_back({value, static_cast<std::uint8_t>(i)});
  }
  return entries;
}

// Group g of the chunk owns entries g*n .. g*n + n-1: its nonzeros, then padding. The
// caller has checked that no group holds more than n.
std::vector<Entry> nm_entries(const Tensor<std::int8_t>& b, std::size_t col, std::size_t k0,
                              std::size_t k, unsigned n, unsigned m) {
  const std::size_t groups = ceil_div(k, m);
  std::vector<Entry> entries(groups * n);
  for (std::size_t g = 0; g < groups; ++g) {
    std::size_t slot = g * n;
    for (std::size_t i = g * m; i < std::min(k, g * m + m); ++i) {
      const std::int8_t value = b.at(k0 + i, col);
      if (value != 0) entries[slot++] = {value, static_cast<std::uint8_t>(i)};
    }
  }
  return entries;
}

SparseBlock make_block(const std::vector<std::vector<Entry>>& columns, unsigned cols,
                       std::size_t min_len) {
  std::size_t len = std::max<std::size_t>(1, min_len);
  for (const auto& entries : columns) len = std::max(len, entries.size());
  SparseBlock block;
  block.len = static_cast<unsigned>(len);
  block.values.assign(len * cols, 0);
  block.indices.assign(len * cols, 0);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (std::size_t j = 0; j < columns[c].size(); ++j) {
      block.values[j * cols + c] = columns[c][j].value;
      block.indices[j * cols + c] = columns[c][j].index;
    }
  }
  return block;
}

Tensor<std::int8_t> transpose(const Tensor<std::int8_t>& t) {
  Tensor<std::int8_t> out(t.cols(), t.rows());
  for (std::size_t r = 0; r < t.rows(); ++r) {
    for (std::size_t c = 0; c < t.cols(); ++c) out.at(c, r) = t.at(r, c);
  }
  return out;
}

// Every B format "auto" may run: 1:4 and 2:4 where B conforms, then unstructured.
void add_b_candidates(FormatChoice& choice, const Tensor<std::int8_t>& b, std::size_t m,
                      const SparseGeometry& geometry) {
  for (const SparseFormat format :
       {SparseFormat::nm(1, 4), SparseFormat::nm(2, 4), SparseFormat{}}) {
    if (format.kind == SparseFormat::Kind::kNM && !is_nm(b, format.n, format.m)) continue;
    choice.candidates.push_back(
        {SparseOperand::kB, format,
         sparse_cycles(pack_sparse(b, format, geometry), m, geometry.rows)});
  }
}

// Adds the dense path and picks the fewest cycles.
void pick_fewest_cycles(FormatChoice& choice, std::size_t m, std::size_t k, std::size_t n,
                        unsigned dense_rows, unsigned dense_cols) {
  choice.candidates.push_back({SparseOperand::kB, SparseFormat{SparseFormat::Kind::kDense},
                               dense_cycles(m, k, n, dense_rows, dense_cols)});
  // On a tie the dense path wins: the model gives both the same cycles at full density,
  // and the dense path overlaps more and has no padding or indices to send.
  const auto best = std::min_element(
      choice.candidates.begin(), choice.candidates.end(),
      [](const FormatChoice::Candidate& x, const FormatChoice::Candidate& y) {
        const bool x_dense = x.format.kind == SparseFormat::Kind::kDense;
        const bool y_dense = y.format.kind == SparseFormat::Kind::kDense;
        return x.cycles < y.cycles || (x.cycles == y.cycles && x_dense && !y_dense);
      });
  choice.operand = best->operand;
  choice.format = best->format;
  choice.cycles = best->cycles;
}

}  // namespace

SparseFormat parse_sparse_format(const std::string& text) {
  if (text == "unstructured") return {SparseFormat::Kind::kUnstructured};
  if (text == "auto") return {SparseFormat::Kind::kAuto};
  const std::size_t colon = text.find(':');
  if (colon != std::string::npos) {
    const auto n = parse_count(std::string_view(text).substr(0, colon));
    const auto m = parse_count(std::string_view(text).substr(colon + 1));
    if (n && m && *n >= 1 && *n < *m && *m <= kMaxNmGroup) return SparseFormat::nm(*n, *m);
  }
  throw InputError("sparse format '" + text + "': expected N:M with 1 <= N < M <= " +
                   std::to_string(kMaxNmGroup) + " (e.g. 2:4), 'unstructured' or 'auto'");
}

std::string format_name(const SparseFormat& format) {
  switch (format.kind) {
    case SparseFormat::Kind::kNM:
      return std::to_string(format.n) + ":" + std::to_string(format.m);
    case SparseFormat::Kind::kUnstructured:
      return "unstructured";
    case SparseFormat::Kind::kAuto:
      return "auto";
    case SparseFormat::Kind::kDense:
      return "dense";
  }
  return "unknown";
}

const char* operand_name(SparseOperand operand) { return operand == SparseOperand::kA ? "a" : "b"; }

void check_nm(const Tensor<std::int8_t>& b, unsigned n, unsigned m, const std::string& name) {
  const auto violation = first_violation(b, n, m);
  if (!violation) return;
  throw InputError(name + " is not " + std::to_string(n) + ":" + std::to_string(m) + ": column " +
                   std::to_string(violation->column) + ", k " + std::to_string(violation->k_first) +
                   ".." + std::to_string(violation->k_last) + " has " +
                   std::to_string(violation->count) + " nonzeros");
}

bool is_nm(const Tensor<std::int8_t>& b, unsigned n, unsigned m) {
  return !first_violation(b, n, m);
}

std::size_t count_nonzeros(const Tensor<std::int8_t>& b) {
  return static_cast<std::size_t>(
      std::count_if(b.data.begin(), b.data.end(), [](std::int8_t v) { return v != 0; }));
}

std::size_t chunk_k(const SparseFormat& format, const SparseGeometry& geometry) {
  std::size_t k = geometry.max_chunk_k;
  if (format.kind == SparseFormat::Kind::kNM) k -= k % format.m;
  if (k == 0) {
    throw InputError("format " + format_name(format) + " needs K chunks of whole groups, but one " +
                     "SPGEMM on this engine reduces at most " +
                     std::to_string(geometry.max_chunk_k) + " K");
  }
  return k;
}

SparseB pack_sparse(const Tensor<std::int8_t>& b, const SparseFormat& format,
                    const SparseGeometry& geometry) {
  const bool nm = format.kind == SparseFormat::Kind::kNM;
  if (!nm && format.kind != SparseFormat::Kind::kUnstructured) {
    throw InputError("the packer takes an N:M or unstructured format, not " + format_name(format));
  }
  if (nm) check_nm(b, format.n, format.m);
  SparseB packed;
  packed.format = format;
  packed.k = b.rows();
  packed.n = b.cols();
  packed.cols = geometry.cols;
  packed.nonzeros = count_nonzeros(b);
  const std::size_t step = chunk_k(format, geometry);
  const std::size_t nt = ceil_div(b.cols(), geometry.cols);
  for (std::size_t k0 = 0; k0 < b.rows(); k0 += step) {
    SparseChunk chunk;
    chunk.k0 = k0;
    chunk.k = std::min(step, b.rows() - k0);
    // N:M: every column has the same budget, the columns past N too.
    const std::size_t budget = nm ? ceil_div(chunk.k, format.m) * format.n : 0;
    for (std::size_t block = 0; block < nt; ++block) {
      std::vector<std::vector<Entry>> columns;
      for (std::size_t c = 0; c < geometry.cols; ++c) {
        const std::size_t col = block * geometry.cols + c;
        if (col >= b.cols()) break;
        columns.push_back(nm ? nm_entries(b, col, k0, chunk.k, format.n, format.m)
                             : unstructured_entries(b, col, k0, chunk.k));
      }
      chunk.blocks.push_back(make_block(columns, geometry.cols, budget));
    }
    packed.chunks.push_back(std::move(chunk));
  }
  return packed;
}

SparseB pack_sparse_a(const Tensor<std::int8_t>& a, const SparseGeometry& geometry) {
  return pack_sparse(transpose(a), SparseFormat{SparseFormat::Kind::kUnstructured}, geometry);
}

void append_block_words(const SparseBlock& block, unsigned len, unsigned cols,
                        std::vector<std::uint8_t>& wgt_words,
                        std::vector<std::uint8_t>& meta_words) {
  const std::size_t used = std::size_t{block.len} * cols, padded = std::size_t{len} * cols;
  for (std::size_t i = 0; i < padded; ++i) {
    wgt_words.push_back(i < used ? static_cast<std::uint8_t>(block.values[i]) : 0);
    meta_words.push_back(i < used ? block.indices[i] : 0);
  }
}

std::uint64_t sparse_cycles(const SparseB& packed, std::size_t m, unsigned rows) {
  std::uint64_t cycles = 0;
  for (std::size_t m0 = 0; m0 < m; m0 += rows) {
    const std::size_t block_rows = std::min<std::size_t>(rows, m - m0);
    for (const SparseChunk& chunk : packed.chunks) {
      for (const SparseBlock& block : chunk.blocks) {
        cycles += std::max<std::size_t>(block.len, block_rows);
      }
    }
  }
  return cycles;
}

std::uint64_t sparse_a_cycles(const SparseB& packed_a, std::size_t n) {
  const std::size_t m = packed_a.n, cols = packed_a.cols;
  std::uint64_t per_column_block = 0;
  for (const SparseChunk& chunk : packed_a.chunks) {
    for (std::size_t mt = 0; mt < chunk.blocks.size(); ++mt) {
      const std::size_t block_rows = std::min(cols, m - mt * cols);
      per_column_block += std::max<std::size_t>(chunk.blocks[mt].len, block_rows);
    }
  }
  return ceil_div(n, cols) * per_column_block;
}

std::uint64_t dense_cycles(std::size_t m, std::size_t k, std::size_t n, unsigned rows,
                           unsigned cols) {
  const std::uint64_t folds = ceil_div(k, rows) * ceil_div(n, cols);
  return folds * std::max<std::uint64_t>(m, std::uint64_t{rows} + cols);
}

FormatChoice choose_format(const Tensor<std::int8_t>& b, std::size_t m,
                           const SparseGeometry& geometry, unsigned dense_rows,
                           unsigned dense_cols) {
  FormatChoice choice;
  add_b_candidates(choice, b, m, geometry);
  pick_fewest_cycles(choice, m, b.rows(), b.cols(), dense_rows, dense_cols);
  return choice;
}

FormatChoice choose_format_a(const Tensor<std::int8_t>& a, const Tensor<std::int8_t>& b,
                             const SparseGeometry& a_geometry, const SparseGeometry& b_geometry,
                             unsigned dense_rows, unsigned dense_cols) {
  FormatChoice choice;
  choice.candidates.push_back({SparseOperand::kA, SparseFormat{SparseFormat::Kind::kUnstructured},
                               sparse_a_cycles(pack_sparse_a(a, a_geometry), b.cols())});
  add_b_candidates(choice, b, a.rows(), b_geometry);
  pick_fewest_cycles(choice, a.rows(), b.rows(), b.cols(), dense_rows, dense_cols);
  return choice;
}

}  // namespace tessera
