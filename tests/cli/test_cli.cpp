// End-to-end tests of the `tessera` command line (the contract in the README and the
// issue): every case runs the real binary in a fresh temporary directory and checks what
// a user would notice: the exit code, that the message names the file or field at fault,
// the .npy written, and that a failed run leaves no partial or overwritten file behind.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_process.hpp"
#include "tessera/conv.hpp"
#include "tessera/golden.hpp"
#include "tessera/quantized.hpp"
#include "tessera/tensor.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace tessera;
using namespace tessera::cli_test;

namespace {

void write_json(const fs::path& path, const json& value) { write_bytes(path, value.dump(2)); }

// An .npy with any descriptor, shape and payload, for files the library refuses to write.
std::string raw_npy(const std::string& descr, const std::string& shape,
                    const std::string& payload) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xFF);
  bytes += static_cast<char>(header.size() >> 8);
  return bytes + header + payload;
}

// ---------------------------------------------------------------------------------------
// Tensors and the golden reference

Tensor<std::int8_t> random_int8(std::size_t rows, std::size_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  Tensor<std::int8_t> t(rows, cols);
  for (auto& v : t.data) v = static_cast<std::int8_t>(dist(rng));
  return t;
}

Tensor<std::int32_t> vector_int32(const std::vector<std::int32_t>& values) {
  Tensor<std::int32_t> t;
  t.shape = {values.size()};
  t.data = values;
  return t;
}

Tensor<std::int32_t> widen(const Tensor<std::int8_t>& t) {
  Tensor<std::int32_t> wide;
  wide.shape = t.shape;
  wide.data.assign(t.data.begin(), t.data.end());
  return wide;
}

// Saves a and b of a random problem next to the kernel and returns the problem, to which
// the caller adds bias and requantization.
GemmProblem write_operands(const TempDir& dir, std::size_t m, std::size_t k, std::size_t n,
                           std::uint32_t seed) {
  GemmProblem problem;
  problem.a = random_int8(m, k, seed);
  problem.b = random_int8(k, n, seed + 1);
  save_npy((dir / "a.npy").string(), problem.a);
  save_npy((dir / "b.npy").string(), problem.b);
  return problem;
}

// Reads the output with the dtype the contract promises (int8 with requant, else int32);
// load_npy itself rejects any other dtype.
Tensor<std::int32_t> read_output(const fs::path& path, bool requant) {
  REQUIRE(fs::exists(path));
  if (requant) return widen(load_npy<std::int8_t>(path.string()));
  return load_npy<std::int32_t>(path.string());
}

void require_equal(const Tensor<std::int32_t>& got, const Tensor<std::int32_t>& want) {
  REQUIRE(got.shape == want.shape);
  for (std::size_t r = 0; r < want.rows(); ++r) {
    for (std::size_t c = 0; c < want.cols(); ++c) {
      INFO("first mismatch at row " << r << ", col " << c);
      REQUIRE(got.at(r, c) == want.at(r, c));
    }
  }
}

