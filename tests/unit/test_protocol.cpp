// Wire protocol: frame codec, each malformed-frame case, resynchronization, payload
// codecs, and a seeded fuzz run of >= 100,000 random and mutated frames.
#include <array>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "tessera/protocol.hpp"

using namespace tessera::protocol;
using tessera::TraceRequest;

namespace {

using ByteVec = std::vector<std::uint8_t>;

ByteVec bytes_of(const std::string& text) { return ByteVec(text.begin(), text.end()); }

Frame make_frame(MsgType type, std::uint32_t seq, ByteVec payload = {}, std::uint16_t flags = 0) {
  return Frame{static_cast<std::uint8_t>(type), flags, seq, std::move(payload)};
}

// Feeds `bytes` in chunks of at most `chunk`, polling after each, and returns every
// event. Checks the buffer bound throughout.
std::vector<DecodeEvent> decode_all(FrameDecoder& decoder, std::span<const std::uint8_t> bytes,
                                    std::size_t chunk = SIZE_MAX) {
  std::vector<DecodeEvent> events;
  while (!bytes.empty()) {
    const std::size_t taken = decoder.feed(bytes.first(std::min(chunk, bytes.size())));
    bytes = bytes.subspan(taken);
    REQUIRE(decoder.buffered() <= decoder.max_buffered());
    while (auto event = decoder.poll()) events.push_back(std::move(*event));
  }
  return events;
}

std::vector<Frame> frames_of(const std::vector<DecodeEvent>& events) {
  std::vector<Frame> frames;
  for (const auto& e : events) {
    if (e.is_frame()) frames.push_back(e.frame);
  }
  return frames;
}

std::vector<DecodeEvent> errors_of(const std::vector<DecodeEvent>& events) {
  std::vector<DecodeEvent> errors;
  for (const auto& e : events) {
    if (!e.is_frame()) errors.push_back(e);
  }
  return errors;
}

void store32(ByteVec& bytes, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// Rewrites the header CRC after a deliberate header edit, so the header is trusted.
void reseal_header(ByteVec& bytes, std::size_t start = 0) {
  store32(bytes, start + 16, crc32(std::span(bytes.data() + start, 16)));
}

std::uint32_t reference_crc32(std::span<const std::uint8_t> bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
  }
  return ~c;
}

}  // namespace

TEST_CASE("crc32 is the standard CRC-32", "[protocol]") {
  CHECK(crc32(bytes_of("123456789")) == 0xCBF43926u);
  CHECK(crc32({}) == 0u);
  std::mt19937 rng(7);
  ByteVec data(1000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 1000u}) {
    const auto part = std::span(data).first(n);
    CHECK(crc32(part) == reference_crc32(part));
    // Running CRC over two pieces equals the CRC of the whole.
    CHECK(crc32(part.subspan(n / 2), crc32(part.first(n / 2))) == crc32(part));
  }
}

TEST_CASE("frame layout is as documented", "[protocol]") {
  const ByteVec bytes =
      encode_frame(make_frame(MsgType::kCsrWrite, 0x01020304, {0xAA, 0xBB}, kFlagPosted));
  REQUIRE(bytes.size() == kFrameOverhead + 2);
  CHECK(bytes[0] == 'T');
  CHECK(bytes[1] == 'S');
  CHECK(bytes[2] == kVersion);
  CHECK(bytes[3] == 0x02);
  CHECK(bytes[4] == 0x01);  // flags, little endian
  CHECK(bytes[5] == 0x00);
  CHECK(bytes[6] == 0x00);  // reserved
  CHECK(bytes[7] == 0x00);
  CHECK(bytes[8] == 0x04);  // seq, little endian
  CHECK(bytes[11] == 0x01);
  CHECK(bytes[12] == 2);  // length
  CHECK(bytes[20] == 0xAA);
  ByteVec header(bytes.begin(), bytes.begin() + 16);
  const std::uint32_t header_crc = crc32(header);
  CHECK(bytes[16] == (header_crc & 0xFF));
  const std::uint32_t frame_crc = crc32(std::span(bytes).first(22));
  CHECK(bytes[22] == (frame_crc & 0xFF));
  CHECK(bytes[25] == (frame_crc >> 24));
}

