// Constrained-random command-stream testbench for tsr_top (GitHub issue 7: "correct under
// every legal command stream"). Random programs go in through the AXI4-Lite command
// registers and the AXI4-Stream input, results come back on the AXI4-Stream output, and a
// scoreboard compares every result beat (lanes and TLAST), ERR_CODE, ERR_CMD and
// STATUS.ERROR with the sequential ISA model (isa_model.hpp).
//
// Programs: LOADs to every target and GEMMs of every shape the configuration allows (M from
// 1 to AccDepth, kt and nt >= 2, per-tensor and per-channel, requantization on and off),
// operands kept resident and reused, LOADs overwriting what earlier GEMMs still read, many
// GEMMs in flight, random input gaps and output back-pressure with long holds, CTRL.CLEAR
// in mid-flight, and every error code on purpose (OVERFLOW by filling the command FIFO).
// The host keeps count of free FIFO entries (FEATURES depth - STATUS level).
//
// On an engine with the sparse feature (FEATURES bit 5, read at run time) the programs mix
// in SPGEMMs (M from 1 to Rows, K from 1 to 256, len around M and up to 256, nt >= 2,
// repeated and duplicate indices, K-1 at the edge, zero padding values), on a square
// engine SPGEMMAs too (FEATURES bit 6: the same fields, A compressed), and LOADs to META
// and GBUF, sharing WGT and PARAM with the GEMMs, and the bad commands include SPGEMMs
// (BAD_FIELD, SHAPE, every ADDR_RANGE, several rules at once) and LOAD targets 5-7. Some
// segments give an SPGEMM metadata with an index >= K: BAD_META, latched for that SPGEMM;
// its beats are counted and their TLAST checked, their lanes (undefined) are not, and
// every command behind it is dropped, except LOADs the engine hands off before it finds
// the bad index (see the freedoms below). A run of 1000 commands or more on such an
// engine fails unless it issued SPGEMMs (and SPGEMMAs where bit 6 is set) and LOADs to
// META and GBUF and read BAD_META back from ERR_CODE. On an engine without the feature,
// opcodes 0x03 and 0x04 must be ILLEGAL_OP and LOAD targets 3-7 BAD_FIELD.
//
// The engine is followed through its debug outputs: the command FIFO pops in order, each
// command issued (dbg_cmd_issue_o) or dropped (dbg_cmd_drop_o), and the scoreboard runs the
// model at each pop, so a command the hardware runs too early or too late shows as a wrong
// result. Freedoms the ISA leaves to timing, and only those, are allowed:
//   - GEMMs and SPGEMMs behind a LOAD whose packet turns out bad (STREAM, BAD_PARAM) may
//     still be issued until that packet has ended (docs/isa.md says so of GEMMs; an SPGEMM
//     is held by the same hazard checks, so the same window is allowed it);
//   - LOADs right behind an SPGEMM with BAD_META (valid, and writing nothing the SPGEMM
//     reads in GBUF, WGT or META, with nothing else in between) may be handed off until the
//     error shows: until the engine drops a command or the SPGEMM's last beat leaves. The
//     host queues their packets withheld and sends one when the engine issues its LOAD (or
//     takes it out of the queue when it drops it); the scoreboard applies exactly the LOADs
//     that ran. A GEMM or SPGEMM behind the SPGEMM waits for the sparse unit and must be
//     dropped, and a command failing validation behind it must report BAD_META (docs/isa.md
//     "Errors"). ERR_CODE, ERR_CMD, STATUS.ERROR and PERF_DROPPED are read back and compared;
//   - a LOAD cut short by CLEAR leaves its words unknown (the generator reloads them before
//     any GEMM reads them); one result beat presented at CLEAR may still be taken.
//
// Usage: cmd_stream_tb [--config 4x4|8x4|16x16] [--seed S] [--commands N] [--quiet] [--no-overflow]
// Triage only, to look past a known bug: --no-overflow leaves out the deliberate FIFO overflow,
// --no-invalid-behind-packet the invalid commands queued behind a LOAD with a bad packet,
// --no-behind-bad-meta every command queued behind an SPGEMM with BAD_META (LOADs that may
// be handed off before the error shows, and commands failing validation behind it).
// Exit 0: every check passed; 1: a mismatch (the seed and the one command that reproduces
// it are printed); 2: usage.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "Vtsr_top.h"
#include "Vtsr_top_8x4.h"
// The 16x16 engine is in the ctest build; scripts/coverage.sh builds the small two only.
#if __has_include("Vtsr_top_16x16.h")
#include "Vtsr_top_16x16.h"
#define TSR_HAVE_16X16 1
#endif
#include "isa_model.hpp"
#include "top_host.hpp"

namespace {

using namespace tessera;
using namespace tessera::rtl_test;
using isa::ErrorCode;

constexpr unsigned kAct = 0, kWgt = 1, kParam = 2, kMeta = 3, kGbuf = 4;

// A run at least this long on an engine with the sparse feature must have issued SPGEMMs
// and LOADs to META and GBUF and seen BAD_META (the generator guarantees a BAD_META
// segment at least every kBadMetaEvery commands).
constexpr std::uint64_t kSparseCoverCommands = 1000;
constexpr std::uint64_t kBadMetaEvery = 400;

struct Mismatch {
  std::string what;
};

// ---- the host's script ----------------------------------------------------------------------
struct Action {
  enum Kind { kPush, kPushOverflow, kFillFifo, kDrain, kCheckErr, kClear, kIdle, kHostMode } kind;
  isa::CommandWords words{};
  Packet packet;             // kPush of a LOAD: its packet
  bool send_packet = false;  // the host sends the packet (the LOAD is expected to run)
  bool withheld = false;     // ... but holds it back (until CLEAR drops it)
  // A LOAD right behind an SPGEMM with BAD_META that the engine may hand off before the
  // error shows: its packet is queued withheld and goes out if the LOAD is issued.
  bool may_slip = false;
  bool expect_idle = true;   // kDrain: the engine must go idle
  int cycles = 0;            // kClear: delay before the write; kIdle: cycles
  int gap = 0, ready = 100, hold = 0;  // kHostMode
};

// What the scoreboard knows of a command in the FIFO.
struct Pushed {
  isa::CommandWords words;
  std::uint32_t index;
  Packet packet;
  bool sent;  // the host sends its packet
  int tag;
  bool may_slip = false;  // Action::may_slip: its packet is withheld until it is issued
};

struct ExpectedBeat {
  OutBeat beat;
  std::uint32_t cmd_index;
  int beat_number;
  bool lanes_defined = true;  // false: an SPGEMM with BAD_META (count and TLAST still are)
};

bool matches(const OutBeat& got, const ExpectedBeat& e) {
  return got.last == e.beat.last && got.lanes.size() == e.beat.lanes.size() &&
         (!e.lanes_defined || got.lanes == e.beat.lanes);
}

struct Options {
  bool quiet = false;
  bool no_overflow = false;
  bool no_invalid_behind_packet = false;
  bool no_behind_bad_meta = false;
  int expect_sparse = -1;  // the sparse feature the build gave this engine (-1: not known)
};

template <class Model>
class CommandStreamBench {
 public:
  CommandStreamBench(std::uint64_t seed, std::uint64_t commands, const Options& options)
      : host_(seed ^ 0x5DEECE66DULL),
        rng_(seed),
        cfg_(host_.config()),
        sb_(cfg_),
        plan_(cfg_),
        commands_(commands),
        quiet_(options.quiet),
        no_overflow_(options.no_overflow),
        no_invalid_behind_packet_(options.no_invalid_behind_packet),
        no_behind_bad_meta_(options.no_behind_bad_meta) {
    // The generator follows FEATURES; where the build says what the engine has, FEATURES
    // must say the same, or a misread bit would silently leave the sparse path untested.
    if (options.expect_sparse >= 0 && cfg_.sparse != (options.expect_sparse != 0))
      fail(std::string("FEATURES bit 5 (sparse) reads ") + (cfg_.sparse ? "1" : "0") +
           " but this engine was built with Sparse=" + std::to_string(options.expect_sparse));
  }

