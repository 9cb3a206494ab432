// Planning (QDQ fusion, the supported-operator check) and running an ONNX graph.
#include <functional>
#include <set>
#include <string>

#include "engine_ops.hpp"
#include "host_ops.hpp"
#include "tessera/errors.hpp"
#include "tessera/onnx.hpp"
#include "tessera/runtime.hpp"

namespace tessera {

const char* elem_type_name(ElemType type) {
  switch (type) {
    case ElemType::kFloat:
      return "float32";
    case ElemType::kUint8:
      return "uint8";
    case ElemType::kInt8:
      return "int8";
    case ElemType::kInt32:
      return "int32";
    case ElemType::kInt64:
      return "int64";
  }
  return "?";
}

std::size_t HostTensor::size() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

std::int64_t OnnxNode::int_attr(const std::string& attribute, std::int64_t fallback) const {
  const auto it = attributes.find(attribute);
  return it == attributes.end() ? fallback : it->second.i;
}

float OnnxNode::float_attr(const std::string& attribute, float fallback) const {
  const auto it = attributes.find(attribute);
  return it == attributes.end() ? fallback : it->second.f;
}

std::vector<std::int64_t> OnnxNode::ints_attr(const std::string& attribute) const {
  const auto it = attributes.find(attribute);
  return it == attributes.end() ? std::vector<std::int64_t>{} : it->second.ints;
}

std::string OnnxNode::string_attr(const std::string& attribute, const std::string& fallback) const {
  const auto it = attributes.find(attribute);
  return it == attributes.end() ? fallback : it->second.s;
}

void LayerStats::add(const QuantizedGemm& gemm, std::uint64_t gemm_cycles) {
  if (gemms == 0) {
    m = gemm.m();
    k = gemm.k();
    n = gemm.n();
  }
  ++gemms;
  macs += std::uint64_t{gemm.m()} * gemm.k() * gemm.n();
  cycles += gemm_cycles;
}

Tensor<std::int32_t> MatrixBackend::conv(const QuantizedConv2d& conv, LayerStats& stats) {
  std::vector<Tensor<std::int32_t>> outputs;
  for (const QuantizedGemm& gemm : conv_gemms(conv)) outputs.push_back(this->gemm(gemm, stats));
  return conv_output(conv, outputs);
}

Tensor<std::int32_t> EngineBackend::gemm(const QuantizedGemm& gemm, LayerStats& stats) {
  const LoweredGemm lowered = lower(gemm);
  // The layer's weights go in first as one resident upload; a Device that ran this layer
  // before (the same graph again) still holds them, and sends none.
  const GemmProblem& engine = lowered.engine;
  const ResidentWeights weights = upload_weights(device_, engine.b, engine.bias, engine.requant,
                                                 engine.clamp_lo, engine.clamp_hi);
  const GemmRun run = run_gemm(device_, engine.a, weights);
  stats.add(gemm, run.cycles);
  return lowered.finish(run.output);
}

Tensor<std::int32_t> GoldenBackend::gemm(const QuantizedGemm& gemm, LayerStats& stats) {
  stats.add(gemm, 0);
  return golden_quantized_gemm(gemm);
}

Tensor<std::int32_t> GoldenBackend::conv(const QuantizedConv2d& conv, LayerStats&) {
  return golden_conv2d(conv);
}

namespace {

using onnx_ops::Inputs;

// What runs each supported operator, by "domain:op_type".
using HostKernel = std::function<HostTensor(const OnnxNode&, const Inputs&, std::int64_t opset)>;
using EngineKernel =
    std::function<HostTensor(const OnnxNode&, const Inputs&, MatrixBackend&, LayerStats&)>;

const std::map<std::string, EngineKernel>& engine_kernels() {
  static const std::map<std::string, EngineKernel> kernels = {
      {":QLinearMatMul", onnx_ops::qlinear_matmul}, {":MatMulInteger", onnx_ops::matmul_integer},
      {":QLinearConv", onnx_ops::qlinear_conv},     {":ConvInteger", onnx_ops::conv_integer},
      {"com.microsoft:QGemm", onnx_ops::qgemm},
  };
  return kernels;
}

const std::map<std::string, HostKernel>& host_kernels() {
  const auto plain = [](HostTensor (*op)(const OnnxNode&, const Inputs&)) -> HostKernel {
    return
        [op](const OnnxNode& node, const Inputs& inputs, std::int64_t) { return op(node, inputs); };
  };
  static const std::map<std::string, HostKernel> kernels = {
      {":QuantizeLinear", plain(onnx_ops::quantize_linear)},
      {":DequantizeLinear", plain(onnx_ops::dequantize_linear)},
      {"com.microsoft:QLinearAdd", plain(onnx_ops::qlinear_add)},
      {":Add", plain(onnx_ops::add)},
      {":Relu", plain(onnx_ops::relu)},
      {":Clip", onnx_ops::clip},
      {":Reshape", plain(onnx_ops::reshape)},
      {":Flatten", plain(onnx_ops::flatten)},
      {":Transpose", plain(onnx_ops::transpose)},
      {":MaxPool", plain(onnx_ops::max_pool)},
      {":AveragePool", onnx_ops::average_pool},
      {":GlobalAveragePool", plain(onnx_ops::global_average_pool)},
      {":Softmax", onnx_ops::softmax},
      {":Identity", [](const OnnxNode& node, const Inputs& inputs,
                       std::int64_t) { return onnx_ops::required(node, inputs, 0); }},
  };
  return kernels;
}

std::string kernel_key(const OnnxNode& node) { return node.domain + ":" + node.op_type; }

// The graph's wiring: who produces and who consumes each value.
struct Wiring {
  std::map<std::string, std::size_t> producer;
  std::map<std::string, std::vector<std::size_t>> consumers;
  std::set<std::string> graph_outputs;

