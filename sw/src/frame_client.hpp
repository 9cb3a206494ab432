// FrameClient: the client side of the wire protocol (docs/protocol.md) over any byte
// link that is a file descriptor: a TCP socket (tcp_transport.cpp) or a serial port
// (serial_transport.cpp). It owns the request logic both share: HELLO and LIMITS,
// POSTED writes batched and sent without waiting (a failure surfaces as the exception
// of the next call that waits, naming the failed request), stream reads and writes
// split to the negotiated frame size, and error replies mapped to exceptions.
//
// The link decides one policy: a reliable link (TCP) treats a timeout or corrupt data
// as fatal; a lossy one (serial, docs/protocol.md "Serial") ends every batch of posted
// frames with a synchronous PING and counts on its reply, discards corrupt bytes and
// late replies, and after a reply timeout resynchronizes with PING and throws
// TransportError for the request whose outcome is unknown, leaving the link usable.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/protocol.hpp"
#include "tessera/transport.hpp"

namespace tessera::detail {

struct LinkPolicy {
  std::string name;  // "tcp://HOST:PORT", "serial:///dev/ttyUSB1": prefixes every error
  // Longest wait for one reply or send; 0 waits forever.
  std::chrono::milliseconds reply_timeout{0};
  // A request that clocks the engine for up to a cycle budget (STREAM_READ, WAIT_IDLE,
  // WAIT_STATUS) may take budget / this many seconds more than reply_timeout: the
  // slowest the other end is expected to simulate. 0: no allowance.
  std::uint64_t budget_cycles_per_second = 0;
  std::uint32_t max_payload = protocol::kDefaultMaxPayload;
  std::size_t send_batch_bytes = 256 * 1024;  // posted frames buffered before a send
  bool lossy = false;                         // serial semantics (above)
  unsigned resync_attempts = 5;               // lossy: PINGs sent before giving up
  // Lossy: zeros sent before each PING after the first, to complete a frame the
  // receiver still waits for: a board's largest (4096-byte payload) by default.
  std::size_t resync_fill_bytes = protocol::kMinMaxPayload + protocol::kFrameOverhead;
};

class FrameClient : public Transport {
 public:
  using Transport::stream_write;

  void csr_write(std::uint32_t addr, std::uint32_t data) override;
  std::uint32_t csr_read(std::uint32_t addr) override;
  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override;
  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t cycle_budget) override;
  std::uint64_t wait_idle(std::uint64_t cycle_budget) override;
  std::uint64_t wait_status(std::uint32_t clear_mask, unsigned max_fifo_level,
                            std::uint64_t cycle_budget) override;
  void reset() override;
  void trace_start(const TraceRequest& request) override;
  void trace_stop() override;
  SimStats stats() override;
  BufferLimits limits() override { return limits_; }

 protected:
  explicit FrameClient(LinkPolicy policy);

  // Call once the link is open, with its non-blocking descriptor (owned by the
  // subclass): a lossy link first drains stale input and resynchronizes, then HELLO and
  // LIMITS. Throws TransportError naming the link.
  void open_session(int fd);
  // For the subclass's destructor, before it closes the descriptor: delivers posted
  // writes and waits for a PING's reply, so that they have run and any failure of theirs
  // has arrived. Never throws: a failure no call has reported yet goes to stderr.
  void close_session() noexcept;

  [[noreturn]] void fail(const std::string& why);
  const std::string& name() const { return policy_.name; }

 private:
  struct PostedFailure {
    std::uint32_t seq = 0;
    protocol::ErrorReply error;
  };
  using Clock = std::chrono::steady_clock;

  LinkPolicy policy_;
  int fd_ = -1;
  protocol::FrameDecoder decoder_;
  std::uint32_t max_payload_;
  std::uint16_t in_beat_bytes_ = 0;
  std::uint16_t out_beat_bytes_ = 0;
  BufferLimits limits_;
  std::vector<std::uint8_t> out_;  // encoded frames not yet sent
  std::array<std::uint8_t, 64 * 1024> read_buffer_{};
  std::uint32_t next_seq_ = 1;
  // Lossy: replies to requests before this seq are stale (answered after a timeout).
  std::uint32_t stale_below_ = 0;
  std::string broken_;   // why the link is unusable; empty while it is fine
  std::string corrupt_;  // lossy: the last decode error seen while waiting
  std::optional<PostedFailure> posted_failure_;
  bool posted_unconfirmed_ = false;  // posted frames sent since the last reply

  std::uint32_t take_seq();
  template <typename F>
  auto checked(F&& decode) -> decltype(decode());
  void check_usable() const;
  [[noreturn]] void throw_server_error(const protocol::ErrorReply& error) const;
  [[noreturn]] void throw_posted_failure();
  // Waits until the descriptor is ready for `events` or the deadline passes (false).
  bool wait_ready(short events, std::optional<Clock::time_point> deadline);
  std::optional<Clock::time_point> reply_deadline(std::uint64_t cycle_budget = 0) const;
  bool read_available();
  [[noreturn]] void fail_with_server_reason(const std::string& fallback);
  void flush_out();
  // Next frame, or nothing when the deadline passes first. With `restart_on_progress`,
  // every byte received restarts the reply timeout: a slow link is fine, a silent one
  // is not.
  std::optional<protocol::Frame> read_frame(std::optional<Clock::time_point> deadline,
                                            bool restart_on_progress = false);
  [[noreturn]] void unsolicited_error(const protocol::ErrorReply& error);
  void post(protocol::MsgType type, std::span<const std::uint8_t> payload, std::uint16_t flags = 0);
  void end_batch();
  void check_posted_errors();
  void note_unexpected_frame(const protocol::Frame& frame);
  bool is_stale(std::uint32_t seq) const;
  // Lossy: PING until one is answered; clears the server's skip state. Throws (link
  // broken) when none is.
  void resync();
  BufferLimits ask_limits();
  protocol::Frame call(protocol::MsgType type, std::span<const std::uint8_t> payload,
                       bool error_reply_ok = false, std::uint64_t cycle_budget = 0);
};

}  // namespace tessera::detail