TEST_CASE("frames round-trip through the decoder in any chunking", "[protocol]") {
  FrameDecoder decoder(kMinMaxPayload);
  std::mt19937 rng(11);
  for (std::size_t size : {0u, 1u, 7u, 8u, 9u, 100u, 4095u, 4096u}) {
    ByteVec payload(size);
    for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
    const Frame frame =
        make_frame(MsgType::kStreamWrite, static_cast<std::uint32_t>(size) + 1, payload);
    const ByteVec bytes = encode_frame(frame);
    for (std::size_t chunk : {SIZE_MAX, std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
      const auto events = decode_all(decoder, bytes, chunk);
      REQUIRE(events.size() == 1);
      REQUIRE(events[0].is_frame());
      CHECK(events[0].frame == frame);
      CHECK(decoder.buffered() == 0);
    }
  }
}

TEST_CASE("back-to-back frames in one buffer all decode", "[protocol]") {
  FrameDecoder decoder;
  ByteVec stream;
  std::vector<Frame> sent;
  for (std::uint32_t i = 1; i <= 50; ++i) {
    sent.push_back(make_frame(MsgType::kCsrRead, i, encode_u32(i * 4)));
    append_frame(stream, sent.back().type, 0, i, sent.back().payload);
  }
  CHECK(frames_of(decode_all(decoder, stream)) == sent);
}

TEST_CASE("bad magic: garbage is reported once and the next frame decodes", "[protocol]") {
  FrameDecoder decoder;
  ByteVec stream = bytes_of("hello, this is not a frame. TSX still not one");
  const Frame good = make_frame(MsgType::kPing, 9);
  const ByteVec good_bytes = encode_frame(good);
  stream.insert(stream.end(), good_bytes.begin(), good_bytes.end());
  const auto events = decode_all(decoder, stream);
  const auto errors = errors_of(events);
  REQUIRE(!errors.empty());
  CHECK(errors[0].error == FrameError::kGarbage);
  std::size_t discarded = 0;
  for (const auto& e : errors) discarded += e.discarded;
  CHECK(discarded == stream.size() - good_bytes.size());
  CHECK(frames_of(events) == std::vector<Frame>{good});
}

TEST_CASE("bad version: rejected from the intact header, naming the frame", "[protocol]") {
  FrameDecoder decoder;
  ByteVec bad = encode_frame(make_frame(MsgType::kCsrRead, 42, encode_u32(0)));
  bad[2] = 2;
  reseal_header(bad);
  const ByteVec good = encode_frame(make_frame(MsgType::kPing, 43));
  bad.insert(bad.end(), good.begin(), good.end());
  const auto events = decode_all(decoder, bad);
  const auto errors = errors_of(events);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].error == FrameError::kBadVersion);
  CHECK(errors[0].header_valid);
  CHECK(errors[0].seq == 42);
  CHECK(errors[0].version == 2);
  CHECK_THAT(errors[0].describe(), Catch::Contains("version 2"));
  REQUIRE(frames_of(events).size() == 1);
  CHECK(frames_of(events)[0].seq == 43);
}

TEST_CASE("bad header CRC: the frame is skipped byte-wise", "[protocol]") {
  FrameDecoder decoder;
  ByteVec bad = encode_frame(make_frame(MsgType::kCsrRead, 5, encode_u32(0)));
  bad[9] ^= 0x10;  // seq byte, header CRC now wrong
  const ByteVec good = encode_frame(make_frame(MsgType::kPing, 6));
  bad.insert(bad.end(), good.begin(), good.end());
  const auto events = decode_all(decoder, bad);
  const auto errors = errors_of(events);
  REQUIRE(!errors.empty());
  CHECK(errors[0].error == FrameError::kBadHeaderCrc);
  CHECK_FALSE(errors[0].header_valid);
  REQUIRE(frames_of(events).size() == 1);
  CHECK(frames_of(events)[0].seq == 6);
}

TEST_CASE("bad frame CRC: reported with the seq, the next frame decodes", "[protocol]") {
  FrameDecoder decoder;
  ByteVec bad = encode_frame(make_frame(MsgType::kStreamWrite, 77, ByteVec(64, 0x5A), kFlagPosted));
  bad[30] ^= 0x01;
  const ByteVec good = encode_frame(make_frame(MsgType::kPing, 78));
  bad.insert(bad.end(), good.begin(), good.end());
  const auto events = decode_all(decoder, bad);
  const auto errors = errors_of(events);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].error == FrameError::kBadCrc);
  CHECK(errors[0].seq == 77);
  CHECK(errors[0].flags == kFlagPosted);
  REQUIRE(frames_of(events).size() == 1);
  CHECK(frames_of(events)[0].seq == 78);
}

