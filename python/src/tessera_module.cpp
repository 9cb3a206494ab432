// tessera._tessera: libtessera and the in-process 16x16 engine for Python (docs/python.md).
// NumPy arrays in and out; each C++ error kind arrives as its own Python exception class.
// Engine runs and golden references release the GIL; one Device runs one call at a time.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sim_transport.hpp"
#include "tessera/conv.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/golden.hpp"
#include "tessera/isa.hpp"
#include "tessera/kernel.hpp"
#include "tessera/open.hpp"
#include "tessera/quantized.hpp"
#include "tessera/runtime.hpp"
#include "tessera/sparse_runtime.hpp"

namespace py = pybind11;
using namespace py::literals;

namespace {

using tessera::DType;
using tessera::GemmProblem;
using tessera::InputError;
using tessera::Requant;
using tessera::ResidentWeights;
using tessera::Tensor;

// A result that differs from the golden reference: tessera.MismatchError. The C++ library
// reports mismatches as exit codes, not exceptions, so this kind exists only here.
class MismatchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The Python exception classes, made once at import and kept for the process's life.
struct ExceptionTypes {
  PyObject* error = nullptr;
  PyObject* input = nullptr;
  PyObject* mismatch = nullptr;
  PyObject* engine = nullptr;
  PyObject* transport = nullptr;
};
ExceptionTypes exception_types;

PyObject* add_exception(py::module_& module, const char* name, py::tuple bases, const char* doc) {
  const std::string qualified = std::string("tessera.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (type == nullptr) throw py::error_already_set();
  module.add_object(name, py::handle(type));
  return type;
}

std::string type_name(py::handle object) { return Py_TYPE(object.ptr())->tp_name; }

std::string shape_text(const py::array& array) {
  std::vector<std::size_t> shape(array.shape(), array.shape() + array.ndim());
  return tessera::format_shape(shape);
}

// An int8 matrix, copied once into the runtime's tensor. Any other dtype is refused rather
// than cast: a silent float-to-int8 cast would hide the caller's bug.
Tensor<std::int8_t> int8_matrix(py::handle object, const std::string& name) {
  if (!py::isinstance<py::array>(object)) {
    throw InputError(name + ": expected a 2-D numpy array of int8, got " + type_name(object));
  }
  const auto array = py::reinterpret_borrow<py::array>(object);
  const py::dtype dtype = array.dtype();
  if (dtype.kind() != 'i' || dtype.itemsize() != 1) {
    throw InputError(name + ": expected dtype int8, got " + std::string(py::str(dtype)) +
                     " (convert explicitly, e.g. numpy.asarray(x, dtype=numpy.int8))");
  }
  if (array.ndim() != 2) {
    throw InputError(name + ": expected a 2-D array, got shape " + shape_text(array));
  }
  Tensor<std::int8_t> tensor(array.shape(0), array.shape(1));
  // A strided view (a transpose, a slice) becomes C-ordered here: one copy either way.
  const auto contiguous = py::array_t<std::int8_t, py::array::c_style>::ensure(array);
  if (!contiguous) throw py::error_already_set();
  if (!tensor.data.empty()) std::memcpy(tensor.data.data(), contiguous.data(), tensor.data.size());
  return tensor;
}

std::int32_t int32_value(py::handle item, const std::string& name) {
  if (py::isinstance<py::float_>(item) || !PyIndex_Check(item.ptr())) {
    throw InputError(name + ": expected an integer, got " + type_name(item));
  }
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(item.ptr()));
  if (!index) throw py::error_already_set();
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0 || value < INT32_MIN || value > INT32_MAX) {
    throw InputError(name + ": " + std::string(py::str(index)) + " does not fit int32");
  }
  return static_cast<std::int32_t>(value);
}

