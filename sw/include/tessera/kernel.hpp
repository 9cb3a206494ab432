// Kernel files: JSON describing one operation over .npy tensors (README, "Kernel format").
#pragma once

#include <optional>
#include <string>

#include "tessera/conv.hpp"
#include "tessera/golden.hpp"
#include "tessera/quantized.hpp"
#include "tessera/sparse.hpp"

namespace tessera {

struct Kernel {
  std::string op;       ///< "gemm" or "conv2d"
  GemmProblem problem;  ///< what the engine runs (with `quantized`: lower(*quantized).engine)
  /// Set when the kernel has uint8 tensors, zero points, float scales or out_dtype: the
  /// problem as given, whose output lower(*quantized).finish() makes of the engine's.
  std::optional<QuantizedGemm> quantized;
  /// "op": "conv2d": the convolution, run as conv_gemms(*conv) (problem and quantized unset).
  std::optional<QuantizedConv2d> conv;
  /// "sparse": {"operand": "a" | "b", "format": ...}: run through SPGEMM (b, the default)
  /// or SPGEMMA (a).
  std::optional<SparseSpec> sparse;
  std::string output_path;  ///< absolute or relative to the working directory
};

/// Parses and loads every tensor; paths inside are relative to the JSON file. Throws
/// InputError naming the file and field on any problem (syntax, unknown op or key,
/// wrong type, dtype or shape, a b that breaks its declared N:M format, an N:M format for
/// a sparse a).
Kernel load_kernel(const std::string& json_path);

}  // namespace tessera
