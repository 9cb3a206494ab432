// `tessera regress-batch` (hidden; scripts/regress.py drives it): runs many seeded
// kernels in one process so a regression does not pay a process start and an engine
// build per kernel. Reads one JSON job a line on stdin, writes one JSON result a line on
// stdout, flushed as each finishes, so a crash loses only the kernel it happened in.
//
// Job:    {"id": "...", "kind": "dense", "m": M, "k": K, "n": N, "seed": S,
//          "requant": bool, "relu": bool,
//          "mutant": null | "pe-stuck0" | "stream-in-drop" | "stream-out-drop",
//          "inject": ["pe:0,1:stuck0", ...]}      (inject: forced into a plain kernel)
// Result: {"id", "result": "pass"|"fail"|"error", "cycles", "sim_cycles", "wall_s",
//          "mismatches", "message", and for mutants "fault" (the spec injected),
//          "caught", "detected_by" ("mismatch"|"engine error"|"stall"|"timeout"),
//          "equivalent" (the fault cannot change this kernel's output), and for a
//          completed pe-stuck0 run "matches_fault_model" (the output is exactly the
//          golden one with that PE's products zeroed)}
#pragma once

#include <istream>
#include <ostream>

namespace tessera::cli {

// Returns the process exit code: 0 when every line was read and answered.
int regress_batch(std::istream& in, std::ostream& out);

}  // namespace tessera::cli