TEST_CASE("reserved header bytes must be zero", "[protocol]") {
  FrameDecoder decoder;
  ByteVec bad = encode_frame(make_frame(MsgType::kPing, 3));
  bad[6] = 1;
  reseal_header(bad);
  const auto errors = errors_of(decode_all(decoder, bad));
  REQUIRE(errors.size() >= 1);
  CHECK(errors[0].error == FrameError::kBadReserved);
}

TEST_CASE("length over the limit is rejected from the header alone", "[protocol]") {
  FrameDecoder decoder(kMinMaxPayload);
  ByteVec header = encode_frame(make_frame(MsgType::kStreamWrite, 12, ByteVec(10)));
  store32(header, 12, kMinMaxPayload + 1);
  reseal_header(header);
  header.resize(kHeaderBytes);  // the oversize payload never needs to arrive
  const auto errors = errors_of(decode_all(decoder, header));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].error == FrameError::kTooLarge);
  CHECK(errors[0].seq == 12);
  CHECK(errors[0].length == kMinMaxPayload + 1);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("a truncated frame waits, then yields to the frame that follows it", "[protocol]") {
  FrameDecoder decoder;
  const ByteVec whole = encode_frame(make_frame(MsgType::kStreamWrite, 1, ByteVec(100, 7)));
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{10}, kHeaderBytes, std::size_t{60}, whole.size() - 1}) {
    decoder.clear();
    ByteVec stream(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    CHECK(decode_all(decoder, stream).empty());  // incomplete: nothing yet
    CHECK(decoder.buffered() == cut);
    const Frame next = make_frame(MsgType::kCsrWrite, 2, encode(CsrWriteRequest{0x40, 1}));
    const ByteVec next_bytes = encode_frame(next);
    auto events = decode_all(decoder, next_bytes);
    // The receiver cannot tell truncation from slow arrival until enough bytes come;
    // pad so any pending length is satisfied.
    const ByteVec padding(decoder.max_buffered(), 0);
    auto more = decode_all(decoder, padding);
    events.insert(events.end(), more.begin(), more.end());
    INFO("cut at " << cut);
    CHECK(frames_of(events) == std::vector<Frame>{next});
    CHECK(decoder.buffered() == 0);
  }
}

TEST_CASE("the decoder never buffers more than one maximal frame", "[protocol]") {
  FrameDecoder decoder(kMinMaxPayload);
  // A valid header announcing a maximal payload, then endless bytes: feed() must refuse
  // what does not fit and poll() must make progress once the buffer is full.
  ByteVec stream = encode_frame(make_frame(MsgType::kStreamWrite, 1, ByteVec(kMinMaxPayload, 1)));
  stream.resize(kHeaderBytes + 100);
  stream.resize(1 << 20, 'T');
  std::span<const std::uint8_t> rest(stream);
  std::size_t events = 0;
  while (!rest.empty()) {
    const std::size_t taken = decoder.feed(rest);
    CHECK(taken <= decoder.max_buffered());
    rest = rest.subspan(taken);
    REQUIRE(decoder.buffered() <= decoder.max_buffered());
    bool progressed = taken > 0;
    while (auto event = decoder.poll()) {
      ++events;
      progressed = true;
    }
    REQUIRE(progressed);
  }
  CHECK(events > 0);
}

