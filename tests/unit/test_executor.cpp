// RequestExecutor without sockets: bytes in, reply frames out, against a small fake
// engine. What every server that shares it (TCP, serial) must answer: replies, posted
// failures and SKIPPED, LIMITS in both modes, the bounded STREAM_WRITE's failure, a
// board's refusal to trace, and the same replies whatever the byte chunking.
#include <catch2/catch.hpp>
#include <map>
#include <stdexcept>

#include "request_executor.hpp"
#include "tessera/errors.hpp"
#include "tessera/isa.hpp"
#include "tessera/protocol.hpp"

using namespace tessera;
using namespace tessera::protocol;
using tessera::server::ExecutorOptions;
using tessera::server::RequestExecutor;
using tessera::server::StepOutcome;

namespace {

using ByteVec = std::vector<std::uint8_t>;

// Registers (>= 0x800 answer SLVERR); the stream is a loopback of 16-byte beats.
class FakeEngine final : public Transport {
 public:
  using Transport::stream_write;
  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    if (addr >= 0x800) throw EngineError("SLVERR at " + std::to_string(addr));
    registers[addr] = data;
  }
  std::uint32_t csr_read(std::uint32_t addr) override {
    if (addr == isa::csr::kCfgStream) return (16u << 16) | 16u;
    return registers[addr];
  }
  void stream_write(std::span<const std::uint8_t> bytes, bool) override {
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t) override {
    const std::size_t n = std::size_t{beats} * 16;
    if (stream.size() < n) throw TransportError("budget exhausted");
    ByteVec out(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n));
    stream.erase(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  std::uint64_t wait_idle(std::uint64_t) override { return 0; }
  void reset() override { stream.clear(); }
  void trace_start(const TraceRequest&) override {}
  void trace_stop() override {}
  SimStats stats() override { return {}; }

  std::map<std::uint32_t, std::uint32_t> registers;
  ByteVec stream;
};

ByteVec request(MsgType type, std::uint32_t seq, const ByteVec& payload = {},
                std::uint16_t flags = 0) {
  ByteVec bytes;
  append_frame(bytes, static_cast<std::uint8_t>(type), flags, seq, payload);
  return bytes;
}

std::vector<Frame> frames_in(const ByteVec& bytes) {
  FrameDecoder decoder(kMaxMaxPayload);
  REQUIRE(decoder.feed(bytes) == bytes.size());
  std::vector<Frame> frames;
  while (auto event = decoder.poll()) {
    REQUIRE(event->is_frame());
    frames.push_back(event->frame);
  }
  return frames;
}

ErrorReply error_of(const Frame& frame) {
  REQUIRE(frame.type == static_cast<std::uint8_t>(MsgType::kError));
  return decode_error(frame.payload);
}

}  // namespace

TEST_CASE("executor: replies, a posted failure answered with its seq, then SKIPPED", "[executor]") {
  FakeEngine engine;
  RequestExecutor executor(engine, ExecutorOptions{});
  executor.begin_session();
  ByteVec in;
  for (const ByteVec& frame : {
           request(MsgType::kCsrWrite, 1, encode(CsrWriteRequest{0x100, 7}), kFlagPosted),
           request(MsgType::kCsrWrite, 2, encode(CsrWriteRequest{0x900, 1}), kFlagPosted),
           request(MsgType::kCsrWrite, 3, encode(CsrWriteRequest{0x100, 9}), kFlagPosted),
           request(MsgType::kCsrRead, 4, encode_u32(0x100)),
           request(MsgType::kCsrRead, 5, encode_u32(0x100)),
       }) {
    in.insert(in.end(), frame.begin(), frame.end());
  }
  ByteVec out;
  executor.process(in, out);
  const auto frames = frames_in(out);
  REQUIRE(frames.size() == 3);
  // #1 succeeded silently; #2 failed: ENGINE with its own seq.
  CHECK(frames[0].seq == 2);
  CHECK(error_of(frames[0]).code == ErrorCode::kEngine);
  CHECK_THAT(error_of(frames[0]).message, Catch::Contains("CSR_WRITE(addr=0x00000900"));
  // #3 was dropped, #4 skipped naming #2, #5 runs again and sees #1's write only.
  CHECK(frames[1].seq == 4);
  CHECK(error_of(frames[1]).code == ErrorCode::kSkipped);
  CHECK_THAT(error_of(frames[1]).message, Catch::Contains("request #2"));
  CHECK(frames[2].seq == 5);
  CHECK(frames[2].type == reply_type(MsgType::kCsrRead));
  CHECK(decode_u32(frames[2].payload, "reply") == 7);
}

TEST_CASE("executor: byte by byte gives the same replies as all at once", "[executor]") {
  ByteVec in;
  for (const ByteVec& frame : {
           request(MsgType::kHello, 1, encode(HelloRequest{1u << 20})),
           request(MsgType::kStreamWrite, 2, ByteVec(32, 5), kFlagPosted),
           request(MsgType::kStreamRead, 3, encode(StreamReadRequest{2, 100})),
           request(MsgType::kLimits, 4),
       }) {
    in.insert(in.end(), frame.begin(), frame.end());
  }
  auto run = [&](std::size_t chunk) {
    FakeEngine engine;
    RequestExecutor executor(engine, ExecutorOptions{});
    executor.begin_session();
    ByteVec out;
    for (std::size_t i = 0; i < in.size(); i += chunk) {
      executor.process(std::span(in).subspan(i, std::min(chunk, in.size() - i)), out);
    }
    return out;
  };
  const ByteVec whole = run(in.size());
  CHECK(run(1) == whole);
  CHECK(run(7) == whole);
}

