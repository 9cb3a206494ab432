// `tessera onnx run | info` as a shell user drives them, on models built here with the
// ONNX project's own protobuf classes (the way an exporter writes them). Exactness against
// ONNX Runtime itself is scripts/onnx_conformance.py's job; here the expected values are
// computed from the operators' definitions, independently of the runtime's code.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli_process.hpp"
#include "tessera/tensor.hpp"

using namespace tessera;
using namespace tessera::cli_test;

namespace {

// A graph under construction.
class ModelBuilder {
 public:
  ModelBuilder() {
    model_.set_ir_version(8);
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    model_.mutable_graph()->set_name("test");
  }

  template <typename T>
  void initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                   const std::vector<T>& values, int type) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    std::string raw(values.size() * sizeof(T), '\0');
    std::memcpy(raw.data(), values.data(), raw.size());
    t->set_raw_data(raw);
  }

  void input(const std::string& name, int type, const std::vector<std::int64_t>& dims) {
    value_info(model_.mutable_graph()->add_input(), name, type, dims);
  }
  void output(const std::string& name, int type, const std::vector<std::int64_t>& dims) {
    value_info(model_.mutable_graph()->add_output(), name, type, dims);
  }

  onnx::NodeProto* node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return n;
  }

  void save(const fs::path& path) const {
    std::ofstream out(path, std::ios::binary);
    REQUIRE(model_.SerializeToOstream(&out));
  }

 private:
  static void value_info(onnx::ValueInfoProto* info, const std::string& name, int type,
                         const std::vector<std::int64_t>& dims) {
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    auto* shape = tensor->mutable_shape();
    for (auto d : dims) {
      if (d < 0) {
        shape->add_dim()->set_dim_param("N");
      } else {
        shape->add_dim()->set_dim_value(d);
      }
    }
  }
  onnx::ModelProto model_;
};

template <typename T>
std::vector<T> random_values(std::size_t count, int lo, int hi, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> out(count);
  for (T& v : out) v = static_cast<T>(dist(rng));
  return out;
}

template <typename T>
void save(const fs::path& path, std::vector<std::size_t> shape, const std::vector<T>& values) {
  Tensor<T> t;
  t.shape = std::move(shape);
  t.data = values;
  save_npy(path.string(), t);
}

// QLinearMatMul's definition: round_half_even(Σ (a − za)(b − zb) · (sa·sb/sy)) + zy,
// saturated to uint8, in float32 as ONNX Runtime computes the scale and the product.
std::uint8_t qlinear_value(std::int64_t acc, float scale, int zero_point) {
  const float v = static_cast<float>(acc) * scale;
  const long r = std::lrint(v) + zero_point;
  return static_cast<std::uint8_t>(std::clamp<long>(r, 0, 255));
}

// A 3-D uint8 × int8 QLinearMatMul (per-column weight scales, a weight zero point that is
// not 0) and a Relu-free MatMulInteger on the same operands.
struct MatMulModel {
  static constexpr std::size_t kBatch = 2, kM = 5, kK = 37, kN = 19;
  std::vector<std::uint8_t> a = random_values<std::uint8_t>(kBatch * kM * kK, 0, 255, 1);
  std::vector<std::int8_t> b = random_values<std::int8_t>(kK * kN, -128, 127, 2);
  std::vector<float> b_scale;
  std::vector<std::int8_t> b_zero = random_values<std::int8_t>(kN, -3, 3, 3);
  float a_scale = 0.0125f, y_scale = 0.75f;
  std::uint8_t a_zero = 9, y_zero = 100;

  MatMulModel() {
    for (std::size_t n = 0; n < kN; ++n)
      b_scale.push_back(0.002f + 0.0005f * static_cast<float>(n));
  }

