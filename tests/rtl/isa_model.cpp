#include "isa_model.hpp"

#include <algorithm>
#include <cstdio>

#include "tessera/golden.hpp"

namespace tessera::rtl_test {
namespace {

using isa::ErrorCode;

constexpr unsigned kAct = static_cast<unsigned>(isa::Target::kAct);
constexpr unsigned kWgt = static_cast<unsigned>(isa::Target::kWgt);
constexpr unsigned kParam = static_cast<unsigned>(isa::Target::kParam);
constexpr unsigned kMeta = static_cast<unsigned>(isa::Target::kMeta);
constexpr unsigned kGbuf = static_cast<unsigned>(isa::Target::kGbuf);

const char* target_name(unsigned target) {
  static const char* names[] = {"ACT", "WGT", "PARAM", "META", "GBUF", "target5", "target6",
                                "target7"};
  return target < 8 ? names[target] : "target?";
}

std::int32_t wrapping_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

std::int32_t le32(const std::vector<std::uint8_t>& bytes, int at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{bytes[at + i]} << (8 * i);
  return static_cast<std::int32_t>(v);
}

}  // namespace

IsaModel::IsaModel(const ModelConfig& config) : config_(config) {
  const int widths[kTargets] = {config.rows, config.cols, static_cast<int>(isa::kParamBytes),
                                config.cols, config.rows};
  for (unsigned t = 0; t < kTargets; ++t) {
    pads_[t].words.assign(depth(t), std::vector<std::uint8_t>(widths[t], 0));
    pads_[t].known.assign(depth(t), false);
  }
}

int IsaModel::depth(unsigned target) const {
  switch (target) {
    case kAct: return config_.act_depth;
    case kWgt: return config_.wgt_depth;
    case kParam: return config_.param_depth;
    case kMeta: return config_.sparse ? config_.meta_depth : 0;
    case kGbuf: return config_.sparse ? config_.gbuf_depth : 0;
    default: return 0;
  }
}

IsaModel::Load IsaModel::decode_load(const isa::CommandWords& w) {
  return {(w[0] >> 8) & 0x7u, w[1], w[2]};
}

isa::GemmCommand IsaModel::decode_gemm(const isa::CommandWords& w) {
  isa::GemmCommand g;
  g.requant = (w[0] >> 8) & 1;
  g.per_channel = (w[0] >> 9) & 1;
  g.zero_point = static_cast<std::int8_t>(w[0] >> 16);
  g.act_base = static_cast<std::uint16_t>(w[1]);
  g.wgt_base = static_cast<std::uint16_t>(w[1] >> 16);
  g.param_base = static_cast<std::uint16_t>(w[2]);
  g.m_rows = static_cast<std::uint16_t>(w[2] >> 16);
  g.kt_count = static_cast<std::uint8_t>(w[3]);
  g.nt_count = static_cast<std::uint8_t>(w[3] >> 8);
  g.clamp_lo = static_cast<std::int8_t>(w[3] >> 16);
  g.clamp_hi = static_cast<std::int8_t>(w[3] >> 24);
  return g;
}

isa::SpgemmCommand IsaModel::decode_spgemm(const isa::CommandWords& w) {
  isa::SpgemmCommand s;
  s.compressed_a = is_spgemm_a(w);
  s.requant = (w[0] >> 8) & 1;
  s.per_channel = (w[0] >> 9) & 1;
  s.m_rows = ((w[0] >> 10) & 0x3Fu) + 1;
  s.zero_point = static_cast<std::int8_t>(w[0] >> 16);
  s.k_count = ((w[0] >> 24) & 0xFFu) + 1;
  s.gbuf_base = static_cast<std::uint16_t>(w[1]);
  s.wgt_base = static_cast<std::uint16_t>(w[1] >> 16);
  s.param_base = static_cast<std::uint16_t>(w[2]);
  s.meta_base = static_cast<std::uint16_t>(w[2] >> 16);
  s.nt_count = static_cast<std::uint8_t>(w[3]);
  s.len = ((w[3] >> 8) & 0xFFu) + 1;
  s.clamp_lo = static_cast<std::int8_t>(w[3] >> 16);
  s.clamp_hi = static_cast<std::int8_t>(w[3] >> 24);
  return s;
}

isa::CommandWords load_words(unsigned target, std::uint32_t dst, std::uint32_t count) {
  return isa::encode(isa::LoadCommand{static_cast<isa::Target>(target), dst, count});
}

ErrorCode IsaModel::validate(const isa::CommandWords& w) const {
  if (is_load(w)) {
    const Load l = decode_load(w);
    if (l.target > (config_.sparse ? kGbuf : kParam)) return ErrorCode::kBadField;
    if (l.count == 0) return ErrorCode::kShape;
    if (std::uint64_t{l.dst} + l.count > static_cast<std::uint64_t>(depth(l.target)))
      return ErrorCode::kAddrRange;
    return ErrorCode::kNone;
  }
  if (is_gemm(w)) {
    const isa::GemmCommand g = decode_gemm(w);
    if (g.requant && g.clamp_lo > g.clamp_hi) return ErrorCode::kBadField;
    if (g.m_rows == 0 || g.kt_count == 0 || g.nt_count == 0) return ErrorCode::kShape;
    if (g.m_rows > config_.acc_depth) return ErrorCode::kShape;
    for (const Range& r : reads(w))
      if (r.hi > static_cast<std::uint64_t>(depth(r.target))) return ErrorCode::kAddrRange;
    return ErrorCode::kNone;
  }
  if (is_spgemm(w) && (is_spgemm_a(w) ? config_.sparse_a : config_.sparse)) {
    const isa::SpgemmCommand s = decode_spgemm(w);
    if (s.requant && s.clamp_lo > s.clamp_hi) return ErrorCode::kBadField;
    // M is 1..64 by its encoding; K and len are 1..256.
    if (s.nt_count == 0 || static_cast<int>(s.m_rows) > config_.rows) return ErrorCode::kShape;
    for (const Range& r : reads(w))
      if (r.hi > static_cast<std::uint64_t>(depth(r.target))) return ErrorCode::kAddrRange;
    return ErrorCode::kNone;
  }
  return ErrorCode::kIllegalOp;
}

std::vector<IsaModel::Range> IsaModel::reads(const isa::CommandWords& w) const {
  if (is_spgemm(w)) {
    const isa::SpgemmCommand s = decode_spgemm(w);
    const std::uint64_t entries = std::uint64_t{s.nt_count} * s.len;
    return {{kGbuf, s.gbuf_base, s.gbuf_base + std::uint64_t{s.k_count}},
            {kWgt, s.wgt_base, s.wgt_base + entries},
            {kMeta, s.meta_base, s.meta_base + entries},
            {kParam, s.param_base,
             s.param_base + std::uint64_t{is_spgemm_a(w) ? 1u : s.nt_count} * config_.cols}};
  }
  const isa::GemmCommand g = decode_gemm(w);
  const std::uint64_t kt = g.kt_count, nt = g.nt_count, m = g.m_rows;
  return {{kAct, g.act_base, g.act_base + kt * m},
          {kWgt, g.wgt_base, g.wgt_base + nt * kt * config_.rows},
          {kParam, g.param_base, g.param_base + nt * config_.cols}};
}

void IsaModel::forget(unsigned target, std::uint64_t lo, std::uint64_t hi) {
  Pad& p = pad(target);
  for (std::uint64_t a = lo; a < hi && a < p.known.size(); ++a) p.known[a] = false;
}

bool IsaModel::known(unsigned target, std::uint64_t lo, std::uint64_t hi) const {
  const Pad& p = pad(target);
  if (hi > p.known.size()) return false;
  for (std::uint64_t a = lo; a < hi; ++a)
    if (!p.known[a]) return false;
  return true;
}

const std::vector<std::uint8_t>& IsaModel::word(unsigned target, std::uint64_t addr) const {
  const Pad& p = pad(target);
  if (addr >= p.known.size() || !p.known[addr]) {
    throw ModelError(std::string("model: ") + target_name(target) + " word " +
                     std::to_string(addr) + " is read but holds no defined data");
  }
  return p.words[addr];
}

ErrorCode IsaModel::load(const isa::CommandWords& w, const Packet& packet) {
  const Load l = decode_load(w);
  Pad& p = pad(l.target);
  const std::size_t width = p.words.empty() ? 0 : p.words[0].size();
  for (std::uint32_t i = 0; i < packet.size(); ++i) {
    const InBeat& beat = packet[i];
    const bool last_expected = i + 1 == l.count;
    // docs/isa.md "Input packets": the beat showing a TLAST mismatch is not written.
    if (beat.last != last_expected) return ErrorCode::kStream;
    if (l.target == kParam) {
      const auto shift = static_cast<std::int8_t>(beat.bytes[8]);
      if (shift < -31 || shift > 30) return ErrorCode::kBadParam;
    }
    std::copy_n(beat.bytes.begin(), width, p.words[l.dst + i].begin());
    p.known[l.dst + i] = true;
    if (beat.last) return ErrorCode::kNone;
  }
  throw ModelError("model: the packet of a LOAD of " + std::to_string(l.count) +
                   " beats ends without TLAST");
}

std::int32_t IsaModel::output_lane(const Epilogue& e, int nt, int c, std::uint32_t sum) const {
  const auto& param = word(kParam, e.param_base + std::uint64_t(nt) * e.param_stride + c);
  std::int32_t acc = wrapping_add(static_cast<std::int32_t>(sum), le32(param, 0));
  if (!e.requant) return acc;
  // Per tensor: the first channel of the command (param_base) scales every channel.
  const auto& scale = e.per_channel ? param : word(kParam, e.param_base);
  const Rounding rounding =
      (scale[9] & isa::kParamSingleRounding) != 0 ? Rounding::kSingle : Rounding::kDouble;
  const std::int32_t scaled = multiply_by_quantized_multiplier(
      acc, le32(scale, 4), static_cast<std::int8_t>(scale[8]), rounding);
  return std::clamp<std::int32_t>(wrapping_add(scaled, e.zero_point), e.clamp_lo, e.clamp_hi);
}

template <class LaneSum>
std::vector<OutBeat> IsaModel::result_beats(const Epilogue& e, int nt_count, int m_rows,
                                            LaneSum lane_sum) const {
  std::vector<OutBeat> out;
  out.reserve(static_cast<std::size_t>(nt_count) * m_rows);
  for (int nt = 0; nt < nt_count; ++nt) {
    for (int m = 0; m < m_rows; ++m) {
      OutBeat beat;
      beat.last = m == m_rows - 1;
      beat.lanes.resize(config_.cols);
      for (int c = 0; c < config_.cols; ++c)
        beat.lanes[c] = output_lane(e, nt, c, lane_sum(nt, m, c));
      out.push_back(std::move(beat));
    }
  }
  return out;
}

std::vector<OutBeat> IsaModel::gemm(const isa::CommandWords& w) const {
  const isa::GemmCommand g = decode_gemm(w);
  const Epilogue epilogue{g.requant,  g.per_channel, g.zero_point, g.clamp_lo,
                          g.clamp_hi, g.param_base,  config_.cols};
  const int rows = config_.rows;
  const int m_rows = g.m_rows, kt_count = g.kt_count;
  return result_beats(epilogue, g.nt_count, m_rows, [&](int nt, int m, int c) {
    std::uint32_t sum = 0;
    for (int kt = 0; kt < kt_count; ++kt) {
      const auto& a = word(kAct, g.act_base + std::uint64_t(kt) * m_rows + m);
      for (int r = 0; r < rows; ++r) {
        const auto& b = word(kWgt, g.wgt_base + (std::uint64_t(nt) * kt_count + kt) * rows + r);
        sum += static_cast<std::uint32_t>(std::int32_t{static_cast<std::int8_t>(a[r])} *
                                          std::int32_t{static_cast<std::int8_t>(b[c])});
      }
    }
    return sum;
  });
}

bool IsaModel::bad_meta(const isa::CommandWords& w) const {
  const isa::SpgemmCommand s = decode_spgemm(w);
  const std::uint64_t entries = std::uint64_t{s.nt_count} * s.len;
  for (std::uint64_t e = 0; e < entries; ++e) {
    const auto& index = word(kMeta, s.meta_base + e);
    for (int c = 0; c < config_.cols; ++c)
      if (index[c] >= s.k_count) return true;
  }
  return false;
}

std::vector<OutBeat> IsaModel::spgemm(const isa::CommandWords& w) const {
  const isa::SpgemmCommand s = decode_spgemm(w);
  if (bad_meta(w)) throw ModelError("model: the values of an SPGEMM with BAD_META are undefined");
  const bool trans = is_spgemm_a(w);
  const Epilogue epilogue{s.requant,  s.per_channel, s.zero_point,
                          s.clamp_lo, s.clamp_hi,    s.param_base,
                          trans ? 0 : config_.cols};
  const int len = static_cast<int>(s.len), m_rows = static_cast<int>(s.m_rows);
  return result_beats(epilogue, s.nt_count, m_rows, [&](int nt, int m, int c) {
    // SPGEMM: acc = sum over column c's entries j of value(j, c) * A[m, index(j, c)],
    // A[m, k] being byte m of GBUF word gbuf_base + k. SPGEMMA: the entries are row m's
    // of A (byte m of the WGT and META words) and B[k, c] is byte c of GBUF word k.
    const int entry_lane = trans ? m : c, gbuf_byte = trans ? c : m;
    std::uint32_t sum = 0;
    for (int j = 0; j < len; ++j) {
      const std::uint64_t entry = std::uint64_t(nt) * len + j;
      const auto& value = word(kWgt, s.wgt_base + entry);
      const auto& index = word(kMeta, s.meta_base + entry);
      const auto& g = word(kGbuf, s.gbuf_base + std::uint64_t{index[entry_lane]});
      sum += static_cast<std::uint32_t>(
          std::int32_t{static_cast<std::int8_t>(g[gbuf_byte])} *
          std::int32_t{static_cast<std::int8_t>(value[entry_lane])});
    }
    return sum;
  });
}

std::vector<OutBeat> IsaModel::result_shape(const isa::CommandWords& w) const {
  int m_rows = 0, nt_count = 0;
  if (is_spgemm(w)) {
    const isa::SpgemmCommand s = decode_spgemm(w);
    m_rows = static_cast<int>(s.m_rows);
    nt_count = s.nt_count;
  } else {
    const isa::GemmCommand g = decode_gemm(w);
    m_rows = g.m_rows;
    nt_count = g.nt_count;
  }
  std::vector<OutBeat> out;
  for (int nt = 0; nt < nt_count; ++nt)
    for (int m = 0; m < m_rows; ++m)
      out.push_back({std::vector<std::int32_t>(config_.cols, 0), m == m_rows - 1});
  return out;
}

void IsaModel::latch(ErrorCode code, std::uint32_t index) {
  if (error()) return;
  err_code_ = code;
  err_cmd_ = index;
}

IsaModel::Outcome IsaModel::run(const isa::CommandWords& w, const Packet& packet) {
  const std::uint32_t index = take_index();
  Outcome outcome;
  if (error()) {
    outcome.dropped = true;
    ++dropped_;
    return outcome;
  }
  if (const ErrorCode check = validate(w); check != ErrorCode::kNone) {
    latch(check, index);
    outcome.dropped = true;
    outcome.error = check;
    ++dropped_;
    return outcome;
  }
  if (is_load(w)) {
    outcome.error = load(w, packet);
    if (outcome.error != ErrorCode::kNone) latch(outcome.error, index);
  } else if (is_spgemm(w)) {
    // BAD_META: the SPGEMM completes (its beats go out) and latches the error; every
    // later command is dropped.
    if (bad_meta(w)) {
      outcome.error = ErrorCode::kBadMeta;
      latch(outcome.error, index);
      outcome.out = result_shape(w);
      outcome.out_undefined = true;
    } else {
      outcome.out = spgemm(w);
    }
  } else {
    outcome.out = gemm(w);
  }
  return outcome;
}

void IsaModel::overflow() { latch(ErrorCode::kOverflow, take_index()); }

void IsaModel::clear() { err_code_ = ErrorCode::kNone; }

std::string describe(const isa::CommandWords& w) {
  char text[256];
  if (IsaModel::is_load(w)) {
    const auto l = IsaModel::decode_load(w);
    std::snprintf(text, sizeof text, "LOAD %s dst=%u count=%u", target_name(l.target), l.dst,
                  l.count);
  } else if (IsaModel::is_gemm(w)) {
    const auto g = IsaModel::decode_gemm(w);
    std::snprintf(text, sizeof text,
                  "GEMM act=%u wgt=%u param=%u M=%u kt=%u nt=%u requant=%d per_channel=%d "
                  "zp=%d clamp=[%d,%d]",
                  g.act_base, g.wgt_base, g.param_base, g.m_rows, g.kt_count, g.nt_count,
                  g.requant, g.per_channel, g.zero_point, g.clamp_lo, g.clamp_hi);
  } else if (IsaModel::is_spgemm(w)) {
    const auto s = IsaModel::decode_spgemm(w);
    std::snprintf(text, sizeof text,
                  "%s gbuf=%u wgt=%u meta=%u param=%u M=%u K=%u len=%u nt=%u requant=%d "
                  "per_channel=%d zp=%d clamp=[%d,%d]",
                  IsaModel::is_spgemm_a(w) ? "SPGEMMA" : "SPGEMM", s.gbuf_base, s.wgt_base, s.meta_base, s.param_base, s.m_rows, s.k_count, s.len,
                  s.nt_count, s.requant, s.per_channel, s.zero_point, s.clamp_lo, s.clamp_hi);
  } else {
    std::snprintf(text, sizeof text, "opcode 0x%02X (%08X %08X %08X %08X)", w[0] & 0xFF, w[0], w[1],
                  w[2], w[3]);
  }
  return text;
}

}  // namespace tessera::rtl_test
