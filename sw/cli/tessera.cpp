// tessera: the command-line front end. Errors are caught here, once, and mapped to the
// documented exit codes: 0 ok, 1 result mismatch, 2 bad usage or input, 3 engine or
// transport error.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/kernel.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"
#if __has_include("tessera/tcp_transport.hpp")
#include "tessera/tcp_transport.hpp"
#define TESSERA_HAVE_TCP 1
#endif

namespace {

using namespace tessera;

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

std::unique_ptr<Transport> open_transport(const std::string& spec) {
  if (spec == "sim") return sim::make_sim_transport();
#ifdef TESSERA_HAVE_TCP
  if (spec.rfind("tcp://", 0) == 0) {
    const DeviceSpec device = parse_device_spec(spec);
    return make_tcp_transport(device.host, device.port);
  }
#endif
  throw InputError("--device: expected 'sim' or 'tcp://HOST:PORT', got '" + spec + "'");
}

struct DeviceOptions {
  std::string device = "sim";
};

void add_device_option(CLI::App* cmd, DeviceOptions& options) {
  cmd->add_option("--device", options.device, "sim (in-process, default) or tcp://HOST:PORT");
}

std::pair<std::uint64_t, std::uint64_t> parse_window(const std::string& text) {
  const auto colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument(text);
    std::size_t used_a = 0, used_b = 0;
    const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
    const std::uint64_t start = std::stoull(a, &used_a);
    const std::uint64_t end = std::stoull(b, &used_b);
    if (used_a != a.size() || used_b != b.size() || end <= start) throw std::invalid_argument(text);
    return {start, end};
  } catch (const std::logic_error&) {
    throw InputError("--trace-window: expected START:END cycles with END > START, got '" + text + "'");
  }
}

int cmd_run(const std::string& kernel_path, bool check, const std::string& trace,
            const std::string& window, const DeviceOptions& options) {
  if (!window.empty() && trace.empty()) throw InputError("--trace-window needs --trace FILE.fst");
  const Kernel kernel = load_kernel(kernel_path);
  auto transport = open_transport(options.device);
  Device device(*transport);
  if (!trace.empty()) {
    const std::uint64_t now = transport->stats().cycles;
    TraceRequest request{trace, now, 0};
    if (!window.empty()) {
      const auto [start, end] = parse_window(window);
      request.start_cycle = now + start;
      request.end_cycle = now + end;
    }
    transport->trace_start(request);
  }
  const GemmRun run = run_gemm(device, kernel.problem);
  if (!trace.empty()) transport->trace_stop();
  std::cout << "gemm " << kernel.problem.m() << "x" << kernel.problem.k() << "x"
            << kernel.problem.n() << ": " << run.cycles << " cycles\n";
  int code = kExitOk;
  if (check) code = report_check(run.output, golden_gemm(kernel.problem));
  if (code != kExitOk) {
    std::cout << "output not written: the result does not match the golden reference\n";
    return code;
  }
  if (kernel.problem.requant) {
    Tensor<std::int8_t> out(run.output.rows(), run.output.cols());
    for (std::size_t i = 0; i < out.data.size(); ++i) {
      out.data[i] = static_cast<std::int8_t>(run.output.data[i]);
    }
    save_npy(kernel.output_path, out);
  } else {
    save_npy(kernel.output_path, run.output);
  }
  std::cout << "wrote " << kernel.output_path << "\n";
  return code;
}

int cmd_gemm(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed, bool requant,
             bool relu, bool check, const DeviceOptions& options) {
  auto transport = open_transport(options.device);
  Device device(*transport);
  const GemmProblem problem = random_problem(m, k, n, seed, {requant, relu, true});
  const GemmRun run = run_gemm(device, problem);
  const auto& cfg = device.config();
  const double util = double(m) * k * n / (double(run.cycles) * cfg.rows * cfg.cols);
  std::printf("gemm %zux%zux%zu seed %llu on %ux%u: %llu cycles, utilization %.3f\n", m, k, n,
              static_cast<unsigned long long>(seed), cfg.rows, cfg.cols,
              static_cast<unsigned long long>(run.cycles), util);
  std::fflush(stdout);
  if (!check) return kExitOk;
  const int code = report_check(run.output, golden_gemm(problem));
  if (code != kExitOk) {
    std::cout << "reproduce: tessera gemm --m " << m << " --k " << k << " --n " << n
              << " --seed " << seed << (requant ? " --requant" : "") << (relu ? " --relu" : "")
              << " --check\n";
  }
  return code;
}

