// The flags of `tessera spmm` that say which operand is sparse and how (--density, --nm,
// --a-density): shared by spmm, bench spmm and regress-batch, whose sparse jobs must build
// exactly the problem that the spmm command a failure prints does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tessera/random_problem.hpp"
#include "tessera/sparse.hpp"

namespace tessera::cli {

struct PatternOptions {
  std::optional<double> density;    // B unstructured
  std::string nm;                   // B N:M
  std::optional<double> a_density;  // A unstructured (SPGEMMA)
};

// --density D, --nm N:M or --a-density D, exactly one; throws InputError otherwise.
SparsePattern sparse_pattern(const PatternOptions& options);
// The operand and format a pattern runs as: its N:M, else unstructured.
SparseSpec pattern_spec(const SparsePattern& pattern);
// The flags that give `pattern` back, with a leading space: " --nm 2:4".
std::string pattern_args(const SparsePattern& pattern);

}  // namespace tessera::cli