  void run() {
    std::uint64_t last_progress = 0;
    std::uint64_t progress_marker = 0;
    while (true) {
      if (script_.empty()) {
        if (generated_ >= commands_) {
          if (final_done_) break;
          final_done_ = true;
          script_.push_back(drain(true));
          script_.push_back(Action{Action::kCheckErr});
          continue;
        }
        generate_segment();
      }
      step_script();
      const CycleEvents ev = host_.tick();
      observe(ev);
      const std::uint64_t marker = pops_ + outs_ + in_beats_ + lite_ops_;
      if (marker != progress_marker) {
        progress_marker = marker;
        last_progress = host_.cycle();
      } else if (host_.cycle() - last_progress > 50000) {
        fail("no progress for 50000 cycles (hang): " + state_text());
      }
    }
    if (!quiet_) {
      std::printf(
          "cmd_stream_tb: %" PRIu64 " commands (%" PRIu64 " GEMMs, %" PRIu64 " SPGEMMs, %" PRIu64
          " LOADs, %" PRIu64 " dropped, %" PRIu64 " lost to a full FIFO), %" PRIu64
          " result beats, %" PRIu64 " CLEARs, errors seen:",
          generated_, gemms_issued_, spgemms_issued_, loads_issued_, drops_, overflows_, outs_,
          clears_);
      for (int c = 1; c < kErrorCodes; ++c)
        std::printf(" %s %" PRIu64, isa::error_name(static_cast<ErrorCode>(c)), errors_seen_[c]);
      std::printf("; %" PRIu64 " invalid commands met during a bad packet; %" PRIu64 " cycles\n",
                  invalid_during_packet_, host_.cycle());
      if (cfg_.sparse)
        std::printf("cmd_stream_tb: sparse (GBUF %d, META %d words): %" PRIu64
                    " SPGEMMs issued (%" PRIu64 " SPGEMMA), %" PRIu64
                    " with BAD_META; LOADs issued: META %" PRIu64
                    ", GBUF %" PRIu64 "; LOADs behind BAD_META that may slip %" PRIu64
                    ": %" PRIu64 " issued before the error, %" PRIu64 " dropped; %" PRIu64
                    " invalid commands dropped behind BAD_META before its last beat\n",
                    cfg_.gbuf_depth, cfg_.meta_depth, spgemms_issued_, spgemmas_issued_,
                    bad_meta_issued_,
                    loads_by_target_[kMeta], loads_by_target_[kGbuf], slip_candidates_,
                    slipped_loads_, slip_dropped_, invalid_behind_bad_meta_);
      else
        std::printf("cmd_stream_tb: no sparse feature: %" PRIu64
                    " SPGEMMs dropped as ILLEGAL_OP, %" PRIu64
                    " LOAD META/GBUF dropped as BAD_FIELD\n",
                    spgemm_refused_, sparse_load_refused_);
    }
    // Cover: a run this long on an engine with the sparse feature exercises its path.
    if (cfg_.sparse && generated_ >= kSparseCoverCommands) {
      std::string missing;
      if (spgemms_issued_ == 0) missing += " no SPGEMM issued;";
      if (cfg_.sparse_a && spgemmas_issued_ == 0) missing += " no SPGEMMA issued;";
      if (loads_by_target_[kMeta] == 0) missing += " no LOAD META issued;";
      if (loads_by_target_[kGbuf] == 0) missing += " no LOAD GBUF issued;";
      if (errors_seen_[static_cast<int>(ErrorCode::kBadMeta)] == 0)
        missing += " BAD_META never read back from ERR_CODE;";
      if (!missing.empty())
        fail("cover: " + std::to_string(generated_) +
             " commands on an engine with the sparse feature, but" + missing);
    }
  }

  std::string history() const {
    std::string text;
    for (const auto& line : history_) text += "    " + line + "\n";
    return text;
  }
  std::uint64_t cycle() const { return host_.cycle(); }

 private:
  // ---- generation -----------------------------------------------------------------------
  int rand(int lo, int hi) {  // inclusive
    return hi <= lo ? lo : lo + static_cast<int>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  InBeat junk_beat() {
    InBeat beat;
    beat.bytes.resize(cfg_.in_bytes);
    for (auto& b : beat.bytes) b = static_cast<std::uint8_t>(rng_());
    return beat;
  }

  // The highest LOAD target this engine takes.
  unsigned max_target() const { return cfg_.sparse ? kGbuf : kParam; }

  std::int8_t legal_shift() {
    return static_cast<std::int8_t>(chance(80) ? rand(-11, -4) : rand(-31, 30));
  }

  Packet make_packet(unsigned target, std::uint32_t count) {
    Packet packet;
    const bool sensible = chance(80);
    for (std::uint32_t i = 0; i < count; ++i) {
      InBeat beat = junk_beat();
      if (target == kParam) {
        std::int32_t bias, mult;
        if (sensible) {
          bias = rand(-3000, 3000);
          mult = static_cast<std::int32_t>((1u << 30) + (rng_() & 0x3FFFFFFF));
        } else {
          bias = static_cast<std::int32_t>(rng_());
          mult = chance(10) ? INT32_MIN : static_cast<std::int32_t>(rng_());
        }
        const std::int8_t shift = sensible ? static_cast<std::int8_t>(rand(-11, -4)) : legal_shift();
        for (int b = 0; b < 4; ++b) {
          beat.bytes[b] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(bias) >> (8 * b));
          beat.bytes[4 + b] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(mult) >> (8 * b));
        }
        beat.bytes[8] = static_cast<std::uint8_t>(shift);
      }
      beat.last = i + 1 == count;
      packet.push_back(std::move(beat));
    }
    return packet;
  }

  // A command the plan model runs now; its packet goes out if the plan says it runs.
  void add(const isa::CommandWords& w, Packet packet = {}) {
    Action a{Action::kPush};
    a.words = w;
    const bool valid = plan_.validate(w) == ErrorCode::kNone;
    const IsaModel::Outcome o = plan_.run(w, packet);
    // docs/isa.md "Errors": a LOAD behind an SPGEMM with BAD_META may be handed off before
    // the error latches, if it writes nothing the SPGEMM reads (GBUF, WGT, META) and
    // nothing stands in between that waits for the sparse unit or fails validation.
    if (o.error == ErrorCode::kBadMeta) {
      slip_after_ = plan_.reads(w);
    } else if (slip_after_) {
      a.may_slip = IsaModel::is_load(w) && valid && !overlaps_sparse_reads(*slip_after_, w);
      if (!a.may_slip) slip_after_.reset();
    }
    a.send_packet = IsaModel::is_load(w) && (!o.dropped || a.may_slip);
    a.withheld = a.may_slip;
    a.packet = std::move(packet);
    if (a.may_slip) ++slip_candidates_;
    script_.push_back(std::move(a));
    ++generated_;
  }

  // Whether a LOAD writes what an SPGEMM reads in GBUF, WGT or META (its PARAM words are
  // guarded by the store unit's tracker, which may let a LOAD through earlier).
  static bool overlaps_sparse_reads(const std::vector<IsaModel::Range>& reads,
                                    const isa::CommandWords& load) {
    const IsaModel::Load l = IsaModel::decode_load(load);
    for (const IsaModel::Range& r : reads)
      if (r.target != kParam && r.target == l.target && l.dst < r.hi &&
          std::uint64_t{l.dst} + l.count > r.lo)
        return true;
    return false;
  }

  // A LOAD that writes nothing the SPGEMM `w` reads in GBUF, WGT or META (so it may be
  // handed off behind it), if a few tries find one; else any LOAD.
  void add_load_clear_of(const isa::CommandWords& w) {
    const std::vector<IsaModel::Range> reads = plan_.reads(w);
    for (int attempt = 0; attempt < 16; ++attempt) {
      const unsigned target = rand(0, static_cast<int>(max_target()));
      const int depth = plan_.depth(target);
      const std::uint32_t count = rand(1, std::min(depth, 12));
      const std::uint32_t dst = rand(0, depth - static_cast<int>(count));
      const isa::CommandWords l = load_words(target, dst, count);
      if (attempt == 15 || !overlaps_sparse_reads(reads, l)) {
        add(l, make_packet(target, count));
        return;
      }
    }
  }

  void add_load(unsigned target, std::uint32_t dst, std::uint32_t count) {
    add(load_words(target, dst, count), make_packet(target, count));
  }

  // A LOAD covering [lo, hi): exactly, split in two, or with a margin.
  void reload(unsigned target, std::uint32_t lo, std::uint32_t hi) {
    const int depth = plan_.depth(target);
    const int roll = rand(0, 9);
    if (roll < 2 && hi - lo >= 2) {
      const std::uint32_t mid = lo + rand(1, static_cast<int>(hi - lo) - 1);
      add_load(target, lo, mid - lo);
      add_load(target, mid, hi - mid);
    } else if (roll < 3) {
      const std::uint32_t new_lo = lo - rand(0, static_cast<int>(std::min<std::uint32_t>(lo, 3)));
      const std::uint32_t new_hi = hi + rand(0, std::min(depth - static_cast<int>(hi), 3));
      add_load(target, new_lo, new_hi - new_lo);
    } else {
      add_load(target, lo, hi - lo);
    }
  }

  struct Region {
    std::uint32_t act, wgt, param;
    int m, kt, nt;
  };

  int pick_m() {
    const int acc = cfg_.acc_depth, edge = cfg_.rows + cfg_.cols;
    switch (rand(0, 5)) {
      case 0: return 1;
      case 1: return acc;
      case 2: return std::clamp(edge + rand(-2, 1), 1, acc);
      case 3: return rand(1, std::min(acc, edge - 1));
      default: return rand(1, acc);
    }
  }

  // A random legal GEMM shape and placement.
  Region pick_region() {
    Region r{};
    for (;;) {
      r.m = pick_m();
      const int max_nt = cfg_.param_depth / cfg_.cols;
      r.nt = chance(40) ? std::min(2, max_nt) : rand(1, max_nt);
      const int max_kt_wgt = cfg_.wgt_depth / (r.nt * cfg_.rows);
      const int max_kt_act = cfg_.act_depth / r.m;
      const int max_kt = std::min({max_kt_wgt, max_kt_act, 255});
      if (max_kt < 1) continue;
      r.kt = chance(40) ? std::min(2, max_kt) : rand(1, max_kt);
      break;
    }
    r.act = rand(0, cfg_.act_depth - r.kt * r.m);
    r.wgt = rand(0, cfg_.wgt_depth - r.nt * r.kt * cfg_.rows);
    r.param = rand(0, cfg_.param_depth - r.nt * cfg_.cols);
    return r;
  }

