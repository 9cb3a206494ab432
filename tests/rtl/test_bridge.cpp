// The UART bridge (rtl/board/tsr_bridge*.sv) with the engine behind it: tsr_board_core,
// Verilated at Rows=4 Cols=4 with small scratchpads, ClkHz/Baud = 8 clocks per bit and a
// 4000-cycle stall limit (tests/rtl/CMakeLists.txt). The testbench is a serial client at
// the bit level: it drives uart_rx_i with 8N1 frames built by the host library's protocol
// encoder, decodes uart_tx_o with its own UART receiver, and feeds the bytes to the
// host's FrameDecoder, so every reply is checked the way the runtime will read it.
//
// Built three times. rtl_bridge_link_tests (TSR_BRIDGE_LINK = 1) runs the same cases on
// the board core with LinkRegs = 1 (a register slice on every channel);
// rtl_bridge_split_tests (TSR_BRIDGE_LINK = 2) with SplitClk = 1 (the ULX3S's link): the
// bridge on bridge_clk_i, the engine on clk_i at 8/3 of its rate (periods of 16 and 6
// time units: the edges drift against each other through every phase the pattern has),
// every channel between them through a tsr_cdc_slice. Cycles are the bridge's in all.
// A linked core's IN slice holds a beat the engine has not taken, so a stall shows a beat
// later.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#if TSR_BRIDGE_LINK == 2
#include "Vtsr_board_core_split.h"
using BoardModel = Vtsr_board_core_split;
#elif TSR_BRIDGE_LINK == 1
#include "Vtsr_board_core_link.h"
using BoardModel = Vtsr_board_core_link;
#else
#include "Vtsr_board_core_4x4.h"
using BoardModel = Vtsr_board_core_4x4;
#endif
#include "tessera/golden.hpp"
#include "tessera/isa.hpp"
#include "tessera/protocol.hpp"

namespace {

namespace proto = tessera::protocol;
namespace csr = tessera::isa::csr;
using proto::Bytes;
using proto::ErrorCode;
using proto::Frame;
using proto::MsgType;

// Parameters the model was built with.
constexpr int kRows = 4, kCols = 4, kInBytes = 16, kOutBytes = 4 * kCols;
constexpr unsigned kClksPerBit = 8;
constexpr std::uint32_t kFrameBytes = 4096;
constexpr std::uint32_t kStallCycles = 4000;
constexpr std::uint8_t kLimits = 0x0D;
// Input beats the link between bridge and engine holds that the engine has not taken.
constexpr std::size_t kLinkBeats = TSR_BRIDGE_LINK ? 1 : 0;

std::uint8_t type_of(MsgType t) { return static_cast<std::uint8_t>(t); }

class BoardBench {
 public:
  BoardBench()
      : context_(std::make_unique<VerilatedContext>()),
        top_(std::make_unique<BoardModel>(context_.get(), "board")),
        decoder_(kFrameBytes) {
    context_->fatalOnError(false);  // a failing assertion ends the test case, with its name
    top_->clk_i = 0;
    top_->bridge_clk_i = 0;
    top_->rst_ni = 0;
    top_->uart_rx_i = 1;
    for (int i = 0; i < 4; ++i) tick();
    top_->rst_ni = 1;
    for (int i = 0; i < 8; ++i) tick();
  }
  ~BoardBench() { top_->final(); }

  std::uint64_t cycle() const { return cycle_; }
  unsigned leds() const { return top_->led_o; }

  // One cycle of the bridge's clock (the only clock without SplitClk).
  void tick() {
    drive_rx();
    top_->eval();
#if TSR_BRIDGE_LINK == 2
    // Every edge of either clock in this bridge cycle, in time order; the bridge clock
    // rises at its start. Edges at the same time are taken together.
    const std::uint64_t end = now_ + 2 * kBridgeHalf;
    for (;;) {
      const std::uint64_t t = std::min(bridge_edge_, engine_edge_);
      if (t >= end) break;
      if (engine_edge_ == t) {
        top_->clk_i = !top_->clk_i;
        engine_edge_ += kEngineHalf;
      }
      if (bridge_edge_ == t) {
        top_->bridge_clk_i = !top_->bridge_clk_i;
        bridge_edge_ += kBridgeHalf;
      }
      top_->eval();
    }
    now_ = end;
#else
    top_->clk_i = top_->bridge_clk_i = 1;  // one clock for both
    top_->eval();
    top_->clk_i = top_->bridge_clk_i = 0;
    top_->eval();
#endif
    ++cycle_;
    if (context_->gotFinish()) FAIL("an RTL assertion failed at cycle " << cycle_);
    sample_tx();
  }

