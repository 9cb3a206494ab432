// Runs a GEMM on a Device: tiles it to the engine's scratchpads, encodes the command
// program, streams data, collects and unpacks the results.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/device.hpp"
#include "tessera/golden.hpp"

namespace tessera {

/// One GEMM command's results in the output stream: `rows` beats, beat i holding output
/// row m0 + i, lane c holding output column n0 + c.
struct OutputBlock {
  std::size_t m0 = 0, rows = 0, n0 = 0;
};

struct GemmRun {
  Tensor<std::int32_t> output;      ///< [M, N]; with requant each value is an int8
  PerfCounters perf;                ///< read after the last output beat
  std::uint64_t cycles = 0;         ///< first command to last output beat (PERF_LAST_OUT)
  std::size_t commands = 0;         ///< commands pushed
  std::uint64_t sim_cycles = 0;     ///< simulator cycles the run took, CSR traffic included
  std::vector<OutputBlock> blocks;  ///< in stream order, one per GEMM command (debugging)
};

/// The largest K one GEMM command can reduce on this engine (weights double-buffered).
std::size_t max_k(const EngineConfig& config);

/// Throws InputError for a malformed problem, EngineError if the engine latches an
/// error, TransportError if the link fails or times out. A K beyond max_k() runs as
/// several passes whose partial sums the host adds before its own epilogue.
/// B and its parameters stay in the engine while they fit: a later call on the same
/// Device with the same B (or one changed in a few places) sends none of it (or only the
/// words that changed), see Device::load. A call that throws leaves nothing assumed
/// resident.
GemmRun run_gemm(Device& device, const GemmProblem& problem);

/// A weight matrix B with its output stage (bias, requantization, clamp), laid out once in
/// the words of one engine configuration and kept on the engine: run_gemm(device, a,
/// weights) sends none of it while the engine still holds it, across M chunks and calls.
/// Another B that needs the room may evict it; the next call then sends it again. Made by
/// upload_weights; a plain value, cheap to move, usable on any Device of the same array
/// size and scratchpad depths.
class ResidentWeights {
 public:
  /// B, bias, requant and clamp; `a` is an empty [0, K] placeholder.
  const GemmProblem& problem() const { return problem_; }
  std::size_t k() const { return problem_.b.rows(); }
  std::size_t n() const { return problem_.b.cols(); }

 private:
  friend ResidentWeights upload_weights(Device&, Tensor<std::int8_t>, std::vector<std::int32_t>,
                                        std::optional<Requant>, std::int32_t, std::int32_t);
  friend GemmRun run_gemm(Device&, const Tensor<std::int8_t>&, const ResidentWeights&);

  GemmProblem problem_;
  EngineConfig config_;  ///< the layout's engine
  /// B's column blocks and the PARAM words, as LOADs carry them; empty when K exceeds
  /// max_k (the passes of a split K are laid out per call).
  std::vector<std::uint8_t> weights_, params_;
};

/// Checks B and its parameters (InputError, as validate() names them), lays them out and,
/// where they fit the engine's WGT and PARAM scratchpads, loads them now, so that the
/// first GEMM already finds them in place. Throws EngineError / TransportError as run_gemm.
ResidentWeights upload_weights(Device& device, Tensor<std::int8_t> b,
                               std::vector<std::int32_t> bias = {},
                               std::optional<Requant> requant = std::nullopt,
                               std::int32_t clamp_lo = -128, std::int32_t clamp_hi = 127);

/// A [M, K] times resident weights: the same result, counters and errors as run_gemm on the
/// whole problem, without laying B out again or sending what the engine holds. Throws
/// InputError when A's K differs from the weights' or the Device is another configuration.
GemmRun run_gemm(Device& device, const Tensor<std::int8_t>& a, const ResidentWeights& weights);

}  // namespace tessera
