// Directed ISA 1.1 tests of tsr_top at 4x4 (Rows=Cols=4, ActDepth=64, WgtDepth=64,
// AccDepth=16, ParamDepth=16, 16-deep command FIFO), through its ports only (top_host.hpp),
// every result compared with the sequential ISA model (isa_model.hpp). The two bugs of
// issue 7 first, then the ISA 1.1 corners the random testbench (cmd_stream_tb) hits only by
// chance: CLEAR with a result beat held, CMD3 into a full FIFO, input packets with TLAST
// early or late, PARAM shift range, reversed clamp with requant off, PERF_DROPPED, what
// CLEAR keeps.
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "Vtsr_top.h"
#include "block_bench.hpp"
#include "isa_model.hpp"
#include "top_host.hpp"

using namespace tessera;
using namespace tessera::rtl_test;
using isa::ErrorCode;

namespace {

constexpr unsigned kAct = 0, kWgt = 1, kParam = 2;
constexpr unsigned kSlvErr = 2;

// The engine, the model of what it must do, and the result beats it has sent.
struct Rig {
  explicit Rig(std::uint64_t seed) : host(seed), model(host.config()), rng(seed) {
    REQUIRE(host.config().rows == 4);
    REQUIRE(host.config().cols == 4);
  }

  TopHost<Vtsr_top> host;
  IsaModel model;
  std::mt19937_64 rng;
  std::vector<OutBeat> out;
  std::vector<OutBeat> expected;
  std::uint64_t clears = 0;

  void observe(const CycleEvents& ev) {
    if (ev.out_beat) out.push_back(ev.out);
    if (ev.clear) ++clears;
  }
  CycleEvents tick() {
    const CycleEvents ev = host.tick();
    observe(ev);
    return ev;
  }
  void ticks(int n) {
    for (int i = 0; i < n; ++i) tick();
  }
  unsigned write(std::uint32_t addr, std::uint32_t data) {
    return host.csr_write(addr, data, [&](const CycleEvents& ev) { observe(ev); });
  }
  std::uint32_t read(std::uint32_t addr) {
    unsigned resp = 0;
    const std::uint32_t v = host.csr_read(addr, &resp, [&](const CycleEvents& ev) { observe(ev); });
    REQUIRE(resp == 0);
    return v;
  }
  // Writes CMD0..CMD3; returns CMD3's response (CMD0..2 must answer OKAY).
  unsigned push(const isa::CommandWords& w) {
    for (int i = 0; i < 3; ++i) {
      INFO("CMD" << i << " write of " << describe(w));
      REQUIRE(write(isa::csr::kCmd0 + 4 * i, w[i]) == 0);
    }
    return write(isa::csr::kCmd3, w[3]);
  }

  InBeat beat(bool last) {
    InBeat b;
    b.bytes.resize(host.config().in_bytes);
    for (auto& x : b.bytes) x = static_cast<std::uint8_t>(rng());
    b.last = last;
    return b;
  }
  Packet packet(unsigned target, std::uint32_t count, int bias_offset = 0) {
    Packet p;
    for (std::uint32_t i = 0; i < count; ++i) {
      InBeat b = beat(i + 1 == count);
      if (target == kParam) {
        const std::int32_t bias = static_cast<std::int32_t>(rng() % 4001) - 2000 + bias_offset;
        const auto mult = static_cast<std::int32_t>((1u << 30) + (rng() & 0x3FFFFFFF));
        for (int k = 0; k < 4; ++k) {
          b.bytes[k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(bias) >> (8 * k));
          b.bytes[4 + k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(mult) >> (8 * k));
        }
        b.bytes[8] = static_cast<std::uint8_t>(-6 - static_cast<int>(rng() % 4));
      }
      p.push_back(std::move(b));
    }
    return p;
  }

  // A legal command the model runs in program order: pushed, its packet queued.
  void command(const isa::CommandWords& w, const Packet& p = {}) {
    const IsaModel::Outcome o = model.run(w, p);
    if (IsaModel::is_load(w) && !o.dropped) host.queue_packet(p, 0);
    expected.insert(expected.end(), o.out.begin(), o.out.end());
    INFO(describe(w));
    REQUIRE(push(w) == 0);
  }
  void load(unsigned target, std::uint32_t dst, std::uint32_t count) {
    command(load_words(target, dst, count), packet(target, count));
  }