  // Output settings, GEMM and SPGEMM alike.
  struct Epilogue {
    bool requant, per_channel;
    std::int8_t zero_point, clamp_lo, clamp_hi;
  };
  Epilogue pick_epilogue() {
    Epilogue e{};
    e.requant = chance(60);
    e.per_channel = chance(50);
    e.zero_point = static_cast<std::int8_t>(chance(50) ? 0 : rand(-128, 127));
    int lo = -128, hi = 127;
    if (chance(40)) {
      lo = rand(-128, 127);
      hi = rand(lo, 127);
    } else if (chance(20)) {
      lo = 0;  // ReLU
    }
    // With requant off the clamp is unused and not checked: reversed on purpose at times.
    if (!e.requant && chance(15)) {
      lo = rand(-127, 127);
      hi = rand(-128, lo - 1);
    }
    e.clamp_lo = static_cast<std::int8_t>(lo);
    e.clamp_hi = static_cast<std::int8_t>(hi);
    return e;
  }

  isa::CommandWords gemm_words(const Region& r) {
    const Epilogue e = pick_epilogue();
    isa::GemmCommand g;
    g.requant = e.requant;
    g.per_channel = e.per_channel;
    g.zero_point = e.zero_point;
    g.act_base = static_cast<std::uint16_t>(r.act);
    g.wgt_base = static_cast<std::uint16_t>(r.wgt);
    g.param_base = static_cast<std::uint16_t>(r.param);
    g.m_rows = static_cast<std::uint16_t>(r.m);
    g.kt_count = static_cast<std::uint8_t>(r.kt);
    g.nt_count = static_cast<std::uint8_t>(r.nt);
    g.clamp_lo = e.clamp_lo;
    g.clamp_hi = e.clamp_hi;
    return isa::encode(g);
  }

  void add_gemm() {
    Region r;
    if (!resident_.empty() && chance(45)) {
      r = resident_[rand(0, static_cast<int>(resident_.size()) - 1)];
      // Same placement, maybe another M (ACT range changes with it).
      if (chance(30)) {
        const int m = pick_m();
        if (r.act + static_cast<std::uint64_t>(r.kt) * m <= static_cast<std::uint64_t>(cfg_.act_depth))
          r.m = m;
      }
    } else {
      r = pick_region();
    }
    const std::uint32_t act_hi = r.act + r.kt * r.m;
    const std::uint32_t wgt_hi = r.wgt + r.nt * r.kt * cfg_.rows;
    const std::uint32_t param_hi = r.param + r.nt * cfg_.cols;
    // Reload what is unknown, and some of what is known (new data over resident operands).
    if (!plan_.known(kAct, r.act, act_hi) || chance(35)) reload(kAct, r.act, act_hi);
    if (!plan_.known(kWgt, r.wgt, wgt_hi) || chance(35)) reload(kWgt, r.wgt, wgt_hi);
    if (!plan_.known(kParam, r.param, param_hi) || chance(35)) reload(kParam, r.param, param_hi);
    add(gemm_words(r));
    resident_.push_back(r);
    if (resident_.size() > 6) resident_.erase(resident_.begin());
  }

  // A LOAD anywhere: overwrites operands earlier GEMMs may still be reading.
  void add_random_load() {
    const unsigned target = rand(0, static_cast<int>(max_target()));
    const int depth = plan_.depth(target);
    const std::uint32_t count = rand(1, std::min(depth, 12));
    const std::uint32_t dst = rand(0, depth - static_cast<int>(count));
    add_load(target, dst, count);
  }

  void add_legal_commands(int n) {
    for (int i = 0; i < n; ++i) {
      if (chance(25))
        add_random_load();
      else if (cfg_.sparse && chance(40))
        add_legal_spgemm();
      else
        add_gemm();
    }
  }

  // ---- sparse (SPGEMM) generation ---------------------------------------------------------
  struct SpRegion {
    std::uint32_t gbuf, wgt, meta, param;
    int m, k, len, nt;
    bool trans;  // SPGEMMA: A compressed, one column block of PARAM for every row block
    std::uint32_t entries() const { return static_cast<std::uint32_t>(nt * len); }
    std::uint32_t param_words(int cols) const {
      return static_cast<std::uint32_t>((trans ? 1 : nt) * cols);
    }
  };

  // A base for `span` words in a scratchpad of `depth`: often low, so the ranges of
  // different commands, and the LOADs writing them, overlap even in a deep META or GBUF.
  std::uint32_t pick_base(int depth, int span) {
    const int window = chance(60) ? std::min(depth, std::max(2 * span, 64)) : depth;
    return static_cast<std::uint32_t>(rand(0, window - span));
  }

  // A random legal SPGEMM shape and placement.
  SpRegion pick_sp_region() {
    SpRegion r{};
    const int rows = cfg_.rows;
    switch (rand(0, 3)) {
      case 0: r.m = 1; break;
      case 1: r.m = rows; break;
      default: r.m = rand(1, rows); break;
    }
    const int max_nt = std::min(255, cfg_.param_depth / cfg_.cols);
    int max_len = 0;
    do {
      r.nt = chance(40) ? std::min(2, max_nt) : rand(1, max_nt);
      max_len = std::min({256, cfg_.wgt_depth / r.nt, cfg_.meta_depth / r.nt});
    } while (max_len < 1);
    switch (rand(0, 4)) {
      case 0: r.len = 1; break;
      case 1: r.len = max_len; break;
      // Around M: a block shorter than M waits for the previous block's hand-off.
      case 2: r.len = std::clamp(r.m + rand(-2, 1), 1, max_len); break;
      default: r.len = rand(1, std::min(max_len, 3 * rows)); break;
    }
    const int max_k = std::min(256, cfg_.gbuf_depth);
    switch (rand(0, 4)) {
      case 0: r.k = 1; break;
      case 1: r.k = max_k; break;
      case 2: r.k = rand(1, std::min(max_k, 2 * rows)); break;
      default: r.k = rand(1, max_k); break;
    }
    r.gbuf = pick_base(cfg_.gbuf_depth, r.k);
    r.wgt = pick_base(cfg_.wgt_depth, static_cast<int>(r.entries()));
    r.meta = pick_base(cfg_.meta_depth, static_cast<int>(r.entries()));
    r.trans = cfg_.sparse_a && chance(40);
    const int param_span = static_cast<int>(r.param_words(cfg_.cols));
    r.param = static_cast<std::uint32_t>(rand(0, cfg_.param_depth - param_span));
    return r;
  }

  isa::CommandWords sp_words(const SpRegion& r) {
    const Epilogue e = pick_epilogue();
    isa::SpgemmCommand s;
    s.requant = e.requant;
    s.per_channel = e.per_channel;
    s.zero_point = e.zero_point;
    s.clamp_lo = e.clamp_lo;
    s.clamp_hi = e.clamp_hi;
    s.gbuf_base = static_cast<std::uint16_t>(r.gbuf);
    s.wgt_base = static_cast<std::uint16_t>(r.wgt);
    s.meta_base = static_cast<std::uint16_t>(r.meta);
    s.param_base = static_cast<std::uint16_t>(r.param);
    s.m_rows = static_cast<unsigned>(r.m);
    s.k_count = static_cast<unsigned>(r.k);
    s.len = static_cast<unsigned>(r.len);
    s.nt_count = static_cast<std::uint8_t>(r.nt);
    s.compressed_a = r.trans;
    return isa::encode(s);
  }

  // A K index below k: the edges 0 and K-1 often, so repeats occur too.
  std::uint8_t legal_index(int k) {
    switch (rand(0, 5)) {
      case 0: return 0;
      case 1: return static_cast<std::uint8_t>(k - 1);
      default: return static_cast<std::uint8_t>(rand(0, k - 1));
    }
  }

  // META words of `count` entries for K = k; `bad` entries (random entry and column, the
  // last entry often: read last, found last) get an index >= K instead.
  Packet meta_packet(std::uint32_t count, int k, int bad) {
    Packet packet;
    for (std::uint32_t i = 0; i < count; ++i) {
      InBeat beat = junk_beat();  // bytes past the word are ignored: junk on purpose
      for (int c = 0; c < cfg_.cols; ++c) beat.bytes[c] = legal_index(k);
      beat.last = i + 1 == count;
      packet.push_back(std::move(beat));
    }
    for (int i = 0; i < bad; ++i) {
      const int at = chance(40) ? static_cast<int>(count) - 1 : rand(0, static_cast<int>(count) - 1);
      packet[at].bytes[rand(0, cfg_.cols - 1)] =
          static_cast<std::uint8_t>(chance(50) ? k : rand(k, 255));
    }
    return packet;
  }

  // WGT words of sparse values: random, a quarter of them 0 (padding).
  Packet value_packet(std::uint32_t count) {
    Packet packet = make_packet(kWgt, count);
    for (auto& beat : packet)
      for (int c = 0; c < cfg_.cols; ++c)
        if (chance(25)) beat.bytes[c] = 0;
    return packet;
  }

