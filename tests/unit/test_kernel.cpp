// Kernel JSON files: a complete valid kernel, and each mistake a user can make, which
// must be reported with the JSON file and the field at fault.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "tessera/errors.hpp"
#include "tessera/kernel.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;
using tessera::testing::TempDir;

namespace {


void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

template <typename T>
void save(const std::string& path, std::vector<std::size_t> shape, std::vector<T> data) {
  Tensor<T> t;
  t.shape = std::move(shape);
  t.data = std::move(data);
  save_npy(path, t);
}

// A directory with the tensors of a 2x3 . 3x2 GEMM and whatever kernel JSON a test
// writes next to them.
struct KernelDir {
  TempDir dir{"tessera_kernel"};
  std::string json = dir.file("kernel.json");

  KernelDir() {
    save<std::int8_t>(dir.file("a.npy"), {2, 3}, {1, 2, 3, 4, 5, 6});
    save<std::int8_t>(dir.file("b.npy"), {3, 2}, {1, 0, 0, 1, 1, 1});
    save<std::int32_t>(dir.file("bias.npy"), {2}, {100, -100});
    save<std::int32_t>(dir.file("mult.npy"), {2}, {1 << 30, 1518500250});
    save<std::int32_t>(dir.file("shift.npy"), {2}, {-1, 2});
    save<std::int32_t>(dir.file("mult_scalar.npy"), {}, {1 << 30});
    save<std::int32_t>(dir.file("mult_one.npy"), {1}, {1 << 30});
    save<std::int8_t>(dir.file("shift_i8.npy"), {2}, {-1, 2});
  }

  Kernel load(const std::string& text) {
    write_text(json, text);
    return load_kernel(json);
  }
  // The message of the InputError that loading `text` throws.
  std::string error(const std::string& text) {
    write_text(json, text);
    try {
      load_kernel(json);
    } catch (const InputError& e) {
      return e.what();
    }
    FAIL("expected InputError for: " << text);
    return {};
  }
};

}  // namespace

TEST_CASE("kernel with every field", "[kernel]") {
  KernelDir k;
  const Kernel kernel = k.load(R"({
    "op": "gemm", "a": "a.npy", "b": "b.npy", "bias": "bias.npy",
    "requant": {"multiplier": "mult.npy", "shift": "shift.npy", "zero_point": -3},
    "clamp": [0, 127],
    "out": "y.npy"
  })");
  CHECK(kernel.op == "gemm");
  const GemmProblem& p = kernel.problem;
  CHECK(p.a.shape == std::vector<std::size_t>{2, 3});
  CHECK(p.a.data == std::vector<std::int8_t>{1, 2, 3, 4, 5, 6});
  CHECK(p.b.shape == std::vector<std::size_t>{3, 2});
  CHECK(p.bias == std::vector<std::int32_t>{100, -100});
  REQUIRE(p.requant);
  CHECK(p.requant->multiplier == std::vector<std::int32_t>{1 << 30, 1518500250});
  CHECK(p.requant->shift == std::vector<std::int32_t>{-1, 2});
  CHECK(p.requant->zero_point == -3);
  CHECK(p.clamp_lo == 0);
  CHECK(p.clamp_hi == 127);
  // Relative to the JSON file, not to the working directory.
  CHECK(fs::path(kernel.output_path) == fs::path(k.dir.file("y.npy")));
}

TEST_CASE("kernel minimal fields take their defaults", "[kernel]") {
  KernelDir k;
  const Kernel kernel =
      k.load(R"({"op": "gemm", "a": "a.npy", "b": "b.npy", "out": "y.npy"})");
  CHECK(kernel.problem.bias.empty());
  CHECK_FALSE(kernel.problem.requant);
  CHECK(kernel.problem.clamp_lo == -128);
  CHECK(kernel.problem.clamp_hi == 127);

  const Kernel with_requant = k.load(R"({"op": "gemm", "a": "a.npy", "b": "b.npy",
    "requant": {"multiplier": 1518500250, "shift": -7}, "out": "y.npy"})");
  REQUIRE(with_requant.problem.requant);
  CHECK(with_requant.problem.requant->zero_point == 0);
  CHECK(with_requant.problem.clamp_lo == -128);
  CHECK(with_requant.problem.clamp_hi == 127);
}