  void run_until_outputs(std::size_t n, int timeout = 20000) {
    for (int i = 0; out.size() < n; ++i) {
      REQUIRE(i < timeout);
      tick();
    }
  }
  // Every expected beat out, nothing more, engine idle.
  void finish() {
    host.sink_enabled = true;
    run_until_outputs(expected.size());
    ticks(100);
    REQUIRE(out.size() == expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      INFO("result beat " << i);
      CHECK(out[i].lanes == expected[i].lanes);
      CHECK(out[i].last == expected[i].last);
    }
    CHECK(read(isa::csr::kErrCode) == static_cast<std::uint32_t>(model.err_code()));
    CHECK((read(isa::csr::kStatus) & isa::status::kBusy) == 0);
  }
};

isa::CommandWords gemm(std::uint16_t act, std::uint16_t wgt, std::uint16_t param, std::uint16_t m,
                       std::uint8_t kt, std::uint8_t nt, bool requant = false) {
  isa::GemmCommand g;
  g.act_base = act;
  g.wgt_base = wgt;
  g.param_base = param;
  g.m_rows = m;
  g.kt_count = kt;
  g.nt_count = nt;
  g.requant = requant;
  g.per_channel = true;
  return isa::encode(g);
}

std::uint64_t seed_of(const char* name) { return test_seed("rtl_top_isa_tests", name); }

}  // namespace

// Issue 7, bug 1: GEMM2's kt=0 partial sum of lane 0 was replaced by stale accumulator
// contents (the read-modify-write of a row read before the previous write to it landed).
TEST_CASE("top isa: back-to-back GEMMs M=16, M=1, M=1 kt=2 keep every partial sum", "[top_isa]") {
  Rig rig(seed_of("top isa: back-to-back GEMMs M=16, M=1, M=1 kt=2 keep every partial sum"));
  rig.load(kAct, 0, 16);    // GEMM0: A 16x4
  rig.load(kWgt, 0, 4);     //        B 4x4
  rig.load(kParam, 0, 4);
  rig.load(kAct, 16, 1);    // GEMM1: A 1x4
  rig.load(kWgt, 4, 4);
  rig.load(kParam, 4, 4);
  rig.load(kAct, 20, 2);    // GEMM2: A 1x8 (kt=2: words 20, 21)
  rig.load(kWgt, 8, 8);     //        B 8x4
  rig.load(kParam, 8, 4);
  rig.command(gemm(0, 0, 0, 16, 1, 1));
  rig.command(gemm(16, 4, 4, 1, 1, 1));
  rig.command(gemm(20, 8, 8, 1, 2, 1));
  rig.finish();
}

// Issue 7, bug 2: with the results held, a LOAD PARAM overwriting g2's parameters started
// while four GEMMs were unstored (a 2-bit counter wrapped) and g2 came out with the new bias.
TEST_CASE("top isa: a PARAM LOAD waits for the GEMM still to store with those words", "[top_isa]") {
  Rig rig(seed_of("top isa: a PARAM LOAD waits for the GEMM still to store with those words"));
  rig.host.sink_enabled = false;  // TREADY low throughout the program
  rig.load(kAct, 0, 8);
  rig.load(kAct, 8, 1);
  rig.load(kAct, 9, 1);
  rig.load(kAct, 10, 1);
  rig.load(kWgt, 0, 4);
  rig.load(kParam, 0, 16);  // g0..g3: channels 0-3, 4-7, 8-11, 12-15
  rig.command(gemm(0, 0, 0, 8, 1, 1));   // g0, M=8
  rig.command(gemm(8, 0, 4, 1, 1, 1));   // g1
  rig.command(gemm(9, 0, 8, 1, 1, 1));   // g2
  rig.command(gemm(10, 0, 12, 1, 1, 1)); // g3
  // New biases far from the old ones: g2 must still come out with the old ones.
  rig.command(load_words(kParam, 8, 4), rig.packet(kParam, 4, 1000000));
  rig.ticks(400);  // results held: the LOAD must not have overwritten g2's words meanwhile
  rig.finish();
}