// Integers for bias, multipliers and shifts: a sequence or 1-D integer array, or (where
// `scalar_ok`) one int standing for every channel.
std::vector<std::int32_t> int32_values(py::handle object, const std::string& name, bool scalar_ok) {
  if (!py::isinstance<py::array>(object) && PyIndex_Check(object.ptr())) {
    if (!scalar_ok) throw InputError(name + ": expected a sequence of integers, got one int");
    return {int32_value(object, name)};
  }
  py::object items = py::reinterpret_borrow<py::object>(object);
  if (py::isinstance<py::array>(object)) {
    const auto array = py::reinterpret_borrow<py::array>(object);
    const char kind = array.dtype().kind();
    if (kind != 'i' && kind != 'u') {
      throw InputError(name + ": expected integers, got dtype " +
                       std::string(py::str(array.dtype())));
    }
    if (array.ndim() != 1) {
      throw InputError(name + ": expected a 1-D array, got shape " + shape_text(array));
    }
    items = array.attr("tolist")();
  } else if (!py::isinstance<py::sequence>(object) || py::isinstance<py::str>(object)) {
    throw InputError(name + ": expected " + (scalar_ok ? "an int or " : "") +
                     "a sequence of integers, got " + type_name(object));
  }
  std::vector<std::int32_t> values;
  const auto sequence = py::reinterpret_borrow<py::sequence>(items);
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    values.push_back(int32_value(sequence[i], name + "[" + std::to_string(i) + "]"));
  }
  return values;
}

Requant make_requant(py::handle multiplier, py::handle shift, py::handle zero_point,
                     const std::string& rounding) {
  Requant requant;
  requant.multiplier = int32_values(multiplier, "multiplier", true);
  requant.shift = int32_values(shift, "shift", true);
  requant.zero_point = int32_value(zero_point, "zero_point");
  requant.rounding = tessera::parse_rounding(rounding, "rounding");
  return requant;
}

std::string requant_repr(const Requant& requant) {
  const auto values = [](const std::vector<std::int32_t>& v) {
    if (v.size() == 1) return std::to_string(v[0]);
    std::string text = "[";
    for (std::size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + std::to_string(v[i]);
    return text + "]";
  };
  return "tessera.Requant(" + values(requant.multiplier) + ", " + values(requant.shift) +
         ", zero_point=" + std::to_string(requant.zero_point) + ", rounding='" +
         tessera::rounding_name(requant.rounding) + "')";
}

// The output stage's arguments as GemmProblem holds them: bias, requant, clamp.
void set_output_stage(GemmProblem& problem, py::handle bias, py::handle requant, py::handle clamp) {
  if (!bias.is_none()) problem.bias = int32_values(bias, "bias", false);
  if (!requant.is_none()) {
    if (!py::isinstance<Requant>(requant)) {
      throw InputError("requant: expected a tessera.Requant or None, got " + type_name(requant));
    }
    problem.requant = requant.cast<Requant>();
  }
  if (clamp.is_none()) return;
  if (!problem.requant) {
    throw InputError("clamp: applies to requantized output only; give requant too");
  }
  if (!py::isinstance<py::sequence>(clamp) || py::len(clamp) != 2) {
    throw InputError("clamp: expected (lo, hi), got " + type_name(clamp));
  }
  const auto bounds = py::reinterpret_borrow<py::sequence>(clamp);
  problem.clamp_lo = int32_value(bounds[0], "clamp[0]");
  problem.clamp_hi = int32_value(bounds[1], "clamp[1]");
}

// A result the caller owns without a copy: the array's memory is the tensor's vector,
// moved into a capsule that the array keeps as its base.
py::array adopt(Tensor<std::int32_t>&& tensor) {
  auto owned = std::make_unique<std::vector<std::int32_t>>(std::move(tensor.data));
  py::capsule base(owned.get(),
                   [](void* data) { delete static_cast<std::vector<std::int32_t>*>(data); });
  std::vector<std::int32_t>* data = owned.release();
  return py::array_t<std::int32_t>(tensor.shape, data->data(), base);
}

// Requantized results, every value inside T's range, as a new array of T.
template <typename T>
py::array narrowed(const Tensor<std::int32_t>& tensor) {
  py::array_t<T> out(tensor.shape);
  T* data = out.mutable_data();
  for (std::size_t i = 0; i < tensor.data.size(); ++i) data[i] = static_cast<T>(tensor.data[i]);
  return out;
}

// What a run returns: int32 sums as they are, requantized values in their output type.
py::array to_numpy(Tensor<std::int32_t>&& tensor, bool requantized, DType type = DType::kInt8) {
  if (!requantized) return adopt(std::move(tensor));
  return type == DType::kUint8 ? narrowed<std::uint8_t>(tensor) : narrowed<std::int8_t>(tensor);
}

std::string index_text(std::size_t flat, const std::vector<std::size_t>& shape) {
  std::vector<std::size_t> index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return tessera::format_shape(index);
}

void check_against_golden(const Tensor<std::int32_t>& got, const Tensor<std::int32_t>& want) {
  std::size_t differing = 0, first = 0;
  for (std::size_t i = 0; i < got.data.size(); ++i) {
    if (got.data[i] == want.data[i]) continue;
    if (differing++ == 0) first = i;
  }
  if (differing == 0) return;
  throw MismatchError(
      "output" + index_text(first, got.shape) + ": engine " + std::to_string(got.data[first]) +
      ", golden " + std::to_string(want.data[first]) + " (" + std::to_string(differing) + " of " +
      std::to_string(got.data.size()) + " elements differ from the golden reference)");
}

py::dict run_info(const tessera::GemmRun& run) {
  return py::dict("cycles"_a = run.cycles, "commands"_a = run.commands,
                  "sim_cycles"_a = run.sim_cycles,
                  "macs"_a = run.perf.detail ? py::object(py::int_(run.perf.macs)) : py::none());
}

// tessera.Device: a transport (in-process engine, TCP or serial) and the Device on it.
class PyDevice {
 public:
  PyDevice(const std::string& spec, const std::vector<std::string>& faults) : spec_(spec) {
    if (!faults.empty() && spec != "sim") {
      throw InputError("faults: apply to the in-process engine ('sim') only, not '" + spec + "'");
    }
    tessera::sim::SimOptions options;
    for (const auto& fault : faults) options.faults.push_back(tessera::sim::parse_fault(fault));
    py::gil_scoped_release release;  // a TCP connect or a serial open may take a while
    if (faults.empty()) {
      transport_ = tessera::open_transport(spec);
    } else {
      transport_ = tessera::sim::make_sim_engine(options);
    }
    device_ = std::make_unique<tessera::Device>(*transport_);
  }

  // Runs `body(device)` without the GIL, one call at a time on this Device.
  template <typename Body>
  auto locked(Body&& body) {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!device_) throw InputError("device '" + spec_ + "' is closed");
    return body(*device_);
  }

  void close() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    device_.reset();
    transport_.reset();
  }

  const std::string& spec() const { return spec_; }
  const tessera::EngineConfig& config() {
    if (!device_) throw InputError("device '" + spec_ + "' is closed");
    return device_->config();
  }
  std::optional<tessera::GemmRun> last_run;  // counters of the latest gemm (no output)

 private:
  std::string spec_;
  std::unique_ptr<tessera::Transport> transport_;
  std::unique_ptr<tessera::Device> device_;  // refers to *transport_
  std::mutex mutex_;
};