  void save(const fs::path& path) const {
    ModelBuilder m;
    m.input("a", onnx::TensorProto::UINT8, {-1, kM, kK});
    m.initializer<float>("a_scale", {}, {a_scale}, onnx::TensorProto::FLOAT);
    m.initializer<std::uint8_t>("a_zero", {}, {a_zero}, onnx::TensorProto::UINT8);
    m.initializer<std::int8_t>("b", {kK, kN}, b, onnx::TensorProto::INT8);
    m.initializer<float>("b_scale", {kN}, b_scale, onnx::TensorProto::FLOAT);
    m.initializer<std::int8_t>("b_zero", {kN}, b_zero, onnx::TensorProto::INT8);
    m.initializer<float>("y_scale", {}, {y_scale}, onnx::TensorProto::FLOAT);
    m.initializer<std::uint8_t>("y_zero", {}, {y_zero}, onnx::TensorProto::UINT8);
    m.node("QLinearMatMul", "fc",
           {"a", "a_scale", "a_zero", "b", "b_scale", "b_zero", "y_scale", "y_zero"}, {"y"});
    m.node("MatMulInteger", "fc_raw", {"a", "b", "a_zero", "b_zero"}, {"acc"});
    m.output("y", onnx::TensorProto::UINT8, {-1, kM, kN});
    m.output("acc", onnx::TensorProto::INT32, {-1, kM, kN});
    m.save(path);
  }

  std::int64_t acc(std::size_t row, std::size_t n) const {
    std::int64_t sum = 0;
    for (std::size_t k = 0; k < kK; ++k) {
      sum += (std::int64_t{a[row * kK + k]} - a_zero) * (std::int64_t{b[k * kN + n]} - b_zero[n]);
    }
    return sum;
  }
};

}  // namespace

TEST_CASE("onnx run: 3-D QLinearMatMul and MatMulInteger, per-column weight zero points",
          "[cli][onnx]") {
  TempDir dir;
  const MatMulModel model;
  model.save(dir / "mm.onnx");
  save(dir / "a.npy", {MatMulModel::kBatch, MatMulModel::kM, MatMulModel::kK}, model.a);
  const CliResult result = run_cli(
      {"onnx", "run", "mm.onnx", "--input", "a=a.npy", "--output", "out", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "check: PASS"));

  const Tensor<std::uint8_t> y = load_npy<std::uint8_t>((dir / "out" / "y.npy").string());
  const Tensor<std::int32_t> acc = load_npy<std::int32_t>((dir / "out" / "acc.npy").string());
  const std::vector<std::size_t> shape = {MatMulModel::kBatch, MatMulModel::kM, MatMulModel::kN};
  REQUIRE(y.shape == shape);
  REQUIRE(acc.shape == shape);
  std::size_t wrong = 0;
  for (std::size_t row = 0; row < MatMulModel::kBatch * MatMulModel::kM; ++row) {
    for (std::size_t n = 0; n < MatMulModel::kN; ++n) {
      const std::int64_t sum = model.acc(row, n);
      const float scale = model.a_scale * model.b_scale[n] / model.y_scale;
      wrong += acc.data[row * MatMulModel::kN + n] != sum;
      wrong += y.data[row * MatMulModel::kN + n] != qlinear_value(sum, scale, model.y_zero);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("onnx run --json: per-layer cycles and utilization", "[cli][onnx]") {
  TempDir dir;
  MatMulModel().save(dir / "mm.onnx");
  save(dir / "a.npy", {MatMulModel::kBatch, MatMulModel::kM, MatMulModel::kK}, MatMulModel().a);
  const CliResult result = run_cli(
      {"onnx", "run", "mm.onnx", "--input", "a=a.npy", "--output", "out", "--json"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.output);
  REQUIRE(report.at("layers").size() == 2);
  for (const auto& layer : report.at("layers")) {
    CHECK(layer.at("where") == "engine");
    CHECK(layer.at("gemms") == 1);
    CHECK(layer.at("cycles").get<std::uint64_t>() > 0);
    const double util = layer.at("utilization").get<double>();
    CHECK(util > 0.0);
    CHECK(util <= 1.0);
    CHECK(layer.at("gemm").at("k") == MatMulModel::kK);
  }
  CHECK(report.at("layers")[0].at("node") == "fc");
  CHECK(report.at("cycles").get<std::uint64_t>() ==
        report.at("layers")[0].at("cycles").get<std::uint64_t>() +
            report.at("layers")[1].at("cycles").get<std::uint64_t>());
}

TEST_CASE("onnx: an unsupported operator is refused before anything runs, naming its node",
          "[cli][onnx][bad-input]") {
  TempDir dir;
  ModelBuilder m;
  m.input("x", onnx::TensorProto::FLOAT, {2, 3});
  m.node("Relu", "first", {"x"}, {"r"});
  m.node("Sigmoid", "squash", {"r"}, {"y"});
  m.output("y", onnx::TensorProto::FLOAT, {2, 3});
  m.save(dir / "bad.onnx");
  save<float>(dir / "x.npy", {2, 3}, {1, -2, 3, -4, 5, -6});
  const auto before = list_tree(dir.path());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"onnx", "run", "bad.onnx", "--input", "x=x.npy", "--output", "out"},
           {"onnx", "info", "bad.onnx"}}) {
    const CliResult result = run_cli(args, dir.path());
    INFO(result.transcript);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, "Sigmoid"));
    CHECK(contains(result.output, "'squash'"));
  }
  CHECK(list_tree(dir.path()) == before);
}

