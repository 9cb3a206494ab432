// Mirror of rtl/pkg/tsr_pkg.sv (see docs/isa.md). tests/unit/test_isa_mirror.cpp parses
// the package and checks that every constant here matches it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tessera::isa {

inline constexpr std::uint32_t kIdValue = 0x54535241;  ///< "TSRA"
inline constexpr std::uint32_t kVersionValue = 0x00010004;

enum class Opcode : std::uint8_t { kLoad = 0x01, kGemm = 0x02, kSpgemm = 0x03, kSpgemmA = 0x04 };
/// kMeta and kGbuf exist on engines with the sparse feature (FEATURES bit 5).
enum class Target : std::uint8_t { kAct = 0, kWgt = 1, kParam = 2, kMeta = 3, kGbuf = 4 };

enum class ErrorCode : std::uint8_t {
  kNone = 0,
  kIllegalOp = 1,
  kAddrRange = 2,
  kShape = 3,
  kBadField = 4,
  kStream = 5,
  kOverflow = 6,
  kBadParam = 7,
  kBadMeta = 8,
};
const char* error_name(ErrorCode code);

/// A PARAM word: bias int32, multiplier int32, shift int8, flags (byte 9).
inline constexpr unsigned kParamBytes = 10;
inline constexpr std::uint8_t kParamSingleRounding = 0x01;  ///< flags bit 0 (FEATURES bit 7)

namespace csr {
inline constexpr std::uint32_t kId = 0x000;
inline constexpr std::uint32_t kVersion = 0x004;
inline constexpr std::uint32_t kCfgArray = 0x008;
inline constexpr std::uint32_t kCfgActDepth = 0x00C;
inline constexpr std::uint32_t kCfgWgtDepth = 0x010;
inline constexpr std::uint32_t kCfgAccDepth = 0x014;
inline constexpr std::uint32_t kCfgParamDepth = 0x018;
inline constexpr std::uint32_t kCfgStream = 0x01C;
inline constexpr std::uint32_t kFeatures = 0x020;
inline constexpr std::uint32_t kCtrl = 0x024;
inline constexpr std::uint32_t kStatus = 0x028;
inline constexpr std::uint32_t kErrCode = 0x02C;
inline constexpr std::uint32_t kErrCmd = 0x030;
inline constexpr std::uint32_t kCfgGbufDepth = 0x034;
inline constexpr std::uint32_t kCfgMetaDepth = 0x038;
inline constexpr std::uint32_t kCmd0 = 0x040;
inline constexpr std::uint32_t kCmd1 = 0x044;
inline constexpr std::uint32_t kCmd2 = 0x048;
inline constexpr std::uint32_t kCmd3 = 0x04C;
inline constexpr std::uint32_t kPerfCycles = 0x080;
inline constexpr std::uint32_t kPerfBusy = 0x084;
inline constexpr std::uint32_t kPerfStall = 0x088;
inline constexpr std::uint32_t kPerfMacsLo = 0x08C;
inline constexpr std::uint32_t kPerfMacsHi = 0x090;
inline constexpr std::uint32_t kPerfLastOut = 0x094;
inline constexpr std::uint32_t kPerfCmds = 0x098;
inline constexpr std::uint32_t kPerfDropped = 0x09C;
}  // namespace csr

namespace ctrl {
inline constexpr std::uint32_t kClear = 1u << 0;
inline constexpr std::uint32_t kPerfClear = 1u << 1;
}  // namespace ctrl

namespace status {
inline constexpr std::uint32_t kBusy = 1u << 0;
inline constexpr std::uint32_t kError = 1u << 1;
inline constexpr std::uint32_t kFifoFull = 1u << 2;
}  // namespace status

using CommandWords = std::array<std::uint32_t, 4>;

struct LoadCommand {
  Target target = Target::kAct;
  std::uint32_t dst = 0;
  std::uint32_t count = 0;
};

struct GemmCommand {
  bool requant = false;
  bool per_channel = false;
  std::int8_t zero_point = 0;
  std::uint16_t act_base = 0;
  std::uint16_t wgt_base = 0;
  std::uint16_t param_base = 0;
  std::uint16_t m_rows = 0;
  std::uint8_t kt_count = 0;
  std::uint8_t nt_count = 0;
  std::int8_t clamp_lo = -128;
  std::int8_t clamp_hi = 127;
};

/// Sparse-gather GEMM (docs/isa.md, SPGEMM). Counts are plain (1-based); encode() stores
/// m_rows, k_count and len minus one, as the command words do.
/// With compressed_a it is SPGEMMA: the same fields with the operands' roles swapped. WGT
/// and META hold A's row blocks of Cols rows (nt_count of them, len entries a row),
/// m_rows is the rows of each block that are output, GBUF holds one column block of B and
/// param_base its Cols channels.
struct SpgemmCommand {
  bool compressed_a = false;  ///< SPGEMMA (FEATURES bit 6) instead of SPGEMM
  bool requant = false;
  bool per_channel = false;
  std::int8_t zero_point = 0;
  std::uint16_t gbuf_base = 0;
  std::uint16_t wgt_base = 0;
  std::uint16_t param_base = 0;
  std::uint16_t meta_base = 0;
  unsigned m_rows = 1;   ///< 1..64, <= Rows (SPGEMMA: <= Cols)
  unsigned k_count = 1;  ///< 1..256
  unsigned len = 1;      ///< entries per column and column block, 1..256
  std::uint8_t nt_count = 0;
  std::int8_t clamp_lo = -128;
  std::int8_t clamp_hi = 127;
};

inline constexpr unsigned kFeatureSparse = 5;       ///< FEATURES bit
inline constexpr unsigned kFeatureSparseA = 6;      ///< FEATURES bit: SPGEMMA
inline constexpr unsigned kFeatureRoundSingle = 7;  ///< FEATURES bit: single rounding
/// FEATURES bit set by an engine that counts only PERF_CYCLES and PERF_LAST_OUT (the
/// iCEBreaker's); the other PERF registers read 0 there.
inline constexpr unsigned kFeaturePerfLite = 16;
/// FEATURES bits every engine this runtime drives must have: dense GEMM, requantization,
/// per-channel parameters, hazard checks, TLAST checks (bits 0-4).
inline constexpr std::uint32_t kFeaturesRequired = 0x1F;

/// "1.4": a VERSION register value (major[31:16].minor[15:0]).
std::string version_text(std::uint32_t version);

CommandWords encode(const LoadCommand& cmd);
CommandWords encode(const GemmCommand& cmd);
CommandWords encode(const SpgemmCommand& cmd);

}  // namespace tessera::isa