py::dict engine_info(const tessera::EngineConfig& c) {
  static const char* const kFeatureNames[] = {"dense",         "requant",        "per-channel",
                                              "hazard-checks", "tlast-checks",   "sparse",
                                              "sparse-a",      "single-rounding"};
  // Bits 0-7 are features; FEATURES[15:8] is the command FIFO depth (docs/isa.md).
  py::list features;
  for (unsigned bit = 0; bit < std::size(kFeatureNames); ++bit) {
    if ((c.features >> bit) & 1u) features.append(kFeatureNames[bit]);
  }
  return py::dict("id"_a = c.id, "version"_a = tessera::isa::version_text(c.version),
                  "version_raw"_a = c.version, "rows"_a = c.rows, "cols"_a = c.cols,
                  "act_depth"_a = c.act_depth, "wgt_depth"_a = c.wgt_depth,
                  "acc_depth"_a = c.acc_depth, "param_depth"_a = c.param_depth,
                  "gbuf_depth"_a = c.gbuf_depth, "meta_depth"_a = c.meta_depth,
                  "in_beat_bytes"_a = c.in_beat_bytes, "out_beat_bytes"_a = c.out_beat_bytes,
                  "cmd_fifo_depth"_a = c.cmd_fifo_depth, "features"_a = features,
                  "features_raw"_a = c.features, "max_k"_a = tessera::max_k(c));
}