  explicit Wiring(const OnnxModel& model) {
    for (std::size_t i = 0; i < model.nodes.size(); ++i) {
      for (const auto& out : model.nodes[i].outputs) {
        if (!out.empty()) producer[out] = i;
      }
      for (const auto& in : model.nodes[i].inputs) {
        if (!in.empty()) consumers[in].push_back(i);
      }
    }
    for (const auto& out : model.outputs) graph_outputs.insert(out.name);
  }

  // The node producing `value` if it is a DequantizeLinear.
  const OnnxNode* dequantize(const OnnxModel& model, const std::string& value) const {
    const auto it = producer.find(value);
    if (it == producer.end()) return nullptr;
    const OnnxNode& node = model.nodes[it->second];
    return node.op_type == "DequantizeLinear" && node.domain.empty() ? &node : nullptr;
  }

  // The single QuantizeLinear consuming `value`, if that is its only use.
  const OnnxNode* sole_quantize(const OnnxModel& model, const std::string& value) const {
    const auto it = consumers.find(value);
    if (graph_outputs.count(value) || it == consumers.end() || it->second.size() != 1)
      return nullptr;
    const OnnxNode& node = model.nodes[it->second[0]];
    return node.op_type == "QuantizeLinear" && node.domain.empty() ? &node : nullptr;
  }
};

std::string input_or_empty(const OnnxNode& node, std::size_t index) {
  return index < node.inputs.size() ? node.inputs[index] : std::string();
}

// The per-axis axis of a DequantizeLinear, if its scale has more than one value.
std::optional<std::int64_t> per_axis(const OnnxModel& model, const OnnxNode& dq) {
  const auto it = model.initializers.find(input_or_empty(dq, 1));
  if (it == model.initializers.end() || it->second.size() <= 1) return std::nullopt;
  return dq.int_attr("axis", 1);
}

// An Add between two per-tensor DequantizeLinear inputs and one QuantizeLinear output
// runs as the QLinearAdd ONNX Runtime fuses it into; nullopt otherwise (a float Add).
std::optional<OnnxStep> fuse_qdq_add(const OnnxModel& model, const Wiring& wiring,
                                     const OnnxNode& node) {
  const OnnxNode* dq_a = wiring.dequantize(model, input_or_empty(node, 0));
  const OnnxNode* dq_b = wiring.dequantize(model, input_or_empty(node, 1));
  const OnnxNode* q = node.outputs.empty() ? nullptr : wiring.sole_quantize(model, node.outputs[0]);
  if (!dq_a || !dq_b || !q || per_axis(model, *dq_a) || per_axis(model, *dq_b)) return std::nullopt;
  OnnxStep step;
  step.node.name = node.name;
  step.node.op_type = "QLinearAdd";
  step.node.domain = "com.microsoft";
  step.node.inputs = {input_or_empty(*dq_a, 0), input_or_empty(*dq_a, 1), input_or_empty(*dq_a, 2),
                      input_or_empty(*dq_b, 0), input_or_empty(*dq_b, 1), input_or_empty(*dq_b, 2),
                      input_or_empty(*q, 1),    input_or_empty(*q, 2)};
  step.node.outputs = {q->outputs[0]};
  step.fused = {dq_a->name, dq_b->name, node.name, q->name};
  return step;
}

// A MatMul / Gemm / Conv between DequantizeLinear inputs and a QuantizeLinear output,
// fused into the operator ONNX Runtime runs for it; nullopt if the node is not in QDQ form.
std::optional<OnnxStep> fuse_qdq(const OnnxModel& model, const Wiring& wiring,
                                 const OnnxNode& node) {
  if (node.op_type == "Add") return fuse_qdq_add(model, wiring, node);
  const OnnxNode* dq_a = wiring.dequantize(model, input_or_empty(node, 0));
  const OnnxNode* dq_w = wiring.dequantize(model, input_or_empty(node, 1));
  const OnnxNode* q = node.outputs.empty() ? nullptr : wiring.sole_quantize(model, node.outputs[0]);
  if (!dq_a || !dq_w || !q) return std::nullopt;
  const OnnxNode* dq_bias = nullptr;
  if (!input_or_empty(node, 2).empty()) {
    dq_bias = wiring.dequantize(model, node.inputs[2]);
    if (!dq_bias) return std::nullopt;
  }
  const auto fail = [&](const std::string& what) {
    throw InputError("node '" + node.name + "' (" + node.op_type + " in QDQ form): " + what);
  };
  if (per_axis(model, *dq_a)) fail("its input must be quantized per tensor");

  OnnxStep step;
  step.on_engine = true;
  OnnxNode& fused = step.node;
  fused.name = node.name;
  fused.attributes = node.attributes;
  fused.outputs = {q->outputs[0]};
  const std::vector<std::string> a = {input_or_empty(*dq_a, 0), input_or_empty(*dq_a, 1),
                                      input_or_empty(*dq_a, 2)};
  const std::vector<std::string> w = {input_or_empty(*dq_w, 0), input_or_empty(*dq_w, 1),
                                      input_or_empty(*dq_w, 2)};
  const std::vector<std::string> y = {input_or_empty(*q, 1), input_or_empty(*q, 2)};
  // The weight's per-axis scales must run along the output channels.
  const auto w_axis = per_axis(model, *dq_w);
  if (node.op_type == "MatMul") {
    if (w_axis && *w_axis != 1 && *w_axis != -1) fail("weight scales must be per column (axis 1)");
    fused.op_type = "QLinearMatMul";
    fused.inputs = {a[0], a[1], a[2], w[0], w[1], w[2], y[0], y[1]};
  } else if (node.op_type == "Conv") {
    if (w_axis && *w_axis != 0) fail("weight scales must be per output channel (axis 0)");
    fused.op_type = "QLinearConv";
    fused.inputs = {a[0], a[1], a[2], w[0], w[1], w[2], y[0], y[1]};
    if (dq_bias) fused.inputs.push_back(input_or_empty(*dq_bias, 0));
  } else {
    const bool trans_b = node.int_attr("transB", 0) != 0;
    if (w_axis && *w_axis != (trans_b ? 0 : 1)) fail("weight scales must be per output column");
    fused.op_type = "QGemm";
    fused.domain = "com.microsoft";
    fused.inputs = {
        a[0], a[1], a[2], w[0], w[1], w[2], dq_bias ? input_or_empty(*dq_bias, 0) : std::string(),
        y[0], y[1]};
  }
  step.fused = {dq_a->name, dq_w->name};
  if (dq_bias) step.fused.push_back(dq_bias->name);
  step.fused.push_back(node.name);
  step.fused.push_back(q->name);
  return step;
}

}  // namespace

std::vector<OnnxStep> plan_onnx(const OnnxModel& model) {
  const Wiring wiring(model);
  // Values defined so far: the graph's inputs, its initializers, earlier nodes' outputs.
  std::set<std::string> defined;
  for (const auto& input : model.inputs) defined.insert(input.name);
  for (const auto& [name, tensor] : model.initializers) defined.insert(name);

  std::vector<std::optional<OnnxStep>> fused(model.nodes.size());
  std::set<std::string> absorbed;  // names of nodes a fused step stands for
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    const OnnxNode& node = model.nodes[i];
    for (const auto& in : node.inputs) {
      if (!in.empty() && !defined.count(in)) {
        throw InputError(model.path + ": node '" + node.name + "' reads '" + in +
                         "', which no earlier node, input or initializer defines");
      }
    }
    if (node.outputs.empty() || node.outputs[0].empty()) {
      throw InputError(model.path + ": node '" + node.name + "' has no output");
    }
    for (const auto& out : node.outputs) defined.insert(out);
    if (!node.domain.empty()) continue;
    if (node.op_type == "Add") {
      fused[i] = fuse_qdq(model, wiring, node);  // else a float Add, on the host
    } else if (node.op_type == "MatMul" || node.op_type == "Gemm" || node.op_type == "Conv") {
      fused[i] = fuse_qdq(model, wiring, node);
      if (!fused[i]) {
        throw UnsupportedOperator(
            model.path + ": node '" + node.name + "': operator " + node.op_type +
            " runs only in QDQ form (DequantizeLinear on its inputs, its output into one "
            "QuantizeLinear); float " +
            node.op_type + " is not supported");
      }
    }
    if (fused[i]) {
      for (const auto& name : fused[i]->fused) absorbed.insert(name);
    }
  }
  for (const auto& out : model.outputs) {
    if (!defined.count(out.name))
      throw InputError(model.path + ": graph output '" + out.name + "' is never computed");
  }