TEST_CASE("payload codecs round-trip", "[protocol]") {
  const HelloReply hello{1u << 20, 16, 64, "tessera-sim 16x16"};
  const HelloReply hello_back = decode_hello_reply(encode(hello));
  CHECK(hello_back.max_payload == hello.max_payload);
  CHECK(hello_back.in_beat_bytes == 16);
  CHECK(hello_back.out_beat_bytes == 64);
  CHECK(hello_back.server == hello.server);
  CHECK(decode_hello_request(encode(HelloRequest{12345})).max_payload == 12345);

  const auto csr = decode_csr_write(encode(CsrWriteRequest{0x4C, 0xDEADBEEF}));
  CHECK(csr.addr == 0x4C);
  CHECK(csr.data == 0xDEADBEEF);

  const auto read = decode_stream_read(encode(StreamReadRequest{300, 1ull << 40}));
  CHECK(read.beats == 300);
  CHECK(read.cycle_budget == 1ull << 40);

  const StreamReadReply data{1234, ByteVec{1, 2, 3}};
  const auto data_back = decode_stream_read_reply(encode(data));
  CHECK(data_back.cycles == 1234);
  CHECK(data_back.data == data.data);

  const TraceRequest trace{"waves/gemm.fst", 100, 200};
  const auto trace_back = decode_trace_start(encode(trace));
  CHECK(trace_back.path == trace.path);
  CHECK(trace_back.start_cycle == 100);
  CHECK(trace_back.end_cycle == 200);

  const ErrorReply error{ErrorCode::kEngine, 0x02, "SLVERR"};
  const auto error_back = decode_error(encode(error));
  CHECK(error_back.code == ErrorCode::kEngine);
  CHECK(error_back.request_type == 0x02);
  CHECK(error_back.message == "SLVERR");
  // Long messages are cut, so an error reply stays small.
  const auto long_back =
      decode_error(encode(ErrorReply{ErrorCode::kInternal, 0, std::string(5000, 'x')}));
  CHECK(long_back.message.size() == kMaxErrorMessage);

  const auto wait = decode_wait_status(encode(WaitStatusRequest{0x4, 9, 1ull << 35}));
  CHECK(wait.mask == 0x4);
  CHECK(wait.max_fifo_level == 9);
  CHECK(wait.cycle_budget == 1ull << 35);

  CHECK(decode_u32(encode_u32(0x89ABCDEF), "x") == 0x89ABCDEF);
  CHECK(decode_u64(encode_u64(0x0123456789ABCDEFull), "x") == 0x0123456789ABCDEFull);
}

TEST_CASE("payload decoders reject malformed payloads with a ProtocolError", "[protocol]") {
  CHECK_THROWS_WITH(decode_csr_write(ByteVec(7)),
                    Catch::Contains("CSR_WRITE") && Catch::Contains("8 bytes, got 7"));
  CHECK_THROWS_AS(decode_stream_read(ByteVec(11)), ProtocolError);
  CHECK_THROWS_AS(decode_stream_read_reply(ByteVec(7)), ProtocolError);
  CHECK_THROWS_AS(decode_trace_start(ByteVec(16)), ProtocolError);  // empty path
  ByteVec nul_path = encode(TraceRequest{"a", 0, 0});
  nul_path.back() = 0;
  CHECK_THROWS_AS(decode_trace_start(nul_path), ProtocolError);
  CHECK_THROWS_AS(decode_error(ByteVec(3)), ProtocolError);
  CHECK_THROWS_AS(decode_hello_reply(ByteVec(7)), ProtocolError);
  CHECK_THROWS_AS(decode_u64(ByteVec(9), "WAIT_IDLE"), ProtocolError);
  CHECK_THROWS_WITH(decode_wait_status(ByteVec(12)),
                    Catch::Contains("WAIT_STATUS") && Catch::Contains("16 bytes, got 12"));
  CHECK_THROWS_AS(expect_empty(ByteVec(1), "PING"), ProtocolError);
  // ProtocolError is a TransportError, so callers map it to exit 3.
  CHECK_THROWS_AS(decode_u32(ByteVec(1), "CSR_READ"), tessera::TransportError);
}

TEST_CASE("requests are described for error messages", "[protocol]") {
  CHECK(describe_request(make_frame(MsgType::kCsrWrite, 1, encode(CsrWriteRequest{0x40, 1}))) ==
        "CSR_WRITE(addr=0x00000040, data=0x00000001)");
  CHECK(describe_request(make_frame(MsgType::kStreamWrite, 1, ByteVec(32))) ==
        "STREAM_WRITE(32 bytes)");
  CHECK(describe_request(Frame{static_cast<std::uint8_t>(MsgType::kStreamWrite),
                               kFlagPosted | kFlagMore, 1, ByteVec(32)}) ==
        "STREAM_WRITE(32 bytes, packet goes on)");
  CHECK(
      describe_request(make_frame(MsgType::kWaitStatus, 1, encode(WaitStatusRequest{4, 255, 9}))) ==
      "WAIT_STATUS(mask=0x00000004, max_fifo_level=255, budget=9)");
  CHECK(msg_type_name(static_cast<std::uint8_t>(MsgType::kWaitStatus)) == "WAIT_STATUS");
  CHECK(describe_request(make_frame(MsgType::kStreamRead, 1, encode(StreamReadRequest{4, 100}))) ==
        "STREAM_READ(beats=4, budget=100)");
  CHECK(describe_request(make_frame(MsgType::kCsrWrite, 1, ByteVec(3))) ==
        "CSR_WRITE(3-byte payload)");
  CHECK(describe_request(Frame{0x42, 0, 1, {}}) == "TYPE_0x42");
  CHECK(msg_type_name(reply_type(MsgType::kStats)) == "STATS_REPLY");
  CHECK(may_be_posted(static_cast<std::uint8_t>(MsgType::kCsrWrite)));
  CHECK_FALSE(may_be_posted(static_cast<std::uint8_t>(MsgType::kCsrRead)));
}