py::array device_gemm(PyDevice& device, py::handle a, py::handle b, py::handle bias,
                      py::handle requant, py::handle clamp, bool check) {
  GemmProblem problem;
  problem.a = int8_matrix(a, "a");
  const ResidentWeights* weights = nullptr;
  if (py::isinstance<ResidentWeights>(b)) {
    weights = &b.cast<const ResidentWeights&>();
    for (const auto& [name, given] :
         {std::pair{"bias", bias}, {"requant", requant}, {"clamp", clamp}}) {
      if (!given.is_none()) {
        throw InputError(std::string(name) + ": set by upload_weights when b is a tessera.Weights");
      }
    }
  } else {
    problem.b = int8_matrix(b, "b");
    set_output_stage(problem, bias, requant, clamp);
  }
  tessera::GemmRun run = device.locked([&](tessera::Device& engine) {
    return weights ? tessera::run_gemm(engine, problem.a, *weights)
                   : tessera::run_gemm(engine, problem);
  });
  Tensor<std::int32_t> output = std::move(run.output);
  device.last_run = std::move(run);
  const bool requantized =
      weights ? weights->problem().requant.has_value() : problem.requant.has_value();
  if (check) {
    py::gil_scoped_release release;
    if (weights) {
      GemmProblem resident = weights->problem();
      resident.a = std::move(problem.a);
      check_against_golden(output, tessera::golden_gemm(resident));
    } else {
      check_against_golden(output, tessera::golden_gemm(problem));
    }
  }
  return to_numpy(std::move(output), requantized);
}

ResidentWeights device_upload(PyDevice& device, py::handle b, py::handle bias, py::handle requant,
                              py::handle clamp) {
  GemmProblem stage;
  set_output_stage(stage, bias, requant, clamp);
  Tensor<std::int8_t> weights = int8_matrix(b, "b");
  return device.locked([&](tessera::Device& engine) {
    return tessera::upload_weights(engine, std::move(weights), std::move(stage.bias),
                                   std::move(stage.requant), stage.clamp_lo, stage.clamp_hi);
  });
}

py::array golden_gemm(py::handle a, py::handle b, py::handle bias, py::handle requant,
                      py::handle clamp) {
  GemmProblem problem;
  problem.a = int8_matrix(a, "a");
  problem.b = int8_matrix(b, "b");
  set_output_stage(problem, bias, requant, clamp);
  Tensor<std::int32_t> output;
  {
    py::gil_scoped_release release;
    output = tessera::golden_gemm(problem);
  }
  return to_numpy(std::move(output), problem.requant.has_value());
}

// What run_kernel returns.
struct KernelResult {
  py::object output;
  std::string op;
  std::string output_path;
  std::uint64_t cycles = 0;  // summed over the engine GEMMs
  std::size_t gemms = 0;     // engine GEMMs run (a grouped conv2d runs one per group)
  std::uint64_t macs = 0;    // M·K·N summed over them
  double utilization = 0;    // macs / (cycles · rows · cols)
};

// The kernel file's operation on one Device, checked like `tessera run --check`.
struct KernelOutcome {
  Tensor<std::int32_t> output;
  bool requantized = false;
  DType out_type = DType::kInt8;
  KernelResult result;
};