  // LOADs of `packet` to [dst, dst + its size): in one, or split in two.
  void load_split(unsigned target, std::uint32_t dst, Packet packet) {
    const auto n = static_cast<std::uint32_t>(packet.size());
    if (n >= 2 && chance(20)) {
      const auto mid = static_cast<std::uint32_t>(rand(1, static_cast<int>(n) - 1));
      Packet tail(packet.begin() + mid, packet.end());
      packet.resize(mid);
      packet.back().last = true;
      add(load_words(target, dst, mid), std::move(packet));
      add(load_words(target, dst + mid, n - mid), std::move(tail));
    } else {
      add(load_words(target, dst, n), std::move(packet));
    }
  }

  // An SPGEMM on r, its operands loaded where the plan does not know them (and at times
  // anew, over resident ones). META is reloaded where it holds an index >= this K; with
  // bad_entries > 0 it is loaded with that many such indices: BAD_META.
  isa::CommandWords add_spgemm(const SpRegion& r, int bad_entries = 0) {
    const std::uint32_t kn = r.entries();
    const std::uint32_t gbuf_hi = r.gbuf + r.k, param_hi = r.param + r.param_words(cfg_.cols);
    if (!plan_.known(kGbuf, r.gbuf, gbuf_hi) || chance(35)) reload(kGbuf, r.gbuf, gbuf_hi);
    if (!plan_.known(kWgt, r.wgt, r.wgt + kn) || chance(35))
      load_split(kWgt, r.wgt, value_packet(kn));
    const isa::CommandWords w = sp_words(r);
    if (bad_entries > 0 || !plan_.known(kMeta, r.meta, r.meta + kn) || plan_.bad_meta(w) ||
        chance(35))
      load_split(kMeta, r.meta, meta_packet(kn, r.k, bad_entries));
    if (!plan_.known(kParam, r.param, param_hi) || chance(35)) reload(kParam, r.param, param_hi);
    add(w);
    if (bad_entries == 0) {
      sp_resident_.push_back(r);
      if (sp_resident_.size() > 6) sp_resident_.erase(sp_resident_.begin());
    }
    return w;
  }

  void add_legal_spgemm() {
    SpRegion r;
    if (!sp_resident_.empty() && chance(45)) {
      r = sp_resident_[rand(0, static_cast<int>(sp_resident_.size()) - 1)];
      // Same operands, another M or K (a smaller K may need new metadata).
      if (chance(30)) r.m = rand(1, cfg_.rows);
      if (chance(20)) r.k = rand(1, std::min(256, cfg_.gbuf_depth - static_cast<int>(r.gbuf)));
    } else {
      r = pick_sp_region();
    }
    add_spgemm(r);
  }

  // An SPGEMM whose metadata holds indices >= K: it completes, its results undefined, and
  // latches BAD_META; every command behind it is dropped, but for LOADs handed off before
  // the engine finds the bad index.
  void add_bad_meta_segment() {
    add_legal_commands(rand(0, 8));
    SpRegion r = pick_sp_region();
    if (r.k > 255) r.k = rand(1, 255);  // no uint8 index is >= 256
    // At times a long SPGEMM (many entries, read before the bad one is found), so LOADs
    // behind it have time to be handed off.
    if (chance(30)) {
      const int max_len = std::min({256, cfg_.wgt_depth / r.nt, cfg_.meta_depth / r.nt});
      r.len = std::max(r.len, rand(max_len / 2, max_len));
      r.wgt = pick_base(cfg_.wgt_depth, static_cast<int>(r.entries()));
      r.meta = pick_base(cfg_.meta_depth, static_cast<int>(r.entries()));
    }
    const isa::CommandWords w = add_spgemm(r, chance(70) ? 1 : rand(2, 4));
    if (!no_behind_bad_meta_) {
      // LOADs clear of what it reads, which may slip past it, then any mix.
      if (chance(60))
        for (int i = rand(1, 3); i > 0; --i) add_load_clear_of(w);
      add_after_error(rand(0, 6));
    }
    slip_after_.reset();
    script_.push_back(drain(true));
    script_.push_back(Action{Action::kCheckErr});
    end_with_clear(rand(0, 3));
  }

  // An SPGEMM reading only words the plan already knows, with legal metadata, if one exists.
  bool add_resident_spgemm() {
    for (const SpRegion& r : sp_resident_) {
      const std::uint32_t kn = r.entries();
      if (!plan_.known(kGbuf, r.gbuf, r.gbuf + r.k) || !plan_.known(kWgt, r.wgt, r.wgt + kn) ||
          !plan_.known(kMeta, r.meta, r.meta + kn) ||
          !plan_.known(kParam, r.param, r.param + r.param_words(cfg_.cols)))
        continue;
      Action a{Action::kPush};
      a.words = sp_words(r);
      if (plan_.bad_meta(a.words)) continue;
      plan_.run(a.words);  // dropped in the plan (an error is latched); may run in the window
      script_.push_back(std::move(a));
      ++generated_;
      return true;
    }
    return false;
  }

  // A GEMM reading only words the plan already knows (no LOAD in front), if one exists.
  bool add_resident_gemm() {
    for (const Region& r : resident_) {
      if (plan_.known(kAct, r.act, r.act + r.kt * r.m) &&
          plan_.known(kWgt, r.wgt, r.wgt + r.nt * r.kt * cfg_.rows) &&
          plan_.known(kParam, r.param, r.param + r.nt * cfg_.cols)) {
        Action a{Action::kPush};
        a.words = gemm_words(r);
        plan_.run(a.words);  // dropped in the plan (an error is latched); may run in the window
        script_.push_back(std::move(a));
        ++generated_;
        return true;
      }
    }
    return false;
  }

  isa::CommandWords bad_command(ErrorCode code) {
    isa::CommandWords w{static_cast<std::uint32_t>(rng_()), static_cast<std::uint32_t>(rng_()),
                        static_cast<std::uint32_t>(rng_()), static_cast<std::uint32_t>(rng_())};
    const Region r = pick_region();
    if (cfg_.sparse && code != ErrorCode::kIllegalOp && chance(35)) {
      w = bad_spgemm(code);
      if (plan_.validate(w) != code)
        throw Mismatch{"testbench: bad_spgemm made " + describe(w) + ", " +
                       isa::error_name(plan_.validate(w)) + " instead of " + isa::error_name(code)};
      return w;
    }
    switch (code) {
      case ErrorCode::kIllegalOp: {
        std::uint32_t op;
        // 0x03 is SPGEMM on an engine with the sparse feature, 0x04 SPGEMMA on a square one
        // with it; ILLEGAL_OP without.
        if (!cfg_.sparse_a && chance(30)) {
          op = cfg_.sparse ? 0x04 : rand(3, 4);
        } else {
          do op = chance(30) ? 0 : rng_() & 0xFF; while (op >= 1 && op <= 4);
        }
        w[0] = (w[0] & ~0xFFu) | op;
        break;
      }
      case ErrorCode::kAddrRange:
        if (chance(50)) {
          const unsigned target = rand(0, static_cast<int>(max_target()));
          const std::uint32_t depth = plan_.depth(target);
          const std::uint32_t count = chance(50) ? rand(1, depth) : static_cast<std::uint32_t>(rng_()) | 1;
          const std::uint32_t dst =
              chance(50) ? depth - std::min(count, depth) + rand(1, 4) : static_cast<std::uint32_t>(rng_());
          w = load_words(target, dst, count);
        } else {
          w = gemm_words(r);
          isa::GemmCommand g = IsaModel::decode_gemm(w);
          g.requant = false;
          switch (rand(0, 2)) {
            case 0: g.act_base = static_cast<std::uint16_t>(cfg_.act_depth - g.kt_count * g.m_rows + rand(1, 40)); break;
            case 1: g.wgt_base = static_cast<std::uint16_t>(cfg_.wgt_depth - g.nt_count * g.kt_count * cfg_.rows + rand(1, 40)); break;
            default: g.param_base = static_cast<std::uint16_t>(cfg_.param_depth - g.nt_count * cfg_.cols + rand(1, 40)); break;
          }
          if (chance(20)) g.act_base = 0xFFFF;
          w = isa::encode(g);
        }
        break;
      case ErrorCode::kShape:
        if (chance(30)) {
          w = load_words(rand(0, static_cast<int>(max_target())), static_cast<std::uint32_t>(rng_()), 0);
        } else {
          isa::GemmCommand g = IsaModel::decode_gemm(gemm_words(r));
          g.requant = false;
          switch (rand(0, 3)) {
            case 0: g.m_rows = 0; break;
            case 1: g.kt_count = 0; break;
            case 2: g.nt_count = 0; break;
            default: g.m_rows = static_cast<std::uint16_t>(cfg_.acc_depth + rand(1, 100)); break;
          }
          w = isa::encode(g);
        }
        break;
      default:  // kBadField
        if (chance(40)) {
          // Targets 5-7, and 3-4 (META, GBUF) without the sparse feature.
          w = load_words(0, rand(0, 3), rand(1, 4));
          w[0] |= static_cast<std::uint32_t>(rand(static_cast<int>(max_target()) + 1, 7)) << 8;
        } else {
          isa::GemmCommand g = IsaModel::decode_gemm(gemm_words(r));
          g.requant = true;
          const int lo = rand(-127, 127);
          g.clamp_lo = static_cast<std::int8_t>(lo);
          g.clamp_hi = static_cast<std::int8_t>(rand(-128, lo - 1));
          w = isa::encode(g);
        }
        break;
    }
    if (plan_.validate(w) != code) throw Mismatch{"testbench: bad_command made the wrong error"};
    return w;
  }

