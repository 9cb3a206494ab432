// Runs a GEMM with a sparse B through SPGEMM, or with a sparse A (ReLU activations)
// through SPGEMMA (docs/isa.md), the sparse counterpart of run_gemm: the same problem,
// the same output, bit for bit.
#pragma once

#include <cstdint>

#include "tessera/device.hpp"
#include "tessera/runtime.hpp"
#include "tessera/sparse.hpp"

namespace tessera {

struct SparseGemmRun {
  GemmRun run;
  SparseOperand operand = SparseOperand::kB;  ///< what ran compressed (dense: as declared)
  SparseFormat format;             ///< what ran: N:M, unstructured or dense ("auto" resolved)
  std::uint64_t model_cycles = 0;  ///< the cycle model's estimate for it (sparse.hpp)
  std::size_t nonzeros = 0;        ///< of `operand`
};

/// The packer's view of this engine: M blocks of min(Rows, 64) rows, Cols channels a
/// column block, K chunks of min(256, GBUF/2, WGT, META) (GBUF halves alternate between
/// M blocks; a column block of one chunk always fits in WGT and META).
SparseGeometry sparse_geometry(const EngineConfig& config);
/// SPGEMMA's view (pack_sparse_a): row blocks of Cols rows of A, column blocks of Cols
/// channels of B in GBUF, the same K chunks.
SparseGeometry sparse_a_geometry(const EngineConfig& config);

/// Packs B in `format` ("auto": choose_format over M rows) and runs it. Weight values
/// (WGT), their K indices (META) and the parameters (PARAM) are loaded once and stay
/// resident across the M blocks (and across calls: Device::load leaves out words the
/// engine already holds); each M block's activations go into one half of GBUF while the
/// block before computes from the other. Column blocks are grouped into SPGEMM commands
/// of one common len, trading padding against per-command overhead. K beyond one chunk
/// runs chunk by chunk as raw int32, the host adding the partial sums and applying the
/// output stage (as run_gemm does for K beyond one pass).
/// Throws InputError for a malformed problem or a B that breaks its declared N:M format
/// (before anything is sent), EngineError when the engine latches an error or has no
/// sparse feature (an "auto" format then runs dense), TransportError if the link fails.
///
/// With operand kA, A is compressed per row (pack_sparse_a; format unstructured or auto,
/// N:M is an InputError) and stays resident in WGT/META while B's column blocks take
/// turns in the GBUF halves, with their parameters in PARAM slots of their own; K beyond
/// one chunk runs as above. It needs FEATURES bit 6 (EngineError naming it otherwise).
/// "auto" for a sparse A picks the fewest model cycles among SPGEMMA, the formats of B
/// that SPGEMM runs, and dense (choose_format_a); on an engine without bit 6 among the
/// latter two.
SparseGemmRun run_sparse_gemm(Device& device, const GemmProblem& problem,
                              const SparseFormat& format,
                              SparseOperand operand = SparseOperand::kB);

}  // namespace tessera
