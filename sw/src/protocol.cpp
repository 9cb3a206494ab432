#include "tessera/protocol.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include <zlib.h>

namespace tessera::protocol {
namespace {

std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t load32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t load64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load32(p)) | (static_cast<std::uint64_t>(load32(p + 4)) << 32);
}
// Resize-then-store rather than push_back chains: GCC 12 reports a false
// -Wstringop-overflow for the latter.
void store_le(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(bytes));
  store_le(out.data() + at, v, bytes);
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) { put_le(out, v, 2); }
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) { put_le(out, v, 4); }
void put64(std::vector<std::uint8_t>& out, std::uint64_t v) { put_le(out, v, 8); }

std::string hex32(std::uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

[[noreturn]] void bad_size(const char* what, const char* expected, std::size_t got) {
  throw ProtocolError(std::string(what) + " payload must be " + expected + ", got " +
                      std::to_string(got) + " bytes");
}
void expect_size(std::span<const std::uint8_t> payload, std::size_t size, const char* what) {
  if (payload.size() != size) {
    throw ProtocolError(std::string(what) + " payload must be " + std::to_string(size) +
                        " bytes, got " + std::to_string(payload.size()));
  }
}

constexpr std::size_t kMaxTracePath = 4096;
constexpr std::size_t kMaxServerName = 256;

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t previous) {
  // zlib's CRC-32 (the same polynomial, and it continues from a previous result); its
  // length is a uInt, so a span past 4 GiB goes in pieces.
  uLong crc = previous;
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  while (n > 0) {
    const auto piece = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = ::crc32(crc, p, piece);
    p += piece;
    n -= piece;
  }
  return static_cast<std::uint32_t>(crc);
}

bool may_be_posted(std::uint8_t type) {
  switch (static_cast<MsgType>(type)) {
    case MsgType::kCsrWrite:
    case MsgType::kStreamWrite:
    case MsgType::kReset:
    case MsgType::kTraceStop:
    case MsgType::kPing:
      return true;
    default:
      return false;
  }
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadFrame:
      return "BAD_FRAME";
    case ErrorCode::kBadVersion:
      return "BAD_VERSION";
    case ErrorCode::kTooLarge:
      return "TOO_LARGE";
    case ErrorCode::kBadRequest:
      return "BAD_REQUEST";
    case ErrorCode::kTransport:
      return "TRANSPORT";
    case ErrorCode::kEngine:
      return "ENGINE";
    case ErrorCode::kInput:
      return "INPUT";
    case ErrorCode::kBusy:
      return "BUSY";
    case ErrorCode::kIdleTimeout:
      return "IDLE_TIMEOUT";
    case ErrorCode::kSkipped:
      return "SKIPPED";
    case ErrorCode::kShuttingDown:
      return "SHUTTING_DOWN";
    case ErrorCode::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN_ERROR";
}

std::string msg_type_name(std::uint8_t type) {
  if (type == static_cast<std::uint8_t>(MsgType::kError)) return "ERROR";
  const bool reply = (type & kReplyBit) != 0;
  const char* base = nullptr;
  switch (static_cast<MsgType>(type & ~kReplyBit)) {
    case MsgType::kHello:
      base = "HELLO";
      break;
    case MsgType::kCsrWrite:
      base = "CSR_WRITE";
      break;
    case MsgType::kCsrRead:
      base = "CSR_READ";
      break;
    case MsgType::kStreamWrite:
      base = "STREAM_WRITE";
      break;
    case MsgType::kStreamRead:
      base = "STREAM_READ";
      break;
    case MsgType::kWaitIdle:
      base = "WAIT_IDLE";
      break;
    case MsgType::kReset:
      base = "RESET";
      break;
    case MsgType::kTraceStart:
      base = "TRACE_START";
      break;
    case MsgType::kTraceStop:
      base = "TRACE_STOP";
      break;
    case MsgType::kStats:
      base = "STATS";
      break;
    case MsgType::kPing:
      base = "PING";
      break;
    case MsgType::kWaitStatus:
      base = "WAIT_STATUS";
      break;
    case MsgType::kLimits:
      base = "LIMITS";
      break;
    default:
      break;
  }
  if (base == nullptr) {
    char text[16];
    std::snprintf(text, sizeof text, "TYPE_0x%02x", type);
    return text;
  }
  return reply ? std::string(base) + "_REPLY" : std::string(base);
}