  // An SPGEMM failing validation with `code`; at times it breaks a lower-ranked rule too
  // (the order is BAD_FIELD, SHAPE, ADDR_RANGE: the first one it fails is reported).
  isa::CommandWords bad_spgemm(ErrorCode code) {
    const SpRegion region = pick_sp_region();
    isa::SpgemmCommand s = IsaModel::decode_spgemm(sp_words(region));
    const auto base_past = [&](int depth, int span) {
      return static_cast<std::uint16_t>(std::min(depth - span + rand(1, 40), 0xFFFF));
    };
    const int entries = s.nt_count * static_cast<int>(s.len);
    const auto break_range = [&] {
      switch (rand(0, 3)) {
        case 0:
          s.gbuf_base = chance(20) ? 0xFFFF : base_past(cfg_.gbuf_depth, static_cast<int>(s.k_count));
          break;
        case 1: s.wgt_base = base_past(cfg_.wgt_depth, entries); break;
        case 2: s.meta_base = base_past(cfg_.meta_depth, entries); break;
        default:
          s.param_base = base_past(cfg_.param_depth, static_cast<int>(region.param_words(cfg_.cols)));
          break;
      }
    };
    const auto break_shape = [&] {
      if (cfg_.rows < 64 && chance(50))
        s.m_rows = static_cast<unsigned>(rand(cfg_.rows + 1, 64));
      else
        s.nt_count = 0;
    };
    switch (code) {
      case ErrorCode::kAddrRange:
        break_range();
        break;
      case ErrorCode::kShape:
        if (chance(30)) break_range();
        break_shape();
        break;
      default: {  // kBadField
        if (chance(30)) break_range();
        if (chance(30)) break_shape();
        s.requant = true;
        const int lo = rand(-127, 127);
        s.clamp_lo = static_cast<std::int8_t>(lo);
        s.clamp_hi = static_cast<std::int8_t>(rand(-128, lo - 1));
        break;
      }
    }
    return isa::encode(s);  // decode_spgemm kept compressed_a
  }

  // Commands behind an error: any mix, all dropped (no packets sent).
  void add_after_error(int n, bool invalid = true) {
    for (int i = 0; i < n; ++i) {
      if (chance(30)) {
        add_random_load();
      } else if (invalid && chance(20)) {
        add(bad_command(static_cast<ErrorCode>(rand(1, 4))));
      } else if (cfg_.sparse && chance(35)) {
        add(sp_words(pick_sp_region()));
      } else {
        Region r = pick_region();
        add(gemm_words(r));
      }
    }
  }

  Action drain(bool expect_idle) {
    Action a{Action::kDrain};
    a.expect_idle = expect_idle;
    return a;
  }

  void end_with_clear(int delay) {
    Action c{Action::kClear};
    c.cycles = delay;
    script_.push_back(c);
    script_.push_back(Action{Action::kCheckErr});
  }

  void host_mode() {
    Action a{Action::kHostMode};
    const int gaps[] = {0, 0, 10, 50, 80};
    const int readies[] = {100, 100, 70, 30, 5};
    const int holds[] = {0, 0, 3, 10};
    a.gap = gaps[rand(0, 4)];
    a.ready = readies[rand(0, 4)];
    a.hold = holds[rand(0, 3)];
    script_.push_back(a);
  }

  void generate_segment() {
    if (chance(30)) host_mode();
    if (cfg_.sparse && (chance(6) || generated_ - bad_meta_generated_at_ >= kBadMetaEvery)) {
      bad_meta_generated_at_ = generated_;
      add_bad_meta_segment();
      return;
    }
    const int roll = rand(0, 99);
    if (roll < 55) {  // a legal program, left running into the next one
      add_legal_commands(rand(3, 20));
      if (chance(10)) script_.push_back(drain(true));
      if (chance(10)) script_.push_back(Action{Action::kCheckErr});
    } else if (roll < 70) {  // a validation error: the command is dropped, so is the rest
      add_legal_commands(rand(0, 8));
      add(bad_command(static_cast<ErrorCode>(rand(1, 4))));
      add_after_error(rand(0, 6));
      script_.push_back(drain(true));
      script_.push_back(Action{Action::kCheckErr});
      end_with_clear(rand(0, 3));
    } else if (roll < 82) {  // a bad input packet: STREAM (early, late) or BAD_PARAM
      add_legal_commands(rand(0, 8));
      add_bad_packet_load();
      for (int i = rand(0, 3); i > 0; --i) {
        if (cfg_.sparse && chance(40))
          add_resident_spgemm();
        else
          add_resident_gemm();
      }
      // A command failing validation behind the bad LOAD reaches the dispatcher while the
      // packet still streams: in program order the LOAD's error comes first.
      if (!no_invalid_behind_packet_ && chance(40)) add(bad_command(static_cast<ErrorCode>(rand(1, 4))));
      // GEMMs may still issue until the bad packet ends, but none behind a LOAD (it waits
      // for the load unit, then meets the error): only resident GEMMs stand in between.
      add_random_load();
      add_after_error(rand(0, 4), /*invalid=*/!no_invalid_behind_packet_);
      script_.push_back(drain(true));
      script_.push_back(Action{Action::kCheckErr});
      end_with_clear(rand(0, 3));
    } else if (roll < 97) {  // CLEAR in mid-flight, then a fresh program
      add_legal_commands(rand(1, 12));
      end_with_clear(chance(30) ? rand(0, 10) : rand(0, 400));
    } else if (!no_overflow_) {  // fill the command FIFO and write once more: OVERFLOW
      add_overflow();
    }
  }

  void add_bad_packet_load() {
    const int kind = rand(0, 2);  // 0 early TLAST, 1 late TLAST, 2 BAD_PARAM
    const unsigned target = kind == 2 ? kParam : static_cast<unsigned>(rand(0, static_cast<int>(max_target())));
    const int depth = plan_.depth(target);
    const std::uint32_t count = rand(kind == 0 ? 2 : 1, std::min(depth, 12));
    const std::uint32_t dst = rand(0, depth - static_cast<int>(count));
    Packet packet = make_packet(target, count);
    if (kind == 0) {
      packet.resize(rand(1, static_cast<int>(count) - 1));
      packet.back().last = true;
    } else if (kind == 1) {
      packet.back().last = false;
      for (int i = rand(1, 5); i > 0; --i) packet.push_back(junk_beat());
      packet.back().last = true;
    } else {
      const std::int8_t bad = static_cast<std::int8_t>(chance(50) ? rand(31, 127) : rand(-128, -32));
      packet[rand(0, static_cast<int>(count) - 1)].bytes[8] = static_cast<std::uint8_t>(bad);
    }
    add(load_words(target, dst, count), std::move(packet));
  }

  void add_overflow() {
    // LOAD 1 takes the load unit and waits for a packet the host holds back; LOAD 2 waits
    // behind it at the FIFO head; fillers fill the FIFO; one more CMD3 write overflows.
    // Which of these ran is up to the hardware's timing: the plan resyncs after the CLEAR.
    const unsigned target = rand(0, 2);
    const int depth = plan_.depth(target);
    const std::uint32_t count = rand(1, std::min(depth, 8));
    Action l1{Action::kPush};
    l1.words = load_words(target, rand(0, depth - static_cast<int>(count)), count);
    l1.packet = make_packet(target, count);
    l1.send_packet = true;
    l1.withheld = true;
    script_.push_back(std::move(l1));
    Action l2{Action::kPush};
    l2.words = load_words(rand(0, 2), 0, 1);
    script_.push_back(std::move(l2));
    script_.push_back(Action{Action::kFillFifo});
    Action lost{Action::kPushOverflow};
    lost.words = gemm_words(pick_region());
    script_.push_back(std::move(lost));
    script_.push_back(drain(false));
    script_.push_back(Action{Action::kCheckErr});
    end_with_clear(rand(0, 3));
    generated_ += 3;
  }

  // ---- running the script ---------------------------------------------------------------
  void lite(bool write, std::uint32_t addr, std::uint32_t data = 0) {
    host_.lite_start(write, addr, data);
    lite_pending_ = true;
  }
  // True once the transaction started with lite() has completed (result in host_.lite_result()).
  bool lite_done() {
    if (lite_pending_ && host_.lite_idle()) {
      lite_pending_ = false;
      ++lite_ops_;
      return true;
    }
    return false;
  }

