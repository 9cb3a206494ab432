// FrameClient: see frame_client.hpp. Blocking-style code on a non-blocking descriptor
// plus poll(2), which gives every send and receive an optional deadline without an
// event loop.
#include "frame_client.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tessera::detail {

using namespace protocol;

namespace {
constexpr std::uint8_t kErrorType = static_cast<std::uint8_t>(MsgType::kError);
}  // namespace

FrameClient::FrameClient(LinkPolicy policy)
    : policy_(std::move(policy)),
      decoder_(policy_.max_payload),
      max_payload_(policy_.max_payload) {}

void FrameClient::open_session(int fd) {
  fd_ = fd;
  if (policy_.lossy) {
    // Bytes left over from an earlier client (or line noise) are not ours; a server
    // still skipping after an earlier client's posted failure answers PING SKIPPED.
    ::tcflush(fd_, TCIFLUSH);
    resync();
  }
  // A tessera-sim with busy_policy "wait" answers HELLO once the clients queued before
  // this one have left: over a reliable link the queue is waited out without the reply
  // timeout, which guards every call after it (connect_timeout bounds the connection).
  const std::chrono::milliseconds reply_timeout = policy_.reply_timeout;
  if (!policy_.lossy) policy_.reply_timeout = std::chrono::milliseconds{0};
  Frame reply;
  try {
    reply = call(MsgType::kHello, encode(HelloRequest{policy_.max_payload}));
  } catch (...) {
    policy_.reply_timeout = reply_timeout;
    throw;
  }
  policy_.reply_timeout = reply_timeout;
  HelloReply hello;
  try {
    hello = decode_hello_reply(reply.payload);
  } catch (const ProtocolError& e) {
    fail(std::string("bad HELLO reply: ") + e.what());
  }
  max_payload_ = std::min(policy_.max_payload, hello.max_payload);
  if (max_payload_ < kMinMaxPayload) {
    fail("server limit of " + std::to_string(hello.max_payload) + " payload bytes is too small");
  }
  in_beat_bytes_ = hello.in_beat_bytes;
  out_beat_bytes_ = hello.out_beat_bytes;
  limits_ = ask_limits();
}

void FrameClient::close_session() noexcept {
  // Deliver posted writes and wait for a PING's reply: they have run then, and a failure
  // of theirs has arrived ahead of it. The destructor cannot throw it, so it is told.
  std::string unreported;
  try {
    if (fd_ < 0 || !broken_.empty()) return;
    if (posted_failure_) throw_posted_failure();
    if (!out_.empty() || posted_unconfirmed_) call(MsgType::kPing, {});
  } catch (const std::exception& e) {
    unreported = e.what();
  } catch (...) {
    unreported = "unknown error";
  }
  if (!unreported.empty()) {
    std::fprintf(stderr, "tessera: %s: closing with a failure no call reported: %s\n",
                 name().c_str(), unreported.c_str());
  }
}

void FrameClient::csr_write(std::uint32_t addr, std::uint32_t data) {
  post(MsgType::kCsrWrite, encode(CsrWriteRequest{addr, data}));
}

std::uint32_t FrameClient::csr_read(std::uint32_t addr) {
  const Frame reply = call(MsgType::kCsrRead, encode_u32(addr));
  return checked([&] { return decode_u32(reply.payload, "CSR_READ_REPLY"); });
}