int cmd_bench(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed, bool json,
              const DeviceOptions& options) {
  auto transport = open_transport(options.device);
  Device device(*transport);
  const auto& cfg = device.config();
  const GemmProblem problem = random_problem(m, k, n, seed);
  const auto start = std::chrono::steady_clock::now();
  const GemmRun run = run_gemm(device, problem);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool pass = !compare(run.output, golden_gemm(problem));

  const std::uint64_t macs = std::uint64_t{m} * k * n;
  const double util = double(macs) / (double(run.cycles) * cfg.rows * cfg.cols);
  const std::uint64_t kt = (k + cfg.rows - 1) / cfg.rows, nt = (n + cfg.cols - 1) / cfg.cols;
  const std::uint64_t scalesim = kt * nt * (2 * cfg.rows + cfg.cols + m - 2);
  const double scalesim_util = double(macs) / (double(scalesim) * cfg.rows * cfg.cols);
  const double rate = run.sim_cycles / wall;

  std::printf("bench gemm %zux%zux%zu on %ux%u (%s)\n", m, k, n, cfg.rows, cfg.cols,
              options.device.c_str());
  std::printf("  cycles            %llu (first command to last output beat)\n",
              static_cast<unsigned long long>(run.cycles));
  std::printf("  MACs              %llu\n", static_cast<unsigned long long>(macs));
  std::printf("  utilization       %.4f\n", util);
  std::printf("  SCALE-Sim WS      %llu cycles, utilization %.4f\n",
              static_cast<unsigned long long>(scalesim), scalesim_util);
  std::printf("  busy/stall cycles %u / %u\n", run.perf.busy, run.perf.stall);
  std::printf("  simulation        %llu cycles in %.3f s = %.0f cycles/s\n",
              static_cast<unsigned long long>(run.sim_cycles), wall, rate);
  std::printf("  check             %s\n", pass ? "PASS" : "FAIL");
  if (json) {
    const nlohmann::json line = {
        {"m", m}, {"k", k}, {"n", n}, {"rows", cfg.rows}, {"cols", cfg.cols},
        {"cycles", run.cycles}, {"macs", macs}, {"utilization", util},
        {"scalesim_ws_cycles", scalesim}, {"scalesim_ws_utilization", scalesim_util},
        {"sim_cycles", run.sim_cycles}, {"wall_s", wall}, {"sim_cycles_per_s", rate},
        {"device", options.device}, {"check", pass ? "PASS" : "FAIL"}};
    std::cout << line.dump() << std::endl;
  }
  return pass ? kExitOk : kExitMismatch;
}

int cmd_info(const DeviceOptions& options) {
  auto transport = open_transport(options.device);
  Device device(*transport);
  const auto& c = device.config();
  std::printf("Tessera engine (ID 0x%08x, version %u.%u)\n", c.id, c.version >> 16, c.version & 0xFFFF);
  std::printf("  array             %u x %u int8 -> int32\n", c.rows, c.cols);
  std::printf("  ACT scratchpad    %u words x %u B\n", c.act_depth, c.rows);
  std::printf("  WGT scratchpad    %u words x %u B\n", c.wgt_depth, c.cols);
  std::printf("  accumulators      2 banks x %u rows x %u int32\n", c.acc_depth, c.cols);
  std::printf("  PARAM table       %u channels\n", c.param_depth);
  std::printf("  stream beats      in %u B, out %u B\n", c.in_beat_bytes, c.out_beat_bytes);
  std::printf("  command FIFO      %u entries\n", c.cmd_fifo_depth);
  std::printf("  features          dense%s%s\n", (c.features & 2) ? " requant" : "",
              (c.features & 4) ? " per-channel" : "");
  std::printf("  max K per pass    %zu\n", max_k(c));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tessera matrix engine: run kernels, random GEMMs and benchmarks"};
  app.require_subcommand(1);
  DeviceOptions options;

  std::string kernel_path, trace, window;
  bool check = false;
  auto* run = app.add_subcommand("run", "run a kernel file and write its output .npy");
  run->add_option("KERNEL", kernel_path, "kernel JSON")->required();
  run->add_flag("--check", check, "compare with the golden reference");
  run->add_option("--trace", trace, "write an FST trace");
  run->add_option("--trace-window", window, "trace only cycles START:END of the run");
  add_device_option(run, options);

  std::size_t m = 0, k = 0, n = 0;
  std::uint64_t seed = 1;
  bool requant = false, relu = false, json = false;
  auto* gemm = app.add_subcommand("gemm", "run a seeded random GEMM");
  gemm->add_option("--m", m, "rows of A")->required()->check(CLI::Range(1, 1 << 20));
  gemm->add_option("--k", k, "columns of A")->required()->check(CLI::Range(1, 1 << 20));
  gemm->add_option("--n", n, "columns of B")->required()->check(CLI::Range(1, 1 << 20));
  gemm->add_option("--seed", seed, "random seed");
  gemm->add_flag("--requant", requant, "int8 output through per-channel requantization");
  gemm->add_flag("--relu", relu, "requantize and clamp at the zero point (ReLU)");
  gemm->add_flag("--check", check, "compare with the golden reference");
  add_device_option(gemm, options);

  auto* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  auto* bench_gemm = bench->add_subcommand("gemm", "cycles and utilization of one GEMM");
  bench_gemm->add_option("--m", m, "rows of A")->required()->check(CLI::Range(1, 1 << 20));
  bench_gemm->add_option("--k", k, "columns of A")->required()->check(CLI::Range(1, 1 << 20));
  bench_gemm->add_option("--n", n, "columns of B")->required()->check(CLI::Range(1, 1 << 20));
  bench_gemm->add_option("--seed", seed, "random seed");
  bench_gemm->add_flag("--json", json, "end with one JSON line");
  add_device_option(bench_gemm, options);

  auto* info = app.add_subcommand("info", "print the engine configuration read from its CSRs");
  add_device_option(info, options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    if (run->parsed()) return cmd_run(kernel_path, check, trace, window, options);
    if (gemm->parsed()) return cmd_gemm(m, k, n, seed, requant, relu, check, options);
    if (bench_gemm->parsed()) return cmd_bench(m, k, n, seed, json, options);
    if (info->parsed()) return cmd_info(options);
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
