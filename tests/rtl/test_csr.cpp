// tsr_csr: the AXI4-Lite register file a host sees first (docs/isa.md, CSR map). Built with
// Rows=8 Cols=4 ActDepth=512 WgtDepth=256 AccDepth=32 ParamDepth=128 InBytes=16
// CmdFifoDepth=8, Sparse=1 GbufDepth=1024 MetaDepth=64 (tests/rtl/CMakeLists.txt): every
// value distinct, so a swapped field shows. Vtsr_csr_lite is the same block with
// PerfDetail=0 (the iCEBreaker's): PERF_CYCLES and PERF_LAST_OUT only, FEATURES bit 16.
// Vtsr_csr_rreg has ReadReg=1 (the ULX3S's): every read-side case runs on both.
#include <array>
#include <cstdint>
#include <optional>
#include <random>

#include "Vtsr_csr.h"
#include "Vtsr_csr_lite.h"
#include "Vtsr_csr_rreg.h"
#include "block_bench.hpp"
#include "tessera/isa.hpp"

namespace {

using tessera::rtl_test::BlockBench;

constexpr std::uint32_t kRespOkay = 0b00;
constexpr std::uint32_t kRespSlvErr = 0b10;

// Parameters the model was built with.
constexpr std::uint32_t kRows = 8, kCols = 4, kActDepth = 512, kWgtDepth = 256, kAccDepth = 32,
                        kParamDepth = 128, kInBytes = 16, kCmdFifoDepth = 8,
                        kGbufDepth = 1024, kMetaDepth = 64;

// CSR addresses: the runtime's mirror of tsr_pkg (tests/unit/test_isa_mirror.cpp checks it).
using namespace tessera::isa::csr;

// What one AXI write did: its response, and the pulses seen in its acting cycle (the one
// after the handshake).
struct WriteResult {
  std::uint32_t resp = 0xFF;
  bool pushed = false;
  std::array<std::uint32_t, 4> cmd{};
  bool cleared = false;
  bool overflow = false;
  std::uint64_t act_cycle = 0;
  unsigned stalled_cycles = 0;
};

struct ReadResult {
  std::uint32_t data;
  std::uint32_t resp;
};

template <class Model>
class Bench : public BlockBench<Model> {
 public:
  using BlockBench<Model>::cycle;
  using BlockBench<Model>::dut;
  using BlockBench<Model>::reset;
  using BlockBench<Model>::settle;
  using BlockBench<Model>::tick;

  Bench() {
    auto& d = dut();
    d.s_awaddr_i = 0;
    d.s_awvalid_i = 0;
    d.s_wdata_i = 0;
    d.s_wstrb_i = 0;
    d.s_wvalid_i = 0;
    d.s_bready_i = 0;
    d.s_araddr_i = 0;
    d.s_arvalid_i = 0;
    d.s_rready_i = 0;
    d.cmd_full_i = 0;
    d.cmd_level_i = 0;
    d.error_i = 0;
    d.err_code_i = 0;
    d.err_cmd_i = 0;
    d.busy_i = 0;
    d.unit_busy_i = 0;
    d.stall_i = 0;
    d.mac_row_i = 0;
    d.out_beat_i = 0;
    d.retired_i = 0;
    d.dropped_i = 0;
    reset();
  }