  std::vector<OnnxStep> steps;
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    const OnnxNode& node = model.nodes[i];
    if (fused[i]) {
      steps.push_back(*fused[i]);
      continue;
    }
    if (absorbed.count(node.name)) {
      // A DequantizeLinear a fused step absorbed still runs if anything else reads it.
      bool still_read =
          node.op_type == "DequantizeLinear" && wiring.graph_outputs.count(node.outputs[0]);
      const auto it = wiring.consumers.find(node.outputs[0]);
      if (node.op_type == "DequantizeLinear" && it != wiring.consumers.end()) {
        for (std::size_t consumer : it->second) still_read |= !fused[consumer].has_value();
      }
      if (!still_read) continue;
    }
    OnnxStep step;
    step.node = node;
    const std::string key = kernel_key(node);
    step.on_engine = engine_kernels().count(key) != 0;
    if (!step.on_engine && !host_kernels().count(key)) {
      throw UnsupportedOperator(model.path + ": node '" + node.name + "': operator " +
                                (node.domain.empty() ? "" : node.domain + ".") + node.op_type +
                                " is not supported (`tessera onnx info` lists what runs where)");
    }
    step.fused = {node.name};
    steps.push_back(std::move(step));
  }
  return steps;
}

OnnxRun run_onnx(const OnnxModel& model, const std::vector<OnnxStep>& steps,
                 const std::map<std::string, HostTensor>& inputs, MatrixBackend& backend) {
  std::map<std::string, HostTensor> values;
  for (const auto& info : model.inputs) {
    const auto it = inputs.find(info.name);
    if (it == inputs.end())
      throw InputError("missing input '" + info.name + "' (--input " + info.name + "=FILE.npy)");
    const HostTensor& tensor = it->second;
    if (tensor.type != info.type) {
      throw InputError("input '" + info.name + "' is " + elem_type_name(tensor.type) +
                       ", the model expects " + elem_type_name(info.type));
    }
    bool shape_ok = !info.has_shape || tensor.shape.size() == info.shape.size();
    for (std::size_t d = 0; shape_ok && d < info.shape.size(); ++d) {
      shape_ok = info.shape[d] < 0 || static_cast<std::size_t>(info.shape[d]) == tensor.shape[d];
    }
    if (!shape_ok) {
      std::string want;
      for (std::size_t d = 0; d < info.shape.size(); ++d) {
        if (d) want += ',';
        want += info.shape[d] < 0 ? std::string("?") : std::to_string(info.shape[d]);
      }
      throw InputError("input '" + info.name + "' does not have the model's shape [" + want + "]");
    }
    values[info.name] = tensor;
  }
  for (const auto& [name, tensor] : inputs) {
    if (!values.count(name)) throw InputError("the model has no input '" + name + "'");
  }

  const auto lookup = [&](const std::string& name) -> const HostTensor* {
    if (name.empty()) return nullptr;
    if (const auto it = values.find(name); it != values.end()) return &it->second;
    if (const auto it = model.initializers.find(name); it != model.initializers.end())
      return &it->second;
    throw InputError("value '" + name + "' is not defined");
  };

  OnnxRun run;
  for (const OnnxStep& step : steps) {
    Inputs step_inputs;
    for (const auto& name : step.node.inputs) step_inputs.push_back(lookup(name));
    LayerStats stats;
    const std::string key = kernel_key(step.node);
    HostTensor out = step.on_engine
                         ? engine_kernels().at(key)(step.node, step_inputs, backend, stats)
                         : host_kernels().at(key)(step.node, step_inputs, model.opset);
    values[step.node.outputs.at(0)] = std::move(out);
    run.layers.push_back(stats);
  }
  for (const auto& info : model.outputs) run.outputs[info.name] = *lookup(info.name);
  return run;
}

