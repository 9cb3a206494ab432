// Runs a GEMM on a Device: tiles it to the engine's scratchpads, encodes the command
// program, streams data, collects and unpacks the results.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/device.hpp"
#include "tessera/golden.hpp"

namespace tessera {

// One GEMM command's results in the output stream: `rows` beats, beat i holding output
// row m0 + i, lane c holding output column n0 + c.
struct OutputBlock {
  std::size_t m0 = 0, rows = 0, n0 = 0;
};

struct GemmRun {
  Tensor<std::int32_t> output;      // [M, N]; with requant each value is an int8
  PerfCounters perf;                // read after the last output beat
  std::uint64_t cycles = 0;         // first command to last output beat (PERF_LAST_OUT)
  std::size_t commands = 0;         // commands pushed
  std::uint64_t sim_cycles = 0;     // simulator cycles the run took, CSR traffic included
  std::vector<OutputBlock> blocks;  // in stream order, one per GEMM command (debugging)
};

// The largest K one GEMM command can reduce on this engine (weights double-buffered).
std::size_t max_k(const EngineConfig& config);

// Throws InputError for a malformed problem, EngineError if the engine latches an
// error, TransportError if the link fails or times out. A K beyond max_k() runs as
// several passes whose partial sums the host adds before its own epilogue.
// B and its parameters stay in the engine while they fit: a later call on the same
// Device with the same B (or one changed in a few places) sends none of it (or only the
// words that changed), see Device::load. A call that throws leaves nothing assumed
// resident.
GemmRun run_gemm(Device& device, const GemmProblem& problem);

}  // namespace tessera