  void step_script() {
    if (script_.empty()) return;
    Action& a = script_.front();
    if (lite_pending_) {
      if (!lite_done()) return;
      on_lite_done(a);
      return;
    }
    switch (a.kind) {
      case Action::kHostMode:
        host_.in_gap_percent = a.gap;
        host_.out_ready_percent = a.ready;
        host_.hold_per_mille = a.hold;
        script_.pop_front();
        break;
      case Action::kPush:
      case Action::kPushOverflow:
        if (sub_ == 0 && a.kind == Action::kPush && free_ == 0) {
          lite(false, isa::csr::kStatus);  // how many entries are free now
          status_for_free_ = true;
          return;
        }
        if (sub_ == 0 && a.kind == Action::kPush && IsaModel::is_load(a.words) && a.send_packet) {
          const int tag = next_tag_++;
          host_.queue_packet(a.packet, tag, a.withheld);
          push_tag_ = tag;
        } else if (sub_ == 0) {
          push_tag_ = -1;
        }
        lite(true, isa::csr::kCmd0 + 4 * sub_, a.words[sub_]);
        break;
      case Action::kFillFifo:
        lite(false, isa::csr::kStatus);
        break;
      case Action::kDrain:
        if (!quiescent(a.expect_idle)) {
          if (host_.cycle() - wait_start_ > 200000 && wait_start_ != 0)
            fail("drain: engine not done after 200000 cycles: " + state_text());
          if (wait_start_ == 0) wait_start_ = host_.cycle();
          return;
        }
        wait_start_ = 0;
        if (!a.expect_idle) {
          script_.pop_front();
          return;
        }
        lite(false, isa::csr::kStatus);
        break;
      case Action::kCheckErr:
        lite(false, isa::csr::kErrCode);
        break;
      case Action::kClear:
        if (a.cycles > 0) {
          --a.cycles;
          return;
        }
        clear_seen_ = false;
        lite(true, isa::csr::kCtrl, isa::ctrl::kClear);
        break;
      case Action::kIdle:
        if (--a.cycles <= 0) script_.pop_front();
        break;
    }
  }

  void on_lite_done(Action& a) {
    const auto& r = host_.lite_result();
    if (trace_)
      std::printf("[%" PRIu64 "] %s 0x%03X data 0x%08X resp %u (action %d)\n", host_.cycle(),
                  r.write ? "write" : "read ", r.addr, r.data, r.resp, static_cast<int>(a.kind));
    if (status_for_free_) {
      status_for_free_ = false;
      if (r.resp != 0) fail("STATUS read answered SLVERR");
      const int level = (r.data >> 16) & 0xFF;
      free_ = cfg_.fifo_depth - level;
      if (free_ < 0) fail("STATUS level " + std::to_string(level) + " above the FIFO depth");
      return;
    }
    switch (a.kind) {
      case Action::kPush:
      case Action::kPushOverflow: {
        const bool cmd3 = sub_ == 3;
        if (!cmd3) {
          if (r.resp != 0) fail("CMD" + std::to_string(sub_) + " write answered SLVERR");
          ++sub_;
          return;
        }
        sub_ = 0;
        // The command entered the FIFO (or was lost) in the cycle the write was accepted:
        // observe() has accounted for it; here only the response is checked.
        if (a.kind == Action::kPush && r.resp != 0)
          fail("CMD3 write answered SLVERR (OVERFLOW?) although the host counted free entries: " +
               describe(a.words));
        if (a.kind == Action::kPushOverflow && overflow_pushed_) {
          overflow_pushed_ = false;
          if (r.resp != 0) fail("CMD3 write that pushed answered SLVERR");
          Action retry = a;
          retry.words = gemm_words(pick_region());
          script_.pop_front();
          script_.push_front(retry);
          script_.push_front(Action{Action::kFillFifo});
          ++generated_;
          return;
        }
        if (a.kind == Action::kPushOverflow && r.resp != 2)
          fail("CMD3 write into a full FIFO answered " + std::to_string(r.resp) +
               ", expected SLVERR (OVERFLOW)");
        script_.pop_front();
        return;
      }
      case Action::kFillFifo: {
        const int level = (r.data >> 16) & 0xFF;
        free_ = cfg_.fifo_depth - level;
        if (level == cfg_.fifo_depth) {
          if (!(r.data & isa::status::kFifoFull))
            fail("STATUS level equals the FIFO depth but FIFO_FULL is clear");
          free_ = 0;
          script_.pop_front();
        } else {
          if (r.data & isa::status::kFifoFull)
            fail("STATUS.FIFO_FULL set at level " + std::to_string(level));
          // One more filler, then look again.
          Action filler{Action::kPush};
          filler.words = chance(50) ? gemm_words(pick_region()) : load_words(rand(0, 2), 0, 1);
          script_.push_front(std::move(filler));
          ++generated_;
        }
        return;
      }
      case Action::kDrain: {
        if (r.data & isa::status::kBusy) {
          if (++busy_polls_ > 100) fail("STATUS.BUSY stays set with nothing left to do");
          return;  // poll again
        }
        busy_polls_ = 0;
        const int level = (r.data >> 16) & 0xFF;
        if (level != 0) fail("idle engine reports FIFO level " + std::to_string(level));
        free_ = cfg_.fifo_depth;
        script_.pop_front();
        return;
      }
      case Action::kCheckErr: {
        if (check_step_ == 0) {
          if (r.data != static_cast<std::uint32_t>(sb_.err_code()))
            fail("ERR_CODE " + std::to_string(r.data) + " (" +
                 isa::error_name(static_cast<ErrorCode>(r.data)) + "), expected " +
                 std::to_string(static_cast<int>(sb_.err_code())) + " (" +
                 isa::error_name(sb_.err_code()) + ")");
          if (sb_.error()) ++errors_seen_[static_cast<int>(sb_.err_code())];
          check_step_ = 1;
          lite(false, isa::csr::kErrCmd);
        } else if (check_step_ == 1) {
          if (r.data != sb_.err_cmd())
            fail("ERR_CMD " + std::to_string(r.data) + ", expected " + std::to_string(sb_.err_cmd()));
          check_step_ = 2;
          lite(false, isa::csr::kStatus);
        } else if (check_step_ == 2) {
          if (((r.data & isa::status::kError) != 0) != sb_.error())
            fail("STATUS.ERROR " + std::to_string((r.data >> 1) & 1) + ", expected " +
                 std::to_string(sb_.error()));
          check_step_ = 3;
          drops_at_read_ = drops_;
          lite(false, isa::csr::kPerfDropped);
        } else {
          // Every command the engine dropped (dbg_cmd_drop_o), counted since reset (the
          // testbench never writes PERF_CLEAR); a drop during the read may or may not count.
          if (r.data < drops_at_read_ || r.data > drops_)
            fail("PERF_DROPPED " + std::to_string(r.data) + ", expected " +
                 std::to_string(drops_at_read_) +
                 (drops_ != drops_at_read_ ? " to " + std::to_string(drops_) : ""));
          check_step_ = 0;
          script_.pop_front();
        }
        return;
      }
      case Action::kClear:
        if (r.resp != 0) fail("CTRL write answered SLVERR");
        if (!clear_seen_) fail("CTRL.CLEAR written but dbg_clear_o never pulsed");
        // The plan continues from what the engine really holds now.
        plan_ = sb_;
        if (trace_) {
          std::printf("[%" PRIu64 "] plan synced; PARAM known:", host_.cycle());
          for (int i = 0; i < cfg_.param_depth; ++i) std::printf("%d", plan_.known(kParam, i, i + 1));
          std::printf("\n");
        }
        free_ = cfg_.fifo_depth;
        script_.pop_front();
        return;
      default:
        return;
    }
  }

  bool quiescent(bool expect_idle) const {
    if (!pending_.empty() || !expected_.empty() || stale_pending_) return false;
    if (expect_idle) return host_.input_idle();
    return true;
  }

  // ---- scoreboard -------------------------------------------------------------------------
  void observe(const CycleEvents& ev) {
    if (ev.in_beat) {
      ++in_beats_;
      if (window_.active && ev.in_tag == window_.tag && ev.in_last) {
        window_.packet_done = true;
        window_.done_cycle = host_.cycle();
      }
      if (load_.active && ev.in_tag == load_.tag && ev.in_last && load_.error) load_.active = false;
    }
    if (ev.out_beat) on_out(ev.out);
    if (ev.push && !(ev.write_acting && ev.acting_addr == isa::csr::kCmd3))
      fail("dbg_cmd_push_o outside a CMD3 write's acting cycle");
    if (ev.issue && ev.drop) fail("dbg_cmd_issue_o and dbg_cmd_drop_o in one cycle");
    // A LOAD whose last beat goes in with CLEAR is stopped: that beat is not written
    // (tsr_load_unit gates its write with CLEAR), so on_clear forgets its words.
    if (ev.load_done && !ev.clear) {
      if (!load_.active || load_.error) fail("dbg_load_done_o without a LOAD in progress");
      load_.active = false;
    }
    if (ev.clear) {
      on_clear(ev);
      return;
    }
    // A pop in a CMD3 write's acting cycle saw the state before it (a push or an OVERFLOW
    // takes effect at the clock edge).
    if (ev.issue || ev.drop) on_pop(ev.issue);
    if (ev.write_acting && ev.acting_addr == isa::csr::kCmd3) on_cmd3(ev.push);
  }

  // A CMD3 write acted: the command entered the FIFO (push) or was lost (full).
  void on_cmd3(bool pushed) {
    if (script_.empty()) fail("testbench: CMD3 write with no push in the script");
    const Action& a = script_.front();
    if (a.kind == Action::kPush) {
      if (!pushed) fail("CMD3 write did not push (FIFO full?) although the host counted " +
                        std::to_string(free_) + " free entries: " + describe(a.words));
      --free_;
      const std::uint32_t index = sb_.take_index();
      pending_.push_back({a.words, index, a.packet, a.send_packet, push_tag_, a.may_slip});
      ++pushes_;
      remember("#" + std::to_string(index) + " " + describe(a.words) +
               (a.send_packet ? (a.may_slip    ? " [packet withheld: may slip past BAD_META]"
                                 : a.withheld ? " [packet withheld]"
                                              : "")
                              : IsaModel::is_load(a.words) ? " [no packet: expected dropped]" : ""));
    } else if (pushed) {
      // An entry came free after the host saw the FIFO full (a LOAD left it once a hazard
      // cleared): an ordinary push. The command is behind the blocked LOADs, so it cannot
      // run before the retried overflow drops it.
      const std::uint32_t index = sb_.take_index();
      pending_.push_back({a.words, index, {}, false, -1});
      remember("#" + std::to_string(index) + " " + describe(a.words) +
               " [overflow attempt found room: pushed]");
      overflow_pushed_ = true;
    } else {
      remember("#" + std::to_string(sb_.next_index()) + " " + describe(a.words) +
               " [lost: FIFO full]");
      sb_.overflow();
      ++overflows_;
    }
  }