  // Presents AW and W together and waits for the handshake (at most `timeout` cycles), sees
  // what the write does in the next cycle, then takes the B response, which must come in
  // the cycle after that. `hook` runs every cycle before the edge, e.g. to release a stall.
  template <class Hook>
  WriteResult write(std::uint32_t addr, std::uint32_t data, std::uint32_t strb, Hook hook,
                    unsigned timeout = 50) {
    auto& d = dut();
    WriteResult result;
    d.s_awaddr_i = addr;
    d.s_awvalid_i = 1;
    d.s_wdata_i = data;
    d.s_wstrb_i = strb;
    d.s_wvalid_i = 1;
    for (;;) {
      hook();
      settle();
      REQUIRE(d.s_awready_o == d.s_wready_o);  // this slave takes both together
      if (d.s_awready_o) break;
      REQUIRE(d.cmd_push_o == 0);
      REQUIRE(++result.stalled_cycles < timeout);
      tick();
    }
    // The handshake cycle only registers the write.
    REQUIRE(d.cmd_push_o == 0);
    REQUIRE(d.cmd_overflow_o == 0);
    REQUIRE(d.clear_o == 0);
    tick();
    d.s_awvalid_i = 0;
    d.s_wvalid_i = 0;
    hook();
    settle();
    // The acting cycle: the push, OVERFLOW and CLEAR, no response yet.
    result.act_cycle = cycle();
    result.pushed = d.cmd_push_o;
    for (int i = 0; i < 4; ++i) result.cmd[i] = d.cmd_o[i];
    result.overflow = d.cmd_overflow_o;
    result.cleared = d.clear_o;
    if (result.cleared) REQUIRE(d.s_arready_o == 0);  // no read is taken in that cycle
    REQUIRE(d.s_bvalid_o == 0);
    tick();
    d.s_bready_i = 1;
    settle();
    REQUIRE(d.cmd_push_o == 0);  // pulses last one cycle
    REQUIRE(d.cmd_overflow_o == 0);
    REQUIRE(d.clear_o == 0);
    REQUIRE(d.s_bvalid_o == 1);
    result.resp = d.s_bresp_o;
    tick();
    d.s_bready_i = 0;
    settle();
    REQUIRE(d.s_bvalid_o == 0);
    return result;
  }
  WriteResult write(std::uint32_t addr, std::uint32_t data, std::uint32_t strb = 0xF) {
    return write(addr, data, strb, [] {});
  }

  ReadResult read(std::uint32_t addr, std::uint64_t* ar_cycle = nullptr) {
    auto& d = dut();
    d.s_araddr_i = addr;
    d.s_arvalid_i = 1;
    for (unsigned i = 0;; ++i) {
      settle();
      if (d.s_arready_o) break;
      REQUIRE(i < 50);
      tick();
    }
    if (ar_cycle) *ar_cycle = cycle();
    tick();
    d.s_arvalid_i = 0;
    d.s_rready_i = 1;
    for (unsigned i = 0;; ++i) {
      settle();
      if (d.s_rvalid_o) break;
      REQUIRE(i < 50);
      tick();
    }
    const ReadResult result{d.s_rdata_o, d.s_rresp_o};
    tick();
    d.s_rready_i = 0;
    settle();
    return result;
  }

  std::uint32_t read_ok(std::uint32_t addr) {
    const ReadResult r = read(addr);
    INFO("read 0x" << std::hex << addr);
    CHECK(r.resp == kRespOkay);
    return r.data;
  }
};
using CsrBench = Bench<Vtsr_csr>;

// Cycles a read's data is formed after its handshake: the performance counters it shows
// are that much later (ReadReg decodes the address a cycle after the handshake).
template <class Model>
constexpr std::uint64_t kReadLag = 0;
template <>
constexpr std::uint64_t kReadLag<Vtsr_csr_rreg> = 1;

}  // namespace

