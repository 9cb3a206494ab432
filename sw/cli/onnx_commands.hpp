// `tessera onnx run` and `tessera onnx info` (docs/onnx.md).
#pragma once

#include <string>
#include <vector>

namespace tessera::cli {

struct OnnxRunOptions {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string output_dir;
  std::string device = "sim";
  bool check = false;  // also run the golden reference; write nothing unless equal
  bool json = false;   // one JSON object on stdout instead of the table
  // A classifier's labels (int32 or int64, one per row of the first output, [N, classes]):
  // prints each row's prediction (argmax, first of equal maxima) and the accuracy.
  std::string labels;
};

// Exit codes as every command's: 0, 1 (--check mismatch), 2 (bad input, an unsupported
// operator), 3 (engine or transport).
int cmd_onnx_run(const OnnxRunOptions& options);
int cmd_onnx_info(const std::string& model_path);

}  // namespace tessera::cli