// Fixed by default so `make test` is repeatable; TESSERA_FUZZ_SEED explores other seeds.
constexpr std::uint64_t kDefaultFuzzSeed = 0x7e55e7a;

TEST_CASE("decoder fuzz: random and mutated frames never break it", "[protocol][fuzz]") {
  std::uint64_t seed = kDefaultFuzzSeed;
  if (const char* env = std::getenv("TESSERA_FUZZ_SEED")) seed = std::stoull(env);
  std::cout << "protocol fuzz seed " << seed << " (reproduce: TESSERA_FUZZ_SEED=" << seed
            << " test_protocol '[fuzz]')" << std::endl;
  INFO("seed " << seed << "; reproduce with TESSERA_FUZZ_SEED=" << seed
               << " test_protocol '[fuzz]'");
  std::mt19937_64 rng(seed);
  auto below = [&](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };

  constexpr std::uint32_t kMax = kMinMaxPayload;
  constexpr int kFrames = 100'000;
  constexpr int kBatch = 100;
  // Intact frames carry seqs with the top bit set; mutated ones never do, so a mutated
  // frame that happens to stay valid cannot be mistaken for an intact one.
  constexpr std::uint32_t kIntactBit = 0x80000000u;
  FrameDecoder decoder(kMax);
  std::uint32_t next_intact = kIntactBit;
  std::map<FrameError, std::size_t> error_counts;
  std::size_t frames_seen = 0;
  std::size_t mutated = 0;
  std::size_t random_runs = 0;

  auto random_frame = [&](std::uint32_t seq) {
    Frame f;
    f.type = static_cast<std::uint8_t>(below(256));
    f.flags = static_cast<std::uint16_t>(below(4) == 0 ? kFlagPosted : 0);
    f.seq = seq;
    const std::size_t size = below(20) == 0 ? below(kMax + 1) : below(300);
    f.payload.resize(size);
    for (auto& b : f.payload) b = static_cast<std::uint8_t>(rng());
    return f;
  };

  for (int batch = 0; batch < kFrames / kBatch; ++batch) {
    ByteVec stream;
    std::vector<Frame> expected;
    for (int i = 0; i < kBatch; ++i) {
      const auto kind = below(10);
      if (kind < 3) {
        expected.push_back(random_frame(next_intact++));
        append_frame(stream, expected.back().type, expected.back().flags, expected.back().seq,
                     expected.back().payload);
        continue;
      }
      if (kind == 3) {  // random bytes, sometimes sprinkled with magic
        ++random_runs;
        const std::size_t n = below(400);
        for (std::size_t k = 0; k < n; ++k) {
          if (below(16) == 0) {
            stream.push_back(kMagic0);
            stream.push_back(kMagic1);
          } else {
            stream.push_back(static_cast<std::uint8_t>(rng()));
          }
        }
        continue;
      }
      ++mutated;
      ByteVec bytes = encode_frame(random_frame(static_cast<std::uint32_t>(below(kIntactBit))));
      const std::size_t size = bytes.size();
      bool trailer_cut = false;  // bytes of the trailing frame CRC were removed
      switch (below(8)) {
        case 0:  // flip 1..4 bits anywhere
          for (std::uint64_t k = 0, n = 1 + below(4); k < n; ++k) {
            bytes[below(bytes.size())] ^= static_cast<std::uint8_t>(1u << below(8));
          }
          break;
        case 1:  // truncate
          bytes.resize(below(bytes.size()));
          trailer_cut = bytes.size() + 4 > size;
          break;
        case 2:  // bad magic or version byte
          bytes[below(3)] = static_cast<std::uint8_t>(rng());
          break;
        case 3:  // trusted header with a wrong length, sometimes over the limit
          store32(bytes, 12,
                  below(2) ? static_cast<std::uint32_t>(below(kMax + 1))
                           : static_cast<std::uint32_t>(kMax + 1 + below(1u << 31)));
          reseal_header(bytes);
          break;
        case 4: {  // insert random bytes
          const std::size_t at = below(bytes.size() + 1);
          ByteVec junk(1 + below(32));
          for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), junk.begin(), junk.end());
          break;
        }
        case 5: {  // delete a range
          const std::size_t at = below(bytes.size());
          const std::size_t n = 1 + below(std::min<std::size_t>(32, bytes.size() - at));
          bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                      bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
          trailer_cut = at + n + 4 > size;
          break;
        }
        case 6:  // nonzero reserved or unknown version with a trusted header
          if (below(2)) {
            bytes[6 + below(2)] = static_cast<std::uint8_t>(1 + below(255));
          } else {
            bytes[2] = static_cast<std::uint8_t>(kVersion + 1 + below(200));
          }
          reseal_header(bytes);
          break;
        default:  // corrupt trailer CRC
          bytes[bytes.size() - 1 - below(4)] ^= static_cast<std::uint8_t>(1 + below(255));
          break;
      }
      // A frame that lost bytes of its trailing CRC is completed by the next bytes, and
      // for t lost bytes they match with chance 2^-8t: then it is a frame no receiver
      // can tell from a good one (docs/protocol.md). Let those bytes be junk, never
      // magic, rather than an intact frame.
      if (trailer_cut) {
        for (int k = 0; k < 4; ++k)
          bytes.push_back(static_cast<std::uint8_t>(kMagic0 + 1 + below(200)));
      }
      stream.insert(stream.end(), bytes.begin(), bytes.end());
    }
    // Zero padding completes whatever frame the tail of the batch left pending.
    stream.resize(stream.size() + decoder.max_buffered(), 0);

    std::vector<Frame> got;
    std::span<const std::uint8_t> rest(stream);
    while (!rest.empty()) {
      const std::size_t chunk = 1 + below(below(4) == 0 ? 8 : 3000);
      rest = rest.subspan(decoder.feed(rest.first(std::min(chunk, rest.size()))));
      REQUIRE(decoder.buffered() <= decoder.max_buffered());
      while (auto event = decoder.poll()) {
        if (event->is_frame()) {
          ++frames_seen;
          if (event->frame.seq & kIntactBit) got.push_back(std::move(event->frame));
        } else {
          ++error_counts[event->error];
          REQUIRE(event->discarded > 0);
        }
      }
    }
    INFO("batch " << batch);
    // Every intact frame survives whatever garbage surrounds it, in order, unchanged.
    REQUIRE(got.size() == expected.size());
    REQUIRE(got == expected);
    REQUIRE(decoder.buffered() == 0);
  }
  std::cout << "fuzz: " << kFrames << " frames (" << mutated << " mutated, " << random_runs
            << " random runs); decoded " << frames_seen << " frames; errors:";
  for (const auto& [error, n] : error_counts)
    std::cout << " " << frame_error_name(error) << "=" << n;
  std::cout << std::endl;
  for (FrameError e : {FrameError::kGarbage, FrameError::kBadHeaderCrc, FrameError::kBadVersion,
                       FrameError::kBadReserved, FrameError::kTooLarge, FrameError::kBadCrc}) {
    CHECK(error_counts[e] > 0);
  }
}

