// tessera: the command-line front end. Errors are caught here, once, and mapped to the
// documented exit codes: 0 ok, 1 result mismatch, 2 bad usage or input, 3 engine or
// transport error.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "capture.hpp"
#include "engine_run.hpp"
#include "onnx_commands.hpp"
#include "regress_batch.hpp"
#include "sim_transport.hpp"
#include "spmm_problem.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/kernel.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"
#include "tessera/sparse_runtime.hpp"
#include "trace_file.hpp"
#include "wave_views.hpp"

namespace {

using namespace tessera;
using namespace tessera::cli;

struct Mismatch {
  std::size_t row = 0, col = 0;
  std::int32_t got = 0, want = 0;
  std::size_t count = 0;
};

std::optional<Mismatch> compare(const Tensor<std::int32_t>& got, const Tensor<std::int32_t>& want) {
  std::optional<Mismatch> first;
  for (std::size_t r = 0; r < want.rows(); ++r) {
    for (std::size_t c = 0; c < want.cols(); ++c) {
      if (got.at(r, c) == want.at(r, c)) continue;
      if (!first) first = Mismatch{r, c, got.at(r, c), want.at(r, c), 0};
      ++first->count;
    }
  }
  return first;
}

// Prints the verdict; returns the exit code it implies.
int report_check(const Tensor<std::int32_t>& got, const Tensor<std::int32_t>& want) {
  const auto mismatch = compare(got, want);
  if (!mismatch) {
    std::cout << "check: PASS (" << want.data.size() << " values bit-exact)\n";
    return kExitOk;
  }
  std::cout << "check: FAIL, " << mismatch->count << " of " << want.data.size()
            << " values differ; first at row " << mismatch->row << ", col " << mismatch->col
            << ": got " << mismatch->got << ", want " << mismatch->want << "\n";
  return kExitMismatch;
}

// On a mismatch in simulation: locate the first wrong value and capture a trace window
// around it. A failure here is reported but does not change the mismatch verdict.
void capture_after_mismatch(const GemmProblem& problem, const DebugOptions& options,
                            const EngineRun& run, const Tensor<std::int32_t>& want,
                            const std::string& label) {
  if (!run.simulated || !options.capture) return;
  try {
    const auto wrong = first_wrong(run, want);
    if (!wrong) return;
    capture_mismatch(problem, options, run, *wrong, label, std::cout);
  } catch (const std::exception& e) {
    std::cout << "capture: failed: " << e.what() << "\n";
  }
}

void add_device_option(CLI::App* cmd, DebugOptions& options) {
  cmd->add_option("--device", options.device,
                  "sim (in-process, default), tcp://HOST:PORT (tessera-sim) or "
                  "serial://PATH[?baud=N] (a board, or tessera-sim --pty; 1000000 baud default)");
}

// Tracing, command log, fault injection and mismatch capture: shared by run and gemm.
void add_debug_options(CLI::App* cmd, DebugOptions& options, std::string& kernel_id) {
  cmd->add_option("--trace", options.trace, "write an FST trace");
  cmd->add_option("--trace-window", options.window,
                  "trace only cycles START:END of the run (cycle 0 = the run's first)");
  cmd->add_option("--trace-kernel", kernel_id,
                  "trace only while command ID runs, issue to retire (IDs: --log-commands)");
  cmd->add_option("--log-commands", options.log_commands,
                  "write every command with its push, issue and retire cycles (JSON Lines)");
  cmd->add_option("--inject-fault", options.faults,
                  "force a fault: pe:ROW,COL:stuck0, stream-in:BEAT:drop, stream-out:BEAT:drop "
                  "(repeatable, simulation only)")
      ->allow_extra_args(false);
  cmd->add_option("--capture-dir", options.capture_dir,
                  "where a mismatch with --check writes its FST window and .gtkw "
                  "(default tessera-capture)");
  cmd->add_flag("!--no-capture", options.capture, "no trace capture on a mismatch");
}

void finish_debug_options(DebugOptions& options, const std::string& kernel_id) {
  if (!kernel_id.empty()) {
    std::size_t used = 0;
    try {
      options.trace_kernel = std::stoull(kernel_id, &used);
    } catch (const std::logic_error&) {
      used = 0;
    }
    if (used == 0 || used != kernel_id.size() || kernel_id[0] == '-') {
      throw InputError("--trace-kernel: expected a command index, got '" + kernel_id + "'");
    }
  }
  validate(options);
}

std::string fault_args(const DebugOptions& options) {
  std::string args;
  for (const auto& spec : options.faults) args += " --inject-fault " + spec;
  return args;
}

// The trace capture replays a dense GEMM; a run through SPGEMM or SPGEMMA has none.
bool ran_dense(const EngineRun& run) {
  return !run.sparse || run.sparse->format.kind == SparseFormat::Kind::kDense;
}

// A sparse B by its format's name ("2:4", "unstructured"), a sparse A with "A " before it.
std::string spec_name(const SparseSpec& spec) {
  const std::string format = format_name(spec.format);
  const bool compressed_a =
      spec.operand == SparseOperand::kA && spec.format.kind != SparseFormat::Kind::kDense;
  return compressed_a ? "A " + format : format;
}

// Requantized results, every one inside T's range, as T.
template <typename T>
Tensor<T> narrowed(const Tensor<std::int32_t>& wide) {
  Tensor<T> out;
  out.shape = wide.shape;
  out.data.assign(wide.data.begin(), wide.data.end());
  return out;
}

// Saves a result of `type` (requantized) or int32 (raw), whatever its rank.
void save_result(const std::string& path, const Tensor<std::int32_t>& result, bool requant,
                 DType type) {
  if (requant && type == DType::kUint8) {
    save_npy(path, narrowed<std::uint8_t>(result));
  } else if (requant) {
    save_npy(path, narrowed<std::int8_t>(result));
  } else {
    save_npy(path, result);
  }
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(shape[i]);
  }
  return out;
}