const char* frame_error_name(FrameError error) {
  switch (error) {
    case FrameError::kGarbage:
      return "garbage";
    case FrameError::kBadHeaderCrc:
      return "bad header CRC";
    case FrameError::kBadVersion:
      return "bad version";
    case FrameError::kBadReserved:
      return "reserved bytes set";
    case FrameError::kTooLarge:
      return "length over limit";
    case FrameError::kBadCrc:
      return "bad frame CRC";
  }
  return "unknown";
}

void append_frame(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint16_t flags,
                  std::uint32_t seq, std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxMaxPayload) {
    throw ProtocolError("frame payload of " + std::to_string(payload.size()) +
                        " bytes exceeds the protocol maximum");
  }
  const std::size_t start = out.size();
  // Geometric growth: callers append thousands of small frames to one batch, and an
  // exact reserve per frame would make that quadratic.
  const std::size_t needed = start + kFrameOverhead + payload.size();
  if (needed > out.capacity()) out.reserve(std::max(needed, 2 * out.capacity()));
  out.resize(start + 4);
  out[start] = kMagic0;
  out[start + 1] = kMagic1;
  out[start + 2] = kVersion;
  out[start + 3] = type;
  put16(out, flags);
  put16(out, 0);
  put32(out, seq);
  put32(out, static_cast<std::uint32_t>(payload.size()));
  put32(out, crc32(std::span(out.data() + start, 16)));
  out.insert(out.end(), payload.begin(), payload.end());
  put32(out, crc32(std::span(out.data() + start, kHeaderBytes + payload.size())));
}

std::vector<std::uint8_t> encode_frame(const Frame& frame) {
  std::vector<std::uint8_t> out;
  append_frame(out, frame.type, frame.flags, frame.seq, frame.payload);
  return out;
}

// ---- Decoder -------------------------------------------------------------------------

std::string DecodeEvent::describe() const {
  if (is_frame()) return "frame #" + std::to_string(frame.seq) + " " + msg_type_name(frame.type);
  const std::string which =
      header_valid ? "frame #" + std::to_string(seq) + " (" + msg_type_name(type) + ")" : "";
  const std::string dropped = " (discarded " + std::to_string(discarded) + " bytes)";
  switch (error) {
    case FrameError::kGarbage:
      return "garbage: no frame magic in " + std::to_string(discarded) + " bytes";
    case FrameError::kBadHeaderCrc:
      return "frame header CRC mismatch" + dropped;
    case FrameError::kBadVersion:
      return which + " has protocol version " + std::to_string(version) + ", expected " +
             std::to_string(kVersion) + dropped;
    case FrameError::kBadReserved:
      return which + " has nonzero reserved header bytes" + dropped;
    case FrameError::kTooLarge:
      return which + " payload length " + std::to_string(length) + " exceeds the limit";
    case FrameError::kBadCrc:
      return which + " frame CRC mismatch: corrupt or truncated " + std::to_string(length) +
             "-byte payload" + dropped;
  }
  return "decode error";
}

FrameDecoder::FrameDecoder(std::uint32_t max_payload) : max_payload_(max_payload) {
  if (max_payload_ < kMinMaxPayload || max_payload_ > kMaxMaxPayload) {
    throw InputError("max payload " + std::to_string(max_payload) + " bytes is outside " +
                     std::to_string(kMinMaxPayload) + ".." + std::to_string(kMaxMaxPayload));
  }
}

void FrameDecoder::clear() {
  buffer_.clear();
  read_pos_ = 0;
}

