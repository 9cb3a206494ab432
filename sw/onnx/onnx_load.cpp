// ModelProto → OnnxModel, with the ONNX project's generated protobuf classes (Debian's
// libonnx-dev): the only file that sees protobuf.
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <set>

#include "tessera/errors.hpp"
#include "tessera/onnx.hpp"

namespace tessera {
namespace {

std::optional<ElemType> elem_type(int code) {
  switch (code) {
    case onnx::TensorProto::FLOAT:
      return ElemType::kFloat;
    case onnx::TensorProto::UINT8:
      return ElemType::kUint8;
    case onnx::TensorProto::INT8:
      return ElemType::kInt8;
    case onnx::TensorProto::INT32:
      return ElemType::kInt32;
    case onnx::TensorProto::INT64:
      return ElemType::kInt64;
    default:
      return std::nullopt;
  }
}

// Little-endian raw_data of `count` values of T into `out`.
template <typename T, typename Out>
void decode_raw(const std::string& raw, std::size_t count, std::vector<Out>& out,
                const std::string& what) {
  if (raw.size() != count * sizeof(T)) {
    throw InputError(what + ": raw_data holds " + std::to_string(raw.size()) + " bytes, " +
                     std::to_string(count) + " values need " + std::to_string(count * sizeof(T)));
  }
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<Out>(value);
  }
}

HostTensor convert_tensor(const onnx::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    throw InputError(what +
                     ": external tensor data is not supported (save the model with its "
                     "data inside)");
  }
  const auto type = elem_type(proto.data_type());
  if (!type) {
    throw InputError(what + ": element type " + std::to_string(proto.data_type()) +
                     " is not supported (float, uint8, int8, int32, int64 are)");
  }
  HostTensor tensor;
  tensor.type = *type;
  for (const std::int64_t dim : proto.dims()) {
    if (dim < 0) throw InputError(what + ": negative dimension");
    tensor.shape.push_back(static_cast<std::size_t>(dim));
  }
  const std::size_t count = tensor.size();
  const std::string& raw = proto.raw_data();
  const bool has_raw = proto.has_raw_data();
  std::size_t held = 0;
  switch (*type) {
    case ElemType::kFloat:
      if (has_raw) {
        decode_raw<float>(raw, count, tensor.floats, what);
      } else {
        tensor.floats.assign(proto.float_data().begin(), proto.float_data().end());
      }
      held = tensor.floats.size();
      break;
    case ElemType::kUint8:
      if (has_raw) decode_raw<std::uint8_t>(raw, count, tensor.ints, what);
      break;
    case ElemType::kInt8:
      if (has_raw) decode_raw<std::int8_t>(raw, count, tensor.ints, what);
      break;
    case ElemType::kInt32:
      if (has_raw) decode_raw<std::int32_t>(raw, count, tensor.ints, what);
      break;
    case ElemType::kInt64:
      if (has_raw) {
        decode_raw<std::int64_t>(raw, count, tensor.ints, what);
      } else {
        tensor.ints.assign(proto.int64_data().begin(), proto.int64_data().end());
      }
      break;
  }
  if (!has_raw && tensor.type != ElemType::kFloat && tensor.type != ElemType::kInt64) {
    // uint8, int8 and int32 values are stored in int32_data.
    tensor.ints.assign(proto.int32_data().begin(), proto.int32_data().end());
  }
  if (!tensor.is_float()) held = tensor.ints.size();
  if (held != count) {
    throw InputError(what + ": holds " + std::to_string(held) + " values, its shape needs " +
                     std::to_string(count));
  }
  return tensor;
}

OnnxValueInfo convert_value_info(const onnx::ValueInfoProto& info, const std::string& path) {
  OnnxValueInfo value;
  value.name = info.name();
  const auto what = path + ": graph input/output '" + info.name() + "'";
  if (!info.type().has_tensor_type()) throw InputError(what + " is not a tensor");
  const auto& tensor_type = info.type().tensor_type();
  const auto type = elem_type(tensor_type.elem_type());
  if (!type) {
    throw InputError(what + ": element type " + std::to_string(tensor_type.elem_type()) +
                     " is not supported");
  }
  value.type = *type;
  value.has_shape = tensor_type.has_shape();
  for (const auto& dim : tensor_type.shape().dim()) {
    value.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  }
  return value;
}

OnnxAttribute convert_attribute(const onnx::AttributeProto& proto, const std::string& what) {
  OnnxAttribute attribute;
  attribute.i = proto.i();
  attribute.f = proto.f();
  attribute.s = proto.s();
  attribute.ints.assign(proto.ints().begin(), proto.ints().end());
  attribute.floats.assign(proto.floats().begin(), proto.floats().end());
  if (proto.has_t()) attribute.t = convert_tensor(proto.t(), what);
  return attribute;
}

}  // namespace

OnnxModel load_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  onnx::ModelProto proto;
  if (!proto.ParseFromIstream(&in)) throw InputError(path + ": not an ONNX model (protobuf)");
  if (!proto.has_graph()) throw InputError(path + ": the model has no graph");

  OnnxModel model;
  model.path = path;
  for (const auto& opset : proto.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") model.opset = opset.version();
  }
  const onnx::GraphProto& graph = proto.graph();
  for (const auto& initializer : graph.initializer()) {
    model.initializers[initializer.name()] =
        convert_tensor(initializer, path + ": initializer '" + initializer.name() + "'");
  }
  for (const auto& input : graph.input()) {
    // Older exporters list initializers among the inputs too; they are not inputs to feed.
    if (!model.initializers.count(input.name())) {
      model.inputs.push_back(convert_value_info(input, path));
    }
  }
  for (const auto& output : graph.output())
    model.outputs.push_back(convert_value_info(output, path));

  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto& proto_node = graph.node(index);
    OnnxNode node;
    node.op_type = proto_node.op_type();
    node.domain = proto_node.domain() == "ai.onnx" ? "" : proto_node.domain();
    node.name =
        proto_node.name().empty() ? node.op_type + "#" + std::to_string(index) : proto_node.name();
    node.inputs.assign(proto_node.input().begin(), proto_node.input().end());
    node.outputs.assign(proto_node.output().begin(), proto_node.output().end());
    for (const auto& attribute : proto_node.attribute()) {
      node.attributes[attribute.name()] = convert_attribute(
          attribute, path + ": node '" + node.name + "' attribute '" + attribute.name() + "'");
    }
    // A Constant is an initializer written as a node: fold it.
    if (node.op_type == "Constant" && node.domain.empty() && node.outputs.size() == 1 &&
        node.has("value") && node.attributes.at("value").t) {
      model.initializers[node.outputs[0]] = *node.attributes.at("value").t;
      continue;
    }
    model.nodes.push_back(std::move(node));
  }
  return model;
}

}  // namespace tessera