// docs/isa.md CTRL.CLEAR: a result beat presented and not taken stays presented, TDATA
// stable, until the host takes it; everything behind it is discarded.
TEST_CASE("top isa: CLEAR with a result beat held keeps TVALID and TDATA until taken", "[top_isa]") {
  Rig rig(seed_of("top isa: CLEAR with a result beat held keeps TVALID and TDATA until taken"));
  rig.host.sink_enabled = false;
  rig.load(kAct, 0, 8);
  rig.load(kWgt, 0, 8);
  rig.load(kParam, 0, 8);
  rig.command(gemm(0, 0, 0, 8, 1, 2));
  for (int i = 0; !rig.host.dut().m_axis_tvalid_o; ++i) {
    REQUIRE(i < 5000);
    rig.tick();
  }
  rig.ticks(5);
  REQUIRE(rig.host.dut().m_axis_tvalid_o);
  REQUIRE(rig.write(isa::csr::kCtrl, isa::ctrl::kClear) == 0);
  REQUIRE(rig.clears == 1);
  // TopHost checks every cycle that a presented beat neither drops nor changes.
  for (int i = 0; i < 200; ++i) {
    rig.tick();
    REQUIRE(rig.host.dut().m_axis_tvalid_o);
  }
  rig.host.sink_enabled = true;
  rig.ticks(300);
  REQUIRE(rig.out.size() == 1);
  CHECK(rig.out[0] == rig.expected[0]);  // the stale beat is the one that was due
  CHECK(rig.read(isa::csr::kStatus) == 0);
  // A fresh program after it.
  rig.out.clear();
  rig.expected.clear();
  rig.command(gemm(0, 0, 0, 3, 2, 1));
  rig.finish();
}

// docs/isa.md: a CMD3 write while the FIFO is full is answered at once with SLVERR, the
// command is lost, OVERFLOW latched with the lost command's index; the other registers
// (CMD0..CMD2, CTRL) are written as usual, so the host can CLEAR.
TEST_CASE("top isa: CMD3 into a full command FIFO answers SLVERR and latches OVERFLOW",
          "[top_isa]") {
  Rig rig(seed_of("top isa: CMD3 into a full command FIFO answers SLVERR and latches OVERFLOW"));
  const int depth = rig.host.config().fifo_depth;
  REQUIRE(depth == 16);
  // LOAD 1 takes the load unit and waits for data that never comes; LOAD 2 waits behind it.
  REQUIRE(rig.push(load_words(kAct, 0, 4)) == 0);
  rig.ticks(10);
  for (int i = 0; i < depth; ++i) REQUIRE(rig.push(load_words(kWgt, 0, 1)) == 0);
  const std::uint32_t status = rig.read(isa::csr::kStatus);
  REQUIRE(((status >> 16) & 0xFF) == static_cast<std::uint32_t>(depth));
  REQUIRE((status & isa::status::kFifoFull) != 0);
  const isa::CommandWords lost = gemm(0, 0, 0, 1, 1, 1);
  for (int i = 0; i < 3; ++i) {
    INFO("CMD" << i << " written while the FIFO is full");
    CHECK(rig.write(isa::csr::kCmd0 + 4 * i, lost[i]) == 0);
  }
  const std::uint64_t before = rig.host.cycle();
  CHECK(rig.write(isa::csr::kCmd3, lost[3]) == kSlvErr);
  CHECK(rig.host.cycle() - before < 10);  // answered at once, never held off
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(ErrorCode::kOverflow));
  // Indices 0 (LOAD 1), 1..16 (the FIFO), 17 the lost one.
  CHECK(rig.read(isa::csr::kErrCmd) == static_cast<std::uint32_t>(depth + 1));
  CHECK(rig.write(isa::csr::kCtrl, isa::ctrl::kClear) == 0);
  CHECK(rig.read(isa::csr::kErrCode) == 0);
  CHECK((rig.read(isa::csr::kStatus) & (isa::status::kError | isa::status::kBusy)) == 0);
}

// docs/isa.md "Input packets": TLAST early or late raises STREAM; the mismatching beat is
// not written, a late packet is discarded up to its TLAST, and later packets stay aligned.
TEST_CASE("top isa: input TLAST early or late raises STREAM and the stream stays aligned",
          "[top_isa]") {
  const bool early = GENERATE(true, false);
  Rig rig(seed_of("top isa: input TLAST early or late raises STREAM and the stream stays aligned"));
  INFO((early ? "TLAST early" : "TLAST late"));
  rig.load(kAct, 0, 8);
  rig.load(kWgt, 0, 8);
  rig.load(kParam, 0, 8);
  rig.command(gemm(0, 0, 0, 4, 2, 1));
  // A LOAD of 6 ACT words at 16 whose packet is 3 beats (early) or 9 (late).
  Packet bad = rig.packet(kAct, early ? 3 : 9);
  const isa::CommandWords bad_load = load_words(kAct, 16, 6);
  const std::uint32_t bad_index = rig.model.next_index();
  const IsaModel::Outcome o = rig.model.run(bad_load, bad);
  REQUIRE(o.error == ErrorCode::kStream);
  rig.host.queue_packet(bad, 1);
  REQUIRE(rig.push(bad_load) == 0);
  // Dropped behind the error: no packet for it.
  const IsaModel::Outcome dropped = rig.model.run(load_words(kWgt, 0, 2));
  REQUIRE(dropped.dropped);
  REQUIRE(rig.push(load_words(kWgt, 0, 2)) == 0);
  rig.finish();
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(ErrorCode::kStream));
  CHECK(rig.read(isa::csr::kErrCmd) == bad_index);
  REQUIRE(rig.write(isa::csr::kCtrl, isa::ctrl::kClear) == 0);
  rig.model.clear();
  // The words written before the mismatch hold the packet's data: a GEMM reads them
  // (early: words 16, 17; late: 16..20, the beat without TLAST not written).
  const std::uint16_t written = early ? 2 : 5;
  rig.out.clear();
  rig.expected.clear();
  rig.command(gemm(16, 0, 0, written, 1, 1));
  // And the next packets go to the next LOADs.
  rig.load(kAct, 30, 3);
  rig.load(kWgt, 16, 4);
  rig.command(gemm(30, 16, 0, 3, 1, 1));
  rig.finish();
}