std::size_t FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (read_pos_ == buffer_.size()) clear();
  const std::size_t take = std::min(bytes.size(), space());
  if (take == 0) return 0;
  // Compact when the bytes would not fit behind the consumed prefix, or when the prefix
  // outweighs the live bytes (amortized O(1) per byte).
  if (read_pos_ > 0 &&
      (buffer_.size() + take > max_buffered() || read_pos_ >= buffer_.size() - read_pos_)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_pos_));
    read_pos_ = 0;
  }
  const std::size_t needed = buffer_.size() + take;  // <= max_buffered() by construction
  if (needed > buffer_.capacity()) {
    buffer_.reserve(std::min(max_buffered(), std::max(needed, 2 * buffer_.capacity())));
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
  return take;
}

// First position >= from that may start a frame: the full magic, or magic0 as the very
// last buffered byte. buffer_.size() when there is none.
std::size_t FrameDecoder::next_candidate(std::size_t from) const {
  const std::size_t size = buffer_.size();
  while (from < size) {
    const void* hit = std::memchr(buffer_.data() + from, kMagic0, size - from);
    if (hit == nullptr) return size;
    const std::size_t pos =
        static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - buffer_.data());
    if (pos + 1 == size || buffer_[pos + 1] == kMagic1) return pos;
    from = pos + 1;
  }
  return size;
}

DecodeEvent FrameDecoder::error_event(FrameError error, std::size_t skip) {
  DecodeEvent event;
  event.kind = DecodeEvent::Kind::kError;
  event.error = error;
  const std::size_t next = next_candidate(read_pos_ + skip);
  event.discarded = next - read_pos_;
  read_pos_ = next;
  return event;
}

std::optional<DecodeEvent> FrameDecoder::poll() {
  const std::size_t available = buffered();
  if (available == 0) return std::nullopt;
  const std::uint8_t* p = buffer_.data() + read_pos_;

  if (p[0] != kMagic0 || (available >= 2 && p[1] != kMagic1)) {
    return error_event(FrameError::kGarbage, 1);
  }
  if (available < kHeaderBytes) return std::nullopt;
  if (crc32(std::span(p, 16)) != load32(p + 16)) {
    return error_event(FrameError::kBadHeaderCrc, 1);
  }

  const std::uint8_t version = p[2];
  const std::uint8_t type = p[3];
  const std::uint16_t flags = load16(p + 4);
  const std::uint16_t reserved = load16(p + 6);
  const std::uint32_t seq = load32(p + 8);
  const std::uint32_t length = load32(p + 12);
  auto header_error = [&](FrameError error) {
    // Skip only the magic: a header CRC can match by chance (a frame cut one byte short
    // of it is completed by the next frame's 'T' one time in 256), so the next frame may
    // start inside these 20 bytes.
    DecodeEvent event = error_event(error, 2);
    event.header_valid = true;
    event.version = version;
    event.type = type;
    event.flags = flags;
    event.seq = seq;
    event.length = length;
    return event;
  };
  if (version != kVersion) return header_error(FrameError::kBadVersion);
  if (reserved != 0) return header_error(FrameError::kBadReserved);
  if (length > max_payload_) return header_error(FrameError::kTooLarge);

  const std::size_t total = kFrameOverhead + length;
  if (available < total) return std::nullopt;
  if (crc32(std::span(p, kHeaderBytes + length)) != load32(p + kHeaderBytes + length)) {
    return header_error(FrameError::kBadCrc);
  }

  DecodeEvent event;
  event.kind = DecodeEvent::Kind::kFrame;
  event.header_valid = true;
  event.version = version;
  event.type = event.frame.type = type;
  event.flags = event.frame.flags = flags;
  event.seq = event.frame.seq = seq;
  event.length = length;
  event.frame.payload.assign(p + kHeaderBytes, p + kHeaderBytes + length);
  read_pos_ += total;
  return event;
}

// ---- Payload codecs ------------------------------------------------------------------

Bytes encode(const HelloRequest& request) { return encode_u32(request.max_payload); }