TEST_CASE("executor: LIMITS, unbounded and bounded", "[executor]") {
  FakeEngine engine;
  ExecutorOptions options;
  SECTION("unbounded: all ones") {
    RequestExecutor executor(engine, options);
    ByteVec out;
    executor.process(request(MsgType::kLimits, 1), out);
    const auto frames = frames_in(out);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].type == reply_type(MsgType::kLimits));
    const LimitsReply limits = decode_limits_reply(frames[0].payload);
    CHECK(limits.input_ahead_bytes == 0xFFFFFFFFu);
    CHECK(limits.output_beats == 0xFFFFFFFFu);
  }
  SECTION("bounded: a board's 0 and 8; a payload is BAD_REQUEST") {
    options.bounded = true;
    options.push_input = [](std::uint64_t) {};
    RequestExecutor executor(engine, options);
    ByteVec out;
    executor.process(request(MsgType::kLimits, 1), out);
    executor.process(request(MsgType::kLimits, 2, ByteVec(4)), out);
    const auto frames = frames_in(out);
    REQUIRE(frames.size() == 2);
    const LimitsReply limits = decode_limits_reply(frames[0].payload);
    CHECK(limits.input_ahead_bytes == 0);
    CHECK(limits.output_beats == 8);
    CHECK(error_of(frames[1]).code == ErrorCode::kBadRequest);
  }
  SECTION("bounded needs an engine that can push its input") {
    options.bounded = true;
    CHECK_THROWS_AS(RequestExecutor(engine, options), InputError);
  }
}

TEST_CASE("executor: a bounded STREAM_WRITE the engine does not take is a TRANSPORT error",
          "[executor]") {
  FakeEngine engine;
  ExecutorOptions options;
  options.bounded = true;
  options.stall_cycles = 123;
  std::uint64_t asked = 0;
  options.push_input = [&](std::uint64_t stall_cycles) {
    asked = stall_cycles;
    throw TransportError("engine took no input for 123 cycles");
  };
  RequestExecutor executor(engine, options);
  ByteVec out;
  executor.process(request(MsgType::kStreamWrite, 1, ByteVec(16, 1), kFlagPosted), out);
  executor.process(request(MsgType::kPing, 2), out);
  CHECK(asked == 123);
  const auto frames = frames_in(out);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].seq == 1);
  CHECK(error_of(frames[0]).code == ErrorCode::kTransport);
  CHECK_THAT(error_of(frames[0]).message, Catch::Contains("STREAM_WRITE(16 bytes)"));
  CHECK_THAT(error_of(frames[0]).message, Catch::Contains("Bounded buffers"));
  CHECK(error_of(frames[1]).code == ErrorCode::kSkipped);
  // An empty STREAM_WRITE (ending a packet) has nothing to push.
  asked = 0;
  out.clear();
  executor.process(request(MsgType::kStreamWrite, 3, {}), out);
  CHECK(asked == 0);
  REQUIRE(frames_in(out).size() == 1);
  CHECK(frames_in(out)[0].type == reply_type(MsgType::kStreamWrite));
}

TEST_CASE("executor: outcomes for the caller's policy; no trace without a trace_dir",
          "[executor]") {
  FakeEngine engine;
  ExecutorOptions options;
  options.trace_dir.reset();
  RequestExecutor executor(engine, options);
  ByteVec out;
  ByteVec garbage(30, 0x00);
  CHECK(executor.feed(garbage) == garbage.size());
  auto outcome = executor.step(out);
  REQUIRE(outcome);
  CHECK(outcome->kind == StepOutcome::Kind::kBadFrame);
  CHECK(outcome->consecutive_bad_frames == 1);
  CHECK_FALSE(executor.step(out));
  const ByteVec trace = request(MsgType::kTraceStop, 9);
  executor.feed(trace);
  outcome = executor.step(out);
  REQUIRE(outcome);
  CHECK(outcome->kind == StepOutcome::Kind::kFailed);
  CHECK(outcome->code == ErrorCode::kBadRequest);
  const auto frames = frames_in(out);
  REQUIRE(frames.size() == 2);
  CHECK(error_of(frames[0]).code == ErrorCode::kBadFrame);
  CHECK(frames[1].seq == 9);
  CHECK_THAT(error_of(frames[1]).message, Catch::Contains("cannot trace"));
}

TEST_CASE("executor: a dropped partial frame keeps the posted failure for SKIPPED", "[executor]") {
  FakeEngine engine;
  RequestExecutor executor(engine, ExecutorOptions{});
  ByteVec out;
  executor.process(request(MsgType::kCsrWrite, 1, encode(CsrWriteRequest{0x900, 1}), kFlagPosted),
                   out);
  const ByteVec ping = request(MsgType::kPing, 2);
  executor.process(std::span(ping).first(10), out);
  CHECK(executor.discard_buffered() == 10);
  CHECK(executor.buffered() == 0);
  executor.process(request(MsgType::kPing, 3), out);
  const auto frames = frames_in(out);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].seq == 1);
  CHECK(frames[1].seq == 3);
  CHECK(error_of(frames[1]).code == ErrorCode::kSkipped);
}
