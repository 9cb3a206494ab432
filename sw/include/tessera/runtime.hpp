// Runs a GEMM on a Device: tiles it to the engine's scratchpads, encodes the command
// program, streams data, collects and unpacks the results.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/device.hpp"
#include "tessera/golden.hpp"

namespace tessera {

struct GemmRun {
  Tensor<std::int32_t> output;  // [M, N]; with requant each value is an int8
  PerfCounters perf;            // read after the last output beat
  std::uint64_t cycles = 0;     // first command to last output beat (PERF_LAST_OUT)
  std::size_t commands = 0;     // commands pushed
  std::uint64_t sim_cycles = 0; // simulator cycles the run took, CSR traffic included
};

// The largest K one GEMM command can reduce on this engine (weights double-buffered).
std::size_t max_k(const EngineConfig& config);

// Throws InputError for a malformed problem or a K beyond max_k(), EngineError if the
// engine latches an error, TransportError if the link fails or times out.
GemmRun run_gemm(Device& device, const GemmProblem& problem);

}  // namespace tessera
