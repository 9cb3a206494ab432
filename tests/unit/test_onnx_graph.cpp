// The ONNX graph layer without protobuf or an engine: plans (QDQ fusion, refusals) and
// host operators on models built in memory, run against the golden backend. Exactness
// against ONNX Runtime itself is scripts/onnx_conformance.py's (ctest onnx_conformance).
#include <catch2/catch.hpp>
#include <string>

#include "tessera/onnx.hpp"

using namespace tessera;

namespace {

HostTensor floats(std::vector<std::size_t> shape, std::vector<float> values) {
  HostTensor t;
  t.type = ElemType::kFloat;
  t.shape = std::move(shape);
  t.floats = std::move(values);
  return t;
}

HostTensor ints(ElemType type, std::vector<std::size_t> shape, std::vector<std::int64_t> values) {
  HostTensor t;
  t.type = type;
  t.shape = std::move(shape);
  t.ints = std::move(values);
  return t;
}

OnnxNode node(std::string op, std::string name, std::vector<std::string> inputs,
              std::vector<std::string> outputs) {
  OnnxNode n;
  n.op_type = std::move(op);
  n.name = std::move(name);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

OnnxAttribute ints_attr(std::vector<std::int64_t> values) {
  OnnxAttribute a;
  a.ints = std::move(values);
  return a;
}

OnnxAttribute int_attr(std::int64_t value) {
  OnnxAttribute a;
  a.i = value;
  return a;
}

// One input "x" of `type`, one output "y", the given nodes; opset 17.
OnnxModel model(ElemType type, std::vector<OnnxNode> nodes) {
  OnnxModel m;
  m.path = "test.onnx";
  m.opset = 17;
  m.inputs = {{"x", type, false, {}}};
  m.outputs = {{"y", ElemType::kFloat, false, {}}};
  m.nodes = std::move(nodes);
  return m;
}

HostTensor run(const OnnxModel& m, const HostTensor& x) {
  GoldenBackend golden;
  return run_onnx(m, plan_onnx(m), {{"x", x}}, golden).outputs.at("y");
}

// DequantizeLinear(x) → MatMul ← DequantizeLinear(w), → QuantizeLinear → y.
OnnxModel qdq_matmul() {
  OnnxModel m =
      model(ElemType::kUint8, {node("DequantizeLinear", "dq_x", {"x", "sx", "zx"}, {"xf"}),
                               node("DequantizeLinear", "dq_w", {"w", "sw"}, {"wf"}),
                               node("MatMul", "mm", {"xf", "wf"}, {"yf"}),
                               node("QuantizeLinear", "q_y", {"yf", "sy", "zy"}, {"y"})});
  m.outputs[0].type = ElemType::kUint8;
  m.initializers["sx"] = floats({}, {0.5f});
  m.initializers["zx"] = ints(ElemType::kUint8, {}, {10});
  m.initializers["w"] = ints(ElemType::kInt8, {2, 2}, {1, -2, 3, 4});
  m.initializers["sw"] = floats({}, {0.25f});
  m.initializers["sy"] = floats({}, {1.0f});
  m.initializers["zy"] = ints(ElemType::kUint8, {}, {128});
  return m;
}

}  // namespace

TEST_CASE("QDQ MatMul is fused into one engine step, as ONNX Runtime fuses it", "[onnx]") {
  const OnnxModel m = qdq_matmul();
  const auto steps = plan_onnx(m);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].on_engine);
  CHECK(steps[0].node.op_type == "QLinearMatMul");
  CHECK(steps[0].fused == std::vector<std::string>{"dq_x", "dq_w", "mm", "q_y"});
  // x = [12, 14]: Σ (x − 10)·w = [2·1 + 4·3, 2·(−2) + 4·4] = [14, 12]; · 0.5·0.25 / 1
  // = [1.75, 1.5] → round half to even → [2, 2]; + 128.
  const HostTensor y = run(m, ints(ElemType::kUint8, {1, 2}, {12, 14}));
  CHECK(y.type == ElemType::kUint8);
  CHECK(y.ints == std::vector<std::int64_t>{130, 130});
}

TEST_CASE("a DequantizeLinear that something else reads still runs beside the fusion", "[onnx]") {
  OnnxModel m = qdq_matmul();
  m.nodes.push_back(node("Relu", "side", {"xf"}, {"side_out"}));
  m.outputs.push_back({"side_out", ElemType::kFloat, false, {}});
  const auto steps = plan_onnx(m);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].node.op_type == "DequantizeLinear");
  CHECK(steps[1].node.op_type == "QLinearMatMul");
  CHECK(steps[2].node.op_type == "Relu");
}

