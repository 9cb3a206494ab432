// The Tessera wire protocol (docs/protocol.md): framing, an incremental decoder that
// rejects garbage and resynchronizes, and the request/reply payload codecs. Pure byte
// handling with no I/O, so the TCP transport, the tessera-sim server and the serial
// link all share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/errors.hpp"
#include "tessera/transport.hpp"

namespace tessera::protocol {

/// ---- Framing -------------------------------------------------------------------------
/// | off | size | field                                                    |
/// |   0 |    2 | magic 'T' 'S' (0x54 0x53)                                |
/// |   2 |    1 | version (1)                                              |
/// |   3 |    1 | type (request; reply = request | 0x80; 0xFF error)       |
/// |   4 |    2 | flags (bit 0 POSTED), little endian                      |
/// |   6 |    2 | reserved, zero                                           |
/// |   8 |    4 | seq                                                      |
/// |  12 |    4 | payload length                                           |
/// |  16 |    4 | header CRC-32 over bytes 0..15                           |
/// |  20 |    n | payload                                                  |
/// |20+n |    4 | frame CRC-32 over bytes 0..20+n-1                        |
inline constexpr std::uint8_t kMagic0 = 0x54;  ///< 'T'
inline constexpr std::uint8_t kMagic1 = 0x53;  ///< 'S'
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 20;
inline constexpr std::size_t kTrailerBytes = 4;
inline constexpr std::size_t kFrameOverhead = kHeaderBytes + kTrailerBytes;

/// Largest payload a receiver accepts unless configured otherwise, and the range the
/// setting may take (the lower bound keeps every fixed-size message and a few beats in).
inline constexpr std::uint32_t kDefaultMaxPayload = 16u << 20;
inline constexpr std::uint32_t kMinMaxPayload = 4096;
inline constexpr std::uint32_t kMaxMaxPayload = 1u << 30;
/// Error messages longer than this are cut, so an error reply is always small.
inline constexpr std::size_t kMaxErrorMessage = 1024;

enum class MsgType : std::uint8_t {
  kHello = 0x01,
  kCsrWrite = 0x02,
  kCsrRead = 0x03,
  kStreamWrite = 0x04,
  kStreamRead = 0x05,
  kWaitIdle = 0x06,
  kReset = 0x07,
  kTraceStart = 0x08,
  kTraceStop = 0x09,
  kStats = 0x0A,
  kPing = 0x0B,
  kWaitStatus = 0x0C,
  kLimits = 0x0D,  // the server's buffer limits (docs/protocol.md, "Bounded buffers")
  kError = 0xFF,
};
inline constexpr std::uint8_t kReplyBit = 0x80;
constexpr std::uint8_t reply_type(MsgType request) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(request) | kReplyBit);
}

inline constexpr std::uint16_t kFlagPosted = 1u << 0;
/// STREAM_WRITE only: the input packet goes on in the next STREAM_WRITE, so this frame's
/// last beat carries no TLAST. Without it a STREAM_WRITE ends its packet, which is what
/// every frame meant before packets were explicit (one frame, one LOAD's data).
inline constexpr std::uint16_t kFlagMore = 1u << 1;
inline constexpr std::uint16_t kKnownFlags = kFlagPosted | kFlagMore;

/// True for requests whose reply is empty, the only ones that may be POSTED.
bool may_be_posted(std::uint8_t type);

enum class ErrorCode : std::uint16_t {
  kBadFrame = 1,       // garbage, bad header or frame CRC, reserved bits set
  kBadVersion = 2,     // header version is not kVersion
  kTooLarge = 3,       // payload length over the receiver's limit
  kBadRequest = 4,     // unknown type, bad flags, malformed payload, reply would not fit
  kTransport = 5,      // engine-side TransportError (e.g. cycle budget exhausted)
  kEngine = 6,         // EngineError
  kInput = 7,          // InputError (e.g. a partial stream beat)
  kBusy = 8,           // another client is attached
  kIdleTimeout = 9,    // the client sent nothing for idle_timeout_ms
  kSkipped = 10,       // not executed: an earlier POSTED request failed
  kShuttingDown = 11,  // the server is exiting (signal)
  kInternal = 12,      // anything else the server caught
};
const char* error_code_name(ErrorCode code);
/// "CSR_WRITE", "CSR_WRITE_REPLY", "ERROR", or "TYPE_0x42".
std::string msg_type_name(std::uint8_t type);

/// A malformed frame or payload. A TransportError, so the CLI maps it to exit 3.
class ProtocolError : public TransportError {
 public:
  using TransportError::TransportError;
};

struct Frame {
  std::uint8_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t seq = 0;
  std::vector<std::uint8_t> payload;

  bool operator==(const Frame&) const = default;
};

/// Standard CRC-32 (IEEE 802.3, reflected 0xEDB88320, init and final xor 0xFFFFFFFF;
/// crc32("123456789") == 0xCBF43926). Pass a previous result to continue a running CRC.
std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t previous = 0);

/// Appends one encoded frame to `out`.
void append_frame(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint16_t flags,
                  std::uint32_t seq, std::span<const std::uint8_t> payload);
std::vector<std::uint8_t> encode_frame(const Frame& frame);

/// ---- Incremental decoder -------------------------------------------------------------
enum class FrameError {
  kGarbage,       // bytes before the next magic candidate
  kBadHeaderCrc,  // magic found but the header CRC does not match
  kBadVersion,    // header intact, version unsupported
  kBadReserved,   // header intact, reserved bytes nonzero
  kTooLarge,      // header intact, length over the limit
  kBadCrc,        // header intact, frame CRC mismatch (corrupt or truncated payload)
};
const char* frame_error_name(FrameError error);

