// `tessera onnx run | info`: load, plan (refusing what cannot run before anything runs),
// run on the engine, optionally check against the golden reference, then write the
// outputs (each file atomically, and none when a check fails).
#include "onnx_commands.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine_run.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/onnx.hpp"

namespace tessera::cli {
namespace {

std::map<std::string, HostTensor> load_inputs(const std::vector<std::string>& specs) {
  std::map<std::string, HostTensor> inputs;
  for (const std::string& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      throw InputError("--input: expected NAME=FILE.npy, got '" + spec + "'");
    }
    const std::string name = spec.substr(0, eq);
    if (inputs.count(name)) throw InputError("--input: '" + name + "' given twice");
    inputs[name] = load_host_npy(spec.substr(eq + 1));
  }
  return inputs;
}

// Bitwise equality (float outputs too: the same bits, not a tolerance).
std::size_t count_differences(const HostTensor& got, const HostTensor& want) {
  if (got.type != want.type || got.shape != want.shape) return want.size();
  std::size_t differ = 0;
  for (std::size_t i = 0; i < got.ints.size(); ++i) differ += got.ints[i] != want.ints[i];
  for (std::size_t i = 0; i < got.floats.size(); ++i) {
    differ += std::memcmp(&got.floats[i], &want.floats[i], sizeof(float)) != 0;
  }
  return differ;
}

std::string where(const OnnxStep& step) { return step.on_engine ? "engine" : "host"; }

double utilization(const LayerStats& stats, const EngineConfig& config) {
  return stats.cycles ? double(stats.macs) / (double(stats.cycles) * config.rows * config.cols)
                      : 0.0;
}

void print_table(const OnnxModel& model, const std::vector<OnnxStep>& steps, const OnnxRun& run,
                 const EngineConfig& config) {
  std::printf("%s on a %ux%u engine: %zu steps\n", model.path.c_str(), config.rows, config.cols,
              steps.size());
  std::printf("  %-28s %-18s %-6s %6s %-16s %10s %6s\n", "node", "op", "where", "GEMMs",
              "M x K x N", "cycles", "util");
  LayerStats total;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const LayerStats& s = run.layers[i];
    std::printf("  %-28s %-18s %-6s", steps[i].node.name.c_str(), steps[i].node.op_type.c_str(),
                where(steps[i]).c_str());
    if (s.gemms) {
      const std::string mkn =
          std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n);
      std::printf(" %6zu %-16s %10llu %6.3f\n", s.gemms, mkn.c_str(),
                  static_cast<unsigned long long>(s.cycles), utilization(s, config));
    } else {
      std::printf(" %6s %-16s %10s %6s\n", "-", "-", "-", "-");
    }
    total.macs += s.macs;
    total.cycles += s.cycles;
  }
  std::printf("engine total: %llu cycles, %llu MACs, utilization %.3f\n",
              static_cast<unsigned long long>(total.cycles),
              static_cast<unsigned long long>(total.macs), utilization(total, config));
}

nlohmann::json report(const OnnxModel& model, const std::vector<OnnxStep>& steps,
                      const OnnxRun& run, const EngineConfig& config,
                      const std::map<std::string, std::string>& written, bool checked) {
  nlohmann::json layers = nlohmann::json::array();
  LayerStats total;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const LayerStats& s = run.layers[i];
    nlohmann::json layer = {{"node", steps[i].node.name}, {"op", steps[i].node.op_type},
                            {"where", where(steps[i])},   {"fused", steps[i].fused},
                            {"gemms", s.gemms},           {"macs", s.macs},
                            {"cycles", s.cycles},         {"utilization", utilization(s, config)}};
    if (s.gemms) layer["gemm"] = {{"m", s.m}, {"k", s.k}, {"n", s.n}};
    layers.push_back(layer);
    total.macs += s.macs;
    total.cycles += s.cycles;
  }
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& [name, tensor] : run.outputs) {
    outputs.push_back({{"name", name},
                       {"dtype", elem_type_name(tensor.type)},
                       {"shape", tensor.shape},
                       {"path", written.count(name) ? written.at(name) : ""}});
  }
  nlohmann::json out = {{"model", model.path},
                        {"engine", {{"rows", config.rows}, {"cols", config.cols}}},
                        {"layers", layers},
                        {"outputs", outputs},
                        {"cycles", total.cycles},
                        {"macs", total.macs},
                        {"utilization", utilization(total, config)}};
  if (checked) out["check"] = "pass";
  return out;
}

struct Classification {
  std::vector<std::size_t> predictions;
  std::vector<std::int64_t> labels;
  std::size_t correct = 0;
  double accuracy() const {
    return predictions.empty() ? 0.0 : double(correct) / predictions.size();
  }
};