// A convolution: one engine GEMM per group (conv.hpp), then the output tensor.
int run_conv(const Kernel& kernel, bool check, const DebugOptions& options) {
  const QuantizedConv2d& conv = *kernel.conv;
  if (!options.trace.empty()) {
    throw InputError(
        "--trace: a conv2d kernel runs one GEMM per group; trace the GEMM "
        "itself (a gemm kernel of its im2col) instead");
  }
  const std::vector<QuantizedGemm> gemms = conv_gemms(conv);
  std::vector<Tensor<std::int32_t>> outputs;
  std::uint64_t cycles = 0;
  for (const QuantizedGemm& gemm : gemms) {
    const LoweredGemm lowered = lower(gemm);
    const EngineRun engine = run_on_engine(lowered.engine, options, std::nullopt, std::nullopt);
    cycles += engine.run.cycles;
    outputs.push_back(lowered.finish(engine.run.output));
  }
  const Tensor<std::int32_t> output = conv_output(conv, outputs);
  std::cout << "conv2d " << shape_text(conv.input.shape) << " * " << shape_text(conv.weight.shape)
            << " -> " << shape_text(output.shape) << ": " << gemms.size() << " GEMM"
            << (gemms.size() == 1 ? "" : "s") << " of " << gemms[0].m() << "x" << gemms[0].k()
            << "x" << gemms[0].n() << ", " << cycles << " cycles\n";
  if (check) {
    const int code = report_check(output, golden_conv2d(conv));
    if (code != kExitOk) {
      std::cout << "output not written: the result does not match the golden reference\n";
      return code;
    }
  }
  save_result(kernel.output_path, output, conv.requant.has_value(), conv.out_type);
  std::cout << "wrote " << kernel.output_path << "\n";
  return kExitOk;
}

int cmd_run(const std::string& kernel_path, bool check, const DebugOptions& options) {
  const Kernel kernel = load_kernel(kernel_path);
  if (kernel.conv) return run_conv(kernel, check, options);
  const EngineRun engine =
      run_on_engine(kernel.problem, options, trace_spec(options), kernel.sparse);
  const GemmRun& run = engine.run;
  std::cout << "gemm " << kernel.problem.m() << "x" << kernel.problem.k() << "x"
            << kernel.problem.n();
  if (kernel.sparse) {
    std::cout << " (sparse " << spec_name(*kernel.sparse) << ", ran " << spec_name(*engine.sparse)
              << ")";
  }
  std::cout << ": " << run.cycles << " cycles\n";
  // A quantized kernel's answer is made from the engine's int8 GEMM (quantized.hpp).
  const Tensor<std::int32_t> output =
      kernel.quantized ? lower(*kernel.quantized).finish(run.output) : run.output;
  int code = kExitOk;
  if (check) {
    code = report_check(output, kernel.quantized ? golden_quantized_gemm(*kernel.quantized)
                                                 : golden_gemm(kernel.problem));
    if (code != kExitOk && ran_dense(engine)) {
      const std::string stem = std::filesystem::path(kernel_path).stem().string();
      capture_after_mismatch(kernel.problem, options, engine, golden_gemm(kernel.problem),
                             stem + "-mismatch");
    }
  }
  if (code != kExitOk) {
    std::cout << "output not written: the result does not match the golden reference\n";
    return code;
  }
  const bool requant =
      kernel.quantized ? kernel.quantized->requant.has_value() : kernel.problem.requant.has_value();
  save_result(kernel.output_path, output, requant,
              kernel.quantized ? kernel.quantized->out_type : DType::kInt8);
  std::cout << "wrote " << kernel.output_path << "\n";
  return code;
}

