#include "spmm_problem.hpp"

#include <sstream>

#include "tessera/errors.hpp"

namespace tessera::cli {

SparsePattern sparse_pattern(const PatternOptions& options) {
  SparsePattern pattern;
  const int given =
      options.density.has_value() + !options.nm.empty() + options.a_density.has_value();
  if (given != 1) {
    throw InputError(
        "give exactly one of --density D (B unstructured), --nm N:M (B in N:M) and "
        "--a-density D (A unstructured)");
  }
  if (options.a_density) {
    pattern.density = *options.a_density;
    pattern.operand = SparseOperand::kA;
    return pattern;
  }
  if (options.density) {
    pattern.density = *options.density;
    return pattern;
  }
  const std::string& nm = options.nm;
  SparseFormat format;
  try {
    format = parse_sparse_format(nm);
  } catch (const InputError& e) {
    throw InputError(std::string("--nm: ") + e.what());
  }
  if (format.kind != SparseFormat::Kind::kNM) {
    throw InputError("--nm: expected N:M (e.g. 2:4), got '" + nm + "'");
  }
  pattern.nm = format;
  return pattern;
}

SparseSpec pattern_spec(const SparsePattern& pattern) {
  return {pattern.operand,
          pattern.nm ? *pattern.nm : SparseFormat{SparseFormat::Kind::kUnstructured}};
}

std::string pattern_args(const SparsePattern& pattern) {
  if (pattern.nm) return " --nm " + format_name(*pattern.nm);
  std::ostringstream out;
  out << (pattern.operand == SparseOperand::kA ? " --a-density " : " --density ")
      << pattern.density;
  return out.str();
}

}  // namespace tessera::cli