// Argmax of each row of the first graph output against `labels_path`.
Classification classify(const OnnxModel& model, const OnnxRun& run,
                        const std::string& labels_path) {
  const HostTensor labels = load_host_npy(labels_path);
  const HostTensor& scores = run.outputs.at(model.outputs.at(0).name);
  if (scores.shape.size() != 2) {
    throw InputError("--labels: the first output '" + model.outputs[0].name + "' is " +
                     format_shape(scores.shape) + ", not [N, classes]");
  }
  const std::size_t rows = scores.shape[0], classes = scores.shape[1];
  if (labels.is_float() || labels.size() != rows) {
    throw InputError("--labels: " + labels_path + " must hold " + std::to_string(rows) +
                     " integer labels");
  }
  Classification out;
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t best = 0;
    for (std::size_t c = 1; c < classes; ++c) {
      const std::size_t at = r * classes;
      const bool greater = scores.is_float() ? scores.floats[at + c] > scores.floats[at + best]
                                             : scores.ints[at + c] > scores.ints[at + best];
      if (greater) best = c;
    }
    out.predictions.push_back(best);
    out.labels.push_back(labels.ints[r]);
    out.correct += static_cast<std::int64_t>(best) == labels.ints[r];
  }
  return out;
}

}  // namespace

int cmd_onnx_run(const OnnxRunOptions& options) {
  const OnnxModel model = load_onnx(options.model);
  const std::vector<OnnxStep> steps = plan_onnx(model);
  const std::map<std::string, HostTensor> inputs = load_inputs(options.inputs);
  if (options.output_dir.empty()) throw InputError("--output DIR is required");

  auto transport = open_transport(options.device);
  Device device(*transport);
  EngineBackend engine(device);
  const OnnxRun run = run_onnx(model, steps, inputs, engine);

  if (options.check) {
    GoldenBackend golden;
    const OnnxRun want = run_onnx(model, steps, inputs, golden);
    std::size_t values = 0, differ = 0;
    for (const auto& [name, tensor] : want.outputs) {
      const std::size_t d = count_differences(run.outputs.at(name), tensor);
      if (d)
        std::cerr << "check: output '" << name << "': " << d << " of " << tensor.size()
                  << " values differ\n";
      values += tensor.size();
      differ += d;
    }
    if (differ) {
      std::cerr << "check: FAIL; no output written\n";
      return kExitMismatch;
    }
    if (!options.json) std::cout << "check: PASS (" << values << " output values bit-exact)\n";
  }

  // Everything that can fail on the user's input is done before the first file is written.
  std::optional<Classification> classes;
  if (!options.labels.empty()) classes = classify(model, run, options.labels);
  std::error_code error;
  std::filesystem::create_directories(options.output_dir, error);
  if (error) throw InputError("--output " + options.output_dir + ": " + error.message());
  std::map<std::string, std::string> written;
  for (const auto& [name, tensor] : run.outputs) {
    const std::string path = (std::filesystem::path(options.output_dir) / (name + ".npy")).string();
    save_host_npy(path, tensor);
    written[name] = path;
  }
  if (options.json) {
    nlohmann::json out = report(model, steps, run, device.config(), written, options.check);
    if (classes) {
      out["predictions"] = classes->predictions;
      out["accuracy"] = classes->accuracy();
    }
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  print_table(model, steps, run, device.config());
  if (classes) {
    std::cout << "predictions:";
    for (std::size_t p : classes->predictions) std::cout << " " << p;
    std::cout << "\nlabels:     ";
    for (std::int64_t label : classes->labels) std::cout << " " << label;
    std::printf("\naccuracy: %zu of %zu (%.4f)\n", classes->correct, classes->predictions.size(),
                classes->accuracy());
  }
  for (const auto& [name, path] : written) {
    const HostTensor& tensor = run.outputs.at(name);
    std::cout << "wrote " << path << " " << elem_type_name(tensor.type) << " "
              << format_shape(tensor.shape) << "\n";
  }
  return kExitOk;
}

int cmd_onnx_info(const std::string& model_path) {
  const OnnxModel model = load_onnx(model_path);
  const std::vector<OnnxStep> steps = plan_onnx(model);
  std::cout << model.path << ": opset " << model.opset << ", " << model.nodes.size() << " nodes as "
            << steps.size() << " steps\n";
  const auto dims = [](const OnnxValueInfo& info) {
    if (!info.has_shape) return std::string("(shape not declared)");
    const auto& shape = info.shape;
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (i) out += ',';
      out += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
    }
    return out + "]";
  };
  for (const auto& input : model.inputs) {
    std::cout << "  input  " << input.name << " " << elem_type_name(input.type) << " "
              << dims(input) << "\n";
  }
  for (const auto& output : model.outputs) {
    std::cout << "  output " << output.name << " " << elem_type_name(output.type) << " "
              << dims(output) << "\n";
  }
  for (const OnnxStep& step : steps) {
    std::cout << "  " << (step.on_engine ? "engine " : "host   ") << step.node.op_type << " "
              << step.node.name;
    if (step.fused.size() > 1) {
      std::cout << " (fused:";
      for (const auto& name : step.fused) std::cout << " " << name;
      std::cout << ")";
    }
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace tessera::cli