void FrameClient::stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) {
  std::size_t chunk = max_payload_;
  if (in_beat_bytes_ > 0) chunk -= chunk % in_beat_bytes_;
  // A packet split over frames: every frame but the one that ends it says MORE.
  const std::uint16_t last_flags = ends_packet ? 0 : kFlagMore;
  if (bytes.size() <= chunk) {
    post(MsgType::kStreamWrite, bytes, last_flags);
    return;
  }
  // Split on beat boundaries; a partial beat cannot be split, so refuse it up front
  // rather than let the first chunks take effect and the last one fail.
  if (in_beat_bytes_ > 0 && bytes.size() % in_beat_bytes_ != 0) {
    throw InputError(name() + ": stream_write of " + std::to_string(bytes.size()) +
                     " bytes is not a whole number of " + std::to_string(in_beat_bytes_) +
                     "-byte beats");
  }
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
    const std::size_t n = std::min(chunk, bytes.size() - offset);
    post(MsgType::kStreamWrite, bytes.subspan(offset, n),
         offset + n == bytes.size() ? last_flags : kFlagMore);
  }
}

std::vector<std::uint8_t> FrameClient::stream_read(std::uint32_t beats,
                                                   std::uint64_t cycle_budget) {
  std::uint32_t per_request = beats;
  if (out_beat_bytes_ > 0) {
    per_request = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(beats, (max_payload_ - 8) / out_beat_bytes_));
    per_request = std::max<std::uint32_t>(per_request, 1);
  }
  std::vector<std::uint8_t> result;
  if (out_beat_bytes_ > 0) result.reserve(static_cast<std::size_t>(beats) * out_beat_bytes_);
  std::uint32_t done = 0;
  std::uint64_t budget_left = cycle_budget;
  do {
    const std::uint32_t n = std::min(per_request, beats - done);
    const Frame reply =
        call(MsgType::kStreamRead, encode(StreamReadRequest{n, budget_left}), false, budget_left);
    StreamReadReply data = checked([&] { return decode_stream_read_reply(reply.payload); });
    if (out_beat_bytes_ > 0 && data.data.size() != static_cast<std::size_t>(n) * out_beat_bytes_) {
      fail("STREAM_READ_REPLY carries " + std::to_string(data.data.size()) + " bytes for " +
           std::to_string(n) + " beats of " + std::to_string(out_beat_bytes_) + " bytes");
    }
    result.insert(result.end(), data.data.begin(), data.data.end());
    done += n;
    budget_left = data.cycles >= budget_left ? 0 : budget_left - data.cycles;
    if (done < beats && budget_left == 0) {
      throw TransportError(name() + ": stream_read: cycle budget of " +
                           std::to_string(cycle_budget) + " exhausted after " +
                           std::to_string(done) + " of " + std::to_string(beats) + " beats");
    }
  } while (done < beats);
  return result;
}

std::uint64_t FrameClient::wait_idle(std::uint64_t cycle_budget) {
  const Frame reply = call(MsgType::kWaitIdle, encode_u64(cycle_budget), false, cycle_budget);
  return checked([&] { return decode_u64(reply.payload, "WAIT_IDLE_REPLY"); });
}

std::uint64_t FrameClient::wait_status(std::uint32_t clear_mask, unsigned max_fifo_level,
                                       std::uint64_t cycle_budget) {
  // One round trip: the server clocks the engine until STATUS says so.
  const Frame reply = call(MsgType::kWaitStatus,
                           encode(WaitStatusRequest{clear_mask, max_fifo_level, cycle_budget}),
                           false, cycle_budget);
  return checked([&] { return decode_u64(reply.payload, "WAIT_STATUS_REPLY"); });
}

void FrameClient::reset() {
  const Frame reply = call(MsgType::kReset, {});
  checked([&] {
    expect_empty(reply.payload, "RESET_REPLY");
    return 0;
  });
}

void FrameClient::trace_start(const TraceRequest& request) {
  // The server writes the file in its --trace-dir, under the request's file name.
  const Frame reply = call(MsgType::kTraceStart, encode(request));
  checked([&] {
    expect_empty(reply.payload, "TRACE_START_REPLY");
    return 0;
  });
}

void FrameClient::trace_stop() {
  const Frame reply = call(MsgType::kTraceStop, {});
  checked([&] {
    expect_empty(reply.payload, "TRACE_STOP_REPLY");
    return 0;
  });
}