bool contains_nocase(std::string text, std::string part) {
  auto lower = [](std::string& s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  lower(text);
  lower(part);
  return contains(text, part);
}

// The last non-empty line, where `bench --json` puts its JSON object.
std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const std::size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

// ---------------------------------------------------------------------------------------
// A valid kernel that each bad-input case breaks in one way

struct KernelFixture {
  TempDir dir;
  json kernel = {{"op", "gemm"}, {"a", "a.npy"}, {"b", "b.npy"}, {"out", "y.npy"}};
  GemmProblem problem;

  KernelFixture() { problem = write_operands(dir, 4, 6, 5, 11); }

  void write() const { write_json(dir / "kernel.json", kernel); }

  CliResult run(std::vector<std::string> extra = {}) const {
    write();
    std::vector<std::string> args = {"run", "kernel.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, dir.path());
  }
};

// Exit 2, a message naming each of `parts` (the file or field, and what was expected),
// and no output file.
void require_bad_input(const KernelFixture& fixture, const CliResult& result,
                       const std::vector<std::string>& parts) {
  INFO(result.transcript);
  REQUIRE(result.exit_code == 2);
  for (const std::string& part : parts) {
    INFO("message should mention '" << part << "'");
    CHECK(contains(result.output, part));
  }
  CHECK_FALSE(fs::exists(fixture.dir / "y.npy"));
}

void require_usage_error(const CliResult& result, const std::vector<std::string>& parts) {
  INFO(result.transcript);
  REQUIRE(result.exit_code == 2);
  for (const std::string& part : parts) {
    INFO("message should mention '" << part << "'");
    CHECK(contains(result.output, part));
  }
}

}  // namespace

// =======================================================================================
// Happy paths: the output file is there, of the promised dtype and shape, bit-exact.

TEST_CASE("run --check: per-channel requantization from mult.npy/shift.npy", "[cli][run]") {
  TempDir dir;
  // K > 16 and N > 16 make the runtime fold over both array dimensions of the 16x16 build.
  const std::size_t m = 5, k = 20, n = 18;
  GemmProblem problem = write_operands(dir, m, k, n, 1);
  Requant requant;
  for (std::size_t c = 0; c < n; ++c) {
    requant.multiplier.push_back(1073741824 + static_cast<std::int32_t>(c) * 50000000);
    requant.shift.push_back(-8 - static_cast<std::int32_t>(c % 3));
  }
  requant.zero_point = 3;
  problem.requant = requant;
  save_npy((dir / "mult.npy").string(), vector_int32(requant.multiplier));
  save_npy((dir / "shift.npy").string(), vector_int32(requant.shift));
  write_json(dir / "kernel.json",
             {{"op", "gemm"},
              {"a", "a.npy"},
              {"b", "b.npy"},
              {"requant", {{"multiplier", "mult.npy"}, {"shift", "shift.npy"}, {"zero_point", 3}}},
              {"out", "y.npy"}});

  const Tensor<std::int32_t> want = golden_gemm(problem);
  // Guard against a degenerate test where everything saturates to one value.
  REQUIRE(std::set<std::int32_t>(want.data.begin(), want.data.end()).size() > 20);

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  require_equal(read_output(dir / "y.npy", true), want);
  CHECK(list_tree(dir.path()) ==
        std::set<std::string>{"a.npy", "b.npy", "mult.npy", "shift.npy", "kernel.json", "y.npy"});
}

TEST_CASE("run --check: raw int32 output with bias, paths relative to the kernel file",
          "[cli][run]") {
  TempDir dir;
  fs::create_directory(dir / "k");
  const std::size_t m = 3, k = 9, n = 18;
  GemmProblem problem;
  problem.a = random_int8(m, k, 21);
  problem.b = random_int8(k, n, 22);
  for (std::size_t c = 0; c < n; ++c) {
    problem.bias.push_back(static_cast<std::int32_t>(c) * 100003 - 900000);
  }
  save_npy((dir / "k" / "a.npy").string(), problem.a);
  save_npy((dir / "k" / "b.npy").string(), problem.b);
  save_npy((dir / "k" / "bias.npy").string(), vector_int32(problem.bias));
  write_json(
      dir / "k" / "kernel.json",
      {{"op", "gemm"}, {"a", "a.npy"}, {"b", "b.npy"}, {"bias", "bias.npy"}, {"out", "y.npy"}});

  // Run from the parent: a.npy, bias.npy and y.npy resolve against k/, not the cwd.
  const CliResult result = run_cli({"run", "k/kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  require_equal(read_output(dir / "k" / "y.npy", false), golden_gemm(problem));
  CHECK_FALSE(fs::exists(dir / "y.npy"));
}

TEST_CASE("run without --check writes the output too, replacing a stale file", "[cli][run]") {
  TempDir dir;
  GemmProblem problem = write_operands(dir, 7, 16, 4, 31);
  write_json(dir / "kernel.json",
             {{"op", "gemm"}, {"a", "a.npy"}, {"b", "b.npy"}, {"out", "y.npy"}});
  write_bytes(dir / "y.npy", "stale output from an earlier run");

  const CliResult result = run_cli({"run", "kernel.json"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  require_equal(read_output(dir / "y.npy", false), golden_gemm(problem));
  CHECK(list_tree(dir.path()) == std::set<std::string>{"a.npy", "b.npy", "kernel.json", "y.npy"});
}

TEST_CASE("run --check: per-tensor multiplier and shift", "[cli][run]") {
  TempDir dir;
  GemmProblem problem = write_operands(dir, 6, 10, 9, 41);
  problem.requant = Requant{{1518500250}, {-7}, 3};
  json kernel = {{"op", "gemm"}, {"a", "a.npy"}, {"b", "b.npy"}, {"out", "y.npy"}};

  SECTION("as JSON integers") {
    kernel["requant"] = {{"multiplier", 1518500250}, {"shift", -7}, {"zero_point", 3}};
  }
  SECTION("with single rounding") {
    problem.requant->rounding = Rounding::kSingle;
    kernel["requant"] = {
        {"multiplier", 1518500250}, {"shift", -7}, {"zero_point", 3}, {"rounding", "single"}};
  }
  SECTION("with double rounding spelled out") {
    kernel["requant"] = {
        {"multiplier", 1518500250}, {"shift", -7}, {"zero_point", 3}, {"rounding", "double"}};
  }
  SECTION("as 0-d int32 .npy scalars") {
    Tensor<std::int32_t> mult, shift;
    mult.data = {1518500250};  // shape {}: a NumPy scalar array
    shift.data = {-7};
    save_npy((dir / "mult.npy").string(), mult);
    save_npy((dir / "shift.npy").string(), shift);
    kernel["requant"] = {{"multiplier", "mult.npy"}, {"shift", "shift.npy"}, {"zero_point", 3}};
  }
  write_json(dir / "kernel.json", kernel);

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  require_equal(read_output(dir / "y.npy", true), golden_gemm(problem));
}

TEST_CASE("run --check: uint8 activations, zero points and float scales", "[cli][run][quantized]") {
  TempDir dir;
  const std::size_t m = 7, k = 19, n = 6;
  const Tensor<std::int8_t> a8 = random_int8(m, k, 71);
  QuantizedGemm q;
  q.a_type = DType::kUint8;
  q.a.shape = a8.shape;
  Tensor<std::uint8_t> a_u8;
  a_u8.shape = a8.shape;
  for (std::int8_t v : a8.data) {
    a_u8.data.push_back(static_cast<std::uint8_t>(v + 128));
    q.a.data.push_back(v + 128);
  }
  q.b = widen(random_int8(k, n, 72));
  q.a_zero_point = 121;
  save_npy((dir / "a.npy").string(), a_u8);
  save_npy((dir / "b.npy").string(), random_int8(k, n, 72));
  Tensor<float> weight_scale;
  weight_scale.shape = {n};
  for (std::size_t i = 0; i < n; ++i) weight_scale.data.push_back(0.004f + 0.001f * i);
  save_npy((dir / "sb.npy").string(), weight_scale);
  json kernel = {{"op", "gemm"},
                 {"a", "a.npy"},
                 {"b", "b.npy"},
                 {"out", "y.npy"},
                 {"a_zero_point", 121},
                 {"scale", {{"input", 0.05}, {"weight", "sb.npy"}, {"output", 0.2}}},
                 {"requant", {{"zero_point", 130}, {"rounding", "single"}}}};
  q.requant = Requant{};
  q.requant->zero_point = 130;
  q.requant->rounding = Rounding::kSingle;
  for (float w : weight_scale.data) {
    const QuantizedMultiplier qm = quantize_multiplier(0.05 * double{w} / 0.2, "scale");
    q.requant->multiplier.push_back(qm.multiplier);
    q.requant->shift.push_back(qm.shift);
  }
  q.out_type = DType::kUint8;

  SECTION("per-tensor symmetric weights: the engine requantizes") {}
  SECTION("per-column weight zero points from an .npy: the host corrects") {
    Tensor<std::int8_t> zb;
    zb.shape = {n};
    for (std::size_t i = 0; i < n; ++i) zb.data.push_back(static_cast<std::int8_t>(i) - 3);
    save_npy((dir / "zb.npy").string(), zb);
    kernel["b_zero_point"] = "zb.npy";
    q.b_zero_point.assign(zb.data.begin(), zb.data.end());
  }
  write_json(dir / "kernel.json", kernel);

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  const Tensor<std::uint8_t> y = load_npy<std::uint8_t>((dir / "y.npy").string());
  Tensor<std::int32_t> got;
  got.shape = y.shape;
  got.data.assign(y.data.begin(), y.data.end());
  require_equal(got, golden_quantized_gemm(q));
}

TEST_CASE("run --check: conv2d kernels, grouped and depthwise, NHWC and NCHW", "[cli][run][conv]") {
  TempDir dir;
  QuantizedConv2d conv;
  json kernel = {{"op", "conv2d"},        {"input", "x.npy"},  {"weight", "w.npy"},
                 {"out", "y.npy"},        {"strides", {2, 1}}, {"pads", {1, 0, 1, 2}},
                 {"input_zero_point", -3}};
  conv.strides = {2, 1};
  conv.pads = {1, 0, 1, 2};
  conv.input_zero_point = -3;
  std::size_t group = 1, cg = 3, oc = 4;
  SECTION("NHWC, one group, requantized, per-channel weight zero points") {
    Tensor<std::int8_t> zw;
    zw.shape = {oc};
    zw.data = {0, 1, -2, 3};
    save_npy((dir / "zw.npy").string(), zw);
    kernel["weight_zero_point"] = "zw.npy";
    conv.weight_zero_point = {0, 1, -2, 3};
    kernel["requant"] = {{"multiplier", 1 << 30}, {"shift", -6}, {"zero_point", 5}};
    conv.requant = Requant{{1 << 30}, {-6}, 5};
  }
  SECTION("NCHW, depthwise, raw int32") {
    kernel["layout"] = "nchw";
    conv.layout = Layout::kNchw;
    group = 3, cg = 1, oc = 6;
    kernel["group"] = 3;
    kernel["dilations"] = {1, 2};
    conv.dilations = {1, 2};
  }
  conv.group = group;
  const std::size_t c = cg * group;
  const Tensor<std::int8_t> x = random_int8(2 * 7, 6 * c, 81);  // reshaped below
  const Tensor<std::int8_t> w = random_int8(oc, 3 * 2 * cg, 82);
  Tensor<std::int8_t> x4 = x, w4 = w;
  x4.shape = conv.layout == Layout::kNhwc ? std::vector<std::size_t>{2, 7, 6, c}
                                          : std::vector<std::size_t>{2, c, 7, 6};
  w4.shape = conv.layout == Layout::kNhwc ? std::vector<std::size_t>{oc, 3, 2, cg}
                                          : std::vector<std::size_t>{oc, cg, 3, 2};
  save_npy((dir / "x.npy").string(), x4);
  save_npy((dir / "w.npy").string(), w4);
  conv.input.shape = x4.shape;
  conv.input.data.assign(x4.data.begin(), x4.data.end());
  conv.weight.shape = w4.shape;
  conv.weight.data.assign(w4.data.begin(), w4.data.end());
  write_json(dir / "kernel.json", kernel);

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  CHECK(contains(result.output, std::to_string(group) + " GEMM"));
  const Tensor<std::int32_t> want = golden_conv2d(conv);
  const Tensor<std::int32_t> got = conv.requant
                                       ? widen(load_npy<std::int8_t>((dir / "y.npy").string()))
                                       : load_npy<std::int32_t>((dir / "y.npy").string());
  CHECK(got.shape == want.shape);
  CHECK(got.data == want.data);
}

TEST_CASE("a conv2d kernel's bad fields exit 2 naming them", "[cli][bad-input][conv]") {
  KernelFixture f;  // a.npy [4,6] and b.npy [6,5]: 2-D, so not a convolution's tensors
  f.kernel = {{"op", "conv2d"}, {"input", "a.npy"}, {"weight", "b.npy"}, {"out", "y.npy"}};
  SECTION("a 2-D input") { require_bad_input(f, f.run(), {"kernel.json", "input must be 4-D"}); }
  SECTION("an unknown layout") {
    f.kernel["layout"] = "nwhc";
    require_bad_input(f, f.run(), {"kernel.json", "layout", "nwhc"});
  }
  SECTION("a zero stride") {
    f.kernel["strides"] = {0, 1};
    require_bad_input(f, f.run(), {"kernel.json", "strides[0]", ">= 1"});
  }
  SECTION("a gemm key") {
    f.kernel["a"] = "a.npy";
    require_bad_input(f, f.run(), {"kernel.json", "unknown key 'a'"});
  }
}

TEST_CASE("a quantized kernel's bad fields exit 2 naming them", "[cli][bad-input][quantized]") {
  KernelFixture f;
  f.kernel["scale"] = {{"input", 0.05}, {"weight", 0.01}, {"output", 0.2}};
  SECTION("a zero point outside int8") {
    f.kernel["a_zero_point"] = 128;
    require_bad_input(f, f.run(), {"kernel.json", "a_zero_point = 128", "int8"});
  }
  SECTION("scale together with requant.multiplier") {
    f.kernel["requant"] = {{"multiplier", 1 << 30}, {"shift", -7}};
    require_bad_input(f, f.run(), {"kernel.json", "requant.multiplier", "scale"});
  }
  SECTION("a negative scale") {
    f.kernel["scale"]["weight"] = -0.5;
    require_bad_input(f, f.run(), {"kernel.json", "scale", ">= 0"});
  }
  SECTION("an unknown out_dtype") {
    f.kernel["out_dtype"] = "int4";
    require_bad_input(f, f.run(), {"kernel.json", "out_dtype", "int4"});
  }
  SECTION("a uint8 output zero point outside uint8") {
    f.kernel["out_dtype"] = "uint8";
    f.kernel["requant"] = {{"zero_point", -1}};
    require_bad_input(f, f.run(), {"kernel.json", "requant.zero_point = -1", "uint8"});
  }
  SECTION("a scale of the wrong type") {
    f.kernel["scale"]["output"] = "sy.npy";
    require_bad_input(f, f.run(), {"kernel.json", "scale.output", "number"});
  }
}

TEST_CASE("run --check: clamp [0, 127] is a ReLU on the requantized output", "[cli][run]") {
  TempDir dir;
  GemmProblem problem = write_operands(dir, 8, 12, 6, 51);
  problem.requant = Requant{{1518500250}, {-8}, -5};
  GemmProblem unclamped = problem;
  problem.clamp_lo = 0;
  problem.clamp_hi = 127;
  // The clamp must have something to do, or this test checks nothing.
  const Tensor<std::int32_t> raw = golden_gemm(unclamped);
  REQUIRE(std::any_of(raw.data.begin(), raw.data.end(), [](std::int32_t v) { return v < 0; }));
  write_json(dir / "kernel.json",
             {{"op", "gemm"},
              {"a", "a.npy"},
              {"b", "b.npy"},
              {"requant", {{"multiplier", 1518500250}, {"shift", -8}, {"zero_point", -5}}},
              {"clamp", {0, 127}},
              {"out", "y.npy"}});

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  const Tensor<std::int32_t> got = read_output(dir / "y.npy", true);
  require_equal(got, golden_gemm(problem));
  CHECK(*std::min_element(got.data.begin(), got.data.end()) == 0);
}

TEST_CASE("run --trace writes an FST trace and the output", "[cli][run][trace]") {
  TempDir dir;
  GemmProblem problem = write_operands(dir, 4, 8, 4, 61);
  write_json(dir / "kernel.json",
             {{"op", "gemm"}, {"a", "a.npy"}, {"b", "b.npy"}, {"out", "y.npy"}});
  std::vector<std::string> args = {"run", "kernel.json", "--trace", "t.fst"};
  SECTION("whole run") {}
  SECTION("a window of cycles") {
    args.push_back("--trace-window");
    args.push_back("0:40");
  }

  const CliResult result = run_cli(args, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  REQUIRE(fs::exists(dir / "t.fst"));
  CHECK(fs::file_size(dir / "t.fst") > 0);
  require_equal(read_output(dir / "y.npy", false), golden_gemm(problem));
}

// =======================================================================================
// gemm, bench, info

TEST_CASE("gemm --check runs a seeded random GEMM and passes", "[cli][gemm]") {
  TempDir dir;
  std::vector<std::string> args = {"gemm", "--m", "5", "--k", "7", "--n", "3", "--seed", "4"};
  SECTION("requant") { args.push_back("--requant"); }
  SECTION("relu") { args.push_back("--relu"); }
  SECTION("requant, single rounding") {
    args.insert(args.end(), {"--requant", "--rounding", "single"});
  }
  SECTION("raw int32") {}
  args.push_back("--check");

  const CliResult result = run_cli(args, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  CHECK(list_tree(dir.path()).empty());  // gemm writes no files
}

TEST_CASE("bench gemm --json ends with one JSON object of the documented fields", "[cli][bench]") {
  TempDir dir;
  const CliResult result =
      run_cli({"bench", "gemm", "--m", "16", "--k", "16", "--n", "16", "--json"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);

  const std::string last = last_line(result.output);
  INFO("last line: " << last);
  json line;
  REQUIRE_NOTHROW(line = json::parse(last));
  REQUIRE(line.is_object());
  for (const char* field : {"m", "k", "n", "rows", "cols", "cycles", "macs", "utilization",
                            "scalesim_ws_cycles", "sim_cycles_per_s"}) {
    INFO("field " << field);
    REQUIRE(line.contains(field));
    REQUIRE(line[field].is_number());
  }
  CHECK(line["m"] == 16);
  CHECK(line["k"] == 16);
  CHECK(line["n"] == 16);
  CHECK(line["rows"].get<double>() >= 1);
  CHECK(line["cols"].get<double>() >= 1);
  CHECK(line["cycles"].get<double>() > 0);
  CHECK(line["macs"] == 16 * 16 * 16);
  const double utilization = line["utilization"].get<double>();
  CHECK(utilization > 0.0);
  CHECK(utilization <= 1.0);
  CHECK(line["scalesim_ws_cycles"].get<double>() > 0);
  CHECK(line["sim_cycles_per_s"].get<double>() > 0);
}

TEST_CASE("bench gemm --batches runs more GEMMs on the same resident B, all checked",
          "[cli][bench]") {
  TempDir dir;
  const CliResult result =
      run_cli({"bench", "gemm", "--m", "40", "--k", "70", "--n", "50", "--batches", "3", "--json"},
              dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "resident B        3 GEMMs, B uploaded once"));
  const json line = json::parse(last_line(result.output));
  CHECK(line["batches"] == 3);
  CHECK(line["check"] == "PASS");
  CHECK(line["resident_cycles"].get<double>() > 0);
  const double utilization = line["resident_utilization"].get<double>();
  CHECK(utilization > 0.0);
  CHECK(utilization <= 1.0);
  // No batch of a resident B loads weights: each is its activations' LOADs and GEMMs,
  // fewer commands than the first run, which also streamed B.
  CHECK(line["resident_commands"].get<double>() > 0);
  CHECK(line["resident_commands"].get<double>() / 3 < line["commands"].get<double>());

  const CliResult zero =
      run_cli({"bench", "gemm", "--m", "4", "--k", "4", "--n", "4", "--batches", "0"}, dir.path());
  CHECK(zero.exit_code == 2);
}

TEST_CASE("info prints the array size read back from the engine", "[cli][info]") {
  TempDir dir;
  const CliResult info = run_cli({"info"}, dir.path());
  INFO(info.transcript);
  REQUIRE(info.exit_code == 0);
  std::smatch match;
  REQUIRE(std::regex_search(info.output, match, std::regex(R"((\d+) x (\d+))")));

  // Cross-check with the numbers bench reports for the same build, rather than hard-code
  // the configuration the CLI happens to link.
  const CliResult bench =
      run_cli({"bench", "gemm", "--m", "1", "--k", "1", "--n", "1", "--json"}, dir.path());
  INFO(bench.transcript);
  REQUIRE(bench.exit_code == 0);
  const json line = json::parse(last_line(bench.output));
  CHECK(std::stoul(match[1]) == line["rows"].get<unsigned long>());
  CHECK(std::stoul(match[2]) == line["cols"].get<unsigned long>());
}

// =======================================================================================
// Bad input: exit 2, the message names the file or field and what was expected.

TEST_CASE("bad tensor files exit 2 naming the file", "[cli][bad-input]") {
  KernelFixture f;

  SECTION("a saved as int32") {
    save_npy((f.dir / "a.npy").string(), widen(f.problem.a));
    require_bad_input(f, f.run(), {"a.npy", "int8"});
  }
  SECTION("a saved as float32") {
    write_bytes(f.dir / "a.npy", raw_npy("<f4", "(4, 6)", std::string(4 * 6 * 4, '\0')));
    require_bad_input(f, f.run(), {"a.npy", "int8", "<f4"});
  }
  SECTION("bias saved big-endian") {
    f.kernel["bias"] = "bias.npy";
    write_bytes(f.dir / "bias.npy", raw_npy(">i4", "(5,)", std::string(5 * 4, '\0')));
    require_bad_input(f, f.run(), {"bias.npy", "int32"});
  }
  SECTION("missing a.npy") {
    fs::remove(f.dir / "a.npy");
    require_bad_input(f, f.run(), {"a.npy"});
  }
  SECTION("b.npy truncated inside the data") {
    const std::string bytes = read_bytes(f.dir / "b.npy");
    write_bytes(f.dir / "b.npy", bytes.substr(0, bytes.size() - 3));
    require_bad_input(f, f.run(), {"b.npy", "truncated"});
  }
  SECTION("b.npy truncated inside the header") {
    write_bytes(f.dir / "b.npy", read_bytes(f.dir / "b.npy").substr(0, 20));
    require_bad_input(f, f.run(), {"b.npy", "truncated"});
  }
  SECTION("a.npy is not an .npy file") {
    write_bytes(f.dir / "a.npy", "a,b,c\n1,2,3\n");
    require_bad_input(f, f.run(), {"a.npy"});
  }
}

TEST_CASE("bad shapes exit 2 naming the fields", "[cli][bad-input]") {
  KernelFixture f;

  SECTION("a [3,5] with b [4,2]") {
    save_npy((f.dir / "a.npy").string(), random_int8(3, 5, 1));
    save_npy((f.dir / "b.npy").string(), random_int8(4, 2, 2));
    require_bad_input(f, f.run(), {"kernel.json", "shape", "a", "b"});
  }
  SECTION("a 1-D") {
    Tensor<std::int8_t> flat;
    flat.shape = {24};
    flat.data.assign(24, 1);
    save_npy((f.dir / "a.npy").string(), flat);
    require_bad_input(f, f.run(), {"kernel.json", "a"});
  }
  SECTION("bias of 4 values for N = 5") {
    save_npy((f.dir / "bias.npy").string(), vector_int32({1, 2, 3, 4}));
    f.kernel["bias"] = "bias.npy";
    require_bad_input(f, f.run(), {"kernel.json", "bias", "5"});
  }
  SECTION("per-channel multiplier of 3 values for N = 5") {
    save_npy((f.dir / "mult.npy").string(), vector_int32({1 << 30, 1 << 30, 1 << 30}));
    f.kernel["requant"] = {{"multiplier", "mult.npy"}, {"shift", -7}};
    require_bad_input(f, f.run(), {"kernel.json", "multiplier", "5"});
  }
}

TEST_CASE("bad kernel JSON exits 2 naming the file and field", "[cli][bad-input]") {
  KernelFixture f;

  SECTION("syntax error") {
    write_bytes(f.dir / "kernel.json", R"({"op": "gemm", "a": "a.npy",)");
    const CliResult result = run_cli({"run", "kernel.json"}, f.dir.path());
    require_bad_input(f, result, {"kernel.json"});
    CHECK(contains_nocase(result.output, "syntax"));
  }
  SECTION("top level not an object") {
    write_bytes(f.dir / "kernel.json", "[1, 2]");
    const CliResult result = run_cli({"run", "kernel.json"}, f.dir.path());
    require_bad_input(f, result, {"kernel.json", "object"});
  }
  SECTION("unknown op") {
    f.kernel["op"] = "conv";
    require_bad_input(f, f.run(), {"kernel.json", "conv", "gemm"});
  }
  SECTION("unknown top-level key") {
    f.kernel["bais"] = "bias.npy";
    require_bad_input(f, f.run(), {"kernel.json", "bais"});
  }
  SECTION("unknown key inside requant") {
    f.kernel["requant"] = {{"multiplier", 1 << 30}, {"shift", -7}, {"zeropoint", 3}};
    require_bad_input(f, f.run(), {"kernel.json", "zeropoint"});
  }
  SECTION("missing required key") {
    f.kernel.erase("out");
    require_bad_input(f, f.run(), {"kernel.json", "out"});
  }
  SECTION("a path given as a number") {
    f.kernel["a"] = 5;
    require_bad_input(f, f.run(), {"kernel.json", "a", "string"});
  }
  SECTION("zero_point given as a string") {
    f.kernel["requant"] = {{"multiplier", 1 << 30}, {"shift", -7}, {"zero_point", "3"}};
    require_bad_input(f, f.run(), {"kernel.json", "zero_point", "integer"});
  }
  SECTION("an unknown rounding mode") {
    f.kernel["requant"] = {{"multiplier", 1 << 30}, {"shift", -7}, {"rounding", "nearest"}};
    require_bad_input(f, f.run(), {"kernel.json", "requant.rounding", "\"single\"", "nearest"});
  }
  SECTION("multiplier given as a float") {
    f.kernel["requant"] = {{"multiplier", 0.7071}, {"shift", -7}};
    require_bad_input(f, f.run(), {"kernel.json", "multiplier", "integer"});
  }
  SECTION("clamp of one value") {
    f.kernel["requant"] = {{"multiplier", 1 << 30}, {"shift", -7}};
    f.kernel["clamp"] = {0};
    require_bad_input(f, f.run(), {"kernel.json", "clamp"});
  }
  SECTION("clamp without requant") {
    f.kernel["clamp"] = {0, 127};
    require_bad_input(f, f.run(), {"kernel.json", "clamp", "requant"});
  }
  SECTION("missing kernel file") {
    const CliResult result = run_cli({"run", "nothere.json"}, f.dir.path());
    require_bad_input(f, result, {"nothere.json"});
  }
}

// =======================================================================================
// Bad usage: exit 2 with a message naming the option.

TEST_CASE("bad usage exits 2 naming the option", "[cli][usage]") {
  KernelFixture f;
  f.write();
  const fs::path& cwd = f.dir.path();

  SECTION("no subcommand") { require_usage_error(run_cli({}, cwd), {}); }
  SECTION("unknown subcommand") {
    require_usage_error(run_cli({"frobnicate"}, cwd), {"subcommand"});
  }
  SECTION("unknown option") {
    require_usage_error(run_cli({"run", "kernel.json", "--frobnicate"}, cwd), {"--frobnicate"});
  }
  SECTION("run without a kernel") { require_usage_error(run_cli({"run"}, cwd), {"KERNEL"}); }
  SECTION("missing --m") {
    require_usage_error(run_cli({"gemm", "--k", "4", "--n", "4"}, cwd), {"--m"});
  }
  SECTION("--m 0") {
    require_usage_error(run_cli({"gemm", "--m", "0", "--k", "4", "--n", "4"}, cwd), {"--m"});
  }
  SECTION("--m not a number") {
    require_usage_error(run_cli({"gemm", "--m", "five", "--k", "4", "--n", "4"}, cwd), {"--m"});
  }
  SECTION("--rounding neither double nor single") {
    require_usage_error(
        run_cli({"gemm", "--m", "4", "--k", "4", "--n", "4", "--requant", "--rounding", "half"},
                cwd),
        {"--rounding", "half"});
  }
  SECTION("bench gemm missing --n") {
    require_usage_error(run_cli({"bench", "gemm", "--m", "4", "--k", "4"}, cwd), {"--n"});
  }
  SECTION("--trace-window with END before START") {
    const CliResult result =
        run_cli({"run", "kernel.json", "--trace", "t.fst", "--trace-window", "5:2"}, cwd);
    require_usage_error(result, {"--trace-window", "5:2"});
    CHECK_FALSE(fs::exists(f.dir / "y.npy"));
    CHECK_FALSE(fs::exists(f.dir / "t.fst"));
  }
  SECTION("--trace-window not START:END") {
    const CliResult result =
        run_cli({"run", "kernel.json", "--trace", "t.fst", "--trace-window", "abc"}, cwd);
    require_usage_error(result, {"--trace-window"});
    CHECK_FALSE(fs::exists(f.dir / "y.npy"));
  }
  SECTION("--trace-window without --trace") {
    const CliResult result = run_cli({"run", "kernel.json", "--trace-window", "2:5"}, cwd);
    require_usage_error(result, {"--trace"});
    CHECK_FALSE(fs::exists(f.dir / "y.npy"));
  }
  SECTION("--device garbage") {
    require_usage_error(run_cli({"info", "--device", "garbage"}, cwd), {"garbage"});
  }
  SECTION("--device tcp:// without a port") {
    require_usage_error(run_cli({"info", "--device", "tcp://localhost"}, cwd), {"tcp://localhost"});
  }
}

TEST_CASE("an unknown subcommand is named in the message", "[cli][usage]") {
  TempDir dir;
  const CliResult result = run_cli({"frobnicate"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 2);
  CHECK(contains(result.output, "frobnicate"));
}

TEST_CASE("--help exits 0 and lists the subcommands", "[cli][usage]") {
  TempDir dir;
  const CliResult result = run_cli({"--help"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  for (const char* name : {"run", "gemm", "bench", "info"}) CHECK(contains(result.output, name));
}

// =======================================================================================
// A failed run never leaves a partial or overwritten output file.

TEST_CASE("a failed run leaves an existing output untouched and no temporary files",
          "[cli][atomic]") {
  KernelFixture f;
  const std::string previous = "previous y.npy bytes that must survive";
  write_bytes(f.dir / "y.npy", previous);
  const std::string b = read_bytes(f.dir / "b.npy");
  write_bytes(f.dir / "b.npy", b.substr(0, b.size() - 1));
  f.write();
  const std::set<std::string> before = list_tree(f.dir.path());

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, f.dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 2);
  CHECK(contains(result.output, "b.npy"));
  CHECK(read_bytes(f.dir / "y.npy") == previous);
  CHECK(list_tree(f.dir.path()) == before);
}

// --inject-fault and --no-capture are the simulation's fault-injection options (being
// added to sw/cli alongside this test); they are the only way to make the engine
// disagree with the golden reference from the command line. Update the spelling here
// if they change.
TEST_CASE("a --check mismatch exits 1 naming the first bad value and writes nothing",
          "[cli][atomic][fault]") {
  KernelFixture f;
  // A PE stuck at zero drops a[m, 0] * b[0, 0] from out[m, 0]: make sure that is not 0.
  REQUIRE(f.problem.a.at(0, 0) != 0);
  REQUIRE(f.problem.b.at(0, 0) != 0);
  const Tensor<std::int32_t> want = golden_gemm(f.problem);
  write_bytes(f.dir / "y.npy", "previous");
  f.write();
  const std::set<std::string> before = list_tree(f.dir.path());

  const CliResult result = f.run({"--check", "--inject-fault", "pe:0,0:stuck0", "--no-capture"});
  INFO(result.transcript);
  REQUIRE(result.exit_code == 1);
  CHECK(contains(result.output, "row 0"));
  CHECK(contains(result.output, "col 0"));
  CHECK(contains(result.output, "got "));
  CHECK(contains(result.output, "want " + std::to_string(want.at(0, 0))));
  CHECK(read_bytes(f.dir / "y.npy") == "previous");
  CHECK(list_tree(f.dir.path()) == before);
}

TEST_CASE("an output path that cannot be written exits 2 and creates nothing", "[cli][atomic]") {
  KernelFixture f;

  SECTION("into a directory that does not exist") {
    f.kernel["out"] = "missing/y.npy";
    f.write();
    const std::set<std::string> before = list_tree(f.dir.path());
    const CliResult result = f.run({"--check"});
    INFO(result.transcript);
    // The contract maps a bad output path to 2 (bad input), not 3 (engine).
    REQUIRE(result.exit_code == 2);
    CHECK(contains(result.output, "y.npy"));
    CHECK_FALSE(fs::exists(f.dir / "missing"));
    CHECK(list_tree(f.dir.path()) == before);
  }
  SECTION("onto an existing directory") {
    fs::create_directory(f.dir / "outdir");
    f.kernel["out"] = "outdir";
    f.write();
    const std::set<std::string> before = list_tree(f.dir.path());
    const CliResult result = f.run({"--check"});
    INFO(result.transcript);
    REQUIRE(result.exit_code == 2);
    CHECK(contains(result.output, "outdir"));
    CHECK(fs::is_directory(f.dir / "outdir"));
    CHECK(list_tree(f.dir.path()) == before);
  }
}

// =======================================================================================
// Engine or transport errors: exit 3, naming the device.

TEST_CASE("an unreachable device exits 3 naming the address", "[cli][device]") {
  // Port 1 (tcpmux) has no listener on a test machine: the connect is refused at once.
  const std::string address = "tcp://127.0.0.1:1";

  SECTION("run, with an existing output left untouched") {
    KernelFixture f;
    write_bytes(f.dir / "y.npy", "previous");
    f.write();
    const std::set<std::string> before = list_tree(f.dir.path());
    const CliResult result = f.run({"--device", address});
    INFO(result.transcript);
    REQUIRE(result.exit_code == 3);
    CHECK(contains(result.output, address));
    CHECK(read_bytes(f.dir / "y.npy") == "previous");
    CHECK(list_tree(f.dir.path()) == before);
  }
  SECTION("gemm") {
    TempDir dir;
    const CliResult result =
        run_cli({"gemm", "--m", "2", "--k", "2", "--n", "2", "--device", address}, dir.path());
    INFO(result.transcript);
    REQUIRE(result.exit_code == 3);
    CHECK(contains(result.output, address));
  }
  SECTION("info") {
    TempDir dir;
    const CliResult result = run_cli({"info", "--device", address}, dir.path());
    INFO(result.transcript);
    REQUIRE(result.exit_code == 3);
    CHECK(contains(result.output, address));
  }
}

// =======================================================================================
// The sparse path: spmm, bench spmm, and kernels with "sparse".

namespace {

// Keeps the first N nonzeros of every group of M consecutive K in each column.
void prune_to_nm(Tensor<std::int8_t>& b, unsigned n, unsigned m) {
  for (std::size_t col = 0; col < b.cols(); ++col) {
    for (std::size_t k0 = 0; k0 < b.rows(); k0 += m) {
      unsigned kept = 0;
      for (std::size_t k = k0; k < std::min(b.rows(), k0 + m); ++k) {
        if (b.at(k, col) != 0 && ++kept > n) b.at(k, col) = 0;
      }
    }
  }
}

}  // namespace

TEST_CASE("spmm --check runs a seeded sparse GEMM and passes", "[cli][spmm]") {
  TempDir dir;
  std::vector<std::string> args = {"spmm", "--m", "19", "--k", "37", "--n", "21", "--seed", "5"};
  std::string format = "unstructured";
  SECTION("density 10 %, raw int32") { args.insert(args.end(), {"--density", "0.1"}); }
  SECTION("density 0, requant") { args.insert(args.end(), {"--density", "0", "--requant"}); }
  SECTION("density 100 %, relu") { args.insert(args.end(), {"--density", "1", "--relu"}); }
  SECTION("a random 2:4 pattern, requant") {
    args.insert(args.end(), {"--nm", "2:4", "--requant"});
    format = "2:4";
  }
  SECTION("a random 1:4 pattern") {
    args.insert(args.end(), {"--nm", "1:4"});
    format = "1:4";
  }
  args.push_back("--check");

  const CliResult result = run_cli(args, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  CHECK(contains(result.output, format));
  CHECK(list_tree(dir.path()).empty());  // spmm writes no files
}

TEST_CASE("bench spmm --json ends with one JSON object of the documented fields",
          "[cli][bench][spmm]") {
  TempDir dir;
  std::vector<std::string> args = {"bench", "spmm", "--m", "16", "--k", "64", "--n", "32"};
  std::string format = "unstructured";
  double density = 0.25;
  SECTION("--density") { args.insert(args.end(), {"--density", "0.25"}); }
  SECTION("--nm") {
    args.insert(args.end(), {"--nm", "2:4"});
    format = "2:4";
    density = 0.5;  // a random 2:4 pattern has exactly 2 of every 4
  }
  args.push_back("--json");
  const CliResult result = run_cli(args, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));

  const std::string last = last_line(result.output);
  INFO("last line: " << last);
  json line;
  REQUIRE_NOTHROW(line = json::parse(last));
  REQUIRE(line.is_object());
  for (const char* field :
       {"density", "cycles", "dense_cycles", "speedup", "lanes", "utilization", "rows", "cols"}) {
    INFO("field " << field);
    REQUIRE(line.contains(field));
    REQUIRE(line[field].is_number());
  }
  REQUIRE(line.contains("format"));
  CHECK(line["format"] == format);
  CHECK(line["operand"] == "b");
  CHECK(line["density"].get<double>() == Approx(density).margin(1e-9));
  const double cycles = line["cycles"].get<double>();
  const double dense_cycles = line["dense_cycles"].get<double>();
  CHECK(cycles > 0);
  CHECK(dense_cycles > 0);
  CHECK(line["speedup"].get<double>() == Approx(dense_cycles / cycles));
  CHECK(line["lanes"].get<double>() == line["rows"].get<double>() * line["cols"].get<double>());
  // nonzero MACs / (cycles x lanes): 16 rows x round(density x 64 x 32) nonzeros.
  const double nonzero_macs = 16.0 * density * 64 * 32;
  const double utilization = line["utilization"].get<double>();
  CHECK(utilization == Approx(nonzero_macs / (cycles * line["lanes"].get<double>())));
  CHECK(utilization > 0.0);
  CHECK(utilization <= 1.0);
}

TEST_CASE("run honours a kernel's sparse operand and format, bit-exact", "[cli][run][spmm]") {
  TempDir dir;
  // 23 rows: a full row block of a sparse A and a short one on the 16x16 engine.
  const std::size_t m = 23, k = 30, n = 20;
  GemmProblem problem = write_operands(dir, m, k, n, 21);
  prune_to_nm(problem.b, 2, 4);                                // zeros in b, 2:4 at most
  for (std::size_t i = 0; i < k; ++i) problem.b.at(i, 3) = 0;  // and an empty column
  save_npy((dir / "b.npy").string(), problem.b);
  for (std::size_t i = 0; i < problem.a.data.size(); ++i) {
    if (i % 3 != 0) problem.a.data[i] = 0;  // two thirds of a zero
  }
  for (std::size_t i = 0; i < k; ++i) problem.a.at(4, i) = 0;  // and an empty row
  save_npy((dir / "a.npy").string(), problem.a);
  problem.bias.resize(n);
  for (std::size_t c = 0; c < n; ++c) problem.bias[c] = static_cast<std::int32_t>(c * 1001) - 9000;
  save_npy((dir / "bias.npy").string(), vector_int32(problem.bias));
  Requant requant;
  requant.multiplier = {1518500250};
  requant.shift = {-9};
  requant.zero_point = -2;
  problem.requant = requant;

  json sparse;
  std::string shown;  // how the run line names it
  SECTION("2:4") { sparse = {{"format", "2:4"}}, shown = "sparse 2:4"; }
  SECTION("unstructured") { sparse = {{"format", "unstructured"}}, shown = "sparse unstructured"; }
  SECTION("auto") { sparse = {{"format", "auto"}}, shown = "sparse auto"; }
  SECTION("operand a, unstructured") {
    sparse = {{"operand", "a"}, {"format", "unstructured"}};
    shown = "sparse A unstructured, ran A unstructured";
  }
  SECTION("operand a, auto") {
    sparse = {{"operand", "a"}, {"format", "auto"}}, shown = "sparse A auto";
  }
  write_json(dir / "kernel.json",
             {{"op", "gemm"},
              {"a", "a.npy"},
              {"b", "b.npy"},
              {"bias", "bias.npy"},
              {"requant", {{"multiplier", 1518500250}, {"shift", -9}, {"zero_point", -2}}},
              {"sparse", sparse},
              {"out", "y.npy"}});
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(std::set<std::int32_t>(want.data.begin(), want.data.end()).size() > 10);

  const CliResult result = run_cli({"run", "kernel.json", "--check"}, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  CHECK(contains(result.output, shown));
  require_equal(read_output(dir / "y.npy", true), want);
}

TEST_CASE("a kernel's bad sparse declaration exits 2 naming it, writing nothing",
          "[cli][bad-input][spmm]") {
  KernelFixture f;  // b is random int8 [6, 5]: dense, so not 2:4
  std::vector<std::string> parts;
  SECTION("2:4 whose b is not") {
    f.problem.b.at(0, 0) = f.problem.b.at(1, 0) = f.problem.b.at(2, 0) = 1;
    save_npy((f.dir / "b.npy").string(), f.problem.b);
    f.kernel["sparse"] = {{"format", "2:4"}};
    parts = {"b is not 2:4: column 0, k 0..3 has"};
  }
  SECTION("operand c") {
    f.kernel["sparse"] = {{"operand", "c"}, {"format", "unstructured"}};
    parts = {"sparse.operand", "'c'"};
  }
  SECTION("N:M with operand a") {
    f.kernel["sparse"] = {{"operand", "a"}, {"format", "2:4"}};
    parts = {"sparse.format", "'2:4'", "operand 'a'"};
  }
  write_bytes(f.dir / "y.npy", "previous");
  f.write();
  const std::set<std::string> before = list_tree(f.dir.path());

  const CliResult result = f.run({"--check"});
  INFO(result.transcript);
  REQUIRE(result.exit_code == 2);
  CHECK(contains(result.output, "kernel.json"));
  for (const std::string& part : parts) {
    INFO("message should mention '" << part << "'");
    CHECK(contains(result.output, part));
  }
  CHECK_FALSE(contains(result.output, "cycles"));  // refused before the engine ran
  CHECK(read_bytes(f.dir / "y.npy") == "previous");
  CHECK(list_tree(f.dir.path()) == before);
}

TEST_CASE("spmm and bench spmm usage errors exit 2 naming the option", "[cli][usage][spmm]") {
  TempDir dir;
  const fs::path& cwd = dir.path();
  const std::vector<std::string> shape = {"--m", "4", "--k", "8", "--n", "4"};
  const auto with = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), shape.begin(), shape.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  SECTION("neither --density nor --nm") {
    require_usage_error(run_cli(with({"spmm"}, {}), cwd), {"--density", "--nm"});
  }
  SECTION("both --density and --nm") {
    require_usage_error(run_cli(with({"spmm"}, {"--density", "0.5", "--nm", "2:4"}), cwd),
                        {"--density", "--nm"});
  }
  SECTION("--density past 1") {
    require_usage_error(run_cli(with({"spmm"}, {"--density", "1.5"}), cwd), {"--density"});
  }
  SECTION("--nm with N not below M") {
    require_usage_error(run_cli(with({"spmm"}, {"--nm", "4:4"}), cwd), {"--nm", "4:4"});
  }
  SECTION("--nm that is not N:M") {
    require_usage_error(run_cli(with({"bench", "spmm"}, {"--nm", "unstructured"}), cwd),
                        {"--nm", "unstructured"});
  }
  SECTION("bench spmm missing --k") {
    require_usage_error(run_cli({"bench", "spmm", "--m", "4", "--n", "4", "--density", "0.5"}, cwd),
                        {"--k"});
  }
  CHECK(list_tree(cwd).empty());
}

// ---------------------------------------------------------------------------------------
// A sparse A (activations) through SPGEMMA: spmm --a-density, bench spmm --a-density,
// kernels with "sparse": {"operand": "a"}.

TEST_CASE("spmm --a-density --check runs a seeded sparse-A GEMM and passes", "[cli][spmm]") {
  TempDir dir;
  // 37 rows: a short last row block on every square engine build.
  std::vector<std::string> args = {"spmm", "--m", "37", "--k", "40", "--n", "21", "--seed", "5"};
  SECTION("density 50 %, raw int32") { args.insert(args.end(), {"--a-density", "0.5"}); }
  SECTION("density 0, requant") { args.insert(args.end(), {"--a-density", "0", "--requant"}); }
  SECTION("density 30 %, relu") { args.insert(args.end(), {"--a-density", "0.3", "--relu"}); }
  SECTION("density 100 %") { args.insert(args.end(), {"--a-density", "1"}); }
  args.push_back("--check");

  const CliResult result = run_cli(args, dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  CHECK(contains(result.output, "A unstructured"));
  CHECK(list_tree(dir.path()).empty());  // spmm writes no files
}

TEST_CASE("spmm --a-density --log-commands names the SPGEMMA commands", "[cli][spmm]") {
  TempDir dir;
  const CliResult result = run_cli({"spmm", "--m", "20", "--k", "16", "--n", "20", "--a-density",
                                    "0.5", "--log-commands", "log.jsonl"},
                                   dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  const std::string log = read_bytes(dir / "log.jsonl");
  INFO(log);
  CHECK(contains(log, R"("op":"SPGEMMA")"));
  CHECK_FALSE(contains(log, R"("op":"SPGEMM")"));
  CHECK_FALSE(contains(log, R"("op":"GEMM")"));
}

TEST_CASE("bench spmm --a-density --json has bench spmm's fields and operand a",
          "[cli][bench][spmm]") {
  TempDir dir;
  const CliResult result = run_cli(
      {"bench", "spmm", "--m", "32", "--k", "64", "--n", "16", "--a-density", "0.25", "--json"},
      dir.path());
  INFO(result.transcript);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.output, "PASS"));
  const json line = json::parse(last_line(result.output));
  for (const char* field : {"density", "cycles", "dense_cycles", "speedup", "nonzero_macs", "lanes",
                            "utilization", "rows", "cols", "model_cycles"}) {
    INFO("field " << field);
    REQUIRE(line.contains(field));
    REQUIRE(line[field].is_number());
  }
  CHECK(line["operand"] == "a");
  CHECK(line["format"] == "unstructured");
  CHECK(line["density"].get<double>() == Approx(0.25).margin(1e-9));
  // Each of the round(0.25 x 32 x 64) nonzeros of A meets the 16 channels of B.
  CHECK(line["nonzero_macs"].get<double>() == 16.0 * 512);
  const double cycles = line["cycles"].get<double>();
  CHECK(line["speedup"].get<double>() == Approx(line["dense_cycles"].get<double>() / cycles));
  CHECK(line["utilization"].get<double>() ==
        Approx(16.0 * 512 / (cycles * line["lanes"].get<double>())));
}

TEST_CASE("--a-density usage errors exit 2 naming the options, writing nothing",
          "[cli][usage][spmm]") {
  TempDir dir;
  const fs::path& cwd = dir.path();
  const std::vector<std::string> shape = {"--m", "4", "--k", "8", "--n", "4"};
  std::vector<std::string> args;
  std::vector<std::string> parts;
  SECTION("with --density") {
    args = {"spmm", "--a-density", "0.5", "--density", "0.5"};
    parts = {"--a-density", "--density"};
  }
  SECTION("with --nm") {
    args = {"bench", "spmm", "--nm", "2:4", "--a-density", "0.5"};
    parts = {"--a-density", "--nm"};
  }
  SECTION("bench spmm with --density") {
    args = {"bench", "spmm", "--density", "0.1", "--a-density", "0.5", "--json"};
    parts = {"--a-density", "--density"};
  }
  SECTION("past 1") {
    args = {"spmm", "--a-density", "1.5"};
    parts = {"--a-density"};
  }
  SECTION("not a number") {
    args = {"bench", "spmm", "--a-density", "half"};
    parts = {"--a-density", "half"};
  }
  args.insert(args.end(), shape.begin(), shape.end());
  const CliResult result = run_cli(args, cwd);
  require_usage_error(result, parts);
  CHECK_FALSE(contains(result.output, "cycles"));
  CHECK(list_tree(cwd).empty());
}

TEST_CASE("--help documents --a-density", "[cli][usage][spmm]") {
  TempDir dir;
  for (const std::vector<std::string> args :
       {std::vector<std::string>{"spmm", "--help"}, {"bench", "spmm", "--help"}}) {
    const CliResult result = run_cli(args, dir.path());
    INFO(result.transcript);
    REQUIRE(result.exit_code == 0);
    CHECK(contains(result.output, "--a-density"));
    CHECK(contains(result.output, "SPGEMMA"));
  }
}