TEST_CASE("onnx: a float MatMul (not in QDQ form) is refused naming its node",
          "[cli][onnx][bad-input]") {
  TempDir dir;
  ModelBuilder m;
  m.input("x", onnx::TensorProto::FLOAT, {2, 3});
  m.initializer<float>("w", {3, 2}, {1, 2, 3, 4, 5, 6}, onnx::TensorProto::FLOAT);
  m.node("MatMul", "dense", {"x", "w"}, {"y"});
  m.output("y", onnx::TensorProto::FLOAT, {2, 2});
  m.save(dir / "float.onnx");
  const CliResult result = run_cli({"onnx", "info", "float.onnx"}, dir.path());
  INFO(result.transcript);
  CHECK(result.exit_code == 2);
  CHECK(contains(result.output, "'dense'"));
  CHECK(contains(result.output, "QDQ"));
}

TEST_CASE("onnx run: bad inputs exit 2 naming what is wrong, writing nothing",
          "[cli][onnx][bad-input]") {
  TempDir dir;
  const MatMulModel model;
  model.save(dir / "mm.onnx");
  save(dir / "a.npy", {MatMulModel::kBatch, MatMulModel::kM, MatMulModel::kK}, model.a);
  save(dir / "wrong_type.npy", {1, MatMulModel::kM, MatMulModel::kK},
       std::vector<std::int8_t>(MatMulModel::kM * MatMulModel::kK, 1));
  save(dir / "wrong_shape.npy", {1, MatMulModel::kM, MatMulModel::kK - 1},
       std::vector<std::uint8_t>(MatMulModel::kM * (MatMulModel::kK - 1), 1));
  write_bytes(dir / "garbage.onnx", "not a model at all");
  write_bytes(dir / "a_file", "");
  const auto before = list_tree(dir.path());
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"onnx", "run", "mm.onnx", "--input", "a=wrong_type.npy", "--output", "out"}, "int8"},
      {{"onnx", "run", "mm.onnx", "--input", "a=wrong_shape.npy", "--output", "out"}, "shape"},
      {{"onnx", "run", "mm.onnx", "--input", "b=a.npy", "--output", "out"}, "'a'"},
      {{"onnx", "run", "mm.onnx", "--input", "a", "--output", "out"}, "NAME=FILE.npy"},
      {{"onnx", "run", "missing.onnx", "--input", "a=a.npy", "--output", "out"}, "missing.onnx"},
      {{"onnx", "run", "garbage.onnx", "--input", "a=a.npy", "--output", "out"}, "garbage.onnx"},
      {{"onnx", "run", "mm.onnx", "--input", "a=a.npy", "--output", "a_file"}, "a_file"},
  };
  for (const auto& [args, named] : cases) {
    const CliResult result = run_cli(args, dir.path());
    INFO(result.transcript);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.output, named));
  }
  CHECK(list_tree(dir.path()) == before);
}

TEST_CASE("onnx info lists each step and where it runs", "[cli][onnx]") {
  TempDir dir;
  MatMulModel().save(dir / "mm.onnx");
  const CliResult result = run_cli({"onnx", "info", "mm.onnx"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "engine QLinearMatMul fc"));
  CHECK(contains(result.output, "engine MatMulInteger fc_raw"));
  CHECK(contains(result.output, "input  a uint8 [?,5,37]"));
}
