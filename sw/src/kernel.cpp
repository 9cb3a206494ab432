// Kernel JSON loading. Every error names the JSON file first and then the field, so a
// user with several kernels open knows which line of which file to fix.
#include "tessera/kernel.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kTopLevelKeys[] = {
    "op",    "a",   "b",      "bias",         "requant",      "clamp",
    "out",   "sparse", "scale", "a_zero_point", "b_zero_point", "out_dtype"};
// Any of these makes the kernel a QuantizedGemm (uint8 operands, too).
constexpr std::string_view kQuantizedKeys[] = {"scale", "a_zero_point", "b_zero_point",
                                               "out_dtype"};
constexpr std::string_view kScaleKeys[] = {"input", "weight", "output"};
constexpr std::string_view kConvKeys[] = {
    "op",     "input",     "weight",    "bias",  "input_zero_point", "weight_zero_point",
    "scale",  "requant",   "clamp",     "out_dtype", "layout",       "strides",
    "pads",   "dilations", "group",     "out"};
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
    Kernel kernel;
    kernel.op = get_string(root, "op", "op");
    if (kernel.op == "conv2d") return load_conv(root);
    if (kernel.op != "gemm") fail("unknown op '" + kernel.op + "' (supported: gemm, conv2d)");
    check_keys(root, kTopLevelKeys, "");

    // Plain fields first, so a typo is reported before any tensor file is read.
    const std::string a_path = get_string(root, "a", "a");
    const std::string b_path = get_string(root, "b", "b");
    const std::string out = get_string(root, "out", "out");
    if (out.empty()) fail("out: must not be empty");
    kernel.output_path = resolve(out);
    if (root.contains("sparse")) kernel.sparse = load_sparse(root.at("sparse"));

    bool quantized = false;
    for (std::string_view key : kQuantizedKeys) quantized |= root.contains(std::string(key));
    QuantizedGemm q;
    std::tie(q.a, q.a_type) = load_operand(a_path, "a");
    std::tie(q.b, q.b_type) = load_operand(b_path, "b");
    quantized |= q.a_type == DType::kUint8 || q.b_type == DType::kUint8;
    if (quantized) {
      load_quantized(root, q, "a_zero_point", "b_zero_point");
      try {
        validate(q);
      } catch (const InputError& e) {
        fail(e.what());
      }
      kernel.quantized = q;
      kernel.problem = lower(q).engine;
    } else {
      load_plain(root, q, kernel.problem);
    }

    try {
      validate(kernel.problem);
      // A b that breaks its declared N:M format is refused before any engine sees it.
      if (kernel.sparse && kernel.sparse->format.kind == SparseFormat::Kind::kNM) {
        const SparseFormat& nm = kernel.sparse->format;
        check_nm(kernel.problem.b, nm.n, nm.m);
      }
    } catch (const InputError& e) {
      fail(e.what());
    }
    return kernel;
  }

 private:
  // "op": "conv2d": a QuantizedConv2d, its output stage read as a quantized GEMM's.
  Kernel load_conv(const json& root) const {
    check_keys(root, kConvKeys, "");
    Kernel kernel;
    kernel.op = "conv2d";
    const std::string input_path = get_string(root, "input", "input");
    const std::string weight_path = get_string(root, "weight", "weight");
    const std::string out = get_string(root, "out", "out");
    if (out.empty()) fail("out: must not be empty");
    kernel.output_path = resolve(out);

    QuantizedConv2d conv;
    if (root.contains("layout")) {
      const std::string layout = get_string(root, "layout", "layout");
      if (layout != "nhwc" && layout != "nchw") {
        fail("layout: expected \"nhwc\" or \"nchw\", got \"" + layout + "\"");
      }
      conv.layout = layout == "nchw" ? Layout::kNchw : Layout::kNhwc;
    }
    conv.strides = get_sizes<2>(root, "strides", conv.strides, 1);
    conv.pads = get_sizes<4>(root, "pads", conv.pads, 0);
    conv.dilations = get_sizes<2>(root, "dilations", conv.dilations, 1);
    if (root.contains("group")) {
      const std::int32_t group = get_int32(root.at("group"), "group");
      if (group < 1) fail("group: must be >= 1, got " + std::to_string(group));
      conv.group = static_cast<std::size_t>(group);
    }
    QuantizedGemm stage;
    std::tie(conv.input, conv.input_type) = load_operand(input_path, "input");
    std::tie(conv.weight, conv.weight_type) = load_operand(weight_path, "weight");
    stage.a_type = conv.input_type;
    load_quantized(root, stage, "input_zero_point", "weight_zero_point");
    conv.input_zero_point = stage.a_zero_point;
    conv.weight_zero_point = stage.b_zero_point;
    conv.bias = stage.bias;
    conv.requant = stage.requant;
    conv.out_type = stage.out_type;
    conv.clamp_lo = stage.clamp_lo;
    conv.clamp_hi = stage.clamp_hi;
    try {
      validate(conv);
    } catch (const InputError& e) {
      fail(e.what());
    }
    kernel.conv = std::move(conv);
    return kernel;
  }

  // An array of N integers >= min, or `fallback` when the key is absent.
  template <std::size_t N>
  std::array<std::size_t, N> get_sizes(const json& root, const char* key,
                                       const std::array<std::size_t, N>& fallback,
                                       std::int32_t min) const {
    if (!root.contains(key)) return fallback;
    const json& value = root.at(key);
    if (!value.is_array() || value.size() != N) {
      fail(std::string(key) + ": expected an array of " + std::to_string(N) + " integers");
    }
    std::array<std::size_t, N> sizes{};
    for (std::size_t i = 0; i < N; ++i) {
      const std::string field = std::string(key) + "[" + std::to_string(i) + "]";
      const std::int32_t v = get_int32(value[i], field);
      if (v < min) fail(field + ": must be >= " + std::to_string(min) + ", got " + std::to_string(v));
      sizes[i] = static_cast<std::size_t>(v);
    }
    return sizes;
  }

  // An int8 GEMM with fixed-point requantization, as the engine takes it.
  void load_plain(const json& root, const QuantizedGemm& q, GemmProblem& problem) const {
    problem.a = narrow(q.a);
    problem.b = narrow(q.b);
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
  }

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

  // An int8 or uint8 matrix, its values widened, and which of the two it is.
  std::pair<Tensor<std::int32_t>, DType> load_operand(const std::string& relative,
                                                      const std::string& field) const {
    const std::string path = resolve(relative);
    try {
      const bool is_uint8 = npy_dtype(path) == NpyDescr::kUint8;
      Tensor<std::int32_t> wide;
      if (is_uint8) {
        const Tensor<std::uint8_t> t = load_npy<std::uint8_t>(path);
        wide.shape = t.shape;
        wide.data.assign(t.data.begin(), t.data.end());
      } else {
        const Tensor<std::int8_t> t = load_npy<std::int8_t>(path);  // names any other dtype
        wide.shape = t.shape;
        wide.data.assign(t.data.begin(), t.data.end());
      }
      return {std::move(wide), is_uint8 ? DType::kUint8 : DType::kInt8};
    } catch (const InputError& e) {
      fail(field + ": " + std::string(e.what()) + " (int8 or uint8 expected)");
    }
  }

  static Tensor<std::int8_t> narrow(const Tensor<std::int32_t>& wide) {
    Tensor<std::int8_t> t;
    t.shape = wide.shape;
    t.data.assign(wide.data.begin(), wide.data.end());
    return t;
  }

  // One value per tensor, or per column from an .npy: an integer or an .npy of int8,
  // uint8 or int32 (ONNX zero points have the operand's dtype).
  std::vector<std::int32_t> load_zero_points(const json& value, const std::string& field) const {
    if (!value.is_string()) return {get_int32(value, field)};
    const std::string path = resolve(value.get<std::string>());
    try {
      Tensor<std::int32_t> wide;
      if (npy_dtype(path) == NpyDescr::kUint8) {
        const Tensor<std::uint8_t> t = load_npy<std::uint8_t>(path);
        wide.shape = t.shape;
        wide.data.assign(t.data.begin(), t.data.end());
      } else {
        wide = load_npy_int32_widened(path);
      }
      if (wide.shape.size() > 1) {
        fail(field + ": expected a scalar or a 1-D array [N], got shape " +
             shape_text(wide.shape));
      }
      return wide.data;
    } catch (const InputError& e) {
      fail(field + ": " + e.what());
    }
  }

  // A float scale: a JSON number, or (where per-channel is allowed) an .npy of float32 or
  // float64, a scalar or [N].
  std::vector<double> load_scale(const json& scale, const char* key, bool per_channel) const {
    const std::string field = std::string("scale.") + key;
    if (!scale.contains(key)) fail("missing required key '" + field + "'");
    const json& value = scale.at(key);
    if (value.is_number()) return {value.get<double>()};
    if (!value.is_string() || !per_channel) {
      fail(field + ": expected a number" + (per_channel ? " or an .npy path" : "") + ", got " +
           std::string(value.type_name()));
    }
    const std::string path = resolve(value.get<std::string>());
    try {
      std::vector<double> values;
      std::vector<std::size_t> shape;
      if (npy_dtype(path) == NpyDescr::kFloat32) {
        const Tensor<float> t = load_npy<float>(path);
        shape = t.shape;
        values.assign(t.data.begin(), t.data.end());
      } else {
        const Tensor<double> t = load_npy<double>(path);  // names any other dtype
        shape = t.shape;
        values = t.data;
      }
      if (shape.size() > 1) {
        fail(field + ": expected a scalar or a 1-D array [N], got shape " + shape_text(shape));
      }
      return values;
    } catch (const InputError& e) {
      fail(field + ": " + std::string(e.what()) + " (float32 or float64 expected)");
    }
  }

  // The fields of a QuantizedGemm past a and b: zero points, bias, scale or requant, the
  // output type and clamp.
  void load_quantized(const json& root, QuantizedGemm& q, const char* a_zero,
                      const char* b_zero) const {
    if (root.contains(a_zero)) q.a_zero_point = get_int32(root.at(a_zero), a_zero);
    if (root.contains(b_zero)) q.b_zero_point = load_zero_points(root.at(b_zero), b_zero);
    if (root.contains("bias")) {
      const Tensor<std::int32_t> bias =
          load_tensor<std::int32_t>(get_string(root, "bias", "bias"), "bias");
      if (bias.shape.size() != 1) {
        fail("bias: expected a 1-D int32 array [N], got shape " + shape_text(bias.shape));
      }
      q.bias = bias.data;
    }
    q.out_type = q.a_type;
    if (root.contains("out_dtype")) {
      const std::string type = get_string(root, "out_dtype", "out_dtype");
      if (type != "int8" && type != "uint8") {
        fail("out_dtype: expected \"int8\" or \"uint8\", got \"" + type + "\"");
      }
      q.out_type = type == "uint8" ? DType::kUint8 : DType::kInt8;
    }
    const bool has_scale = root.contains("scale");
    if (root.contains("requant") || has_scale) {
      const json requant = root.contains("requant") ? root.at("requant") : json::object();
      q.requant = load_requant(requant, !has_scale);
      if (has_scale) set_scale(root.at("scale"), q);
    } else if (root.contains("out_dtype")) {
      fail("out_dtype: allowed only with requant or scale (raw output is int32)");
    }
    if (root.contains("clamp")) {
      if (!q.requant) fail("clamp: allowed only with requant or scale (raw int32 output)");
      GemmProblem bounds;
      load_clamp(root.at("clamp"), bounds);
      q.clamp_lo = bounds.clamp_lo;
      q.clamp_hi = bounds.clamp_hi;
    }
  }

  // TFLite's way: one real multiplier per channel, input·weight / output, in double.
  void set_scale(const json& scale, QuantizedGemm& q) const {
    if (!scale.is_object()) {
      fail("scale: expected an object, got " + std::string(scale.type_name()));
    }
    check_keys(scale, kScaleKeys, "scale.");
    const std::vector<double> input = load_scale(scale, "input", false);
    const std::vector<double> weight = load_scale(scale, "weight", true);
    const std::vector<double> output = load_scale(scale, "output", false);
    if (!(output[0] > 0)) fail("scale.output: must be > 0, got " + std::to_string(output[0]));
    Requant& rq = *q.requant;
    rq.multiplier.clear();
    rq.shift.clear();
    for (double w : weight) {
      try {
        const QuantizedMultiplier qm =
            quantize_multiplier(input[0] * w / output[0], "scale: input * weight / output");
        rq.multiplier.push_back(qm.multiplier);
        rq.shift.push_back(qm.shift);
      } catch (const InputError& e) {
        fail(e.what());
      }
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

  // With `scale`, multiplier and shift come from it and must not be given here.
  Requant load_requant(const json& requant, bool fixed_point = true) const {
    if (!requant.is_object()) {
      fail("requant: expected an object, got " + std::string(requant.type_name()));
    }
    check_keys(requant, kRequantKeys, "requant.");
    Requant result;
    if (fixed_point) {
      result.multiplier = load_parameter(requant, "multiplier");
      result.shift = load_parameter(requant, "shift");
    } else if (requant.contains("multiplier") || requant.contains("shift")) {
      fail("requant.multiplier and requant.shift: not with scale, which gives them");
    }
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