  void on_out(const OutBeat& beat) {
    ++outs_;
    if (trace_)
      std::printf("[%" PRIu64 "] out %s (due: #%d)\n", host_.cycle(), beat_text(beat).c_str(),
                  expected_.empty() ? -1 : static_cast<int>(expected_.front().cmd_index));
    if (stale_pending_) {
      stale_pending_ = false;
      if (!(beat == stale_)) fail("the result beat presented at CLEAR changed before it was taken");
      return;
    }
    if (expected_.empty()) fail("unexpected result beat: " + beat_text(beat));
    const ExpectedBeat e = expected_.front();
    expected_.pop_front();
    // The SPGEMM with BAD_META has sent its last beat: it found the bad index long before.
    if (meta_window_.open && e.cmd_index == meta_window_.index &&
        e.beat_number + 1 == meta_window_.beats)
      meta_window_.open = false;
    if (!matches(beat, e)) {
      std::string lanes;
      if (beat.lanes.size() != e.beat.lanes.size())
        fail("result beat with " + std::to_string(beat.lanes.size()) + " lanes");
      for (std::size_t c = 0; c < beat.lanes.size() && e.lanes_defined; ++c) {
        if (beat.lanes[c] != e.beat.lanes[c])
          lanes += " lane " + std::to_string(c) + ": expected " + std::to_string(e.beat.lanes[c]) +
                   ", got " + std::to_string(beat.lanes[c]) + ";";
      }
      if (beat.last != e.beat.last)
        lanes += " TLAST " + std::to_string(beat.last) + ", expected " + std::to_string(e.beat.last);
      fail("result beat " + std::to_string(e.beat_number) + " of command #" +
           std::to_string(e.cmd_index) + " (" + describe_index(e.cmd_index) + "):" + lanes);
    }
  }

  void on_pop(bool issued) {
    ++pops_;
    if (pending_.empty()) fail("a command left the FIFO that was never pushed");
    Pushed c = std::move(pending_.front());
    pending_.pop_front();
    if (trace_)
      std::printf("[%" PRIu64 "] %s #%u %s\n", host_.cycle(), issued ? "issue" : "drop ", c.index,
                  describe(c.words).c_str());
    const ErrorCode check = sb_.validate(c.words);
    const std::string what = "#" + std::to_string(c.index) + " " + describe(c.words);
    if (!issued) {
      ++drops_;
      if (c.may_slip) {
        // Never presented, so the engine took none of it: the packet goes with its LOAD.
        host_.discard_packet(c.tag);
        ++slip_dropped_;
      }
      if (sb_.error()) {
        if (window_.active) window_.closed = true;
        // A command failing validation right behind the SPGEMM, met before its last beat:
        // the case where it must wait for the META check and report BAD_META.
        if (meta_window_.open && check != ErrorCode::kNone) ++invalid_behind_bad_meta_;
        // A drop shows the error latched: nothing behind it may be handed off any more.
        meta_window_.open = false;
        // A command failing validation met while the bad packet still streams: the case
        // where program order and detection order of the two errors differ.
        if (window_.active && !window_.packet_done && check != ErrorCode::kNone)
          ++invalid_during_packet_;
        return;
      }
      if (check == ErrorCode::kNone) fail("command dropped without an error: " + what);
      if (!cfg_.sparse && check == ErrorCode::kIllegalOp && IsaModel::is_spgemm(c.words))
        ++spgemm_refused_;
      if (!cfg_.sparse && check == ErrorCode::kBadField && IsaModel::is_load(c.words)) {
        const unsigned target = IsaModel::decode_load(c.words).target;
        if (target == kMeta || target == kGbuf) ++sparse_load_refused_;
      }
      sb_.latch(check, c.index);
      return;
    }
    if (check != ErrorCode::kNone)
      fail("command issued that fails validation (" + std::string(isa::error_name(check)) +
           "): " + what);
    if (sb_.error()) {
      const bool computes = IsaModel::is_gemm(c.words) || IsaModel::is_spgemm(c.words);
      const bool in_window = window_.active && !window_.closed && computes &&
                             (!window_.packet_done || host_.cycle() <= window_.done_cycle + 2);
      // docs/isa.md "Errors": a LOAD behind an SPGEMM with BAD_META may be handed off until
      // the error latches; a GEMM or SPGEMM behind it waits for the sparse unit.
      const bool slips = IsaModel::is_load(c.words) && c.may_slip && meta_window_.open;
      if (meta_window_.open && !slips) {
        const std::string spgemm = "the SPGEMM #" + std::to_string(meta_window_.index) +
                                   " with BAD_META";
        if (computes)
          fail("GEMM or SPGEMM issued behind " + spgemm +
               " (it must wait for the sparse unit, then be dropped): " + what);
        fail("LOAD issued behind " + spgemm +
             " although it writes what the SPGEMM reads (GBUF, WGT or META) or stands behind a "
             "command that waits for the sparse unit or fails validation: " + what);
      }
      if (!in_window && !slips)
        fail("command issued although " + std::string(isa::error_name(sb_.err_code())) +
             " is latched" +
             (c.may_slip ? " (a LOAD behind BAD_META issued after the error showed: a command "
                           "was dropped or the SPGEMM's last beat left)"
                         : "") +
             ": " + what);
      if (slips) ++slipped_loads_;
    }
    if (IsaModel::is_load(c.words)) {
      ++loads_issued_;
      if (!c.sent) fail("LOAD issued that the sequential model drops: " + what);
      // Its packet was withheld in case the engine dropped the LOAD: it goes out now.
      if (c.may_slip) host_.release_packet(c.tag);
      if (load_.active) fail("LOAD issued while another is in progress: " + what);
      const IsaModel::Load l = IsaModel::decode_load(c.words);
      ++loads_by_target_[l.target];
      const ErrorCode e = sb_.load(c.words, c.packet);
      load_ = {true, e != ErrorCode::kNone, c.tag, l.target, l.dst, l.dst + l.count};
      if (e != ErrorCode::kNone) {
        sb_.latch(e, c.index);
        window_ = {true, false, false, 0, c.tag};
      }
    } else if (IsaModel::is_spgemm(c.words)) {
      ++spgemms_issued_;
      if (IsaModel::is_spgemm_a(c.words)) ++spgemmas_issued_;
      bool bad = false;
      std::vector<OutBeat> beats;
      try {
        bad = sb_.bad_meta(c.words);
        beats = bad ? sb_.result_shape(c.words) : sb_.spgemm(c.words);
      } catch (const ModelError& e) {
        fail(std::string(e.what()) + " (testbench generated an SPGEMM on undefined data): " + what);
      }
      // BAD_META belongs to this SPGEMM in program order, whenever the engine finds it:
      // every command behind it must be dropped.
      if (bad) {
        ++bad_meta_issued_;
        if (!sb_.error()) meta_window_ = {true, c.index, static_cast<int>(beats.size())};
        sb_.latch(ErrorCode::kBadMeta, c.index);
      }
      int n = 0;
      for (auto& b : beats) expected_.push_back({std::move(b), c.index, n++, !bad});
      issued_desc_[c.index % kDescRing] = {c.index, describe(c.words)};
    } else {
      ++gemms_issued_;
      std::vector<OutBeat> beats;
      try {
        beats = sb_.gemm(c.words);
      } catch (const ModelError& e) {
        fail(std::string(e.what()) + " (testbench generated a GEMM on undefined data): " + what);
      }
      int n = 0;
      for (auto& b : beats) expected_.push_back({std::move(b), c.index, n++});
      issued_desc_[c.index % kDescRing] = {c.index, describe(c.words)};
    }
  }

  void on_clear(const CycleEvents& ev) {
    ++clears_;
    if (trace_)
      std::printf("[%" PRIu64 "] CLEAR (result beat %s, units busy {store acc exec load} %X)\n",
                  host_.cycle(), ev.out_valid ? (ev.out_ready ? "taken now" : "held") : "none",
                  static_cast<unsigned>(host_.dut().dbg_unit_busy_o));
    clear_seen_ = true;
    // A command popped in the CLEAR cycle is emptied with the FIFO, not run.
    // The result beat presented and not taken stays presented: it must be the next one due.
    if (ev.out_valid && !ev.out_ready && stale_pending_) {
      // Still the beat left presented by an earlier CLEAR.
      if (!(ev.out == stale_)) fail("the result beat presented at CLEAR changed");
    } else if (ev.out_valid && !ev.out_ready) {
      if (expected_.empty()) fail("a result beat presented at CLEAR that no GEMM produced");
      if (!matches(ev.out, expected_.front()))
        fail("result beat presented at CLEAR differs from the one due (command #" +
             std::to_string(expected_.front().cmd_index) + ")");
      stale_pending_ = true;
      stale_ = ev.out;
    }
    expected_.clear();
    pending_.clear();
    if (load_.active) sb_.forget(load_.target, load_.lo, load_.hi);
    load_.active = false;
    window_ = {};
    meta_window_ = {};
    sb_.clear();
  }

