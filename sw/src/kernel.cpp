// Kernel JSON loading. Every error names the JSON file first and then the field, so a
// user with several kernels open knows which line of which file to fix.
#include "tessera/kernel.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kTopLevelKeys[] = {"op",      "a",     "b",   "bias",
                                              "requant", "clamp", "out", "sparse"};
constexpr std::string_view kRequantKeys[] = {"multiplier", "shift", "zero_point", "rounding"};
constexpr std::string_view kSparseKeys[] = {"operand", "format"};

class KernelLoader {
 public:
  explicit KernelLoader(std::string json_path)
      : json_path_(std::move(json_path)), base_dir_(fs::path(json_path_).parent_path()) {}

  Kernel load() {
    const json root = parse_file();
    if (!root.is_object()) {
      fail("top level must be a JSON object, got " + std::string(root.type_name()));
    }
    check_keys(root, kTopLevelKeys, "");

    Kernel kernel;
    kernel.op = get_string(root, "op", "op");
    if (kernel.op != "gemm") fail("unknown op '" + kernel.op + "' (supported: gemm)");

    // Plain fields first, so a typo is reported before any tensor file is read.
    const std::string a_path = get_string(root, "a", "a");
    const std::string b_path = get_string(root, "b", "b");
    const std::string out = get_string(root, "out", "out");
    if (out.empty()) fail("out: must not be empty");
    kernel.output_path = resolve(out);
    if (root.contains("sparse")) kernel.sparse = load_sparse(root.at("sparse"));

    GemmProblem& problem = kernel.problem;
    problem.a = load_tensor<std::int8_t>(a_path, "a");
    problem.b = load_tensor<std::int8_t>(b_path, "b");
    if (root.contains("bias")) {
      const Tensor<std::int32_t> bias =
          load_tensor<std::int32_t>(get_string(root, "bias", "bias"), "bias");
      if (bias.shape.size() != 1) {
        fail("bias: expected a 1-D int32 array [N], got shape " + shape_text(bias.shape));
      }
      problem.bias = bias.data;
    }
    if (root.contains("requant")) problem.requant = load_requant(root.at("requant"));
    if (root.contains("clamp")) {
      if (!problem.requant) {
        fail("clamp: allowed only with requant (raw int32 output is not clamped)");
      }
      load_clamp(root.at("clamp"), problem);
    }

    try {
      validate(problem);
      // A b that breaks its declared N:M format is refused before any engine sees it.
      if (kernel.sparse && kernel.sparse->format.kind == SparseFormat::Kind::kNM) {
        const SparseFormat& nm = kernel.sparse->format;
        check_nm(problem.b, nm.n, nm.m);
      }
    } catch (const InputError& e) {
      fail(e.what());
    }
    return kernel;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(json_path_ + ": " + what);
  }