// docs/isa.md: a PARAM word whose shift lies outside [-31, 30] raises BAD_PARAM; that word
// and the rest of the packet are discarded, the words before it are written.
TEST_CASE("top isa: PARAM shift outside [-31, 30] raises BAD_PARAM", "[top_isa]") {
  const int bad_shift = GENERATE(31, -32, 127, -128);
  Rig rig(seed_of("top isa: PARAM shift outside [-31, 30] raises BAD_PARAM"));
  INFO("shift " << bad_shift);
  // The edges of the legal range load without error.
  Packet edges = rig.packet(kParam, 4);
  edges[0].bytes[8] = static_cast<std::uint8_t>(30);
  edges[1].bytes[8] = static_cast<std::uint8_t>(-31);
  rig.command(load_words(kParam, 4, 4), edges);
  rig.load(kAct, 0, 4);
  rig.load(kWgt, 0, 4);
  rig.command(gemm(0, 0, 4, 4, 1, 1, true));
  Packet bad = rig.packet(kParam, 4);
  bad[2].bytes[8] = static_cast<std::uint8_t>(static_cast<std::int8_t>(bad_shift));
  const std::uint32_t bad_index = rig.model.next_index();
  REQUIRE(rig.model.run(load_words(kParam, 8, 4), bad).error == ErrorCode::kBadParam);
  rig.host.queue_packet(bad, 1);
  REQUIRE(rig.push(load_words(kParam, 8, 4)) == 0);
  rig.finish();
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(ErrorCode::kBadParam));
  CHECK(rig.read(isa::csr::kErrCmd) == bad_index);
  REQUIRE(rig.write(isa::csr::kCtrl, isa::ctrl::kClear) == 0);
  rig.model.clear();
  // Words 8 and 9 were written (read them as channels 0 and 1 of a GEMM at param_base 8);
  // 10 and 11 hold what they held before: reload them first, then check.
  rig.out.clear();
  rig.expected.clear();
  rig.load(kParam, 10, 2);
  rig.command(gemm(0, 0, 8, 4, 1, 1, true));
  rig.finish();
}

// docs/isa.md BAD_FIELD: with requant off the clamp is unused and not checked.
TEST_CASE("top isa: clamp_lo > clamp_hi with requant off is no error", "[top_isa]") {
  Rig rig(seed_of("top isa: clamp_lo > clamp_hi with requant off is no error"));
  rig.load(kAct, 0, 5);
  rig.load(kWgt, 0, 4);
  rig.load(kParam, 0, 4);
  isa::GemmCommand g = IsaModel::decode_gemm(gemm(0, 0, 0, 5, 1, 1));
  g.clamp_lo = 100;
  g.clamp_hi = -100;
  REQUIRE(rig.model.validate(isa::encode(g)) == ErrorCode::kNone);
  rig.command(isa::encode(g));
  rig.finish();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
  // The same with requant on is BAD_FIELD.
  g.requant = true;
  REQUIRE(rig.model.validate(isa::encode(g)) == ErrorCode::kBadField);
  rig.model.run(isa::encode(g));
  REQUIRE(rig.push(isa::encode(g)) == 0);
  rig.ticks(20);
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(ErrorCode::kBadField));
}