TEST_CASE("kernel per-tensor and per-channel parameters", "[kernel]") {
  KernelDir k;
  const auto requant_of = [&](const std::string& requant) {
    const Kernel kernel =
        k.load(R"({"op": "gemm", "a": "a.npy", "b": "b.npy", "out": "y.npy",
      "requant": )" +
               requant + "}");
    REQUIRE(kernel.problem.requant);
    return *kernel.problem.requant;
  };
  SECTION("integers are per tensor") {
    const Requant r = requant_of(R"({"multiplier": 1518500250, "shift": -7})");
    CHECK(r.multiplier == std::vector<std::int32_t>{1518500250});
    CHECK(r.shift == std::vector<std::int32_t>{-7});
  }
  SECTION("[N] files are per channel") {
    const Requant r = requant_of(R"({"multiplier": "mult.npy", "shift": "shift.npy"})");
    CHECK(r.multiplier.size() == 2);
    CHECK(r.shift.size() == 2);
  }
  SECTION("0-d and [1] files are per tensor") {
    CHECK(requant_of(R"({"multiplier": "mult_scalar.npy", "shift": 0})").multiplier ==
          std::vector<std::int32_t>{1 << 30});
    CHECK(requant_of(R"({"multiplier": "mult_one.npy", "shift": 0})").multiplier ==
          std::vector<std::int32_t>{1 << 30});
  }
  SECTION("int8 shift file is widened") {
    CHECK(requant_of(R"({"multiplier": 1073741824, "shift": "shift_i8.npy"})").shift ==
          std::vector<std::int32_t>{-1, 2});
  }
  SECTION("absolute paths are kept") {
    const std::string abs = k.dir.file("mult.npy");
    REQUIRE(fs::path(abs).is_absolute());
    CHECK(
        requant_of(R"({"shift": 0, "multiplier": ")" + abs + R"("})").multiplier.size() ==
        2);
  }
}

