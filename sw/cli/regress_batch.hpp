// `tessera regress-batch` (hidden; scripts/regress.py drives it): runs many seeded
// kernels in one process so a regression does not pay a process start and an engine
// build per kernel. Reads one JSON job a line on stdin, writes one JSON result a line on
// stdout, flushed as each finishes, so a crash loses only the kernel it happened in.
//
// Job:    {"id": "...", "kind": "dense" | "sparse", "m": M, "k": K, "n": N, "seed": S,
//          "requant": bool, "relu": bool,
//          "mutant": null | "pe-stuck0" | "stream-in-drop" | "stream-out-drop",
//          "inject": ["pe:0,1:stuck0", ...]}      (inject: forced into a plain kernel)
//         A dense kernel is `tessera gemm`'s for the same flags. A sparse one is `tessera
//         spmm`'s, run through run_sparse_gemm, with three more fields:
//          "operand": "b" (SPGEMM) | "a" (SPGEMMA),
//          "format": "unstructured" | "N:M" (e.g. "2:4", "1:4"; B only),
//          "density": D in [0, 1] (unstructured only; the spmm flag --density D for B,
//                     --a-density D for A; an N:M job is --nm N:M and has none)
//         Mutants are dense kernels only (a mutant with kind "sparse" is an error).
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
