// Quantized ONNX models on the engine (docs/onnx.md). A model is read with the ONNX
// project's own protobuf classes into the plain structures below, so nothing past the
// loader sees protobuf. Its matrix products and convolutions (QLinearMatMul,
// MatMulInteger, QLinearConv, ConvInteger, and MatMul / Gemm / Conv in QDQ form) run on
// the engine as int8 GEMMs returning their int32 sums; everything else a small quantized
// network needs runs on the host, computed the way ONNX Runtime's CPU kernels compute it,
// so that the outputs equal ONNX Runtime's bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tessera/conv.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/quantized.hpp"
#include "tessera/tensor.hpp"

namespace tessera {

// The element types a quantized network's tensors have (ONNX TensorProto codes).
enum class ElemType : int { kFloat = 1, kUint8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7 };
const char* elem_type_name(ElemType type);

// A host-side tensor of any of those types: integers widened to int64, floats as float.
struct HostTensor {
  ElemType type = ElemType::kFloat;
  std::vector<std::size_t> shape;
  std::vector<std::int64_t> ints;  // every type but kFloat
  std::vector<float> floats;       // kFloat

  bool is_float() const { return type == ElemType::kFloat; }
  std::size_t size() const;  // product of the shape (1 for a scalar)
};

struct OnnxAttribute {
  std::int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
  std::optional<HostTensor> t;
};

struct OnnxNode {
  std::string name;  // the model's name, or "<op_type>#<index>" when it has none
  std::string op_type;
  std::string domain;               // "" (ai.onnx) or "com.microsoft"
  std::vector<std::string> inputs;  // "" for an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, OnnxAttribute> attributes;

  bool has(const std::string& attribute) const { return attributes.count(attribute) != 0; }
  std::int64_t int_attr(const std::string& attribute, std::int64_t fallback) const;
  float float_attr(const std::string& attribute, float fallback) const;
  std::vector<std::int64_t> ints_attr(const std::string& attribute) const;  // empty if absent
  std::string string_attr(const std::string& attribute, const std::string& fallback) const;
};

struct OnnxValueInfo {
  std::string name;
  ElemType type = ElemType::kFloat;
  bool has_shape = false;           // the model declares a shape (rank)
  std::vector<std::int64_t> shape;  // -1 for a symbolic or unknown dimension
};

struct OnnxModel {
  std::string path;
  std::int64_t opset = 0;             // of the default domain
  std::vector<OnnxValueInfo> inputs;  // graph inputs that are not initializers
  std::vector<OnnxValueInfo> outputs;
  std::map<std::string, HostTensor> initializers;
  std::vector<OnnxNode> nodes;  // in the model's (topological) order
};

// Reads MODEL.onnx; throws InputError naming the file and what is wrong (not a model,
// external data, an element type outside ElemType, a graph that is not in order).
OnnxModel load_onnx(const std::string& path);

// One step of a plan: a node as it runs, where QDQ patterns are fused into the quantized
// operator ONNX Runtime runs for them (DequantizeLinear → MatMul → QuantizeLinear is a
// QLinearMatMul).
struct OnnxStep {
  OnnxNode node;  // op_type is the operator that runs (QLinearMatMul for a fused MatMul)
  bool on_engine = false;
  std::vector<std::string>
      fused;  // the model's nodes this step stands for (more than one when fused)
};

// The steps of a model, checked before anything runs: throws UnsupportedOperator for the
// first node no step can run, InputError for a node whose attributes or constant inputs
// are outside what is supported (named, with the node).
std::vector<OnnxStep> plan_onnx(const OnnxModel& model);

class UnsupportedOperator : public InputError {
 public:
  using InputError::InputError;
};

// What the engine did for one step.
struct LayerStats {
  std::size_t gemms = 0;
  std::uint64_t macs = 0;           // Σ M·K·N of its GEMMs
  std::uint64_t cycles = 0;         // engine cycles, first command to last output beat
  std::size_t m = 0, k = 0, n = 0;  // of its first GEMM

  void add(const QuantizedGemm& gemm, std::uint64_t gemm_cycles);
};

// Where the engine's operators run: their GEMMs and convolutions, each returning the
// int32 sums Σ (a − za)(b − zb) + bias (no requantization), adding what it did to `stats`.
class MatrixBackend {
 public:
  virtual ~MatrixBackend() = default;
  virtual Tensor<std::int32_t> gemm(const QuantizedGemm& gemm, LayerStats& stats) = 0;
  // One GEMM per group of its im2col lowering (conv_gemms), through gemm().
  virtual Tensor<std::int32_t> conv(const QuantizedConv2d& conv, LayerStats& stats);
};

// The engine behind `device` (lower(), run_gemm()).
class EngineBackend : public MatrixBackend {
 public:
  explicit EngineBackend(Device& device) : device_(device) {}
  Tensor<std::int32_t> gemm(const QuantizedGemm& gemm, LayerStats& stats) override;

 private:
  Device& device_;
};

// The golden reference, for --check: golden_quantized_gemm, and golden_conv2d straight
// from the definition (not through im2col).
class GoldenBackend : public MatrixBackend {
 public:
  Tensor<std::int32_t> gemm(const QuantizedGemm& gemm, LayerStats& stats) override;
  Tensor<std::int32_t> conv(const QuantizedConv2d& conv, LayerStats& stats) override;
};

struct OnnxRun {
  std::map<std::string, HostTensor> outputs;  // by graph output name
  std::vector<LayerStats> layers;             // one per step
};

// Runs the plan on `inputs` (by graph input name; element type and rank checked against
// the model's, InputError otherwise).
OnnxRun run_onnx(const OnnxModel& model, const std::vector<OnnxStep>& steps,
                 const std::map<std::string, HostTensor>& inputs, MatrixBackend& backend);

// .npy in and out: float32, uint8, int8, int32, int64.
HostTensor load_host_npy(const std::string& path);
void save_host_npy(const std::string& path, const HostTensor& tensor);

}  // namespace tessera