TEST_CASE("plans refuse what cannot run, naming the node", "[onnx]") {
  SECTION("an unsupported operator") {
    const OnnxModel m = model(
        ElemType::kFloat, {node("Relu", "r", {"x"}, {"t"}), node("Tanh", "squash", {"t"}, {"y"})});
    CHECK_THROWS_AS(plan_onnx(m), UnsupportedOperator);
    CHECK_THROWS_WITH(plan_onnx(m), Catch::Contains("Tanh") && Catch::Contains("'squash'"));
  }
  SECTION("a MatMul whose output is not quantized") {
    OnnxModel m = qdq_matmul();
    m.nodes.pop_back();
    m.nodes[2].outputs = {"y"};
    CHECK_THROWS_WITH(plan_onnx(m), Catch::Contains("'mm'") && Catch::Contains("QDQ"));
  }
  SECTION("a node reading a value defined later") {
    const OnnxModel m = model(ElemType::kFloat, {node("Relu", "late", {"t"}, {"y"}),
                                                 node("Relu", "early", {"x"}, {"t"})});
    CHECK_THROWS_WITH(plan_onnx(m), Catch::Contains("'late'") && Catch::Contains("'t'"));
  }
}

TEST_CASE("Reshape with 0 and -1, Flatten and Transpose", "[onnx]") {
  std::vector<float> values(24);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  const HostTensor x = floats({2, 3, 4}, values);

  OnnxModel reshape = model(ElemType::kFloat, {node("Reshape", "r", {"x", "shape"}, {"y"})});
  reshape.initializers["shape"] = ints(ElemType::kInt64, {3}, {0, -1, 2});
  CHECK(run(reshape, x).shape == std::vector<std::size_t>{2, 6, 2});

  OnnxModel flatten = model(ElemType::kFloat, {node("Flatten", "f", {"x"}, {"y"})});
  flatten.nodes[0].attributes["axis"] = int_attr(2);
  CHECK(run(flatten, x).shape == std::vector<std::size_t>{6, 4});

  OnnxModel transpose = model(ElemType::kFloat, {node("Transpose", "t", {"x"}, {"y"})});
  transpose.nodes[0].attributes["perm"] = ints_attr({2, 0, 1});
  const HostTensor y = run(transpose, x);
  REQUIRE(y.shape == std::vector<std::size_t>{4, 2, 3});
  // y[k][i][j] = x[i][j][k]: y[1][1][2] = x[1][2][1] = 12 + 8 + 1.
  CHECK(y.floats[(1 * 2 + 1) * 3 + 2] == 21.0f);
}

TEST_CASE("MaxPool: padding, strides and ceil_mode", "[onnx]") {
  // 1×1×3×3 of 1..9; 2×2 windows, stride 2, ceil_mode: 2×2 outputs, the last ones clipped.
  const HostTensor x = ints(ElemType::kUint8, {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  OnnxModel m = model(ElemType::kUint8, {node("MaxPool", "pool", {"x"}, {"y"})});
  m.nodes[0].attributes["kernel_shape"] = ints_attr({2, 2});
  m.nodes[0].attributes["strides"] = ints_attr({2, 2});
  m.nodes[0].attributes["ceil_mode"] = int_attr(1);
  const HostTensor y = run(m, x);
  REQUIRE(y.shape == std::vector<std::size_t>{1, 1, 2, 2});
  CHECK(y.ints == std::vector<std::int64_t>{5, 6, 8, 9});

  m.nodes[0].attributes.erase("ceil_mode");
  m.nodes[0].attributes["pads"] = ints_attr({1, 1, 0, 0});
  const HostTensor padded = run(m, x);
  REQUIRE(padded.shape == std::vector<std::size_t>{1, 1, 2, 2});
  CHECK(padded.ints == std::vector<std::int64_t>{1, 3, 7, 9});
}

TEST_CASE("inputs of the wrong type or rank are refused, naming the input", "[onnx]") {
  OnnxModel m = model(ElemType::kFloat, {node("Relu", "r", {"x"}, {"y"})});
  m.inputs[0].has_shape = true;
  m.inputs[0].shape = {-1, 4};
  GoldenBackend golden;
  const auto steps = plan_onnx(m);
  CHECK_THROWS_WITH(
      run_onnx(m, steps, {{"x", ints(ElemType::kInt8, {1, 4}, {0, 0, 0, 0})}}, golden),
      Catch::Contains("'x'") && Catch::Contains("int8"));
  CHECK_THROWS_WITH(run_onnx(m, steps, {{"x", floats({4}, {0, 0, 0, 0})}}, golden),
                    Catch::Contains("'x'") && Catch::Contains("[?,4]"));
  CHECK_THROWS_WITH(run_onnx(m, steps, {}, golden), Catch::Contains("missing input 'x'"));
}