namespace {

template <typename T>
HostTensor widen(const Tensor<T>& tensor, ElemType type) {
  HostTensor out;
  out.type = type;
  out.shape = tensor.shape;
  out.ints.assign(tensor.data.begin(), tensor.data.end());
  return out;
}

template <typename T>
Tensor<T> narrowed(const HostTensor& tensor) {
  Tensor<T> out;
  out.shape = tensor.shape;
  out.data.assign(tensor.ints.begin(), tensor.ints.end());
  return out;
}

}  // namespace

HostTensor load_host_npy(const std::string& path) {
  switch (npy_dtype(path)) {
    case NpyDescr::kFloat32: {
      Tensor<float> t = load_npy<float>(path);
      HostTensor out;
      out.type = ElemType::kFloat;
      out.shape = t.shape;
      out.floats = std::move(t.data);
      return out;
    }
    case NpyDescr::kUint8:
      return widen(load_npy<std::uint8_t>(path), ElemType::kUint8);
    case NpyDescr::kInt8:
      return widen(load_npy<std::int8_t>(path), ElemType::kInt8);
    case NpyDescr::kInt32:
      return widen(load_npy<std::int32_t>(path), ElemType::kInt32);
    case NpyDescr::kInt64:
      return widen(load_npy<std::int64_t>(path), ElemType::kInt64);
    default:
      throw InputError(path + ": expected dtype float32, uint8, int8, int32 or int64");
  }
}

void save_host_npy(const std::string& path, const HostTensor& tensor) {
  switch (tensor.type) {
    case ElemType::kFloat: {
      Tensor<float> t;
      t.shape = tensor.shape;
      t.data = tensor.floats;
      save_npy(path, t);
      return;
    }
    case ElemType::kUint8:
      save_npy(path, narrowed<std::uint8_t>(tensor));
      return;
    case ElemType::kInt8:
      save_npy(path, narrowed<std::int8_t>(tensor));
      return;
    case ElemType::kInt32:
      save_npy(path, narrowed<std::int32_t>(tensor));
      return;
    case ElemType::kInt64:
      save_npy(path, narrowed<std::int64_t>(tensor));
      return;
  }
}

}  // namespace tessera
