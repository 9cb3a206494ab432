// Kernel files: JSON describing one operation over .npy tensors (README, "Kernel format").
#pragma once

#include <string>

#include "tessera/golden.hpp"

namespace tessera {

struct Kernel {
  std::string op;           // "gemm"
  GemmProblem problem;
  std::string output_path;  // absolute or relative to the working directory
};

// Parses and loads every tensor; paths inside are relative to the JSON file. Throws
// InputError naming the file and field on any problem (syntax, unknown op or key,
// wrong type, dtype or shape).
Kernel load_kernel(const std::string& json_path);

}  // namespace tessera