  void send(const Bytes& bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  void send(std::uint8_t type, std::uint16_t flags, std::uint32_t seq, const Bytes& payload) {
    Bytes frame;
    proto::append_frame(frame, type, flags, seq, payload);
    send(frame);
  }

  // The next frame or decode error from the board, clocking until it is there.
  proto::DecodeEvent next_event(std::uint64_t max_cycles = 400000) {
    const std::uint64_t end = cycle_ + max_cycles;
    for (;;) {
      if (auto event = decoder_.poll()) return *event;
      if (cycle_ >= end) FAIL("no reply from the board within " << max_cycles << " cycles");
      tick();
    }
  }
  Frame next_frame(std::uint64_t max_cycles = 400000) {
    const proto::DecodeEvent event = next_event(max_cycles);
    INFO(event.describe());
    REQUIRE(event.is_frame());
    return event.frame;
  }
  // The next frame that is not a garbage report (BAD_FRAME with seq 0): after a bad
  // frame, the bytes up to the next magic are reported as garbage once it is found.
  Frame next_reply(std::uint64_t max_cycles = 400000) {
    for (;;) {
      Frame f = next_frame(max_cycles);
      if (f.type != 0xFF || f.seq != 0) return f;
      REQUIRE(proto::decode_error(f.payload).code == ErrorCode::kBadFrame);
    }
  }
  Frame request(std::uint8_t type, std::uint16_t flags, std::uint32_t seq, const Bytes& payload,
                std::uint64_t max_cycles = 400000) {
    send(type, flags, seq, payload);
    return next_frame(max_cycles);
  }
  Frame request(MsgType type, std::uint32_t seq, const Bytes& payload = {}) {
    return request(type_of(type), 0, seq, payload);
  }
  // Clocks until everything queued has gone out and the line has been quiet a while;
  // returns whatever the board sent meanwhile.
  std::vector<proto::DecodeEvent> drain(std::uint64_t quiet = 4000) {
    std::vector<proto::DecodeEvent> events;
    std::uint64_t idle = 0;
    while (idle < quiet || !out_.empty() || bit_ >= 0) {
      tick();
      idle = (top_->uart_tx_o && rx_bit_ < 0) ? idle + 1 : 0;
      while (auto event = decoder_.poll()) events.push_back(*event);
    }
    return events;
  }

  // ---- transactions ----
  std::uint32_t csr_read(std::uint32_t addr) {
    const Frame reply = request(MsgType::kCsrRead, next_seq(), proto::encode_u32(addr));
    REQUIRE(reply.type == proto::reply_type(MsgType::kCsrRead));
    return proto::decode_u32(reply.payload, "CSR_READ reply");
  }
  void csr_write(std::uint32_t addr, std::uint32_t data, bool posted = true) {
    send(type_of(MsgType::kCsrWrite), posted ? proto::kFlagPosted : 0, next_seq(),
         proto::encode(proto::CsrWriteRequest{addr, data}));
    if (!posted) REQUIRE(next_frame().type == proto::reply_type(MsgType::kCsrWrite));
  }
  void command(const tessera::isa::CommandWords& w) {
    for (int i = 0; i < 4; ++i) csr_write(csr::kCmd0 + 4 * i, w[i]);
  }
  void stream_write(const Bytes& data, bool more = false) {
    send(type_of(MsgType::kStreamWrite),
         static_cast<std::uint16_t>(proto::kFlagPosted | (more ? proto::kFlagMore : 0)),
         next_seq(), data);
  }
  Bytes stream_read(std::uint32_t beats, std::uint64_t budget = 200000) {
    const Frame reply = request(MsgType::kStreamRead, next_seq(),
                                proto::encode(proto::StreamReadRequest{beats, budget}));
    if (reply.type == 0xFF) FAIL("STREAM_READ failed: " << proto::decode_error(reply.payload).message);
    REQUIRE(reply.type == proto::reply_type(MsgType::kStreamRead));
    const proto::StreamReadReply r = proto::decode_stream_read_reply(reply.payload);
    // The cycles it took: within the budget, and no more than the bench has clocked.
    CHECK(r.cycles <= budget);
    CHECK(r.cycles <= cycle_);
    if (beats > 0) CHECK(r.cycles > 0);
    return r.data;
  }
  void ping() { REQUIRE(request(MsgType::kPing, next_seq()).type == proto::reply_type(MsgType::kPing)); }
  std::uint32_t next_seq() { return ++seq_; }

 private:
  // Host -> board: one 8N1 character at a time from out_.
  void drive_rx() {
    if (bit_ < 0) {
      if (out_.empty()) {
        top_->uart_rx_i = 1;
        return;
      }
      current_ = out_.front();
      out_.pop_front();
      bit_ = 0;
      bit_cycles_ = 0;
    }
    const bool level = bit_ == 0 ? false : bit_ <= 8 ? ((current_ >> (bit_ - 1)) & 1) : true;
    top_->uart_rx_i = level;
    if (++bit_cycles_ == kClksPerBit) {
      bit_cycles_ = 0;
      if (++bit_ == 10) bit_ = -1;
    }
  }
  // Board -> host: a UART receiver sampling mid-bit.
  void sample_tx() {
    const bool level = top_->uart_tx_o;
    if (rx_bit_ < 0) {
      if (!level) {
        rx_bit_ = 0;
        rx_cycles_ = 0;
      }
      return;
    }
    if (++rx_cycles_ != (rx_bit_ == 0 ? kClksPerBit / 2 : kClksPerBit)) return;
    rx_cycles_ = 0;
    if (rx_bit_ == 0) {
      REQUIRE_FALSE(level);  // a real start bit
      rx_byte_ = 0;
    } else if (rx_bit_ <= 8) {
      rx_byte_ |= static_cast<std::uint8_t>(level) << (rx_bit_ - 1);
    } else {
      REQUIRE(level);  // stop bit
      const std::uint8_t byte = rx_byte_;
      REQUIRE(decoder_.feed(std::span<const std::uint8_t>(&byte, 1)) == 1);
      rx_bit_ = -1;
      return;
    }
    ++rx_bit_;
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<BoardModel> top_;
#if TSR_BRIDGE_LINK == 2
  static constexpr std::uint64_t kBridgeHalf = 8, kEngineHalf = 3;  // time units
  std::uint64_t now_ = 0, bridge_edge_ = 0, engine_edge_ = 1;
#endif
  proto::FrameDecoder decoder_;
  std::deque<std::uint8_t> out_;
  std::uint8_t current_ = 0;
  int bit_ = -1;
  unsigned bit_cycles_ = 0;
  int rx_bit_ = -1;
  unsigned rx_cycles_ = 0;
  std::uint8_t rx_byte_ = 0;
  std::uint64_t cycle_ = 0;
  std::uint32_t seq_ = 0;
};

proto::ErrorReply expect_error(const Frame& frame, ErrorCode code, std::uint32_t seq) {
  REQUIRE(frame.type == 0xFF);
  const proto::ErrorReply error = proto::decode_error(frame.payload);
  INFO("error message: " << error.message);
  CHECK(error.code == code);
  CHECK(frame.seq == seq);
  CHECK(!error.message.empty());
  return error;
}

Bytes u32s(std::initializer_list<std::uint32_t> words) {
  Bytes out;
  for (std::uint32_t w : words) {
    const Bytes b = proto::encode_u32(w);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

}  // namespace

TEST_CASE("bridge answers HELLO, PING, STATS and LIMITS", "[bridge]") {
  BoardBench b;
  const Frame hello = b.request(MsgType::kHello, 7, proto::encode(proto::HelloRequest{1u << 20}));
  REQUIRE(hello.type == proto::reply_type(MsgType::kHello));
  CHECK(hello.seq == 7);
  const proto::HelloReply h = proto::decode_hello_reply(hello.payload);
  CHECK(h.max_payload == kFrameBytes);
  CHECK(h.in_beat_bytes == kInBytes);
  CHECK(h.out_beat_bytes == kOutBytes);
  CHECK(h.server == "tessera-board");
  // HELLO's beat widths agree with the engine's CFG_STREAM.
  CHECK(b.csr_read(csr::kCfgStream) == (kInBytes | (kOutBytes << 16)));

  const Frame ping = b.request(MsgType::kPing, 8);
  CHECK(ping.type == proto::reply_type(MsgType::kPing));
  CHECK(ping.seq == 8);
  CHECK(ping.payload.empty());

  const Frame s1 = b.request(MsgType::kStats, 9);
  const Frame s2 = b.request(MsgType::kStats, 10);
  REQUIRE(s1.type == proto::reply_type(MsgType::kStats));
  const std::uint64_t c1 = proto::decode_u64(s1.payload, "STATS"),
                      c2 = proto::decode_u64(s2.payload, "STATS");
  CHECK(c1 > 0);
  CHECK(c2 > c1);
  CHECK(c2 <= b.cycle());

  const Frame limits = b.request(kLimits, 0, 11, {});
  REQUIRE(limits.type == (kLimits | proto::kReplyBit));
  REQUIRE(limits.payload.size() == 8);
  CHECK(proto::decode_u32(std::span(limits.payload).first(4), "LIMITS") == 0);
  CHECK(proto::decode_u32(std::span(limits.payload).subspan(4), "LIMITS") == 8);
}

TEST_CASE("bridge reads and writes CSRs; SLVERR is an ENGINE error", "[bridge]") {
  BoardBench b;
  CHECK(b.csr_read(csr::kId) == tessera::isa::kIdValue);
  CHECK(b.csr_read(csr::kCfgArray) == (kRows | (kCols << 16)));
  b.csr_write(csr::kCtrl, tessera::isa::ctrl::kPerfClear, /*posted=*/false);

  expect_error(b.request(MsgType::kCsrWrite, 20, proto::encode(proto::CsrWriteRequest{0x900, 1})),
               ErrorCode::kEngine, 20);
  const auto e = expect_error(b.request(MsgType::kCsrRead, 21, proto::encode_u32(0x900)),
                              ErrorCode::kEngine, 21);
  CHECK(e.request_type == type_of(MsgType::kCsrRead));
  b.ping();
  CHECK((b.leds() & 0b0100) != 0);  // error LED latched
}

TEST_CASE("bridge: a posted failure is answered with its seq, then SKIPPED", "[bridge]") {
  BoardBench b;
  // One batch, as the client sends it: posted writes, then a synchronous request.
  b.send(type_of(MsgType::kCsrWrite), proto::kFlagPosted, 30,
         proto::encode(proto::CsrWriteRequest{csr::kCtrl, tessera::isa::ctrl::kPerfClear}));
  b.send(type_of(MsgType::kCsrWrite), proto::kFlagPosted, 31,
         proto::encode(proto::CsrWriteRequest{0x900, 1}));
  b.send(type_of(MsgType::kCsrWrite), proto::kFlagPosted, 32,
         proto::encode(proto::CsrWriteRequest{csr::kCtrl, tessera::isa::ctrl::kPerfClear}));
  b.send(type_of(MsgType::kCsrRead), 0, 33, proto::encode_u32(csr::kId));
  const auto failed = expect_error(b.next_frame(), ErrorCode::kEngine, 31);
  CHECK(failed.request_type == type_of(MsgType::kCsrWrite));
  const auto skipped = expect_error(b.next_frame(), ErrorCode::kSkipped, 33);
  CHECK(skipped.request_type == type_of(MsgType::kCsrRead));
  // The state is cleared: the next synchronous request runs, and posted successes are silent.
  b.send(type_of(MsgType::kPing), proto::kFlagPosted, 34, {});
  const Frame ping = b.request(MsgType::kPing, 35);
  CHECK(ping.type == proto::reply_type(MsgType::kPing));
  CHECK(ping.seq == 35);
  // A request that returns data may not be posted: BAD_REQUEST, and it starts the skip.
  b.send(type_of(MsgType::kCsrRead), proto::kFlagPosted, 36, proto::encode_u32(csr::kId));
  expect_error(b.next_frame(), ErrorCode::kBadRequest, 36);
  expect_error(b.request(MsgType::kPing, 37), ErrorCode::kSkipped, 37);
}

TEST_CASE("bridge rejects bad frames and resynchronizes", "[bridge]") {
  BoardBench b;
  Bytes ping;
  proto::append_frame(ping, type_of(MsgType::kPing), 0, 40, {});

  SECTION("garbage, including a false magic just before a frame") {
    b.send(Bytes{0x00, 0x11, 0x54, 0x99, 0xFF, 0x54, 0x53});
    b.send(ping);
    expect_error(b.next_frame(), ErrorCode::kBadFrame, 0);  // the garbage
    // The false magic's "header" fails its CRC; the rescan finds the frame inside it.
    Frame f = b.next_frame();
    while (f.type == 0xFF) {
      CHECK(proto::decode_error(f.payload).code == ErrorCode::kBadFrame);
      f = b.next_frame();
    }
    CHECK(f.type == proto::reply_type(MsgType::kPing));
    CHECK(f.seq == 40);
  }
  SECTION("bad header CRC") {
    Bytes bad = ping;
    bad[17] ^= 0x01;
    b.send(bad);
    b.send(ping);
    const auto e = expect_error(b.next_frame(), ErrorCode::kBadFrame, 0);
    CHECK(e.request_type == 0);
    Frame f = b.next_frame();
    while (f.type == 0xFF) f = b.next_frame();  // the rest of the bad frame, as garbage
    CHECK(f.seq == 40);
  }
  SECTION("bad frame CRC with an intact header names the request") {
    Bytes bad;
    proto::append_frame(bad, type_of(MsgType::kCsrWrite), 0, 41,
                        proto::encode(proto::CsrWriteRequest{csr::kCtrl, 2}));
    bad[22] ^= 0x40;
    b.send(bad);
    b.send(ping);
    const auto e = expect_error(b.next_frame(), ErrorCode::kBadFrame, 41);
    CHECK(e.request_type == type_of(MsgType::kCsrWrite));
    Frame f = b.next_frame();
    while (f.type == 0xFF) f = b.next_frame();
    CHECK(f.seq == 40);
  }
  SECTION("a posted frame with a bad CRC starts the skip") {
    Bytes bad;
    proto::append_frame(bad, type_of(MsgType::kCsrWrite), proto::kFlagPosted, 42,
                        proto::encode(proto::CsrWriteRequest{csr::kCtrl, 2}));
    bad[25] ^= 0x01;
    b.send(bad);
    b.send(ping);
    expect_error(b.next_frame(), ErrorCode::kBadFrame, 42);
    Frame f = b.next_frame();
    while (f.type == 0xFF && f.seq != 40) f = b.next_frame();
    expect_error(f, ErrorCode::kSkipped, 40);
  }
  SECTION("bad version, reserved bits, too large") {
    auto header = [](std::uint8_t version, std::uint16_t reserved, std::uint32_t length,
                     std::uint32_t seq) {
      Bytes h{0x54, 0x53, version, type_of(MsgType::kPing), 0, 0,
              static_cast<std::uint8_t>(reserved), static_cast<std::uint8_t>(reserved >> 8)};
      for (std::uint32_t v : {seq, length})
        for (int i = 0; i < 4; ++i) h.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
      const Bytes crc = proto::encode_u32(proto::crc32(h));
      h.insert(h.end(), crc.begin(), crc.end());
      return h;
    };
    b.send(header(2, 0, 0, 50));
    expect_error(b.next_frame(), ErrorCode::kBadVersion, 50);
    b.send(header(1, 1, 0, 51));
    expect_error(b.next_reply(), ErrorCode::kBadFrame, 51);
    b.send(header(1, 0, kFrameBytes + 1, 52));
    expect_error(b.next_reply(), ErrorCode::kTooLarge, 52);
    b.drain();
    b.send(ping);
    Frame f = b.next_frame();
    while (f.type == 0xFF) f = b.next_frame();
    CHECK(f.seq == 40);
  }
  SECTION("the largest payload is accepted, one more byte is TOO_LARGE") {
    b.send(type_of(MsgType::kStreamWrite), 0, 53, Bytes(kFrameBytes + 1, 0));
    expect_error(b.next_frame(), ErrorCode::kTooLarge, 53);
    b.drain(100000);  // its payload, scanned as garbage
    // A full-size frame (no LOAD takes it: the engine stalls, TRANSPORT after StallCycles).
    b.send(type_of(MsgType::kStreamWrite), 0, 54, Bytes(kFrameBytes, 0));
    const auto e = expect_error(b.next_reply(2000000), ErrorCode::kTransport, 54);
    CHECK(e.message.find("no input") != std::string::npos);
  }
}

TEST_CASE("bridge: a frame hidden in a bad-CRC frame's header is found by the rescan",
          "[bridge]") {
  BoardBench b;
  // An intact PING header whose seq bytes begin a second header ("TS", version, PING) and
  // whose length (0) is that header's flags and reserved bytes. Its header CRC is the
  // hidden header's seq; the hidden header's last 8 bytes follow the outer frame's (bad)
  // CRC, which the receiver consumes and does not rescan.
  Bytes outer{0x54, 0x53, 0x01, type_of(MsgType::kPing), 0, 0, 0, 0,
              0x54, 0x53, 0x01, type_of(MsgType::kPing), 0, 0, 0, 0};
  const std::uint32_t hidden_seq = proto::crc32(outer);
  const Bytes hcrc = proto::encode_u32(hidden_seq);
  outer.insert(outer.end(), hcrc.begin(), hcrc.end());
  Bytes hidden;
  proto::append_frame(hidden, type_of(MsgType::kPing), 0, hidden_seq, {});
  REQUIRE(std::equal(hidden.begin(), hidden.begin() + 12, outer.begin() + 8));
  b.send(outer);
  b.send(Bytes{0xDE, 0xAD, 0xBE, 0xEF});  // not the outer frame's CRC
  b.send(Bytes(hidden.begin() + 12, hidden.end()));
  const auto e = expect_error(b.next_frame(), ErrorCode::kBadFrame, 0x0B015354u);
  CHECK(e.request_type == type_of(MsgType::kPing));
  const Frame f = b.next_reply();  // after the garbage report for outer bytes 2..7
  CHECK(f.type == proto::reply_type(MsgType::kPing));
  CHECK(f.seq == hidden_seq);
}

TEST_CASE("bridge: every reply carries its request's type and seq", "[bridge]") {
  BoardBench b;
  // Four different seq bytes, so a reply with them out of order or from another request
  // shows; the argument register (which shares storage with the receiver's header window)
  // is loaded and shifted differently by each request.
  std::uint32_t seq = 0xA1B2C3D4u;
  auto check = [&](std::uint8_t type, const Bytes& payload) {
    const Frame f = b.request(type, 0, seq, payload);
    INFO("request type " << int(type));
    CHECK(f.type == (type | proto::kReplyBit));
    CHECK(f.seq == seq);
    seq += 0x01010101u;
  };
  check(type_of(MsgType::kHello), proto::encode(proto::HelloRequest{1u << 20}));
  check(type_of(MsgType::kPing), {});
  check(type_of(MsgType::kStats), {});
  check(kLimits, {});
  check(type_of(MsgType::kCsrRead), proto::encode_u32(csr::kId));
  check(type_of(MsgType::kCsrWrite),
        proto::encode(proto::CsrWriteRequest{csr::kCtrl, tessera::isa::ctrl::kPerfClear}));
  check(type_of(MsgType::kWaitIdle), proto::encode_u64(100000));
  check(type_of(MsgType::kWaitStatus), proto::encode(proto::WaitStatusRequest{1, 0, 100000}));
  check(type_of(MsgType::kStreamRead), proto::encode(proto::StreamReadRequest{0, 100}));
  check(type_of(MsgType::kStreamWrite), {});
  // An error reply after a good frame: its seq and request type too.
  const auto e = expect_error(b.request(type_of(MsgType::kPing), 0x10, seq, {}),
                              ErrorCode::kBadRequest, seq);
  CHECK(e.request_type == type_of(MsgType::kPing));
}

TEST_CASE("bridge refuses malformed requests with BAD_REQUEST", "[bridge]") {
  BoardBench b;
  // Each refusal names its reason; where several apply, the first in FrameDecoder's order
  // (flags, MORE, postable, trace, type, payload size) is the one given.
  const auto refused = [&](const Frame& reply, std::uint32_t seq, const std::string& why) {
    const auto e = expect_error(reply, ErrorCode::kBadRequest, seq);
    CHECK(e.message == why);
  };
  refused(b.request(type_of(MsgType::kCsrRead), 0, 60, Bytes{0, 0, 0}), 60, "bad payload size");
  refused(b.request(type_of(MsgType::kPing), 0, 61, Bytes{1}), 61, "bad payload size");
  refused(b.request(0x42, 0, 62, {}), 62, "unknown request type");
  refused(b.request(0x42, 0x10, 70, {}), 70, "unknown flag bits");
  refused(b.request(type_of(MsgType::kTraceStop), 0, 63, {}), 63, "no tracing on a board");
  refused(b.request(type_of(MsgType::kCsrWrite), proto::kFlagMore, 64,
                    proto::encode(proto::CsrWriteRequest{csr::kCtrl, 0})),
          64, "MORE is for STREAM_WRITE only");
  refused(b.request(type_of(MsgType::kPing), 0x10, 65, {}), 65, "unknown flag bits");
  refused(b.request(0x42, proto::kFlagMore, 71, Bytes{1}), 71, "MORE is for STREAM_WRITE only");
  // A reply that would not fit the frame buffer.
  expect_error(b.request(MsgType::kStreamRead, 66,
                         proto::encode(proto::StreamReadRequest{kFrameBytes / kOutBytes, 100})),
               ErrorCode::kBadRequest, 66);
  // Not a whole number of beats: TRANSPORT, as tessera-sim's engine says.
  expect_error(b.request(type_of(MsgType::kStreamWrite), 0, 67, Bytes(kInBytes + 1, 0)),
               ErrorCode::kTransport, 67);
  // A budget that runs out.
  const auto e = expect_error(
      b.request(MsgType::kStreamRead, 68, proto::encode(proto::StreamReadRequest{1, 500})),
      ErrorCode::kTransport, 68);
  CHECK(e.message.find("budget") != std::string::npos);
  b.ping();
}

namespace {

// A GEMM on the 4x4 engine through the bridge: LOAD before its data, results read back
// with STREAM_READ, compared bit-exactly with the golden model.
struct BridgeGemm {
  tessera::GemmProblem problem;
  int m = 0, kt = 0, nt = 0;
};

BridgeGemm make_gemm(std::mt19937_64& rng, int m, int k, int n, bool requant) {
  BridgeGemm g;
  g.m = m;
  g.kt = (k + kRows - 1) / kRows;
  g.nt = (n + kCols - 1) / kCols;
  std::uniform_int_distribution<int> i8(-128, 127);
  g.problem.a = tessera::Tensor<std::int8_t>(m, k);
  g.problem.b = tessera::Tensor<std::int8_t>(k, n);
  for (auto& v : g.problem.a.data) v = static_cast<std::int8_t>(i8(rng));
  for (auto& v : g.problem.b.data) v = static_cast<std::int8_t>(i8(rng));
  std::uniform_int_distribution<std::int32_t> bias(-100000, 100000);
  for (int c = 0; c < n; ++c) g.problem.bias.push_back(bias(rng));
  if (requant) {
    tessera::Requant r;
    std::uniform_int_distribution<std::int32_t> mult(1 << 29, (1u << 31) - 1);
    std::uniform_int_distribution<int> shift(-12, -6);
    for (int c = 0; c < n; ++c) {
      r.multiplier.push_back(mult(rng));
      r.shift.push_back(shift(rng));
    }
    r.zero_point = 3;
    g.problem.requant = r;
    g.problem.clamp_lo = -100;
    g.problem.clamp_hi = 110;
  }
  return g;
}

// short_read: first, once results wait in the output FIFO, STREAM_READs of the first beat
// whose budgets run out while it goes in: TRANSPORT errors, and that beat stays with the
// engine, so the reads after them still get every result.
void run_gemm(BoardBench& b, const BridgeGemm& g, bool split_frames,
              std::uint64_t read_budget = 200000, bool short_read = false) {
  using tessera::isa::Target;
  const auto& p = g.problem;
  auto beat = [] { return Bytes(kInBytes, 0); };
  // WGT: word (nt*kt_count + kt)*Rows + r = B[kt*Rows + r, nt*Cols + c].
  Bytes wgt, act, param;
  for (int nt = 0; nt < g.nt; ++nt)
    for (int kt = 0; kt < g.kt; ++kt)
      for (int r = 0; r < kRows; ++r) {
        Bytes w = beat();
        for (int c = 0; c < kCols; ++c) {
          const std::size_t k = kt * kRows + r, n = nt * kCols + c;
          if (k < p.k() && n < p.n()) w[c] = static_cast<std::uint8_t>(p.b.at(k, n));
        }
        wgt.insert(wgt.end(), w.begin(), w.end());
      }
  // ACT: word kt*M + m = A[m, kt*Rows + r].
  for (int kt = 0; kt < g.kt; ++kt)
    for (int m = 0; m < g.m; ++m) {
      Bytes a = beat();
      for (int r = 0; r < kRows; ++r) {
        const std::size_t k = kt * kRows + r;
        if (k < p.k()) a[r] = static_cast<std::uint8_t>(p.a.at(m, k));
      }
      act.insert(act.end(), a.begin(), a.end());
    }
  // PARAM: bias, multiplier, shift per output channel.
  for (int n = 0; n < g.nt * kCols; ++n) {
    Bytes w = beat();
    const bool real = n < static_cast<int>(p.n());
    const std::int32_t bias = real ? p.bias[n] : 0;
    const std::int32_t mult = p.requant && real ? p.requant->multiplier[n] : 0;
    const std::int32_t shift = p.requant && real ? p.requant->shift[n] : 0;
    for (int i = 0; i < 4; ++i) {
      w[i] = static_cast<std::uint8_t>(bias >> (8 * i));
      w[4 + i] = static_cast<std::uint8_t>(mult >> (8 * i));
    }
    w[8] = static_cast<std::uint8_t>(shift);
    param.insert(param.end(), w.begin(), w.end());
  }
  auto load = [&](Target target, const Bytes& data) {
    b.command(tessera::isa::encode(tessera::isa::LoadCommand{
        target, 0, static_cast<std::uint32_t>(data.size() / kInBytes)}));
    if (split_frames && data.size() > kInBytes) {
      // The packet in three frames: MORE, an empty MORE, and a last one.
      const std::size_t half = (data.size() / kInBytes / 2) * kInBytes;
      b.stream_write(Bytes(data.begin(), data.begin() + half), true);
      b.stream_write({}, true);
      b.stream_write(Bytes(data.begin() + half, data.end()), false);
    } else {
      b.stream_write(data);
    }
  };
  load(Target::kWgt, wgt);
  load(Target::kAct, act);
  load(Target::kParam, param);
  tessera::isa::GemmCommand gemm;
  gemm.requant = p.requant.has_value();
  gemm.per_channel = p.requant.has_value();
  gemm.zero_point = static_cast<std::int8_t>(p.requant ? p.requant->zero_point : 0);
  gemm.m_rows = static_cast<std::uint16_t>(g.m);
  gemm.kt_count = static_cast<std::uint8_t>(g.kt);
  gemm.nt_count = static_cast<std::uint8_t>(g.nt);
  gemm.clamp_lo = static_cast<std::int8_t>(p.clamp_lo);
  gemm.clamp_hi = static_cast<std::int8_t>(p.clamp_hi);
  b.command(tessera::isa::encode(gemm));

  const auto beats = static_cast<std::uint32_t>(g.nt * g.m);
  Bytes out;
  if (short_read) {
    b.ping();  // a round trip over the UART: thousands of cycles, the first beat is out
    b.ping();
    // One beat at a time with budgets 0, 1, 2, ...: those that run out before the beat's
    // last byte fail, and must leave the beat with the engine, whatever byte they stop at.
    unsigned failed = 0;
    for (std::uint64_t budget = 0; budget <= kOutBytes + 2 && out.size() < kOutBytes; ++budget) {
      const std::uint32_t seq = b.next_seq();
      const Frame reply = b.request(MsgType::kStreamRead, seq,
                                    proto::encode(proto::StreamReadRequest{1, budget}));
      if (reply.type == 0xFF) {
        const auto e = expect_error(reply, ErrorCode::kTransport, seq);
        CHECK(e.message.find("budget") != std::string::npos);
        ++failed;
      } else {
        REQUIRE(reply.type == proto::reply_type(MsgType::kStreamRead));
        out = proto::decode_stream_read_reply(reply.payload).data;
      }
    }
    CHECK(failed > kOutBytes / 2);  // the beat's bytes alone take kOutBytes cycles
    REQUIRE(out.size() == kOutBytes);
  }
  const Bytes rest = b.stream_read(beats - static_cast<std::uint32_t>(out.size() / kOutBytes),
                                   read_budget);
  out.insert(out.end(), rest.begin(), rest.end());
  REQUIRE(out.size() == static_cast<std::size_t>(g.nt * g.m * kOutBytes));
  const auto expected = tessera::golden_gemm(p);
  for (int nt = 0; nt < g.nt; ++nt)
    for (int m = 0; m < g.m; ++m)
      for (int c = 0; c < kCols; ++c) {
        const std::size_t n = nt * kCols + c;
        if (n >= p.n()) continue;
        const std::size_t at = (nt * g.m + m) * kOutBytes + 4 * c;
        const std::int32_t got = static_cast<std::int32_t>(
            out[at] | (out[at + 1] << 8) | (out[at + 2] << 16) | (std::uint32_t{out[at + 3]} << 24));
        INFO("out[" << m << ", " << n << "]");
        REQUIRE(got == expected.at(m, n));
      }
  CHECK(b.csr_read(csr::kErrCode) == 0);
}

}  // namespace

TEST_CASE("bridge runs GEMMs bit-exactly: LOAD, STREAM_WRITE, GEMM, STREAM_READ", "[bridge]") {
  BoardBench b;
  std::mt19937_64 rng(20240601);
  run_gemm(b, make_gemm(rng, 5, 8, 7, false), false);
  run_gemm(b, make_gemm(rng, 6, 7, 8, true), true);  // packets split over frames with MORE

  const Frame idle = b.request(MsgType::kWaitIdle, b.next_seq(), proto::encode_u64(100000));
  REQUIRE(idle.type == proto::reply_type(MsgType::kWaitIdle));
  // WAIT_STATUS: BUSY and FIFO level 0.
  const Frame status = b.request(MsgType::kWaitStatus, b.next_seq(),
                                 proto::encode(proto::WaitStatusRequest{1, 0, 100000}));
  REQUIRE(status.type == proto::reply_type(MsgType::kWaitStatus));
}

TEST_CASE("bridge: waits and reads with budgets beyond 2^40 cycles, levels beyond 255",
          "[bridge]") {
  // Budgets over the 40-bit cycle counter saturate and levels over 255 are no limit: an
  // idle engine answers at once, with a cycle count that fits the counter.
  BoardBench b;
  for (const std::uint64_t budget : {~std::uint64_t{0}, std::uint64_t{1} << 40,
                                     (std::uint64_t{1} << 40) - 1}) {
    const Frame idle = b.request(MsgType::kWaitIdle, b.next_seq(), proto::encode_u64(budget));
    REQUIRE(idle.type == proto::reply_type(MsgType::kWaitIdle));
    CHECK(proto::decode_u64(idle.payload, "cycles") < 1000);
    const Frame status =
        b.request(MsgType::kWaitStatus, b.next_seq(),
                  proto::encode(proto::WaitStatusRequest{0x3F, 0x100, budget}));
    REQUIRE(status.type == proto::reply_type(MsgType::kWaitStatus));
    CHECK(proto::decode_u64(status.payload, "cycles") < 1000);
  }
  // A read of nothing with a huge budget answers at once, too.
  const Frame read = b.request(MsgType::kStreamRead, b.next_seq(),
                               proto::encode(proto::StreamReadRequest{0, ~std::uint64_t{0}}));
  REQUIRE(read.type == proto::reply_type(MsgType::kStreamRead));
  CHECK(proto::decode_stream_read_reply(read.payload).data.empty());
  // A read with a huge budget waits for its results (they come after the read began).
  std::mt19937_64 rng(5);
  run_gemm(b, make_gemm(rng, 4, 4, 4, false), false, ~std::uint64_t{0});
  run_gemm(b, make_gemm(rng, 3, 5, 6, false), false, (std::uint64_t{1} << 40) - 1);
}

TEST_CASE("bridge: a STREAM_READ out of budget mid-beat leaves the beat with the engine",
          "[bridge]") {
  BoardBench b;
  std::mt19937_64 rng(11);
  run_gemm(b, make_gemm(rng, 3, 4, 4, false), false, 200000, true);
}

TEST_CASE("bridge: a wait whose budget runs out is a TRANSPORT error", "[bridge]") {
  BoardBench b;
  // A LOAD waiting for data keeps the engine busy.
  b.command(tessera::isa::encode(tessera::isa::LoadCommand{tessera::isa::Target::kAct, 0, 2}));
  b.ping();
  for (const std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{300}}) {
    INFO("budget " << budget);
    const std::uint32_t seq = b.next_seq();
    const auto idle = expect_error(
        b.request(MsgType::kWaitIdle, seq, proto::encode_u64(budget)), ErrorCode::kTransport, seq);
    CHECK(idle.message.find("budget") != std::string::npos);
    const std::uint32_t seq2 = b.next_seq();
    const auto status = expect_error(
        b.request(MsgType::kWaitStatus, seq2, proto::encode(proto::WaitStatusRequest{1, 0x100, budget})),
        ErrorCode::kTransport, seq2);
    CHECK(status.message.find("budget") != std::string::npos);
  }
  // The FIFO level alone: the LOAD has left the FIFO, so level 0 is met while busy.
  const Frame level = b.request(MsgType::kWaitStatus, b.next_seq(),
                                proto::encode(proto::WaitStatusRequest{0, 0, 300}));
  REQUIRE(level.type == proto::reply_type(MsgType::kWaitStatus));
  CHECK(proto::decode_u64(level.payload, "cycles") <= 300);
  // Its data ends the wait.
  b.stream_write(Bytes(2 * kInBytes, 3));
  const Frame idle = b.request(MsgType::kWaitIdle, b.next_seq(), proto::encode_u64(10000));
  REQUIRE(idle.type == proto::reply_type(MsgType::kWaitIdle));
  const std::uint64_t waited = proto::decode_u64(idle.payload, "cycles");
  CHECK(waited <= 10000);
  CHECK(b.csr_read(csr::kErrCode) == 0);
}

TEST_CASE("bridge: CTRL.CLEAR drops the stale result, RESET resets the engine", "[bridge]") {
  BoardBench b;
  std::mt19937_64 rng(7);
  const BridgeGemm g = make_gemm(rng, 6, 4, 8, false);
  run_gemm(b, g, false);
  // The same GEMM again, results left unread: the engine presents the first beat.
  tessera::isa::GemmCommand gemm;
  gemm.m_rows = 6;
  gemm.kt_count = 1;
  gemm.nt_count = 2;
  b.command(tessera::isa::encode(gemm));
  b.ping();
  b.csr_write(csr::kCtrl, tessera::isa::ctrl::kClear, /*posted=*/false);
  // Nothing is left to read: the stale beat was dropped.
  expect_error(b.request(MsgType::kStreamRead, 80, proto::encode(proto::StreamReadRequest{1, 3000})),
               ErrorCode::kTransport, 80);
  run_gemm(b, g, false);

  // An engine error (LOAD of zero beats: SHAPE), cleared by RESET.
  b.command(tessera::isa::encode(tessera::isa::LoadCommand{tessera::isa::Target::kAct, 0, 0}));
  CHECK(b.csr_read(csr::kErrCode) != 0);
  REQUIRE(b.request(MsgType::kReset, 81).type == proto::reply_type(MsgType::kReset));
  CHECK(b.csr_read(csr::kErrCode) == 0);
  CHECK(b.csr_read(csr::kStatus) == 0);
  run_gemm(b, g, true);
}

TEST_CASE("bridge: an empty STREAM_WRITE ends the packet on its held-back last beat", "[bridge]") {
  BoardBench b;
  b.command(tessera::isa::encode(tessera::isa::LoadCommand{tessera::isa::Target::kAct, 0, 3}));
  b.stream_write(Bytes(3 * kInBytes, 1), true);
  b.ping();
  CHECK((b.csr_read(csr::kStatus) & tessera::isa::status::kBusy) != 0);  // the LOAD waits
  b.stream_write({}, false);
  const Frame idle = b.request(MsgType::kWaitIdle, b.next_seq(), proto::encode_u64(10000));
  REQUIRE(idle.type == proto::reply_type(MsgType::kWaitIdle));
  CHECK(b.csr_read(csr::kErrCode) == 0);
  // An empty frame ending a packet that is not open does nothing.
  b.stream_write({}, false);
  b.ping();
}

TEST_CASE("bridge: CLEAR after a stalled STREAM_WRITE ends the cut packet, the next GEMM runs",
          "[bridge]") {
  BoardBench b;
  std::mt19937_64 rng(11);
  const BridgeGemm g = make_gemm(rng, 5, 8, 7, true);
  for (const std::size_t beats : {1u, 4u}) {
    INFO(beats << "-beat packet");
    // An engine error drops the LOAD behind it, so its data has nowhere to go: the
    // STREAM_WRITE stalls and fails, its first beat still presented, the rest dropped.
    // (A packet the link holds whole does not stall: it waits there, presented.)
    b.command({0x7f, 1, 2, 3});
    b.command(tessera::isa::encode(tessera::isa::LoadCommand{
        tessera::isa::Target::kAct, 0, static_cast<std::uint32_t>(beats)}));
    const std::uint32_t seq = b.next_seq();
    b.send(type_of(MsgType::kStreamWrite), 0, seq, Bytes(beats * kInBytes, 9));
    const Frame written = b.next_reply(2000000);
    if (beats <= kLinkBeats) {
      CHECK(written.type == proto::reply_type(MsgType::kStreamWrite));
    } else {
      expect_error(written, ErrorCode::kTransport, seq);
    }
    CHECK(b.csr_read(csr::kErrCode) != 0);
    b.csr_write(csr::kCtrl, tessera::isa::ctrl::kClear, /*posted=*/false);
    CHECK(b.csr_read(csr::kErrCode) == 0);
    // The engine discarded the cut packet up to a TLAST of the bridge's, not into the
    // next LOAD's data.
    run_gemm(b, g, false);
  }
}