TEST_CASE("kernel errors name the file and the field", "[kernel]") {
  KernelDir k;
  const std::string head = R"({"op": "gemm", "a": "a.npy", "b": "b.npy", "out": "y.npy")";

  SECTION("missing JSON file") {
    const std::string missing = k.dir.file("missing.json");
    CHECK_THROWS_WITH(load_kernel(missing),
                      StartsWith(missing) && Contains("no such file"));
  }
  SECTION("JSON syntax error carries the byte position") {
    // The stray '}' is the 21st byte; nlohmann counts from 1.
    CHECK_THAT(k.error(R"({"op": "gemm", "a": })"),
               StartsWith(k.json) && Contains("syntax error") && Contains("byte 21"));
  }
  SECTION("top level not an object") {
    CHECK_THAT(k.error(R"(["gemm"])"), Contains("top level") && Contains("array"));
  }
  SECTION("unknown op") {
    CHECK_THAT(k.error(R"({"op": "conv", "a": "a.npy", "b": "b.npy", "out": "y.npy"})"),
               StartsWith(k.json) && Contains("unknown op 'conv' (supported: gemm, conv2d)"));
  }
  SECTION("unknown key") {
    CHECK_THAT(k.error(head + R"(, "bais": "bias.npy"})"),
               Contains("unknown key 'bais'"));
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": 1, "shift": 0, "zp": 1}})"),
               Contains("unknown key 'requant.zp'"));
  }
  SECTION("missing required keys") {
    CHECK_THAT(k.error(R"({"a": "a.npy", "b": "b.npy", "out": "y.npy"})"),
               Contains("missing required key 'op'"));
    CHECK_THAT(k.error(R"({"op": "gemm", "b": "b.npy", "out": "y.npy"})"),
               Contains("missing required key 'a'"));
    CHECK_THAT(k.error(R"({"op": "gemm", "a": "a.npy", "out": "y.npy"})"),
               Contains("missing required key 'b'"));
    CHECK_THAT(k.error(R"({"op": "gemm", "a": "a.npy", "b": "b.npy"})"),
               Contains("missing required key 'out'"));
    CHECK_THAT(k.error(head + R"(, "requant": {"shift": 0}})"),
               Contains("missing required key 'requant.multiplier'"));
  }
  SECTION("wrong dtype") {
    CHECK_THAT(
        k.error(R"({"op": "gemm", "a": "bias.npy", "b": "b.npy", "out": "y.npy"})"),
        StartsWith(k.json) && Contains("a: ") && Contains("bias.npy") &&
            Contains("expected dtype int8"));
    CHECK_THAT(k.error(head + R"(, "bias": "a.npy"})"),
               Contains("bias: ") && Contains("expected dtype int32"));
  }
  SECTION("shape mismatch") {
    save<std::int8_t>(k.dir.file("b_bad.npy"), {4, 2}, std::vector<std::int8_t>(8));
    CHECK_THAT(
        k.error(R"({"op": "gemm", "a": "a.npy", "b": "b_bad.npy", "out": "y.npy"})"),
        StartsWith(k.json) &&
            Contains("shape mismatch: a is [M,K]=[2,3] but b is [K,N]=[4,2]"));
  }
  SECTION("per-channel length mismatch") {
    save<std::int32_t>(k.dir.file("mult3.npy"), {3}, {1, 2, 3});
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": "mult3.npy", "shift": 0}})"),
               Contains("requant.multiplier has 3 values"));
  }
  SECTION("missing tensor file") {
    CHECK_THAT(
        k.error(R"({"op": "gemm", "a": "nope.npy", "b": "b.npy", "out": "y.npy"})"),
        Contains("a: ") && Contains("nope.npy") && Contains("no such file"));
  }
  SECTION("truncated tensor file") {
    const std::string full = k.dir.file("b.npy");
    std::ifstream in(full, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in),
                      std::istreambuf_iterator<char>()};
    write_text(k.dir.file("b_cut.npy"), bytes.substr(0, bytes.size() - 2));
    CHECK_THAT(
        k.error(R"({"op": "gemm", "a": "a.npy", "b": "b_cut.npy", "out": "y.npy"})"),
        Contains("b: ") && Contains("b_cut.npy") && Contains("truncated"));
  }
  SECTION("wrong JSON types") {
    CHECK_THAT(k.error(R"({"op": 1, "a": "a.npy", "b": "b.npy", "out": "y.npy"})"),
               Contains("op: expected a string, got number"));
    CHECK_THAT(k.error(R"({"op": "gemm", "a": ["a.npy"], "b": "b.npy", "out": "y.npy"})"),
               Contains("a: expected a string, got array"));
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": 1, "shift": 1.5}})"),
               Contains("requant.shift: expected an integer") && Contains("1.5"));
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": true, "shift": 0}})"),
               Contains("requant.multiplier: expected an integer or an .npy path"));
    CHECK_THAT(
        k.error(head +
                R"(, "requant": {"multiplier": 1, "shift": 0, "zero_point": "3"}})"),
        Contains("requant.zero_point: expected an integer"));
    CHECK_THAT(k.error(head + R"(, "requant": [1, 0]})"),
               Contains("requant: expected an object"));
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": 4294967296, "shift": 0}})"),
               Contains("requant.multiplier") && Contains("int32"));
  }
  SECTION("a shift string that is not a file is a missing file") {
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": 1, "shift": "-7"}})"),
               Contains("requant.shift: ") && Contains("no such file"));
  }
  SECTION("out of range parameters are caught by validate") {
    CHECK_THAT(k.error(head + R"(, "requant": {"multiplier": 1, "shift": 31}})"),
               StartsWith(k.json) && Contains("requant.shift"));
    CHECK_THAT(
        k.error(head +
                R"(, "requant": {"multiplier": 1, "shift": 0, "zero_point": 200}})"),
        Contains("requant.zero_point"));
  }
  SECTION("clamp must be two integers") {
    const std::string requant = R"(, "requant": {"multiplier": 1, "shift": 0})";
    CHECK_THAT(k.error(head + requant + R"(, "clamp": [0]})"),
               Contains("clamp: expected an array of two integers"));
    CHECK_THAT(k.error(head + requant + R"(, "clamp": [0, 127, 3]})"),
               Contains("clamp: expected an array of two integers"));
    CHECK_THAT(k.error(head + requant + R"(, "clamp": [0, 6.5]})"), Contains("clamp[1]"));
    CHECK_THAT(k.error(head + requant + R"(, "clamp": "relu"})"), Contains("clamp"));
    CHECK_THAT(k.error(head + requant + R"(, "clamp": [10, 0]})"), Contains("clamp"));
  }
  SECTION("clamp without requant") {
    CHECK_THAT(k.error(head + R"(, "clamp": [0, 127]})"),
               Contains("clamp") && Contains("requant"));
  }
}