KernelOutcome run_kernel_on(tessera::Device& device, const std::string& json_path, bool check) {
  const tessera::Kernel kernel = tessera::load_kernel(json_path);
  KernelOutcome outcome;
  outcome.result.op = kernel.op;
  outcome.result.output_path = kernel.output_path;
  const auto count = [&](const GemmProblem& problem, const tessera::GemmRun& run) {
    outcome.result.cycles += run.cycles;
    outcome.result.gemms += 1;
    outcome.result.macs += std::uint64_t{problem.m()} * problem.k() * problem.n();
  };
  Tensor<std::int32_t> want;
  if (kernel.conv) {
    // One engine GEMM per group (conv.hpp), as `tessera run` does.
    std::vector<Tensor<std::int32_t>> outputs;
    for (const tessera::QuantizedGemm& gemm : tessera::conv_gemms(*kernel.conv)) {
      const tessera::LoweredGemm lowered = tessera::lower(gemm);
      const tessera::GemmRun run = tessera::run_gemm(device, lowered.engine);
      count(lowered.engine, run);
      outputs.push_back(lowered.finish(run.output));
    }
    outcome.output = tessera::conv_output(*kernel.conv, outputs);
    outcome.requantized = kernel.conv->requant.has_value();
    outcome.out_type = kernel.conv->out_type;
    if (check) want = tessera::golden_conv2d(*kernel.conv);
  } else {
    tessera::GemmRun run =
        kernel.sparse ? tessera::run_sparse_gemm(device, kernel.problem, kernel.sparse->format,
                                                 kernel.sparse->operand)
                            .run
                      : tessera::run_gemm(device, kernel.problem);
    count(kernel.problem, run);
    // A quantized kernel's answer is made from the engine's int8 GEMM (quantized.hpp).
    outcome.output = kernel.quantized ? tessera::lower(*kernel.quantized).finish(run.output)
                                      : std::move(run.output);
    outcome.requantized = kernel.quantized ? kernel.quantized->requant.has_value()
                                           : kernel.problem.requant.has_value();
    if (kernel.quantized) outcome.out_type = kernel.quantized->out_type;
    if (check) {
      want = kernel.quantized ? tessera::golden_quantized_gemm(*kernel.quantized)
                              : tessera::golden_gemm(kernel.problem);
    }
  }
  if (check) check_against_golden(outcome.output, want);
  const auto& config = device.config();
  const double lanes = double(config.rows) * config.cols;
  if (outcome.result.cycles > 0) {
    outcome.result.utilization = double(outcome.result.macs) / (outcome.result.cycles * lanes);
  }
  return outcome;
}

KernelResult run_kernel(const std::filesystem::path& json_path, py::handle device, bool check) {
  std::unique_ptr<PyDevice> opened;
  PyDevice* target = nullptr;
  if (py::isinstance<py::str>(device)) {
    opened = std::make_unique<PyDevice>(device.cast<std::string>(), std::vector<std::string>{});
    target = opened.get();
  } else if (py::isinstance<PyDevice>(device)) {
    target = &device.cast<PyDevice&>();
  } else {
    throw InputError("device: expected a device spec or a tessera.Device, got " +
                     type_name(device));
  }
  KernelOutcome outcome = target->locked(
      [&](tessera::Device& engine) { return run_kernel_on(engine, json_path.string(), check); });
  KernelResult result = std::move(outcome.result);
  result.output = to_numpy(std::move(outcome.output), outcome.requantized, outcome.out_type);
  return result;
}

}  // namespace

