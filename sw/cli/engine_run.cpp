#include "engine_run.hpp"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tessera/errors.hpp"
#include "tessera/sparse_runtime.hpp"

namespace tessera::cli {
namespace {

nlohmann::json cycle_or_null(std::uint64_t cycle, std::uint64_t origin) {
  if (cycle == sim::CommandRecord::kNever) return nullptr;
  return cycle - origin;
}

nlohmann::ordered_json describe(const isa::CommandWords& w) {
  const unsigned opcode = w[0] & 0xFF;
  if (opcode == static_cast<unsigned>(isa::Opcode::kLoad)) {
    static const char* targets[] = {"ACT", "WGT", "PARAM", "META", "GBUF", "5", "6", "7"};
    return {{"op", "LOAD"}, {"target", targets[(w[0] >> 8) & 7]}, {"dst", w[1]}, {"count", w[2]}};
  }
  // SPGEMMA has SPGEMM's fields; its nt counts row blocks of A.
  const bool spgemma = opcode == static_cast<unsigned>(isa::Opcode::kSpgemmA);
  if (opcode == static_cast<unsigned>(isa::Opcode::kSpgemm) || spgemma) {
    return {{"op", spgemma ? "SPGEMMA" : "SPGEMM"},
            {"m_rows", ((w[0] >> 10) & 0x3F) + 1},
            {"k", (w[0] >> 24) + 1},
            {"len", ((w[3] >> 8) & 0xFF) + 1},
            {"nt", w[3] & 0xFF},
            {"gbuf_base", w[1] & 0xFFFF},
            {"wgt_base", w[1] >> 16},
            {"meta_base", w[2] >> 16},
            {"param_base", w[2] & 0xFFFF},
            {"requant", ((w[0] >> 8) & 1) != 0}};
  }
  if (opcode == static_cast<unsigned>(isa::Opcode::kGemm)) {
    return {{"op", "GEMM"},
            {"m_rows", w[2] >> 16},
            {"kt", w[3] & 0xFF},
            {"nt", (w[3] >> 8) & 0xFF},
            {"act_base", w[1] & 0xFFFF},
            {"wgt_base", w[1] >> 16},
            {"param_base", w[2] & 0xFFFF},
            {"requant", ((w[0] >> 8) & 1) != 0}};
  }
  return {{"op", "opcode " + std::to_string(opcode)}};
}

// Tells where a stuck run stands: the oldest commands that never finished (those an
// engine error's CLEAR dropped included).
void report_unfinished(const std::vector<sim::CommandRecord>& commands, std::uint64_t origin) {
  int shown = 0;
  for (const auto& record : commands) {
    if (record.status != sim::CommandRecord::Status::kQueued &&
        record.status != sim::CommandRecord::Status::kIssued &&
        record.status != sim::CommandRecord::Status::kCleared) {
      continue;
    }
    const auto what = describe(record.words);
    std::cerr << "tessera: command #" << record.index << " " << what["op"].get<std::string>()
              << " pushed at cycle " << record.push - origin;
    if (record.issue != sim::CommandRecord::kNever) {
      std::cerr << ", issued at cycle " << record.issue - origin << ", never retired\n";
    } else {
      std::cerr << ", never issued\n";
    }
    if (++shown == 3) break;
  }
}

}  // namespace

std::pair<std::uint64_t, std::uint64_t> parse_window(const std::string& text,
                                                     const std::string& option) {
  const auto colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument(text);
    std::size_t used_a = 0, used_b = 0;
    const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
    if (a.empty() || b.empty() || a[0] == '-' || b[0] == '-') throw std::invalid_argument(text);
    const std::uint64_t start = std::stoull(a, &used_a);
    const std::uint64_t end = std::stoull(b, &used_b);
    if (used_a != a.size() || used_b != b.size() || end <= start) throw std::invalid_argument(text);
    return {start, end};
  } catch (const std::logic_error&) {
    throw InputError(option + ": expected START:END cycles with END > START, got '" + text + "'");
  }
}

void validate(const DebugOptions& options) {
  if (!options.window.empty() && options.trace.empty()) {
    throw InputError("--trace-window needs --trace FILE.fst");
  }
  if (options.trace_kernel && options.trace.empty()) {
    throw InputError("--trace-kernel needs --trace FILE.fst");
  }
  if (options.trace_kernel && !options.window.empty()) {
    throw InputError("--trace-window and --trace-kernel exclude each other");
  }
  if (!options.window.empty()) parse_window(options.window, "--trace-window");
  parse_faults(options);
  if (options.device != "sim") {
    if (!options.faults.empty()) throw InputError("--inject-fault needs --device sim");
    if (!options.log_commands.empty()) throw InputError("--log-commands needs --device sim");
    if (options.trace_kernel) throw InputError("--trace-kernel needs --device sim");
  }
}