  // ---- reporting --------------------------------------------------------------------------
  [[noreturn]] void fail(const std::string& what) {
    throw Mismatch{"cycle " + std::to_string(host_.cycle()) + ": " + what};
  }
  void remember(std::string line) {
    history_.push_back(std::move(line));
    if (history_.size() > 24) history_.pop_front();
  }
  std::string describe_index(std::uint32_t index) const {
    const auto& d = issued_desc_[index % kDescRing];
    return d.first == index ? d.second : "?";
  }
  static std::string beat_text(const OutBeat& b) {
    std::string s = "[";
    for (auto v : b.lanes) s += std::to_string(v) + " ";
    return s + (b.last ? "TLAST]" : "]");
  }
  std::string state_text() const {
    return std::to_string(pending_.size()) + " commands in the FIFO, " +
           std::to_string(expected_.size()) + " result beats due, " +
           std::to_string(host_.input_packets()) + " input packets queued";
  }

  TopHost<Model> host_;
  std::mt19937_64 rng_;
  ModelConfig cfg_;
  IsaModel sb_, plan_;
  std::uint64_t commands_;
  bool quiet_;
  bool no_overflow_;  // --no-overflow: triage only, while an OVERFLOW bug is open
  // --no-invalid-behind-packet: no command failing validation behind a LOAD whose packet
  // is bad (triage only: the RTL reports such a later command's error, not the LOAD's).
  bool no_invalid_behind_packet_;
  // --no-behind-bad-meta: nothing queued behind an SPGEMM with BAD_META (triage only: the
  // engine may hand a later command off before it reads the bad index).
  bool no_behind_bad_meta_;
  bool trace_ = std::getenv("CMD_STREAM_TRACE") != nullptr;

  std::deque<Action> script_;
  std::vector<Region> resident_;
  std::vector<SpRegion> sp_resident_;
  std::uint64_t generated_ = 0;
  std::uint64_t bad_meta_generated_at_ = 0;  // generated_ when the last BAD_META segment began
  bool final_done_ = false;
  bool lite_pending_ = false, status_for_free_ = false, clear_seen_ = false;
  bool overflow_pushed_ = false;
  int sub_ = 0, check_step_ = 0, busy_polls_ = 0;
  int free_ = 0;
  int next_tag_ = 0, push_tag_ = -1;
  std::uint64_t wait_start_ = 0;

  std::deque<Pushed> pending_;
  std::deque<ExpectedBeat> expected_;
  bool stale_pending_ = false;
  OutBeat stale_;
  struct {
    bool active = false, error = false;
    int tag = -1;
    unsigned target = 0;
    std::uint64_t lo = 0, hi = 0;
  } load_;
  struct Window {
    bool active = false, closed = false, packet_done = false;
    std::uint64_t done_cycle = 0;
    int tag = -1;
  } window_;
  // From the issue of an SPGEMM with BAD_META until the error shows (a drop, or its last
  // beat): LOADs marked may_slip behind it may be handed off meanwhile.
  struct MetaWindow {
    bool open = false;
    std::uint32_t index = 0;  // the SPGEMM's
    int beats = 0;            // its result beats
  } meta_window_;
  // Plan side: the reads of the SPGEMM with BAD_META while the commands right behind it are
  // LOADs that may be handed off before the error (docs/isa.md "Errors").
  std::optional<std::vector<IsaModel::Range>> slip_after_;
  static constexpr std::uint32_t kDescRing = 256;
  std::pair<std::uint32_t, std::string> issued_desc_[kDescRing];
  std::deque<std::string> history_;

  std::uint64_t pops_ = 0, outs_ = 0, in_beats_ = 0, lite_ops_ = 0, pushes_ = 0;
  std::uint64_t drops_ = 0, overflows_ = 0, clears_ = 0, gemms_issued_ = 0, loads_issued_ = 0;
  std::uint64_t spgemms_issued_ = 0, spgemmas_issued_ = 0, bad_meta_issued_ = 0;
  std::uint64_t loads_by_target_[8] = {};
  // Without the sparse feature: SPGEMMs dropped as ILLEGAL_OP, LOAD META/GBUF as BAD_FIELD.
  std::uint64_t spgemm_refused_ = 0, sparse_load_refused_ = 0;
  static constexpr int kErrorCodes = 9;  // NONE .. BAD_META
  std::uint64_t errors_seen_[kErrorCodes] = {};
  std::uint64_t invalid_during_packet_ = 0;
  // LOADs behind BAD_META: queued with a withheld packet, issued (slipped), dropped.
  std::uint64_t slip_candidates_ = 0, slipped_loads_ = 0, slip_dropped_ = 0;
  std::uint64_t invalid_behind_bad_meta_ = 0;
  std::uint64_t drops_at_read_ = 0;  // drops_ when the PERF_DROPPED read began
};

template <class Model>
int run(const char* argv0, const std::string& config, std::uint64_t seed, std::uint64_t commands,
        Options options, int expect_sparse) {
  std::string replay = std::string(argv0) + " --config " + config + " --seed " +
                       std::to_string(seed) + " --commands " + std::to_string(commands);
  if (options.no_overflow) replay += " --no-overflow";
  if (options.no_invalid_behind_packet) replay += " --no-invalid-behind-packet";
  if (options.no_behind_bad_meta) replay += " --no-behind-bad-meta";
  options.expect_sparse = expect_sparse;
  if (!options.quiet)
    std::printf("cmd_stream_tb: config %s, seed %" PRIu64 " (replay: %s)\n", config.c_str(), seed,
                replay.c_str());
  std::optional<CommandStreamBench<Model>> bench;
  try {
    bench.emplace(seed, commands, options);
    bench->run();
  } catch (const Mismatch& m) {
    std::printf("FAIL config %s seed %" PRIu64 ": %s\n", config.c_str(), seed, m.what.c_str());
    if (bench) std::printf("  last commands pushed:\n%s", bench->history().c_str());
    std::printf("  reproduce: %s\n", replay.c_str());
    return 1;
  } catch (const HostFailure& f) {
    std::printf("FAIL config %s seed %" PRIu64 ": %s%s\n", config.c_str(), seed, f.what(),
                bench ? (" (cycle " + std::to_string(bench->cycle()) + ")").c_str() : "");
    if (bench) std::printf("  last commands pushed:\n%s", bench->history().c_str());
    std::printf("  reproduce: %s\n", replay.c_str());
    return 1;
  } catch (const ModelError& e) {
    // The generator asked the model for something the program leaves undefined.
    std::printf("FAIL config %s seed %" PRIu64 ": testbench bug: %s\n", config.c_str(), seed,
                e.what());
    std::printf("  reproduce: %s\n", replay.c_str());
    return 1;
  }
  if (!options.quiet) std::printf("cmd_stream_tb: PASS\n");
  return 0;
}

}  // namespace

// The sparse feature tests/rtl/CMakeLists.txt Verilates each engine with (-1: the RTL's
// default, not checked). Only checked against FEATURES: what the testbench sends follows
// FEATURES, read at run time.
#ifndef TSR_SPARSE_4X4
#define TSR_SPARSE_4X4 -1
#endif
#ifndef TSR_SPARSE_8X4
#define TSR_SPARSE_8X4 -1
#endif
#ifndef TSR_SPARSE_16X16
#define TSR_SPARSE_16X16 -1
#endif

int main(int argc, char** argv) {
  std::string config = "4x4";
  std::uint64_t seed = 1, commands = 2000;
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config = argv[++i];
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (arg == "--commands" && i + 1 < argc) {
      commands = std::strtoull(argv[++i], nullptr, 0);
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else if (arg == "--no-overflow") {
      options.no_overflow = true;
    } else if (arg == "--no-invalid-behind-packet") {
      options.no_invalid_behind_packet = true;
    } else if (arg == "--no-behind-bad-meta") {
      options.no_behind_bad_meta = true;
    } else {
      std::fprintf(stderr, "usage: %s [--config 4x4|8x4|16x16] [--seed S] [--commands N] [--quiet]\n"
                 "       [--no-overflow] [--no-invalid-behind-packet] [--no-behind-bad-meta]\n"
                 "       (triage: leave out a scenario)\n",
                   argv[0]);
      return 2;
    }
  }
  Verilated::commandArgs(1, argv);
  if (config == "4x4") return run<Vtsr_top>(argv[0], config, seed, commands, options, TSR_SPARSE_4X4);
  if (config == "8x4") return run<Vtsr_top_8x4>(argv[0], config, seed, commands, options, TSR_SPARSE_8X4);
#ifdef TSR_HAVE_16X16
  if (config == "16x16") return run<Vtsr_top_16x16>(argv[0], config, seed, commands, options, TSR_SPARSE_16X16);
#endif
  std::fprintf(stderr, "cmd_stream_tb: unknown --config %s (4x4, 8x4 or 16x16)\n", config.c_str());
  return 2;
}