// docs/isa.md Errors: PERF_DROPPED counts every dropped command, the failing one included;
// ERR_CMD keeps the failing command's index across CLEAR; CLEAR keeps the scratchpads.
TEST_CASE("top isa: PERF_DROPPED, ERR_CMD and the scratchpads across an error and CLEAR",
          "[top_isa]") {
  Rig rig(seed_of("top isa: PERF_DROPPED, ERR_CMD and the scratchpads across an error and CLEAR"));
  rig.load(kAct, 0, 6);
  rig.load(kWgt, 0, 8);
  rig.load(kParam, 0, 8);
  rig.command(gemm(0, 0, 0, 3, 2, 1, true));
  rig.finish();
  REQUIRE(rig.write(isa::csr::kCtrl, isa::ctrl::kPerfClear) == 0);
  const std::uint32_t dropped_before = rig.read(isa::csr::kPerfDropped);
  // The failing command (ILLEGAL_OP) and two behind it.
  const std::uint32_t bad_index = rig.model.next_index();
  const isa::CommandWords bad{0x00000000, 0, 0, 0};
  REQUIRE(rig.model.run(bad).error == ErrorCode::kIllegalOp);
  REQUIRE(rig.push(bad) == 0);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(rig.model.run(gemm(0, 0, 0, 3, 2, 1)).dropped);
    REQUIRE(rig.push(gemm(0, 0, 0, 3, 2, 1)) == 0);
  }
  rig.ticks(20);
  CHECK(rig.read(isa::csr::kPerfDropped) - dropped_before == 3);
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(ErrorCode::kIllegalOp));
  CHECK(rig.read(isa::csr::kErrCmd) == bad_index);
  CHECK((rig.read(isa::csr::kStatus) & isa::status::kError) != 0);
  REQUIRE(rig.write(isa::csr::kCtrl, isa::ctrl::kClear) == 0);
  rig.model.clear();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
  CHECK((rig.read(isa::csr::kStatus) & isa::status::kError) == 0);
  CHECK(rig.read(isa::csr::kErrCmd) == bad_index);
  // The operands are still resident: the GEMM runs on them without a LOAD.
  rig.out.clear();
  rig.expected.clear();
  rig.command(gemm(0, 0, 0, 3, 2, 1, true));
  rig.command(gemm(0, 4, 4, 3, 1, 1, false));
  rig.finish();
}

// docs/isa.md: every program gets the results of running its commands one after another,
// ERR_CMD names the failing command. A LOAD whose packet turns out bad fails before any
// later command in program order, even when a later command fails validation while the
// packet is still on its way (the host may send a packet late).
TEST_CASE("top isa: a bad packet's error comes before a later command's validation error",
          "[top_isa]") {
  Rig rig(seed_of("top isa: a bad packet's error comes before a later command's validation error"));
  const std::uint32_t load_index = rig.model.next_index();
  Packet early = rig.packet(kAct, 2);  // TLAST on beat 1 of a 4-beat LOAD
  REQUIRE(rig.model.run(load_words(kAct, 0, 4), early).error == ErrorCode::kStream);
  REQUIRE(rig.push(load_words(kAct, 0, 4)) == 0);
  const isa::CommandWords illegal{0x000000FF, 0, 0, 0};
  REQUIRE(rig.model.run(illegal).dropped);  // behind the error: dropped, no error of its own
  REQUIRE(rig.push(illegal) == 0);
  rig.ticks(20);                            // the packet comes late
  rig.host.queue_packet(early, 1);
  rig.ticks(50);
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(ErrorCode::kStream));
  CHECK(rig.read(isa::csr::kErrCmd) == load_index);
}

// docs/isa.md: PERF_CMDS counts a LOAD when its last beat is written. A last beat that goes
// in with CLEAR is not written (CLEAR stops the LOAD), so the LOAD does not retire.
TEST_CASE("top isa: a LOAD whose last beat meets CLEAR does not retire", "[top_isa]") {
  Rig rig(seed_of("top isa: a LOAD whose last beat meets CLEAR does not retire"));
  rig.host.queue_packet(rig.packet(kAct, 1), 1, /*withheld=*/true);
  REQUIRE(rig.push(load_words(kAct, 0, 1)) == 0);
  rig.ticks(10);  // the LOAD waits for its beat
  const std::uint32_t retired = rig.read(isa::csr::kPerfCmds);
  rig.host.release_withheld();  // the beat is presented from the next cycle on
  rig.host.lite_start(true, isa::csr::kCtrl, isa::ctrl::kClear);
  REQUIRE(rig.tick().write_accepted);
  const CycleEvents ev = rig.tick();  // CLEAR takes effect the cycle after its write
  REQUIRE(ev.clear);
  REQUIRE(ev.in_beat);  // the beat went in with CLEAR
  while (!rig.host.lite_idle()) rig.tick();
  rig.ticks(5);
  CHECK(rig.read(isa::csr::kPerfCmds) == retired);
}