std::vector<sim::Fault> parse_faults(const DebugOptions& options) {
  std::vector<sim::Fault> faults;
  for (const auto& spec : options.faults) faults.push_back(sim::parse_fault(spec));
  return faults;
}

std::optional<TraceSpec> trace_spec(const DebugOptions& options) {
  if (options.trace.empty()) return std::nullopt;
  TraceSpec spec;
  spec.path = options.trace;
  if (!options.window.empty()) {
    std::tie(spec.start, spec.end) = parse_window(options.window, "--trace-window");
  }
  spec.command = options.trace_kernel;
  return spec;
}

GemmRun run_kernel(Device& device, const GemmProblem& problem,
                   const std::optional<SparseSpec>& sparse, std::optional<SparseSpec>* ran) {
  if (!sparse) return run_gemm(device, problem);
  SparseGemmRun sparse_run = run_sparse_gemm(device, problem, sparse->format, sparse->operand);
  if (ran) *ran = SparseSpec{sparse_run.operand, sparse_run.format};
  return std::move(sparse_run.run);
}

EngineRun run_on_engine(const GemmProblem& problem, const DebugOptions& options,
                        const std::optional<TraceSpec>& trace,
                        const std::optional<SparseSpec>& sparse) {
  EngineRun result;
  const auto run_problem = [&](Device& device) {
    return run_kernel(device, problem, sparse, &result.sparse);
  };
  if (options.device != "sim") {
    auto transport = open_transport(options.device);
    Device device(*transport);
    result.config = device.config();
    result.origin = transport->stats().cycles;
    if (trace) {
      transport->trace_start(
          {trace->path, result.origin + trace->start, trace->end ? result.origin + trace->end : 0});
    }
    result.run = run_problem(device);
    if (trace) transport->trace_stop();
    return result;
  }

  sim::SimOptions sim_options;
  sim_options.faults = parse_faults(options);
  sim_options.record = true;
  auto engine = sim::make_sim_engine(sim_options);
  Device device(*engine);
  result.config = device.config();
  result.simulated = true;
  result.origin = engine->cycle();
  const std::uint64_t first_beat = engine->output_beats();
  const std::size_t first_command = engine->commands().size();
  if (trace) {
    if (trace->command) {
      engine->trace_command(trace->path, first_command + *trace->command, result.origin);
    } else {
      engine->trace_window(
          {trace->path, result.origin + trace->start, trace->end ? result.origin + trace->end : 0},
          result.origin);
    }
  }
  auto collect = [&] {
    const auto& all = engine->commands();
    result.commands.assign(all.begin() + static_cast<std::ptrdiff_t>(first_command), all.end());
    for (auto& record : result.commands) record.index -= first_command;
    const auto& cycles = engine->output_beat_cycles();
    result.beat_cycles.assign(cycles.begin() + static_cast<std::ptrdiff_t>(first_beat),
                              cycles.end());
    if (!options.log_commands.empty()) {
      write_command_log(options.log_commands, result.commands, result.origin);
    }
  };
  try {
    result.run = run_problem(device);
  } catch (const std::runtime_error&) {
    engine->trace_stop();
    collect();
    report_unfinished(result.commands, result.origin);
    throw;
  }
  engine->trace_stop();
  collect();
  if (trace && trace->command && *trace->command >= result.commands.size()) {
    throw InputError("--trace-kernel " + std::to_string(*trace->command) + ": the run had only " +
                     std::to_string(result.commands.size()) + " commands (0.." +
                     std::to_string(result.commands.size() - 1) +
                     "; --log-commands lists them), so the trace is empty");
  }
  return result;
}

void write_command_log(const std::string& path, const std::vector<sim::CommandRecord>& commands,
                       std::uint64_t origin) {
  std::ofstream out(path);
  if (!out) throw InputError("--log-commands: cannot write '" + path + "'");
  for (const auto& record : commands) {
    nlohmann::ordered_json line = {{"index", record.index}};
    line.update(describe(record.words));
    line["push"] = cycle_or_null(record.push, origin);
    line["issue"] = cycle_or_null(record.issue, origin);
    line["retire"] = cycle_or_null(record.retire, origin);
    line["status"] = sim::status_name(record.status);
    char words[64];
    std::snprintf(words, sizeof words, "%08x %08x %08x %08x", record.words[0], record.words[1],
                  record.words[2], record.words[3]);
    line["words"] = words;
    out << line.dump() << "\n";
  }
  if (!out) throw InputError("--log-commands: cannot write '" + path + "'");
}

}  // namespace tessera::cli