PYBIND11_MODULE(_tessera, m) {
  m.doc() = "Tessera systolic matrix engine: devices, GEMMs, golden reference, kernels";

  const py::object value_error = py::module_::import("builtins").attr("ValueError");
  const py::object os_error = py::module_::import("builtins").attr("OSError");
  auto& types = exception_types;
  types.error = add_exception(m, "Error", py::make_tuple(py::handle(PyExc_Exception)),
                              "Base class of every error tessera raises.");
  const py::handle error(types.error);
  types.input = add_exception(m, "InputError", py::make_tuple(error, value_error),
                              "A malformed argument, problem, file or device spec.");
  types.mismatch = add_exception(m, "MismatchError", py::make_tuple(error),
                                 "The engine's result differs from the golden reference.");
  types.engine = add_exception(m, "EngineError", py::make_tuple(error),
                               "The engine reported an error or is not a Tessera engine.");
  types.transport = add_exception(m, "TransportError", py::make_tuple(error, os_error),
                                  "The link to the engine failed or timed out.");
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const InputError& e) {
      PyErr_SetString(exception_types.input, e.what());
    } catch (const MismatchError& e) {
      PyErr_SetString(exception_types.mismatch, e.what());
    } catch (const tessera::EngineError& e) {
      PyErr_SetString(exception_types.engine, e.what());
    } catch (const tessera::TransportError& e) {
      PyErr_SetString(exception_types.transport, e.what());
    }
  });

  py::class_<Requant>(m, "Requant",
                      "Requantization: output = clamp(MultiplyByQuantizedMultiplier(acc + bias, "
                      "multiplier, shift) + zero_point). multiplier and shift: one int (per "
                      "tensor) or one per output column (per channel); rounding 'double' "
                      "(gemmlowp) or 'single' (TFLITE_SINGLE_ROUNDING).")
      .def(py::init(&make_requant), "multiplier"_a, "shift"_a, "zero_point"_a = 0,
           "rounding"_a = "double")
      .def_property_readonly("multiplier", [](const Requant& r) { return r.multiplier; })
      .def_property_readonly("shift", [](const Requant& r) { return r.shift; })
      .def_property_readonly("zero_point", [](const Requant& r) { return r.zero_point; })
      .def_property_readonly("rounding",
                             [](const Requant& r) { return tessera::rounding_name(r.rounding); })
      .def("__repr__", &requant_repr);

  py::class_<ResidentWeights>(m, "Weights",
                              "B with its bias, requantization and clamp, kept on the engine "
                              "by Device.upload_weights; pass it as gemm's b.")
      .def_property_readonly("k", &ResidentWeights::k)
      .def_property_readonly("n", &ResidentWeights::n)
      .def_property_readonly("shape",
                             [](const ResidentWeights& w) { return py::make_tuple(w.k(), w.n()); })
      .def("__repr__", [](const ResidentWeights& w) {
        return "<tessera.Weights " + std::to_string(w.k()) + "x" + std::to_string(w.n()) + ">";
      });

  py::class_<PyDevice>(m, "Device",
                       "An engine: 'sim' (the in-process 16x16 model), 'tcp://HOST:PORT' (a "
                       "tessera-sim server) or 'serial://PATH[?baud=N]' (a board).")
      .def(py::init<const std::string&, const std::vector<std::string>&>(), "spec"_a = "sim",
           py::kw_only(), "faults"_a = std::vector<std::string>{})
      .def(
          "info", [](PyDevice& d) { return engine_info(d.config()); },
          "The engine's configuration registers as a dict.")
      .def("gemm", &device_gemm, "a"_a, "b"_a, "bias"_a = py::none(), "requant"_a = py::none(),
           "clamp"_a = py::none(), py::kw_only(), "check"_a = false,
           "a [M, K] int8 times b [K, N] int8 (or a tessera.Weights): int32 [M, N], or int8 with "
           "requant. check=True compares with the golden reference (MismatchError).")
      .def("upload_weights", &device_upload, "b"_a, "bias"_a = py::none(), "requant"_a = py::none(),
           "clamp"_a = py::none(),
           "Lays b and its output stage out and loads them now; gemm(a, weights) then sends "
           "none of them while the engine holds them.")
      .def_property_readonly(
          "last_run",
          [](const PyDevice& d) -> py::object {
            return d.last_run ? py::object(run_info(*d.last_run)) : py::object(py::none());
          },
          "Counters of the latest gemm: cycles, commands, sim_cycles, macs (None before one).")
      .def_property_readonly("spec", &PyDevice::spec)
      .def("close", &PyDevice::close, "Releases the engine (a TCP server's connection).")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyDevice& d, py::args) { d.close(); })
      .def("__repr__", [](const PyDevice& d) { return "tessera.Device('" + d.spec() + "')"; });

  py::class_<KernelResult>(m, "KernelResult", "What run_kernel returns.")
      .def_readonly("output", &KernelResult::output)
      .def_readonly("op", &KernelResult::op)
      .def_readonly("output_path", &KernelResult::output_path)
      .def_readonly("cycles", &KernelResult::cycles)
      .def_readonly("gemms", &KernelResult::gemms)
      .def_readonly("macs", &KernelResult::macs)
      .def_readonly("utilization", &KernelResult::utilization)
      .def("__repr__", [](const KernelResult& r) {
        return "<tessera.KernelResult " + r.op + ", " + std::to_string(r.cycles) + " cycles>";
      });

  m.def("run_kernel", &run_kernel, "json_path"_a, "device"_a = "sim", "check"_a = true,
        "Runs a kernel file (README, 'Kernel format') on a device spec or tessera.Device; "
        "check=True compares with the golden reference (MismatchError). The output is "
        "returned, not written: save it with numpy.save(result.output_path, result.output).");

  py::module_ golden = m.def_submodule("golden", "The golden reference (bit-exact with the RTL)");
  golden.def("gemm", &golden_gemm, "a"_a, "b"_a, "bias"_a = py::none(), "requant"_a = py::none(),
             "clamp"_a = py::none(), "The reference of Device.gemm: same arguments and result.");
}