TEST_CASE("kernel sparse format", "[kernel][sparse]") {
  KernelDir k;
  const std::string head = R"({"op": "gemm", "a": "a.npy", "b": "b.npy", "out": "y.npy")";
  SECTION("absent: the dense path") { CHECK_FALSE(k.load(head + "}").sparse); }
  SECTION("each format by name, operand b by default") {
    const SparseSpec two_four{SparseOperand::kB, SparseFormat::nm(2, 4)};
    CHECK(k.load(head + R"(, "sparse": {"format": "2:4"}})").sparse == two_four);
    CHECK(k.load(head + R"(, "sparse": {"format": "unstructured"}})").sparse->format.kind ==
          SparseFormat::Kind::kUnstructured);
    CHECK(k.load(head + R"(, "sparse": {"format": "auto"}})").sparse->format.kind ==
          SparseFormat::Kind::kAuto);
    CHECK(k.load(head + R"(, "sparse": {"operand": "b", "format": "2:4"}})").sparse == two_four);
  }
  SECTION("operand a: unstructured or auto") {
    const Kernel unstructured =
        k.load(head + R"(, "sparse": {"operand": "a", "format": "unstructured"}})");
    CHECK(unstructured.sparse ==
          SparseSpec{SparseOperand::kA, SparseFormat{SparseFormat::Kind::kUnstructured}});
    const Kernel chosen = k.load(head + R"(, "sparse": {"format": "auto", "operand": "a"}})");
    CHECK(chosen.sparse == SparseSpec{SparseOperand::kA, SparseFormat{SparseFormat::Kind::kAuto}});
  }
  SECTION("operand a refuses N:M, naming the field and what it takes") {
    CHECK_THAT(k.error(head + R"(, "sparse": {"operand": "a", "format": "2:4"}})"),
               StartsWith(k.json) && Contains("sparse.format") && Contains("'2:4'") &&
                   Contains("'unstructured'") && Contains("'auto'"));
  }
  SECTION("a bad operand names the field") {
    CHECK_THAT(k.error(head + R"(, "sparse": {"operand": "c", "format": "auto"}})"),
               StartsWith(k.json) && Contains("sparse.operand") && Contains("'c'") &&
                   Contains("'a'") && Contains("'b'"));
    CHECK_THAT(k.error(head + R"(, "sparse": {"operand": "A", "format": "auto"}})"),
               Contains("sparse.operand") && Contains("'A'"));
    CHECK_THAT(k.error(head + R"(, "sparse": {"operand": 1, "format": "auto"}})"),
               Contains("sparse.operand: expected a string"));
  }
  SECTION("a b that breaks its declared N:M is refused, naming the group") {
    // b.npy is [[1, 0], [0, 1], [1, 1]]: column 0 has two nonzeros in k 0..2.
    CHECK_THAT(k.error(head + R"(, "sparse": {"format": "1:4"}})"),
               StartsWith(k.json) && Contains("b is not 1:4: column 0, k 0..2 has 2 nonzeros"));
  }
  SECTION("mistakes name the field") {
    CHECK_THAT(k.error(head + R"(, "sparse": {"format": "3:2"}})"),
               StartsWith(k.json) && Contains("sparse.format") && Contains("'3:2'"));
    CHECK_THAT(k.error(head + R"(, "sparse": {"format": 24}})"),
               Contains("sparse.format: expected a string"));
    CHECK_THAT(k.error(head + R"(, "sparse": {}})"),
               Contains("missing required key 'sparse.format'"));
    CHECK_THAT(k.error(head + R"(, "sparse": {"format": "2:4", "density": 0.5}})"),
               Contains("unknown key 'sparse.density'") && Contains("operand, format"));
    CHECK_THAT(k.error(head + R"(, "sparse": {"operand": "a"}})"),
               Contains("missing required key 'sparse.format'"));
    CHECK_THAT(k.error(head + R"(, "sparse": "2:4"})"), Contains("sparse: expected an object"));
  }
}