SimStats FrameClient::stats() {
  const Frame reply = call(MsgType::kStats, {});
  return SimStats{checked([&] { return decode_u64(reply.payload, "STATS_REPLY"); })};
}

std::uint32_t FrameClient::take_seq() {
  const std::uint32_t seq = next_seq_++;
  if (next_seq_ == 0) next_seq_ = 1;  // 0 addresses no request
  return seq;
}

template <typename F>
auto FrameClient::checked(F&& decode) -> decltype(decode()) {
  try {
    return decode();
  } catch (const ProtocolError& e) {
    fail(std::string("malformed reply: ") + e.what());
  }
}

void FrameClient::fail(const std::string& why) {
  if (broken_.empty()) broken_ = why;
  throw TransportError(name() + ": " + why);
}

void FrameClient::check_usable() const {
  if (!broken_.empty()) throw TransportError(name() + ": connection unusable: " + broken_);
}

void FrameClient::throw_server_error(const ErrorReply& error) const {
  const std::string message = name() + ": " + error.message;
  switch (error.code) {
    case ErrorCode::kEngine:
      throw EngineError(message);
    case ErrorCode::kInput:
      throw InputError(message);
    default:
      throw TransportError(message);
  }
}

void FrameClient::throw_posted_failure() {
  const PostedFailure failure = std::move(*posted_failure_);
  posted_failure_.reset();
  throw_server_error(failure.error);
}

std::optional<FrameClient::Clock::time_point> FrameClient::reply_deadline(
    std::uint64_t cycle_budget) const {
  if (policy_.reply_timeout.count() <= 0) return std::nullopt;
  std::chrono::milliseconds allowance{0};
  if (policy_.budget_cycles_per_second > 0) {
    allowance = std::chrono::milliseconds(cycle_budget / policy_.budget_cycles_per_second * 1000 +
                                          cycle_budget % policy_.budget_cycles_per_second * 1000 /
                                              policy_.budget_cycles_per_second);
  }
  return Clock::now() + policy_.reply_timeout + allowance;
}

bool FrameClient::wait_ready(short events, std::optional<Clock::time_point> deadline) {
  pollfd pfd{};
  pfd.fd = fd_;
  pfd.events = events;
  for (;;) {
    int timeout = -1;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left < 0) return false;
      timeout = static_cast<int>(std::min<long long>(left + 1, 1 << 30));
    }
    const int ready = ::poll(&pfd, 1, timeout);
    if (ready > 0) return true;
    if (ready == 0) {
      if (deadline && Clock::now() >= *deadline) return false;
      continue;
    }
    if (errno != EINTR) fail(std::string("poll failed: ") + std::strerror(errno));
  }
}

