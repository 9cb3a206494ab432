// One GEMM on an engine, with the debugging the CLI offers around it: FST traces
// (whole run, a cycle window, or one command), the command log, injected faults. All
// cycles the user sees count from the run's start: cycle 0 is the first cycle after the
// engine's configuration was read, and FST time is 10 x that cycle (Harness).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/open.hpp"
#include "tessera/runtime.hpp"
#include "tessera/sparse.hpp"

namespace tessera::cli {

struct DebugOptions {
  std::string device = "sim";
  std::string trace;                          // FST file
  std::string window;                         // "START:END" run cycles
  std::optional<std::uint64_t> trace_kernel;  // trace only while this command runs
  std::string log_commands;                   // JSON Lines file
  std::vector<std::string> faults;            // --inject-fault specs
  std::string capture_dir = "tessera-capture";
  bool capture = true;  // capture a window around a mismatch
};

// What a run leaves for the checks and the capture.
struct EngineRun {
  GemmRun run;
  std::optional<SparseSpec> sparse;  // a run through run_sparse_gemm: what it ran as
  EngineConfig config;
  bool simulated = false;
  std::uint64_t origin = 0;                  // absolute cycle of run cycle 0
  std::vector<std::uint64_t> beat_cycles;    // absolute cycle of each of the run's output beats
  std::vector<sim::CommandRecord> commands;  // the run's commands
};

struct TraceSpec {
  std::string path;
  std::uint64_t start = 0, end = 0;  // run cycles, end 0: to the end of the run
  std::optional<std::uint64_t> command;
};

// Checks the option combinations; throws InputError.
void validate(const DebugOptions& options);
std::vector<sim::Fault> parse_faults(const DebugOptions& options);
std::optional<TraceSpec> trace_spec(const DebugOptions& options);

// Runs the problem through run_sparse_gemm with `sparse`'s operand and format if one is
// given, else through run_gemm; `ran`, if given, gets what a sparse run ran as ("auto"
// resolved). The one place the CLI and regress-batch choose between the two paths.
GemmRun run_kernel(Device& device, const GemmProblem& problem,
                   const std::optional<SparseSpec>& sparse,
                   std::optional<SparseSpec>* ran = nullptr);

// Opens the device, runs the problem (run_kernel), writes the trace and the command log. On an
// engine or transport error the log is still written and the commands that never finished are
// printed to stderr before the error propagates.
EngineRun run_on_engine(const GemmProblem& problem, const DebugOptions& options,
                        const std::optional<TraceSpec>& trace,
                        const std::optional<SparseSpec>& sparse = std::nullopt);

// Writes the command log: one JSON object a line, cycles relative to `origin`.
void write_command_log(const std::string& path, const std::vector<sim::CommandRecord>& commands,
                       std::uint64_t origin);

// Parses "START:END" (END > START); throws InputError naming `option`.
std::pair<std::uint64_t, std::uint64_t> parse_window(const std::string& text,
                                                     const std::string& option);

}  // namespace tessera::cli
