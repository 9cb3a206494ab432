// Command encoding, bit for bit as docs/isa.md lays out the four command words.
#include "tessera/isa.hpp"

namespace tessera::isa {
namespace {

// int8 fields travel as 8-bit two's complement; going through uint8_t keeps the sign
// bits of a negative value out of the neighbouring fields.
constexpr std::uint32_t byte_field(std::int8_t value) { return static_cast<std::uint8_t>(value); }

}  // namespace

const char* error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "NONE";
    case ErrorCode::kIllegalOp:
      return "ILLEGAL_OP";
    case ErrorCode::kAddrRange:
      return "ADDR_RANGE";
    case ErrorCode::kShape:
      return "SHAPE";
    case ErrorCode::kBadField:
      return "BAD_FIELD";
    case ErrorCode::kStream:
      return "STREAM";
    case ErrorCode::kOverflow:
      return "OVERFLOW";
    case ErrorCode::kBadParam:
      return "BAD_PARAM";
    case ErrorCode::kBadMeta:
      return "BAD_META";
  }
  // ERR_CODE is read from hardware, so codes this build does not know can appear.
  return "UNKNOWN";
}

CommandWords encode(const LoadCommand& cmd) {
  return {
      static_cast<std::uint32_t>(Opcode::kLoad) | (static_cast<std::uint32_t>(cmd.target) & 0x7u)
                                                      << 8,
      cmd.dst,
      cmd.count,
      0,
  };
}

CommandWords encode(const GemmCommand& cmd) {
  return {
      static_cast<std::uint32_t>(Opcode::kGemm) | std::uint32_t{cmd.requant} << 8 |
          std::uint32_t{cmd.per_channel} << 9 | byte_field(cmd.zero_point) << 16,
      std::uint32_t{cmd.act_base} | std::uint32_t{cmd.wgt_base} << 16,
      std::uint32_t{cmd.param_base} | std::uint32_t{cmd.m_rows} << 16,
      std::uint32_t{cmd.kt_count} | std::uint32_t{cmd.nt_count} << 8 |
          byte_field(cmd.clamp_lo) << 16 | byte_field(cmd.clamp_hi) << 24,
  };
}

CommandWords encode(const SpgemmCommand& cmd) {
  // The count fields hold the count minus one: an out-of-range count wraps into a
  // different legal value here, so callers check the ranges (the runtime does).
  const auto minus_one = [](unsigned count, unsigned bits) {
    return (count - 1u) & ((1u << bits) - 1u);
  };
  const Opcode opcode = cmd.compressed_a ? Opcode::kSpgemmA : Opcode::kSpgemm;
  return {
      static_cast<std::uint32_t>(opcode) | std::uint32_t{cmd.requant} << 8 |
          std::uint32_t{cmd.per_channel} << 9 | minus_one(cmd.m_rows, 6) << 10 |
          byte_field(cmd.zero_point) << 16 | minus_one(cmd.k_count, 8) << 24,
      std::uint32_t{cmd.gbuf_base} | std::uint32_t{cmd.wgt_base} << 16,
      std::uint32_t{cmd.param_base} | std::uint32_t{cmd.meta_base} << 16,
      std::uint32_t{cmd.nt_count} | minus_one(cmd.len, 8) << 8 | byte_field(cmd.clamp_lo) << 16 |
          byte_field(cmd.clamp_hi) << 24,
  };
}

std::string version_text(std::uint32_t version) {
  std::string text = std::to_string(version >> 16);
  text += '.';
  text += std::to_string(version & 0xFFFF);
  return text;
}

}  // namespace tessera::isa