struct DecodeEvent {
  enum class Kind { kFrame, kError } kind = Kind::kFrame;
  Frame frame;                              ///< kFrame
  FrameError error = FrameError::kGarbage;  ///< kError
  std::size_t discarded = 0;                ///< bytes dropped by this error
  /// For kBadVersion, kBadReserved, kTooLarge and kBadCrc the header passed its CRC, so
  /// these name the rejected frame (a receiver can address its error reply).
  bool header_valid = false;
  std::uint8_t version = 0;
  std::uint8_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t length = 0;

  bool is_frame() const { return kind == Kind::kFrame; }
  std::string describe() const;  ///< one line for logs and error replies
};

/// Turns a byte stream into frames and errors. Memory is bounded: it buffers at most
/// max_buffered() bytes (one maximal frame); feed() takes only what fits, and whenever
/// the buffer is full poll() is guaranteed to make progress. Typical use:
///   while (!bytes.empty()) {
///     bytes = bytes.subspan(decoder.feed(bytes));
///     while (auto event = decoder.poll()) handle(*event);
///   }
/// Resynchronization: a bad header skips one byte, an intact header with a bad payload
/// skips only the header, then the decoder scans for the next magic. With the header
/// CRC, a frame that follows a truncated or corrupt one is still found.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t max_payload = kDefaultMaxPayload);

  /// Copies in as many bytes as fit (possibly none) and returns how many it took.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  /// Next frame or error, or nothing when more bytes are needed.
  std::optional<DecodeEvent> poll();

  std::size_t buffered() const { return buffer_.size() - read_pos_; }
  std::size_t space() const { return max_buffered() - buffered(); }
  std::size_t max_buffered() const { return kFrameOverhead + max_payload_; }
  std::uint32_t max_payload() const { return max_payload_; }
  void clear();

 private:
  std::uint32_t max_payload_;
  std::vector<std::uint8_t> buffer_;
  std::size_t read_pos_ = 0;

  std::size_t next_candidate(std::size_t from) const;
  DecodeEvent error_event(FrameError error, std::size_t skip);
};

/// ---- Payload codecs ------------------------------------------------------------------
/// All integers little endian. Decoders throw ProtocolError naming the message and the
/// expected vs actual size on any malformed payload.
using Bytes = std::vector<std::uint8_t>;

struct HelloRequest {
  std::uint32_t max_payload = kDefaultMaxPayload;  ///< largest reply the client accepts
};
struct HelloReply {
  std::uint32_t max_payload = 0;    ///< largest request payload the server accepts
  std::uint16_t in_beat_bytes = 0;  ///< AXI4-Stream beat widths of the engine
  std::uint16_t out_beat_bytes = 0;
  std::string server;  ///< e.g. "tessera-sim 16x16"
};
struct CsrWriteRequest {
  std::uint32_t addr = 0;
  std::uint32_t data = 0;
};
struct StreamReadRequest {
  std::uint32_t beats = 0;
  std::uint64_t cycle_budget = 0;
};
struct WaitStatusRequest {
  std::uint32_t mask = 0;            ///< STATUS bits to wait for clear
  std::uint32_t max_fifo_level = 0;  ///< and a command FIFO level at most this
  std::uint64_t cycle_budget = 0;
};
struct StreamReadReply {
  std::uint64_t cycles = 0;  ///< cycles the read took, so a split read can share a budget
  Bytes data;
};
/// LIMITS reply: BufferLimits (tessera/transport.hpp), two u32.
struct LimitsReply {
  std::uint32_t input_ahead_bytes = BufferLimits::kUnbounded;
  std::uint32_t output_beats = BufferLimits::kUnbounded;
};
struct ErrorReply {
  ErrorCode code = ErrorCode::kInternal;
  std::uint8_t request_type = 0;  ///< type of the failed request, 0 when unknown
  std::string message;
};

Bytes encode(const HelloRequest& request);
Bytes encode(const HelloReply& reply);
Bytes encode(const CsrWriteRequest& request);
Bytes encode(const StreamReadRequest& request);
Bytes encode(const StreamReadReply& reply);
Bytes encode(const WaitStatusRequest& request);
Bytes encode(const TraceRequest& request);
Bytes encode(const ErrorReply& reply);
Bytes encode(const LimitsReply& reply);
Bytes encode_u32(std::uint32_t value);  ///< CSR_READ request (addr) and reply (data)
Bytes encode_u64(std::uint64_t value);  ///< WAIT_IDLE request/reply, STATS reply

HelloRequest decode_hello_request(std::span<const std::uint8_t> payload);
HelloReply decode_hello_reply(std::span<const std::uint8_t> payload);
CsrWriteRequest decode_csr_write(std::span<const std::uint8_t> payload);
StreamReadRequest decode_stream_read(std::span<const std::uint8_t> payload);
StreamReadReply decode_stream_read_reply(std::span<const std::uint8_t> payload);
WaitStatusRequest decode_wait_status(std::span<const std::uint8_t> payload);
TraceRequest decode_trace_start(std::span<const std::uint8_t> payload);
ErrorReply decode_error(std::span<const std::uint8_t> payload);
LimitsReply decode_limits_reply(std::span<const std::uint8_t> payload);
std::uint32_t decode_u32(std::span<const std::uint8_t> payload, const char* what);
std::uint64_t decode_u64(std::span<const std::uint8_t> payload, const char* what);
void expect_empty(std::span<const std::uint8_t> payload, const char* what);

/// "CSR_WRITE(addr=0x00000040, data=0x00000001)", "STREAM_WRITE(4096 bytes, packet goes on)",
/// ... for
/// error messages; tolerant of malformed payloads.
std::string describe_request(const Frame& frame);

}  // namespace tessera::protocol