Bytes encode(const HelloReply& reply) {
  const std::size_t n = std::min(reply.server.size(), kMaxServerName);
  Bytes out(8 + n);
  store_le(out.data(), reply.max_payload, 4);
  store_le(out.data() + 4, reply.in_beat_bytes, 2);
  store_le(out.data() + 6, reply.out_beat_bytes, 2);
  if (n > 0) std::memcpy(out.data() + 8, reply.server.data(), n);
  return out;
}

Bytes encode(const CsrWriteRequest& request) {
  Bytes out;
  put32(out, request.addr);
  put32(out, request.data);
  return out;
}

Bytes encode(const StreamReadRequest& request) {
  Bytes out;
  put32(out, request.beats);
  put64(out, request.cycle_budget);
  return out;
}

Bytes encode(const StreamReadReply& reply) {
  Bytes out;
  out.reserve(8 + reply.data.size());
  put64(out, reply.cycles);
  out.insert(out.end(), reply.data.begin(), reply.data.end());
  return out;
}

Bytes encode(const WaitStatusRequest& request) {
  Bytes out;
  put32(out, request.mask);
  put32(out, request.max_fifo_level);
  put64(out, request.cycle_budget);
  return out;
}

Bytes encode(const TraceRequest& request) {
  if (request.path.size() > kMaxTracePath) {
    throw ProtocolError("trace path of " + std::to_string(request.path.size()) +
                        " bytes is longer than " + std::to_string(kMaxTracePath));
  }
  Bytes out(16 + request.path.size());
  store_le(out.data(), request.start_cycle, 8);
  store_le(out.data() + 8, request.end_cycle, 8);
  if (!request.path.empty()) std::memcpy(out.data() + 16, request.path.data(), request.path.size());
  return out;
}

Bytes encode(const ErrorReply& reply) {
  Bytes out;
  const std::size_t n = std::min(reply.message.size(), kMaxErrorMessage);
  out.resize(4 + n);
  store_le(out.data(), static_cast<std::uint16_t>(reply.code), 2);
  out[2] = reply.request_type;
  out[3] = 0;
  if (n > 0) std::memcpy(out.data() + 4, reply.message.data(), n);
  return out;
}

Bytes encode(const LimitsReply& reply) {
  Bytes out;
  put32(out, reply.input_ahead_bytes);
  put32(out, reply.output_beats);
  return out;
}

Bytes encode_u32(std::uint32_t value) {
  Bytes out;
  put32(out, value);
  return out;
}

Bytes encode_u64(std::uint64_t value) {
  Bytes out;
  put64(out, value);
  return out;
}

HelloRequest decode_hello_request(std::span<const std::uint8_t> payload) {
  return HelloRequest{decode_u32(payload, "HELLO")};
}

HelloReply decode_hello_reply(std::span<const std::uint8_t> payload) {
  if (payload.size() < 8 || payload.size() > 8 + kMaxServerName) {
    bad_size("HELLO_REPLY", "8..264 bytes", payload.size());
  }
  HelloReply reply;
  reply.max_payload = load32(payload.data());
  reply.in_beat_bytes = load16(payload.data() + 4);
  reply.out_beat_bytes = load16(payload.data() + 6);
  reply.server.assign(payload.begin() + 8, payload.end());
  return reply;
}

CsrWriteRequest decode_csr_write(std::span<const std::uint8_t> payload) {
  expect_size(payload, 8, "CSR_WRITE");
  return CsrWriteRequest{load32(payload.data()), load32(payload.data() + 4)};
}

StreamReadRequest decode_stream_read(std::span<const std::uint8_t> payload) {
  expect_size(payload, 12, "STREAM_READ");
  return StreamReadRequest{load32(payload.data()), load64(payload.data() + 4)};
}

StreamReadReply decode_stream_read_reply(std::span<const std::uint8_t> payload) {
  if (payload.size() < 8) bad_size("STREAM_READ_REPLY", "at least 8 bytes", payload.size());
  StreamReadReply reply;
  reply.cycles = load64(payload.data());
  reply.data.assign(payload.begin() + 8, payload.end());
  return reply;
}