TEMPLATE_TEST_CASE("csr: ID, VERSION and the configuration read back", "[csr]", Vtsr_csr,
                   Vtsr_csr_rreg) {
  Bench<TestType> csr;
  CHECK(csr.read_ok(kId) == 0x54535241u);
  CHECK(csr.read_ok(kVersion) == tessera::isa::kVersionValue);
  CHECK(csr.read_ok(kVersion) == 0x00010004u);  // 1.4: single rounding
  CHECK(csr.read_ok(kCfgArray) == (kCols << 16 | kRows));
  CHECK(csr.read_ok(kCfgActDepth) == kActDepth);
  CHECK(csr.read_ok(kCfgWgtDepth) == kWgtDepth);
  CHECK(csr.read_ok(kCfgAccDepth) == kAccDepth);
  CHECK(csr.read_ok(kCfgParamDepth) == kParamDepth);
  CHECK(csr.read_ok(kCfgStream) == ((4 * kCols) << 16 | kInBytes));
  // dense, requant, per-channel, hazard checks, TLAST checks, sparse, single rounding; not
  // bit 6 (SPGEMMA): this block is 8x4, not square. The FIFO depth above.
  CHECK(csr.read_ok(kFeatures) == (kCmdFifoDepth << 8 | 0b1011'1111));  // bit 16 clear
  // The sparse feature's scratchpads (ISA 1.2: 0x034 and 0x038 are mapped).
  CHECK(csr.read_ok(kCfgGbufDepth) == kGbufDepth);
  CHECK(csr.read_ok(kCfgMetaDepth) == kMetaDepth);
}

TEMPLATE_TEST_CASE("csr: STATUS, ERR_CODE and ERR_CMD show their inputs", "[csr]", Vtsr_csr,
                   Vtsr_csr_rreg) {
  Bench<TestType> csr;
  auto& d = csr.dut();
  CHECK(csr.read_ok(kStatus) == 0);
  d.busy_i = 1;
  CHECK(csr.read_ok(kStatus) == 1u << 0);
  d.busy_i = 0;
  d.error_i = 1;
  CHECK(csr.read_ok(kStatus) == 1u << 1);
  d.error_i = 0;
  d.cmd_full_i = 1;
  CHECK(csr.read_ok(kStatus) == 1u << 2);
  d.cmd_full_i = 0;
  d.unit_busy_i = 0b001;  // load
  CHECK(csr.read_ok(kStatus) == 1u << 3);
  d.unit_busy_i = 0b010;  // exec
  CHECK(csr.read_ok(kStatus) == 1u << 4);
  d.unit_busy_i = 0b100;  // store
  CHECK(csr.read_ok(kStatus) == 1u << 5);
  d.unit_busy_i = 0;
  d.cmd_level_i = 8;  // a full FIFO of depth 8: the level field needs its top bit
  CHECK(csr.read_ok(kStatus) == 8u << 16);
  d.cmd_level_i = 5;
  d.busy_i = 1;
  d.error_i = 1;
  CHECK(csr.read_ok(kStatus) == (5u << 16 | 0b11));
  d.err_code_i = 4;
  d.err_cmd_i = 0xCAFE1234;
  CHECK(csr.read_ok(kErrCode) == 4);
  CHECK(csr.read_ok(kErrCmd) == 0xCAFE1234u);
}

// Driven by hand: the cycle the answer comes in, and which cycle's status it shows. The
// inputs change right after the handshake, so a read that sampled them later would show it.
TEMPLATE_TEST_CASE("csr: a read shows the status of its handshake cycle, answered 1 + ReadReg "
                   "cycles later, and no read is taken before", "[csr]", Vtsr_csr, Vtsr_csr_rreg) {
  Bench<TestType> csr;
  auto& d = csr.dut();
  for (const bool busy_then : {true, false}) {
    INFO("busy in the handshake cycle: " << busy_then);
    d.busy_i = busy_then;
    d.err_code_i = busy_then ? 9 : 0;
    d.s_araddr_i = kStatus;
    d.s_arvalid_i = 1;
    d.s_rready_i = 0;
    csr.settle();
    REQUIRE(d.s_arready_o == 1);
    csr.tick();  // the handshake
    d.busy_i = !busy_then;
    d.err_code_i = 5;
    d.s_araddr_i = kErrCode;  // a second read, presented at once
    unsigned waited = 0;
    for (;; ++waited) {
      csr.settle();
      if (d.s_rvalid_o) break;
      REQUIRE(d.s_arready_o == 0);  // one outstanding read
      REQUIRE(waited < 4);
      csr.tick();
    }
    CHECK(waited == kReadLag<TestType>);
    CHECK(d.s_rresp_o == kRespOkay);
    CHECK((d.s_rdata_o & 1) == (busy_then ? 1u : 0u));
    // Held while RREADY is low; the second read waits for the answer to be taken.
    for (int i = 0; i < 3; ++i) {
      csr.tick();
      csr.settle();
      REQUIRE(d.s_rvalid_o == 1);
      CHECK((d.s_rdata_o & 1) == (busy_then ? 1u : 0u));
      REQUIRE(d.s_arready_o == 0);
    }
    d.s_rready_i = 1;
    csr.tick();
    d.s_rready_i = 0;
    csr.settle();
    REQUIRE(d.s_rvalid_o == 0);
    REQUIRE(d.s_arready_o == 1);
    csr.tick();  // the second read's handshake
    d.s_arvalid_i = 0;
    d.err_code_i = 0;
    for (waited = 0;; ++waited) {
      csr.settle();
      if (d.s_rvalid_o) break;
      REQUIRE(waited < 4);
      csr.tick();
    }
    CHECK(d.s_rdata_o == 5);  // ERR_CODE as it was in that handshake cycle
    d.s_rready_i = 1;
    csr.tick();
    d.s_rready_i = 0;
    csr.settle();
  }
}

TEST_CASE("csr: CMD0..CMD3 push one 128-bit command, CMD0 in the low word", "[csr]") {
  CsrBench csr;
  const std::array<std::uint32_t, 4> words = {0x00000102, 0x11223344, 0x55667788, 0x99AABBCC};
  for (int i = 0; i < 3; ++i) {
    const WriteResult w = csr.write(kCmd0 + 4 * i, words[i]);
    CHECK(w.resp == kRespOkay);
    CHECK_FALSE(w.pushed);  // only CMD3 pushes
  }
  const WriteResult w = csr.write(kCmd3, words[3]);
  CHECK(w.resp == kRespOkay);
  CHECK(w.pushed);
  CHECK(w.cmd == words);

  // The staged words stay: writing only CMD3 again pushes them with the new last word.
  const WriteResult again = csr.write(kCmd3, 0x01020304);
  CHECK(again.pushed);
  CHECK(again.cmd == std::array<std::uint32_t, 4>{words[0], words[1], words[2], 0x01020304});
}

// ISA 1.1: holding a CMD3 write while the FIFO is full would deadlock a master that must
// also feed the input stream, so it is answered at once and reported instead.
TEST_CASE("csr: a CMD3 write into a full FIFO is answered at once: SLVERR, OVERFLOW, no push",
          "[csr]") {
  CsrBench csr;
  auto& d = csr.dut();
  csr.write(kCmd0, 0xA0);
  csr.write(kCmd1, 0xA1);
  csr.write(kCmd2, 0xA2);
  d.cmd_full_i = 1;
  // Other registers, CTRL.CLEAR above all, are not held up or refused by a full FIFO.
  const WriteResult other = csr.write(kCmd0, 0xB0);
  CHECK(other.stalled_cycles == 0);
  CHECK(other.resp == kRespOkay);
  const WriteResult clear = csr.write(kCtrl, 1);
  CHECK(clear.resp == kRespOkay);
  CHECK(clear.cleared);
  CHECK_FALSE(clear.overflow);
  const WriteResult lost = csr.write(kCmd3, 0xA3);
  CHECK(lost.stalled_cycles == 0);
  CHECK_FALSE(lost.pushed);
  CHECK(lost.overflow);
  CHECK(lost.resp == kRespSlvErr);
  // With room again the same staging pushes, whole.
  d.cmd_full_i = 0;
  const WriteResult w = csr.write(kCmd3, 0xA4);
  CHECK(w.pushed);
  CHECK_FALSE(w.overflow);
  CHECK(w.resp == kRespOkay);
  CHECK(w.cmd == std::array<std::uint32_t, 4>{0xB0, 0xA1, 0xA2, 0xA4});
}

TEST_CASE("csr: CTRL.CLEAR is a one-cycle pulse, PERF_CLEAR does not raise it", "[csr]") {
  CsrBench csr;
  const WriteResult clear = csr.write(kCtrl, 1u << 0);
  CHECK(clear.resp == kRespOkay);
  CHECK(clear.cleared);
  CHECK_FALSE(clear.pushed);
  CHECK_FALSE(csr.write(kCtrl, 1u << 1).cleared);
  CHECK_FALSE(csr.write(kCtrl, 0).cleared);
  CHECK(csr.write(kCtrl, 0b11).cleared);
}

TEMPLATE_TEST_CASE("csr: unmapped, read-only and partial-strobe accesses answer SLVERR", "[csr]", Vtsr_csr,
                   Vtsr_csr_rreg) {
  Bench<TestType> csr;
  SECTION("unmapped reads") {
    for (std::uint32_t addr :
         {0x03Cu, 0x050u, 0x07Cu, 0x0A0u, 0x100u, 0xFFCu, 0x001u, 0x082u, 0x035u, 0x03Au}) {
      INFO("read 0x" << std::hex << addr);
      CHECK(csr.read(addr).resp == kRespSlvErr);
    }
    CHECK(csr.read_ok(kId) == 0x54535241u);  // and the slave carries on
  }
  SECTION("unmapped writes change nothing") {
    for (std::uint32_t addr : {0x03Cu, 0x050u, 0x0A0u, 0xFFCu, 0x041u}) {
      INFO("write 0x" << std::hex << addr);
      const WriteResult w = csr.write(addr, 0xFFFFFFFF);
      CHECK(w.resp == kRespSlvErr);
      CHECK_FALSE(w.pushed);
      CHECK_FALSE(w.cleared);
    }
  }
  SECTION("writes to read-only registers change nothing") {
    csr.write(kCtrl, 1u << 1);
    csr.dut().busy_i = 1;
    csr.tick();
    csr.tick();
    for (std::uint32_t addr : {kId, kVersion, kCfgArray, kFeatures, kStatus, kErrCode, kPerfCycles,
                               kPerfBusy, kPerfDropped, kCfgGbufDepth, kCfgMetaDepth}) {
      INFO("write 0x" << std::hex << addr);
      CHECK(csr.write(addr, 0).resp == kRespSlvErr);
    }
    CHECK(csr.read_ok(kId) == 0x54535241u);
    CHECK(csr.read_ok(kCfgArray) == (kCols << 16 | kRows));
    CHECK(csr.read_ok(kCfgGbufDepth) == kGbufDepth);
    CHECK(csr.read_ok(kCfgMetaDepth) == kMetaDepth);
    CHECK(csr.read_ok(kPerfBusy) > 20);  // not zeroed by the write
  }
  SECTION("partial strobes change nothing") {
    csr.write(kCmd0, 0x11111111);
    csr.write(kCmd1, 0x22222222);
    csr.write(kCmd2, 0x33333333);
    for (std::uint32_t strb : {0x0u, 0x1u, 0x3u, 0x7u, 0xEu, 0x8u}) {
      INFO("wstrb 0x" << std::hex << strb);
      CHECK(csr.write(kCmd0, 0xDEADBEEF, strb).resp == kRespSlvErr);
      const WriteResult push = csr.write(kCmd3, 0xDEADBEEF, strb);
      CHECK(push.resp == kRespSlvErr);
      CHECK_FALSE(push.pushed);
      const WriteResult clear = csr.write(kCtrl, 1, strb);
      CHECK(clear.resp == kRespSlvErr);
      CHECK_FALSE(clear.cleared);
    }
    const WriteResult w = csr.write(kCmd3, 0x44444444);
    CHECK(w.pushed);
    CHECK(w.cmd == std::array<std::uint32_t, 4>{0x11111111, 0x22222222, 0x33333333, 0x44444444});
  }
}

TEST_CASE("csr: AW and W may arrive in different cycles", "[csr]") {
  CsrBench csr;
  auto& d = csr.dut();
  csr.write(kCmd0, 1);
  csr.write(kCmd1, 2);
  csr.write(kCmd2, 3);
  // Address first: no handshake until the data comes. (AWVALID stays up, as AXI demands;
  // the slave's AwHeld_A assertion would stop the test otherwise.)
  d.s_awaddr_i = kCmd3;
  d.s_awvalid_i = 1;
  for (int i = 0; i < 3; ++i) {
    csr.settle();
    CHECK(d.s_awready_o == 0);
    CHECK(d.cmd_push_o == 0);
    csr.tick();
  }
  // The write() helper adds the data to the address already held.
  const WriteResult first = csr.write(kCmd3, 4);
  CHECK(first.pushed);
  CHECK(first.cmd == std::array<std::uint32_t, 4>{1, 2, 3, 4});
  // Then data first, the address later.
  d.s_wdata_i = 5;
  d.s_wstrb_i = 0xF;
  d.s_wvalid_i = 1;
  for (int i = 0; i < 3; ++i) {
    csr.settle();
    CHECK(d.s_wready_o == 0);
    csr.tick();
  }
  const WriteResult second = csr.write(kCmd3, 5);
  CHECK(second.pushed);
  CHECK(second.cmd == std::array<std::uint32_t, 4>{1, 2, 3, 5});
}

TEMPLATE_TEST_CASE("csr: performance counters count and clear with CTRL.PERF_CLEAR", "[csr]", Vtsr_csr,
                   Vtsr_csr_rreg) {
  Bench<TestType> csr;
  auto& d = csr.dut();
  csr.ticks(37);
  const WriteResult clear = csr.write(kCtrl, 1u << 1);
  REQUIRE(clear.resp == kRespOkay);
  // PERF_CYCLES counts the cycles after the clearing write's acting cycle.
  const std::uint64_t cleared_at = clear.act_cycle;

  // A known pattern of activity, one signal at a time, in cycles we can count.
  auto pulse = [&](auto set, unsigned value, unsigned cycles) {
    set(value);
    csr.ticks(cycles);
    set(0);
    csr.tick();
  };
  pulse([&](unsigned v) { d.busy_i = v; }, 1, 10);
  pulse([&](unsigned v) { d.stall_i = v; }, 1, 7);
  pulse([&](unsigned v) { d.mac_row_i = v; }, 1, 5);
  pulse([&](unsigned v) { d.retired_i = v; }, 2, 2);  // two commands in one cycle, twice
  pulse([&](unsigned v) { d.retired_i = v; }, 1, 1);
  pulse([&](unsigned v) { d.dropped_i = v; }, 1, 4);
  pulse([&](unsigned v) { d.out_beat_i = v; }, 1, 3);
  const std::uint64_t last_beat = csr.cycle() - 2;  // the beat cycle before the idle tick
  csr.ticks(9);

  std::uint64_t ar_cycle = 0;
  const ReadResult cycles = csr.read(kPerfCycles, &ar_cycle);
  CHECK(cycles.resp == kRespOkay);
  CHECK(cycles.data == ar_cycle + kReadLag<TestType> - cleared_at - 1);
  CHECK(csr.read_ok(kPerfBusy) == 10);
  CHECK(csr.read_ok(kPerfStall) == 7);
  CHECK(csr.read_ok(kPerfMacsLo) == 5 * kRows * kCols);
  CHECK(csr.read_ok(kPerfMacsHi) == 0);
  CHECK(csr.read_ok(kPerfCmds) == 5);
  CHECK(csr.read_ok(kPerfDropped) == 4);
  // PERF_LAST_OUT latches PERF_CYCLES + 1 at the last output beat: the cycles from the clear
  // to that beat.
  CHECK(csr.read_ok(kPerfLastOut) == last_beat - cleared_at);

  // A later beat moves it; a cycle without a beat does not.
  csr.ticks(5);
  d.out_beat_i = 1;
  csr.settle();
  const std::uint64_t beat_cycle = csr.cycle();
  csr.tick();
  d.out_beat_i = 0;
  csr.ticks(20);
  CHECK(csr.read_ok(kPerfLastOut) == beat_cycle - cleared_at);

  // PERF_CLEAR zeroes them all; PERF_CYCLES restarts from 0.
  const WriteResult again = csr.write(kCtrl, 1u << 1);
  const ReadResult restarted = csr.read(kPerfCycles, &ar_cycle);
  CHECK(restarted.data == ar_cycle + kReadLag<TestType> - again.act_cycle - 1);
  for (std::uint32_t addr :
       {kPerfBusy, kPerfStall, kPerfMacsLo, kPerfMacsHi, kPerfLastOut, kPerfCmds, kPerfDropped}) {
    INFO("counter 0x" << std::hex << addr);
    CHECK(csr.read_ok(addr) == 0);
  }
}

TEST_CASE("csr: without PerfDetail only PERF_CYCLES and PERF_LAST_OUT count", "[csr]") {
  Bench<Vtsr_csr_lite> csr;
  auto& d = csr.dut();
  const std::uint32_t features = csr.read_ok(kFeatures);
  CHECK((features >> tessera::isa::kFeaturePerfLite & 1) == 1);
  CHECK((features & 0xFFFF) == (kCmdFifoDepth << 8 | 0b1011'1111));  // the rest as before
  const WriteResult clear = csr.write(kCtrl, 1u << 1);
  d.busy_i = d.stall_i = d.mac_row_i = d.dropped_i = 1;
  d.retired_i = 2;
  d.out_beat_i = 1;
  csr.settle();
  const std::uint64_t beat_cycle = csr.cycle();
  csr.ticks(6);
  d.out_beat_i = 0;
  const std::uint64_t last_beat = csr.cycle() - 1;
  csr.ticks(4);
  std::uint64_t ar_cycle = 0;
  const ReadResult cycles = csr.read(kPerfCycles, &ar_cycle);
  CHECK(cycles.data == ar_cycle - clear.act_cycle - 1);
  CHECK(last_beat > beat_cycle);
  CHECK(csr.read_ok(kPerfLastOut) == last_beat - clear.act_cycle);
  for (std::uint32_t addr : {kPerfBusy, kPerfStall, kPerfMacsLo, kPerfMacsHi, kPerfCmds,
                             kPerfDropped}) {
    INFO("counter 0x" << std::hex << addr);
    CHECK(csr.read_ok(addr) == 0);  // mapped (OKAY), not counted
  }
}

TEST_CASE("csr: random register traffic keeps the command staging consistent", "[csr]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_csr_tests", "csr: random register traffic keeps the command staging consistent");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  CsrBench csr;
  auto& d = csr.dut();
  std::array<std::uint32_t, 3> staged{};
  for (int i = 0; i < 400; ++i) {
    const unsigned slot = rng() % 5;  // CMD0..CMD3 or an unmapped neighbour
    const std::uint32_t data = static_cast<std::uint32_t>(rng());
    const std::uint32_t strb = rng() % 6 == 0 ? static_cast<std::uint32_t>(rng() % 15) : 0xF;
    const std::uint32_t addr = slot < 4 ? kCmd0 + 4 * slot : 0x050;
    d.cmd_full_i = 0;
    const WriteResult w = csr.write(addr, data, strb);
    const bool ok = slot < 4 && strb == 0xF;
    INFO("write " << i << " addr 0x" << std::hex << addr << " strb 0x" << strb);
    REQUIRE(w.resp == (ok ? kRespOkay : kRespSlvErr));
    REQUIRE(w.pushed == (ok && slot == 3));
    if (ok && slot < 3) staged[slot] = data;
    if (w.pushed) {
      REQUIRE(w.cmd == std::array<std::uint32_t, 4>{staged[0], staged[1], staged[2], data});
    }
  }
}