// The flags that give a seeded problem's output options back: " --requant --rounding single".
std::string output_args(const RandomOptions& output) {
  std::string args = output.relu ? " --relu" : output.requant ? " --requant" : "";
  if ((output.relu || output.requant) && output.rounding == Rounding::kSingle) {
    args += " --rounding single";
  }
  return args;
}

int cmd_gemm(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed,
             const RandomOptions& output, bool check, const DebugOptions& options) {
  const GemmProblem problem = random_problem(m, k, n, seed, output);
  const EngineRun engine = run_on_engine(problem, options, trace_spec(options));
  const GemmRun& run = engine.run;
  const auto& cfg = engine.config;
  const double util = double(m) * k * n / (double(run.cycles) * cfg.rows * cfg.cols);
  std::printf("gemm %zux%zux%zu seed %llu on %ux%u: %llu cycles, utilization %.3f\n", m, k, n,
              static_cast<unsigned long long>(seed), cfg.rows, cfg.cols,
              static_cast<unsigned long long>(run.cycles), util);
  std::fflush(stdout);
  if (!check) return kExitOk;
  const Tensor<std::int32_t> want = golden_gemm(problem);
  const int code = report_check(run.output, want);
  if (code != kExitOk) {
    std::cout << "reproduce: tessera gemm --m " << m << " --k " << k << " --n " << n << " --seed "
              << seed << output_args(output) << fault_args(options) << " --check\n";
    std::ostringstream label;
    label << "gemm-" << m << "x" << k << "x" << n << "-seed" << seed << "-mismatch";
    capture_after_mismatch(problem, options, engine, want, label.str());
  }
  return code;
}

// The options that say which operand is sparse and how: spmm's and bench spmm's
// (spmm_problem.hpp reads them).
void add_pattern_options(CLI::App* cmd, PatternOptions& options) {
  auto* density =
      cmd->add_option("--density", options.density, "B's nonzero fraction (unstructured)")
          ->check(CLI::Range(0.0, 1.0));
  auto* nm =
      cmd->add_option("--nm", options.nm, "B in a random N:M pattern, e.g. 2:4")->excludes(density);
  cmd->add_option("--a-density", options.a_density,
                  "A's nonzero fraction instead, B dense: sparse activations (ReLU outputs) "
                  "through SPGEMMA")
      ->check(CLI::Range(0.0, 1.0))
      ->excludes(density)
      ->excludes(nm);
}

const Tensor<std::int8_t>& sparse_operand(const GemmProblem& problem, SparseOperand operand) {
  return operand == SparseOperand::kA ? problem.a : problem.b;
}

double density_of(const GemmProblem& problem, SparseOperand operand) {
  const Tensor<std::int8_t>& t = sparse_operand(problem, operand);
  return double(count_nonzeros(t)) / double(t.data.size());
}

// The multiply-accumulates with a nonzero sparse operand: each nonzero of B meets M rows
// of A, each nonzero of A N channels of B.
std::uint64_t nonzero_macs_of(const GemmProblem& problem, SparseOperand operand) {
  const std::uint64_t other = operand == SparseOperand::kA ? problem.n() : problem.m();
  return other * count_nonzeros(sparse_operand(problem, operand));
}