WaitStatusRequest decode_wait_status(std::span<const std::uint8_t> payload) {
  expect_size(payload, 16, "WAIT_STATUS");
  return WaitStatusRequest{load32(payload.data()), load32(payload.data() + 4),
                           load64(payload.data() + 8)};
}

TraceRequest decode_trace_start(std::span<const std::uint8_t> payload) {
  if (payload.size() < 17 || payload.size() > 16 + kMaxTracePath) {
    bad_size("TRACE_START", "16 bytes plus a 1..4096-byte path", payload.size());
  }
  TraceRequest request;
  request.start_cycle = load64(payload.data());
  request.end_cycle = load64(payload.data() + 8);
  request.path.assign(payload.begin() + 16, payload.end());
  if (request.path.find('\0') != std::string::npos) {
    throw ProtocolError("TRACE_START path contains a NUL byte");
  }
  return request;
}

ErrorReply decode_error(std::span<const std::uint8_t> payload) {
  if (payload.size() < 4 || payload.size() > 4 + kMaxErrorMessage) {
    bad_size("ERROR", "4..1028 bytes", payload.size());
  }
  ErrorReply reply;
  reply.code = static_cast<ErrorCode>(load16(payload.data()));
  reply.request_type = payload[2];
  reply.message.assign(payload.begin() + 4, payload.end());
  return reply;
}

LimitsReply decode_limits_reply(std::span<const std::uint8_t> payload) {
  expect_size(payload, 8, "LIMITS_REPLY");
  return LimitsReply{load32(payload.data()), load32(payload.data() + 4)};
}

std::uint32_t decode_u32(std::span<const std::uint8_t> payload, const char* what) {
  expect_size(payload, 4, what);
  return load32(payload.data());
}

std::uint64_t decode_u64(std::span<const std::uint8_t> payload, const char* what) {
  expect_size(payload, 8, what);
  return load64(payload.data());
}

void expect_empty(std::span<const std::uint8_t> payload, const char* what) {
  expect_size(payload, 0, what);
}

std::string describe_request(const Frame& frame) {
  const std::string name = msg_type_name(frame.type);
  const auto& p = frame.payload;
  switch (static_cast<MsgType>(frame.type)) {
    case MsgType::kCsrWrite:
      if (p.size() == 8) {
        return name + "(addr=" + hex32(load32(p.data())) + ", data=" + hex32(load32(p.data() + 4)) +
               ")";
      }
      break;
    case MsgType::kCsrRead:
      if (p.size() == 4) return name + "(addr=" + hex32(load32(p.data())) + ")";
      break;
    case MsgType::kStreamWrite:
      return name + "(" + std::to_string(p.size()) + " bytes" +
             ((frame.flags & kFlagMore) ? ", packet goes on)" : ")");
    case MsgType::kStreamRead:
      if (p.size() == 12) {
        return name + "(beats=" + std::to_string(load32(p.data())) +
               ", budget=" + std::to_string(load64(p.data() + 4)) + ")";
      }
      break;
    case MsgType::kWaitIdle:
      if (p.size() == 8) return name + "(budget=" + std::to_string(load64(p.data())) + ")";
      break;
    case MsgType::kWaitStatus:
      if (p.size() == 16) {
        return name + "(mask=" + hex32(load32(p.data())) +
               ", max_fifo_level=" + std::to_string(load32(p.data() + 4)) +
               ", budget=" + std::to_string(load64(p.data() + 8)) + ")";
      }
      break;
    case MsgType::kTraceStart:
      if (p.size() >= 16) {
        std::string path(
            p.begin() + 16,
            p.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(p.size(), 16 + 200)));
        return name + "(path='" + path + "', cycles " + std::to_string(load64(p.data())) + ".." +
               std::to_string(load64(p.data() + 8)) + ")";
      }
      break;
    default:
      if (p.empty()) return name;
      break;
  }
  return name + "(" + std::to_string(p.size()) + "-byte payload)";
}

}  // namespace tessera::protocol