bool FrameClient::read_available() {
  while (decoder_.space() > 0) {
    const ssize_t n =
        ::read(fd_, read_buffer_.data(), std::min(read_buffer_.size(), decoder_.space()));
    if (n > 0) {
      decoder_.feed(std::span(read_buffer_.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

// When the link fails, the server has usually said why first (idle timeout, shutting
// down): report that instead of "broken pipe".
void FrameClient::fail_with_server_reason(const std::string& fallback) {
  read_available();
  while (auto event = decoder_.poll()) {
    if (event->is_frame() && event->frame.type == kErrorType) {
      try {
        const ErrorReply error = decode_error(event->frame.payload);
        fail("server closed the connection: " + error.message);
      } catch (const ProtocolError&) {
      }
    }
  }
  fail(fallback);
}

void FrameClient::flush_out() {
  std::size_t offset = 0;
  while (offset < out_.size()) {
    const ssize_t n = ::write(fd_, out_.data() + offset, out_.size() - offset);
    if (n >= 0) {
      offset += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // The deadline restarts with every write that makes progress: a slow link is fine,
      // a stuck one is not.
      if (!wait_ready(POLLOUT, reply_deadline())) {
        out_.clear();
        fail("timed out after " + std::to_string(policy_.reply_timeout.count()) +
             " ms sending to the server");
      }
      continue;
    }
    const std::string why = std::strerror(errno);
    out_.clear();
    fail_with_server_reason("send failed: " + why);
  }
  out_.clear();
}

std::optional<Frame> FrameClient::read_frame(std::optional<Clock::time_point> deadline,
                                             bool restart_on_progress) {
  for (;;) {
    if (auto event = decoder_.poll()) {
      if (event->is_frame()) return std::move(event->frame);
      // Over a lossy link, corrupt bytes are noise; the reply they held is lost, and its
      // requester times out and resynchronizes.
      if (!policy_.lossy) fail("corrupt data from the server: " + event->describe());
      corrupt_ = event->describe();
      continue;
    }
    const ssize_t n =
        ::read(fd_, read_buffer_.data(), std::min(read_buffer_.size(), decoder_.space()));
    if (n > 0) {
      decoder_.feed(std::span(read_buffer_.data(), static_cast<std::size_t>(n)));
      if (restart_on_progress) deadline = reply_deadline();
    } else if (n == 0) {
      fail("the server closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_ready(POLLIN, deadline)) return std::nullopt;
    } else if (errno != EINTR) {
      fail(std::string("receive failed: ") + std::strerror(errno));
    }
  }
}

// An ERROR frame that answers no request of ours (seq 0): the server is dropping us.
void FrameClient::unsolicited_error(const ErrorReply& error) {
  broken_ = error.message;
  throw_server_error(error);
}

// Queues a POSTED request. Errors it causes come back later as ERROR frames naming its
// seq; the server then skips everything up to our next synchronous request.
void FrameClient::post(MsgType type, std::span<const std::uint8_t> payload, std::uint16_t flags) {
  check_usable();
  append_frame(out_, static_cast<std::uint8_t>(type), kFlagPosted | flags, take_seq(), payload);
  posted_unconfirmed_ = true;
  if (out_.size() >= policy_.send_batch_bytes) end_batch();
}

void FrameClient::end_batch() {
  if (policy_.lossy) {
    // A posted frame can vanish on a lossy link: count on a reply, not on silence.
    call(MsgType::kPing, {});
    return;
  }
  flush_out();
  check_posted_errors();
}

// Without blocking: if a posted request has already failed, resynchronize (a PING clears
// the server's skip state) and throw its error now rather than later.
void FrameClient::check_posted_errors() {
  if (!read_available()) return;  // EOF/error surfaces at the next round trip
  while (auto event = decoder_.poll()) {
    if (!event->is_frame()) fail("corrupt data from the server: " + event->describe());
    note_unexpected_frame(event->frame);
  }
  if (posted_failure_) call(MsgType::kPing, {});  // throws the posted failure
}

bool FrameClient::is_stale(std::uint32_t seq) const {
  return policy_.lossy && seq != 0 && seq < stale_below_;
}

// A frame that is not the reply we wait for: only ERRORs of posted requests, or the
// server's parting ERROR (seq 0), may arrive out of turn. A lossy link also sees late
// replies to requests it has given up on, and the server's reports of line noise.
void FrameClient::note_unexpected_frame(const Frame& frame) {
  if (is_stale(frame.seq)) return;
  if (frame.type != kErrorType) {
    fail("unexpected " + msg_type_name(frame.type) + " #" + std::to_string(frame.seq) +
         " from the server");
  }
  const ErrorReply error = checked([&] { return decode_error(frame.payload); });
  if (frame.seq == 0) {
    if (policy_.lossy && error.code == ErrorCode::kBadFrame) return;
    unsolicited_error(error);
  }
  if (!posted_failure_) posted_failure_ = PostedFailure{frame.seq, error};
}

void FrameClient::resync() {
  const std::uint32_t first = next_seq_;
  const auto wait = policy_.reply_timeout.count() > 0
                        ? std::min(policy_.reply_timeout, std::chrono::milliseconds(2000))
                        : std::chrono::milliseconds(2000);
  for (unsigned attempt = 0; attempt < policy_.resync_attempts; ++attempt) {
    const std::uint32_t seq = take_seq();
    // A receiver may still be waiting for the rest of a frame cut short (a client that
    // died mid-frame, lost bytes): after the first silent PING, complete any frame up to
    // a board's size with zeros, which hold no magic and so end as one garbage error.
    if (attempt > 0) out_.resize(out_.size() + policy_.resync_fill_bytes, 0);
    append_frame(out_, static_cast<std::uint8_t>(MsgType::kPing), 0, seq, {});
    flush_out();
    const auto deadline = Clock::now() + wait;
    while (auto frame = read_frame(deadline)) {
      // PING_REPLY, or SKIPPED from a server still skipping: either way in step now.
      if (frame->seq >= first && frame->seq <= seq) {
        stale_below_ = next_seq_;
        corrupt_.clear();
        return;
      }
    }
  }
  fail("no answer to " + std::to_string(policy_.resync_attempts) + " PINGs of " +
       std::to_string(wait.count()) + " ms each (is the device there, at this baud rate?)");
}

// Asked once, at connect: the limits cannot change while the connection lasts. A server
// that predates LIMITS answers BAD_REQUEST and buffers without bound.
BufferLimits FrameClient::ask_limits() {
  const Frame reply = call(MsgType::kLimits, {}, true);
  if (reply.type == kErrorType) {
    const ErrorReply error = checked([&] { return decode_error(reply.payload); });
    if (error.code == ErrorCode::kBadRequest) return BufferLimits{};
    throw_server_error(error);
  }
  const LimitsReply limits = checked([&] { return decode_limits_reply(reply.payload); });
  return BufferLimits{limits.input_ahead_bytes, limits.output_beats};
}

// One synchronous round trip: sends everything queued plus this request, then reads
// until its reply. A posted failure that arrives first is what this call throws (the
// server has skipped this request). With `error_reply_ok`, an ERROR answering this
// request is returned rather than thrown.
Frame FrameClient::call(MsgType type, std::span<const std::uint8_t> payload, bool error_reply_ok,
                        std::uint64_t cycle_budget) {
  check_usable();
  const std::uint32_t seq = take_seq();
  append_frame(out_, static_cast<std::uint8_t>(type), 0, seq, payload);
  flush_out();
  const auto started = Clock::now();
  for (;;) {
    std::optional<Frame> frame = read_frame(reply_deadline(cycle_budget), true);
    if (!frame) {
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
      const std::string what = "no reply to " + msg_type_name(static_cast<std::uint8_t>(type)) +
                               " #" + std::to_string(seq) + " after " +
                               std::to_string(waited.count()) + " ms";
      if (!policy_.lossy) fail("timed out: " + what);
      const std::string corrupt = corrupt_.empty() ? "" : " (corrupt data seen: " + corrupt_ + ")";
      resync();  // throws, the link broken, when the device stays silent
      if (posted_failure_) throw_posted_failure();
      throw TransportError(name() + ": " + what + corrupt +
                           "; resynchronized with PING, the request's outcome is unknown");
    }
    if (frame->seq != seq) {
      note_unexpected_frame(*frame);
      continue;
    }
    // Every posted frame before this request has run, or its failure came first.
    posted_unconfirmed_ = false;
    if (posted_failure_) throw_posted_failure();
    if (frame->type == kErrorType && !error_reply_ok) {
      throw_server_error(checked([&] { return decode_error(frame->payload); }));
    }
    if (frame->type != reply_type(type) && frame->type != kErrorType) {
      fail("expected " + msg_type_name(reply_type(type)) + " #" + std::to_string(seq) + ", got " +
           msg_type_name(frame->type));
    }
    return std::move(*frame);
  }
}

}  // namespace tessera::detail
