// Automatic capture around the first wrong output value: find the output beat that
// carried it and the cycle it left the engine, re-run the same deterministic simulation
// with an FST window over the cycles that value moved through the array, and write a
// GTKWave view of the array column, accumulator and store lane involved.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine_run.hpp"

namespace tessera::cli {

// The wrong value that left the engine first.
struct FirstWrong {
  std::size_t row = 0, col = 0;  // output element
  std::int32_t got = 0, want = 0;
  std::size_t mismatches = 0;    // wrong values in the whole output
  std::size_t block = 0;         // GEMM command of the run (0 = first GEMM) that made it
  std::size_t beat = 0;          // output beat of the run
  unsigned lane = 0;             // array column (output lane)
  std::uint64_t beat_cycle = 0;  // absolute cycle the beat left the engine
};

// nullptr-like nullopt when the outputs agree. Needs a simulated run's beat cycles.
std::optional<FirstWrong> first_wrong(const EngineRun& run, const Tensor<std::int32_t>& want);

// The array rows r whose PE (r, lane) producing zero products explains the wrong value
// exactly (usually one, none if the fault is elsewhere).
std::vector<unsigned> suspect_rows(const GemmProblem& problem, const FirstWrong& wrong,
                                   unsigned rows);

struct CaptureFiles {
  std::string fst, gtkw;
  std::uint64_t start = 0, end = 0;  // run cycles in the window [start, end)
  std::uint64_t beat_cycle = 0;      // run cycle of the wrong beat
};

// Re-runs `problem` under `options` and writes <dir>/<label>.fst and .gtkw; prints what
// it found and the gtkwave command to `out`.
CaptureFiles capture_mismatch(const GemmProblem& problem, const DebugOptions& options,
                              const EngineRun& first, const FirstWrong& wrong,
                              const std::string& label, std::ostream& out);

}  // namespace tessera::cli