int cmd_spmm(std::size_t m, std::size_t k, std::size_t n, const SparsePattern& pattern,
             std::uint64_t seed, const RandomOptions& output, bool check,
             const DebugOptions& options) {
  const GemmProblem problem = random_sparse_problem(m, k, n, seed, pattern, output);
  const SparseSpec spec = pattern_spec(pattern);
  const EngineRun engine = run_on_engine(problem, options, trace_spec(options), spec);
  const GemmRun& run = engine.run;
  const auto& cfg = engine.config;
  const double util =
      double(nonzero_macs_of(problem, spec.operand)) / (double(run.cycles) * cfg.rows * cfg.cols);
  std::printf(
      "spmm %zux%zux%zu seed %llu %s density %.4f on %ux%u: %llu cycles, utilization %.3f\n", m, k,
      n, static_cast<unsigned long long>(seed), spec_name(spec).c_str(),
      density_of(problem, spec.operand), cfg.rows, cfg.cols,
      static_cast<unsigned long long>(run.cycles), util);
  std::fflush(stdout);
  if (!check) return kExitOk;
  const int code = report_check(run.output, golden_gemm(problem));
  if (code != kExitOk) {
    std::cout << "reproduce: tessera spmm --m " << m << " --k " << k << " --n " << n
              << pattern_args(pattern) << " --seed " << seed << output_args(output)
              << fault_args(options) << " --check\n";
  }
  return code;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// `batches` GEMMs of one B, uploaded once and kept on the engine (upload_weights), each
// with a fresh A (the first: the problem's own): the steady state of a layer that runs
// batch after batch. Every output is checked against the golden reference.
struct ResidentBench {
  std::size_t batches = 0;
  std::uint64_t cycles = 0;  // all of the GEMMs
  std::uint64_t commands = 0;
  bool pass = true;
};

ResidentBench bench_resident(const GemmProblem& problem, std::uint64_t seed, std::size_t batches,
                             const std::string& device_spec) {
  auto transport = open_transport(device_spec);
  Device device(*transport);
  ResidentBench bench;
  bench.batches = batches;
  const ResidentWeights weights = upload_weights(device, problem.b, problem.bias, problem.requant,
                                                 problem.clamp_lo, problem.clamp_hi);
  // The upload's LOADs finish first: each GEMM's cycles are its own (PERF_CLEAR at its
  // start would otherwise count the end of the upload into the first one).
  device.transport().wait_idle(device.command_wait_budget);
  GemmProblem batch = problem;
  for (std::size_t i = 0; i < batches; ++i) {
    if (i > 0) batch.a = random_problem(problem.m(), problem.k(), 1, seed + i).a;
    const GemmRun run = run_gemm(device, batch.a, weights);
    bench.cycles += run.cycles;
    bench.commands += run.commands;
    bench.pass = bench.pass && !compare(run.output, golden_gemm(batch));
  }
  return bench;
}

int cmd_bench(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed, std::size_t batches,
              bool json, const DebugOptions& options) {
  const GemmProblem problem = random_problem(m, k, n, seed);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  const EngineRun engine = run_on_engine(problem, options, trace_spec(options));
  const double cpu = cpu_seconds() - cpu_start;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const GemmRun& run = engine.run;
  const auto& cfg = engine.config;
  const ResidentBench resident =
      batches > 1 ? bench_resident(problem, seed, batches, options.device) : ResidentBench{};
  const bool pass = !compare(run.output, golden_gemm(problem)) && resident.pass;

  const std::uint64_t macs = std::uint64_t{m} * k * n;
  const double util = double(macs) / (double(run.cycles) * cfg.rows * cfg.cols);
  const std::uint64_t kt = (k + cfg.rows - 1) / cfg.rows, nt = (n + cfg.cols - 1) / cfg.cols;
  const std::uint64_t scalesim = kt * nt * (2 * cfg.rows + cfg.cols + m - 2);
  const double scalesim_util = double(macs) / (double(scalesim) * cfg.rows * cfg.cols);
  const double rate = run.sim_cycles / wall;
  const double cpu_rate = cpu > 0 ? run.sim_cycles / cpu : 0.0;
  const std::string tracing = options.trace.empty()     ? "off"
                              : !options.window.empty() ? "window " + options.window
                                                        : "full";

  std::printf("bench gemm %zux%zux%zu on %ux%u (%s)\n", m, k, n, cfg.rows, cfg.cols,
              options.device.c_str());
  std::printf("  cycles            %llu (first command to last output beat)\n",
              static_cast<unsigned long long>(run.cycles));
  std::printf("  MACs              %llu\n", static_cast<unsigned long long>(macs));
  std::printf("  utilization       %.4f\n", util);
  std::printf("  SCALE-Sim WS      %llu cycles, utilization %.4f\n",
              static_cast<unsigned long long>(scalesim), scalesim_util);
  if (run.perf.detail) {
    std::printf("  busy/stall cycles %u / %u\n", run.perf.busy, run.perf.stall);
  } else {
    std::printf("  busy/stall cycles not counted by this engine (FEATURES bit 16)\n");
  }
  std::printf("  simulation        %llu cycles in %.3f s = %.0f cycles/s\n",
              static_cast<unsigned long long>(run.sim_cycles), wall, rate);
  std::printf("  process CPU       %.3f s = %.0f cycles/CPU-s (tracing %s)\n", cpu, cpu_rate,
              tracing.c_str());
  double resident_util = 0.0;
  if (batches > 1) {
    const double mean = double(resident.cycles) / double(batches);
    resident_util =
        double(macs) * double(batches) / (double(resident.cycles) * cfg.rows * cfg.cols);
    std::printf(
        "  resident B        %zu GEMMs, B uploaded once: %.0f cycles each, utilization "
        "%.4f, %.1f commands each\n",
        batches, mean, resident_util, double(resident.commands) / double(batches));
  }
  std::printf("  check             %s\n", pass ? "PASS" : "FAIL");
  if (json) {
    nlohmann::json line = {{"m", m},
                           {"k", k},
                           {"n", n},
                           {"rows", cfg.rows},
                           {"cols", cfg.cols},
                           {"cycles", run.cycles},
                           {"commands", run.commands},
                           {"macs", macs},
                           {"utilization", util},
                           {"scalesim_ws_cycles", scalesim},
                           {"scalesim_ws_utilization", scalesim_util},
                           {"sim_cycles", run.sim_cycles},
                           {"wall_s", wall},
                           {"sim_cycles_per_s", rate},
                           {"cpu_s", cpu},
                           {"sim_cycles_per_cpu_s", cpu_rate},
                           {"tracing", tracing},
                           {"device", options.device},
                           {"check", pass ? "PASS" : "FAIL"}};
    if (batches > 1) {
      line["batches"] = batches;
      line["resident_cycles"] = resident.cycles;
      line["resident_utilization"] = resident_util;
      line["resident_commands"] = resident.commands;
    }
    std::cout << line.dump() << std::endl;
  }
  return pass ? kExitOk : kExitMismatch;
}

// The sparse path against the dense one, on one engine and the same operands.
int cmd_bench_spmm(std::size_t m, std::size_t k, std::size_t n, const SparsePattern& pattern,
                   std::uint64_t seed, bool json, const DebugOptions& options) {
  const GemmProblem problem = random_sparse_problem(m, k, n, seed, pattern);
  const SparseSpec spec = pattern_spec(pattern);
  auto transport = open_transport(options.device);
  Device device(*transport);
  const auto& cfg = device.config();
  const Tensor<std::int32_t> want = golden_gemm(problem);
  const GemmRun dense = run_gemm(device, problem);
  const SparseGemmRun sparse = run_sparse_gemm(device, problem, spec.format, spec.operand);
  const bool pass = !compare(dense.output, want) && !compare(sparse.run.output, want);

  const std::uint64_t cycles = sparse.run.cycles, dense_cycles = dense.cycles;
  const std::uint64_t lanes = std::uint64_t{cfg.rows} * cfg.cols;
  const std::uint64_t nonzero_macs = nonzero_macs_of(problem, spec.operand);
  const double density = density_of(problem, spec.operand);
  const bool sparse_a = spec.operand == SparseOperand::kA;
  const double speedup = double(dense_cycles) / double(cycles);
  const double util = double(nonzero_macs) / (double(cycles) * double(lanes));
  const double dense_util = double(m) * k * n / (double(dense_cycles) * double(lanes));

  std::printf("bench spmm %zux%zux%zu on %ux%u (%s)\n", m, k, n, cfg.rows, cfg.cols,
              options.device.c_str());
  std::printf("  operand           %s (%s)\n", operand_name(spec.operand),
              sparse_a ? "sparse A through SPGEMMA, B dense" : "sparse B through SPGEMM");
  std::printf("  format            %s, density %.4f (%zu nonzeros)\n",
              format_name(sparse.format).c_str(), density, sparse.nonzeros);
  std::printf("  cycles            %llu (first command to last output beat; model %llu)\n",
              static_cast<unsigned long long>(cycles),
              static_cast<unsigned long long>(sparse.model_cycles));
  std::printf("  dense cycles      %llu (GEMM, same engine and operands)\n",
              static_cast<unsigned long long>(dense_cycles));
  std::printf("  speedup           %.3f\n", speedup);
  std::printf("  nonzero MACs      %llu\n", static_cast<unsigned long long>(nonzero_macs));
  std::printf("  MAC lanes         %llu\n", static_cast<unsigned long long>(lanes));
  std::printf("  utilization       %.4f (nonzero MACs / (cycles x lanes); dense %.4f)\n", util,
              dense_util);
  std::printf("  check             %s\n", pass ? "PASS" : "FAIL");
  if (json) {
    const nlohmann::json line = {{"m", m},
                                 {"k", k},
                                 {"n", n},
                                 {"seed", seed},
                                 {"rows", cfg.rows},
                                 {"cols", cfg.cols},
                                 {"operand", operand_name(spec.operand)},
                                 {"format", format_name(sparse.format)},
                                 {"density", density},
                                 {"nonzeros", sparse.nonzeros},
                                 {"cycles", cycles},
                                 {"model_cycles", sparse.model_cycles},
                                 {"dense_cycles", dense_cycles},
                                 {"speedup", speedup},
                                 {"nonzero_macs", nonzero_macs},
                                 {"lanes", lanes},
                                 {"utilization", util},
                                 {"dense_utilization", dense_util},
                                 {"device", options.device},
                                 {"check", pass ? "PASS" : "FAIL"}};
    std::cout << line.dump() << std::endl;
  }
  return pass ? kExitOk : kExitMismatch;
}

int cmd_info(const DebugOptions& options) {
  auto transport = open_transport(options.device);
  Device device(*transport);
  const auto& c = device.config();
  std::printf("Tessera engine (ID 0x%08x, version %u.%u)\n", c.id, c.version >> 16,
              c.version & 0xFFFF);
  std::printf("  array             %u x %u int8 -> int32\n", c.rows, c.cols);
  std::printf("  ACT scratchpad    %u words x %u B\n", c.act_depth, c.rows);
  std::printf("  WGT scratchpad    %u words x %u B\n", c.wgt_depth, c.cols);
  std::printf("  accumulators      2 banks x %u rows x %u int32\n", c.acc_depth, c.cols);
  std::printf("  PARAM table       %u channels\n", c.param_depth);
  if (c.sparse()) {
    std::printf("  GBUF              %u words x %u B\n", c.gbuf_depth, c.rows);
    std::printf("  META              %u words x %u B\n", c.meta_depth, c.cols);
  }
  std::printf("  stream beats      in %u B, out %u B\n", c.in_beat_bytes, c.out_beat_bytes);
  std::printf("  command FIFO      %u entries\n", c.cmd_fifo_depth);
  std::printf("  features          dense%s%s%s%s%s\n", (c.features & 2) ? " requant" : "",
              (c.features & 4) ? " per-channel" : "", c.sparse() ? " sparse" : "",
              c.sparse_a() ? " sparse-a" : "", c.round_single() ? " single-rounding" : "");
  std::printf("  max K per pass    %zu\n", max_k(c));
  return kExitOk;
}

// Writes the committed GTKWave views (sim/waves/*.gtkw) for this build's configuration,
// naming every signal as a real trace of this build declares it.
int cmd_waves(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError("--out '" + dir + "': " + ec.message());
  const fs::path probe =
      fs::temp_directory_path() / ("tessera-waves-" + std::to_string(::getpid()) + ".fst");
  DebugOptions options;
  options.trace = probe.string();
  const EngineRun run = run_on_engine(random_problem(8, 8, 8, 1), options, trace_spec(options));
  int code = kExitOk;
  {
    TraceFile trace(probe.string());
    for (const WaveView& view : subsystem_views(run.config.rows, run.config.cols)) {
      const std::string path = (fs::path(dir) / (view.name + ".gtkw")).string();
      SaveFileOptions save;
      save.note = "For the " + std::to_string(run.config.rows) + "x" +
                  std::to_string(run.config.cols) +
                  " build; regenerate: tessera waves --out sim/waves (docs/debugging.md)";
      const auto missing = write_save_file(path, view, trace, save);
      for (const auto& name : missing) {
        std::cerr << "tessera: " << path << ": the RTL has no signal " << name << "\n";
        code = kExitBadInput;
      }
      std::cout << "wrote " << path << "\n";
    }
  }
  fs::remove(probe, ec);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tessera matrix engine: run kernels, random GEMMs and benchmarks"};
  app.require_subcommand(1);
  DebugOptions options;
  std::string kernel_id;

  std::string kernel_path;
  bool check = false;
  auto* run = app.add_subcommand("run", "run a kernel file and write its output .npy");
  run->add_option("KERNEL", kernel_path, "kernel JSON")->required();
  run->add_flag("--check", check, "compare with the golden reference");
  add_debug_options(run, options, kernel_id);
  add_device_option(run, options);

  std::size_t m = 0, k = 0, n = 0;
  std::uint64_t seed = 1;
  std::size_t batches = 1;
  bool requant = false, relu = false, json = false;
  std::string rounding = "double";
  const auto add_output_options = [&](CLI::App* command) {
    command->add_flag("--requant", requant, "int8 output through per-channel requantization");
    command->add_flag("--relu", relu, "requantize and clamp at the zero point (ReLU)");
    command
        ->add_option("--rounding", rounding,
                     "rounding of --requant / --relu: double (gemmlowp, TFLite Micro; the "
                     "default) or single (TFLITE_SINGLE_ROUNDING, current TFLite)")
        ->check(CLI::IsMember({"double", "single"}));
  };
  auto* gemm = app.add_subcommand("gemm", "run a seeded random GEMM");
  gemm->add_option("--m", m, "rows of A")->required()->check(CLI::Range(1, 1 << 20));
  gemm->add_option("--k", k, "columns of A")->required()->check(CLI::Range(1, 1 << 20));
  gemm->add_option("--n", n, "columns of B")->required()->check(CLI::Range(1, 1 << 20));
  gemm->add_option("--seed", seed, "random seed");
  add_output_options(gemm);
  gemm->add_flag("--check", check, "compare with the golden reference");
  add_debug_options(gemm, options, kernel_id);
  add_device_option(gemm, options);

  PatternOptions pattern_options;
  auto* spmm = app.add_subcommand(
      "spmm", "run a seeded random GEMM with a sparse B (SPGEMM) or a sparse A (SPGEMMA)");
  spmm->add_option("--m", m, "rows of A")->required()->check(CLI::Range(1, 1 << 20));
  spmm->add_option("--k", k, "columns of A")->required()->check(CLI::Range(1, 1 << 20));
  spmm->add_option("--n", n, "columns of B")->required()->check(CLI::Range(1, 1 << 20));
  add_pattern_options(spmm, pattern_options);
  spmm->add_option("--seed", seed, "random seed");
  add_output_options(spmm);
  spmm->add_flag("--check", check, "compare with the golden reference");
  add_debug_options(spmm, options, kernel_id);
  add_device_option(spmm, options);

  auto* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  auto* bench_gemm = bench->add_subcommand("gemm", "cycles and utilization of one GEMM");
  bench_gemm->add_option("--m", m, "rows of A")->required()->check(CLI::Range(1, 1 << 20));
  bench_gemm->add_option("--k", k, "columns of A")->required()->check(CLI::Range(1, 1 << 20));
  bench_gemm->add_option("--n", n, "columns of B")->required()->check(CLI::Range(1, 1 << 20));
  bench_gemm->add_option("--seed", seed, "random seed");
  bench_gemm
      ->add_option("--batches", batches,
                   "also run this many GEMMs of the same B, uploaded once and kept on "
                   "the engine, each with a fresh A (steady state; default 1: off)")
      ->check(CLI::Range(1, 1 << 16));
  bench_gemm->add_flag("--json", json, "end with one JSON line");
  bench_gemm->add_option("--trace", options.trace, "trace into an FST (to measure its cost)");
  bench_gemm->add_option("--trace-window", options.window,
                         "trace only cycles START:END of the run");
  add_device_option(bench_gemm, options);
  auto* bench_spmm =
      bench->add_subcommand("spmm", "cycles of a sparse GEMM against the dense path's");
  bench_spmm->add_option("--m", m, "rows of A")->required()->check(CLI::Range(1, 1 << 20));
  bench_spmm->add_option("--k", k, "columns of A")->required()->check(CLI::Range(1, 1 << 20));
  bench_spmm->add_option("--n", n, "columns of B")->required()->check(CLI::Range(1, 1 << 20));
  add_pattern_options(bench_spmm, pattern_options);
  bench_spmm->add_option("--seed", seed, "random seed");
  bench_spmm->add_flag("--json", json, "end with one JSON line");
  add_device_option(bench_spmm, options);

  auto* info = app.add_subcommand("info", "print the engine configuration read from its CSRs");
  add_device_option(info, options);

  OnnxRunOptions onnx_options;
  auto* onnx = app.add_subcommand("onnx", "quantized ONNX models (docs/onnx.md)");
  onnx->require_subcommand(1);
  auto* onnx_run =
      onnx->add_subcommand("run", "run a model on the engine, outputs to DIR/NAME.npy");
  onnx_run->add_option("MODEL", onnx_options.model, "the .onnx file")->required();
  onnx_run->add_option("--input", onnx_options.inputs, "NAME=FILE.npy, one per graph input")
      ->required();
  onnx_run->add_option("--output", onnx_options.output_dir, "directory for NAME.npy")->required();
  onnx_run->add_flag("--check", onnx_options.check,
                     "also run the golden reference; write nothing unless equal bit for bit");
  onnx_run->add_flag("--json", onnx_options.json,
                     "print one JSON object (per-layer cycles, utilization) instead of the table");
  onnx_run->add_option("--labels", onnx_options.labels,
                       "FILE.npy of class labels: print argmax predictions and the accuracy");
  onnx_run->add_option("--device", onnx_options.device,
                       "sim (in-process, default), tcp://HOST:PORT or serial://PATH[?baud=N]");
  std::string onnx_model;
  auto* onnx_info = onnx->add_subcommand("info", "list the nodes and where each runs");
  onnx_info->add_option("MODEL", onnx_model, "the .onnx file")->required();

  // Hidden: the regression runner's in-process batch mode and the view generator.
  auto* batch =
      app.add_subcommand("regress-batch", "run JSON-lines jobs from stdin (scripts/regress.py)");
  batch->group("");
  std::string waves_dir;
  auto* waves = app.add_subcommand("waves", "write the GTKWave views for this build into DIR");
  waves->group("");
  waves->add_option("--out", waves_dir, "directory, e.g. sim/waves")->required();

  // CLI11 reports a stray first word only as "A subcommand is required"; name it instead.
  const auto is_subcommand = [&app](const std::string& word) {
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->check_name(word)) return true;
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_subcommand(argv[1])) {
    std::cerr << "tessera: unknown subcommand '" << argv[1]
              << "' (expected run, gemm, spmm, bench, info or onnx; see --help)\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    if (run->parsed() || gemm->parsed() || spmm->parsed() || bench_gemm->parsed() ||
        bench_spmm->parsed())
      finish_debug_options(options, kernel_id);
    if (run->parsed()) return cmd_run(kernel_path, check, options);
    const RandomOptions output{requant, relu, true, parse_rounding(rounding, "--rounding")};
    if (gemm->parsed()) return cmd_gemm(m, k, n, seed, output, check, options);
    if (spmm->parsed()) {
      return cmd_spmm(m, k, n, sparse_pattern(pattern_options), seed, output, check, options);
    }
    if (bench_gemm->parsed()) return cmd_bench(m, k, n, seed, batches, json, options);
    if (bench_spmm->parsed()) {
      return cmd_bench_spmm(m, k, n, sparse_pattern(pattern_options), seed, json, options);
    }
    if (info->parsed()) return cmd_info(options);
    if (onnx_run->parsed()) return cmd_onnx_run(onnx_options);
    if (onnx_info->parsed()) return cmd_onnx_info(onnx_model);
    if (batch->parsed()) return regress_batch(std::cin, std::cout);
    if (waves->parsed()) return cmd_waves(waves_dir);
  } catch (const InputError& e) {
    std::cerr << "tessera: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const EngineError& e) {
    std::cerr << "tessera: " << e.what() << "\n";
    return kExitEngine;
  } catch (const TransportError& e) {
    std::cerr << "tessera: " << e.what() << "\n";
    return kExitEngine;
  }
  return kExitBadInput;
}