  json parse_file() const {
    std::error_code ec;
    if (!fs::exists(json_path_, ec)) fail("no such file");
    if (fs::is_directory(json_path_, ec)) fail("is a directory, not a kernel file");
    std::ifstream in(json_path_, std::ios::binary);
    if (!in) fail("cannot open for reading");
    const std::string text((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
    if (in.bad()) fail("read error");
    try {
      return json::parse(text);
    } catch (const json::parse_error& e) {
      fail("JSON syntax error at byte " + std::to_string(e.byte) + ": " + e.what());
    }
  }

  template <std::size_t N>
  void check_keys(const json& object, const std::string_view (&allowed)[N],
                  const std::string& prefix) const {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (std::string_view name : allowed) known = known || key == name;
      if (known) continue;
      std::string list;
      for (std::string_view name : allowed) {
        list += (list.empty() ? "" : ", ") + std::string(name);
      }
      fail("unknown key '" + prefix + key + "' (allowed: " + list + ")");
    }
  }

  std::string get_string(const json& object, const char* key,
                         const std::string& field) const {
    if (!object.contains(key)) fail("missing required key '" + field + "'");
    const json& value = object.at(key);
    if (!value.is_string()) {
      fail(field + ": expected a string, got " + std::string(value.type_name()));
    }
    return value.get<std::string>();
  }

  // Integers only: a float such as 1.5 is a mistake, never something to round.
  std::int32_t get_int32(const json& value, const std::string& field) const {
    if (!value.is_number_integer()) {
      fail(field + ": expected an integer, got " + describe(value));
    }
    constexpr std::int64_t lo = std::numeric_limits<std::int32_t>::min();
    constexpr std::int64_t hi = std::numeric_limits<std::int32_t>::max();
    const bool in_range =
        value.is_number_unsigned()
            ? value.get<std::uint64_t>() <= std::uint64_t{hi}
            : value.get<std::int64_t>() >= lo && value.get<std::int64_t>() <= hi;
    if (!in_range) {
      fail(field + ": " + value.dump() + " does not fit in int32");
    }
    return static_cast<std::int32_t>(value.get<std::int64_t>());
  }

  static std::string describe(const json& value) {
    if (value.is_number_float()) return "the non-integer number " + value.dump();
    return std::string(value.type_name());
  }

  std::string resolve(const std::string& relative) const {
    // operator/ keeps an absolute right-hand side as it is.
    return (base_dir_ / relative).string();
  }

  template <typename T>
  Tensor<T> load_tensor(const std::string& relative, const std::string& field) const {
    try {
      return load_npy<T>(resolve(relative));
    } catch (const InputError& e) {
      fail(field + ": " + e.what());
    }
  }

  // A multiplier or shift is either one JSON integer (per tensor) or the path of an .npy
  // holding a scalar, [1] (per tensor) or [N] (per channel).
  std::vector<std::int32_t> load_parameter(const json& requant, const char* key) const {
    const std::string field = std::string("requant.") + key;
    if (!requant.contains(key)) fail("missing required key '" + field + "'");
    const json& value = requant.at(key);
    if (value.is_string()) {
      Tensor<std::int32_t> tensor;
      try {
        tensor = load_npy_int32_widened(resolve(value.get<std::string>()));
      } catch (const InputError& e) {
        fail(field + ": " + e.what());
      }
      if (tensor.shape.size() > 1) {
        fail(field + ": expected a scalar or a 1-D array [N], got shape " +
             shape_text(tensor.shape));
      }
      return tensor.data;
    }
    if (!value.is_number_integer()) {
      fail(field + ": expected an integer or an .npy path, got " + describe(value));
    }
    return {get_int32(value, field)};
  }

  Requant load_requant(const json& requant) const {
    if (!requant.is_object()) {
      fail("requant: expected an object, got " + std::string(requant.type_name()));
    }
    check_keys(requant, kRequantKeys, "requant.");
    Requant result;
    result.multiplier = load_parameter(requant, "multiplier");
    result.shift = load_parameter(requant, "shift");
    if (requant.contains("zero_point")) {
      result.zero_point = get_int32(requant.at("zero_point"), "requant.zero_point");
    }
    if (requant.contains("rounding")) {
      const std::string rounding = get_string(requant, "rounding", "requant.rounding");
      try {
        result.rounding = parse_rounding(rounding, "requant.rounding");
      } catch (const InputError& e) {
        fail(e.what());
      }
    }
    return result;
  }

  SparseSpec load_sparse(const json& sparse) const {
    if (!sparse.is_object()) {
      fail("sparse: expected an object, got " + std::string(sparse.type_name()));
    }
    check_keys(sparse, kSparseKeys, "sparse.");
    SparseSpec spec;
    if (sparse.contains("operand")) {
      const std::string operand = get_string(sparse, "operand", "sparse.operand");
      if (operand != "a" && operand != "b") {
        fail("sparse.operand: expected 'a' (sparse activations) or 'b' (sparse weights), got '" +
             operand + "'");
      }
      spec.operand = operand == "a" ? SparseOperand::kA : SparseOperand::kB;
    }
    const std::string text = get_string(sparse, "format", "sparse.format");
    try {
      spec.format = parse_sparse_format(text);
    } catch (const InputError& e) {
      fail(std::string("sparse.format: ") + e.what());
    }
    if (spec.operand == SparseOperand::kA && spec.format.kind == SparseFormat::Kind::kNM) {
      fail("sparse.format: '" + text + "' is a pattern of b; operand 'a' takes 'unstructured' " +
           "or 'auto'");
    }
    return spec;
  }

  void load_clamp(const json& clamp, GemmProblem& problem) const {
    if (!clamp.is_array() || clamp.size() != 2) {
      fail("clamp: expected an array of two integers [lo, hi], got " +
           (clamp.is_array() ? "an array of " + std::to_string(clamp.size())
                             : std::string(clamp.type_name())));
    }
    problem.clamp_lo = get_int32(clamp[0], "clamp[0]");
    problem.clamp_hi = get_int32(clamp[1], "clamp[1]");
  }

  static std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
      out += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
    }
    return out + "]";
  }

  std::string json_path_;
  fs::path base_dir_;
};

}  // namespace

Kernel load_kernel(const std::string& json_path) {
  return KernelLoader(json_path).load();
}

}  // namespace tessera