TEST_CASE("payload decoder fuzz: malformed payloads only ever throw ProtocolError",
          "[protocol][fuzz]") {
  std::uint64_t seed = kDefaultFuzzSeed;
  if (const char* env = std::getenv("TESSERA_FUZZ_SEED")) seed = std::stoull(env);
  std::cout << "payload fuzz seed " << seed << std::endl;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 100'000; ++i) {
    ByteVec payload(rng() % 48);
    for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
    const auto which = rng() % 9;
    try {
      switch (which) {
        case 0:
          decode_hello_request(payload);
          break;
        case 1:
          decode_hello_reply(payload);
          break;
        case 2:
          decode_csr_write(payload);
          break;
        case 3:
          decode_stream_read(payload);
          break;
        case 4:
          decode_stream_read_reply(payload);
          break;
        case 5:
          decode_trace_start(payload);
          break;
        case 6:
          decode_error(payload);
          break;
        case 7:
          decode_u64(payload, "x");
          break;
        case 8:
          decode_wait_status(payload);
          break;
        default:
          break;
      }
    } catch (const ProtocolError&) {
    }
    const std::string text =
        describe_request(Frame{static_cast<std::uint8_t>(rng()), 0, 1, payload});
    REQUIRE_FALSE(text.empty());
  }
}
