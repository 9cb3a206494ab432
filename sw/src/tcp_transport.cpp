// TcpTransport: the Transport interface over the wire protocol to tessera-sim.
//
// I/O is plain blocking-style code on a non-blocking socket plus poll(2), which gives
// every send and receive an optional timeout without running an io_context per call.
// Asio is used for name resolution, connect (with a timeout) and socket ownership.

// clang-format off
#include <utility>  // first: Boost 1.74 Asio under C++20 needs std::exchange
// clang-format on
#include "tessera/tcp_transport.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

namespace tessera {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using namespace protocol;

class TcpTransport final : public Transport {
 public:
  TcpTransport(const DeviceSpec& spec, const TcpOptions& options)
      : name_(spec.text()),
        options_(options),
        socket_(io_),
        decoder_(options.max_payload),
        max_payload_(options.max_payload) {
    connect(spec);
    const Frame reply = call(MsgType::kHello, encode(HelloRequest{options_.max_payload}));
    HelloReply hello;
    try {
      hello = decode_hello_reply(reply.payload);
    } catch (const ProtocolError& e) {
      fail(std::string("bad HELLO reply: ") + e.what());
    }
    max_payload_ = std::min(options_.max_payload, hello.max_payload);
    if (max_payload_ < kMinMaxPayload) {
      fail("server limit of " + std::to_string(hello.max_payload) + " payload bytes is too small");
    }
    in_beat_bytes_ = hello.in_beat_bytes;
    out_beat_bytes_ = hello.out_beat_bytes;
    server_name_ = hello.server;
    limits_ = ask_limits();
  }

  ~TcpTransport() override {
    // Deliver posted writes: the server executes every complete frame it received
    // before it notices the close.
    try {
      if (broken_.empty() && !out_.empty()) flush_out();
    } catch (...) {
    }
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    post(MsgType::kCsrWrite, encode(CsrWriteRequest{addr, data}));
  }

  std::uint32_t csr_read(std::uint32_t addr) override {
    const Frame reply = call(MsgType::kCsrRead, encode_u32(addr));
    return checked([&] { return decode_u32(reply.payload, "CSR_READ_REPLY"); });
  }

  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override {
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
      throw InputError(name_ + ": stream_write of " + std::to_string(bytes.size()) +
                       " bytes is not a whole number of " + std::to_string(in_beat_bytes_) +
                       "-byte beats");
    }
    for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
      const std::size_t n = std::min(chunk, bytes.size() - offset);
      post(MsgType::kStreamWrite, bytes.subspan(offset, n),
           offset + n == bytes.size() ? last_flags : kFlagMore);
    }
  }

  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t cycle_budget) override {
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
      const Frame reply = call(MsgType::kStreamRead, encode(StreamReadRequest{n, budget_left}));
      StreamReadReply data = checked([&] { return decode_stream_read_reply(reply.payload); });
      if (out_beat_bytes_ > 0 &&
          data.data.size() != static_cast<std::size_t>(n) * out_beat_bytes_) {
        fail("STREAM_READ_REPLY carries " + std::to_string(data.data.size()) + " bytes for " +
             std::to_string(n) + " beats of " + std::to_string(out_beat_bytes_) + " bytes");
      }
      result.insert(result.end(), data.data.begin(), data.data.end());
      done += n;
      budget_left = data.cycles >= budget_left ? 0 : budget_left - data.cycles;
      if (done < beats && budget_left == 0) {
        throw TransportError(name_ + ": stream_read: cycle budget of " +
                             std::to_string(cycle_budget) + " exhausted after " +
                             std::to_string(done) + " of " + std::to_string(beats) + " beats");
      }
    } while (done < beats);
    return result;
  }

  std::uint64_t wait_idle(std::uint64_t cycle_budget) override {
    const Frame reply = call(MsgType::kWaitIdle, encode_u64(cycle_budget));
    return checked([&] { return decode_u64(reply.payload, "WAIT_IDLE_REPLY"); });
  }

  std::uint64_t wait_status(std::uint32_t clear_mask, unsigned max_fifo_level,
                            std::uint64_t cycle_budget) override {
    // One round trip: the server clocks the engine until STATUS says so.
    const Frame reply = call(MsgType::kWaitStatus,
                             encode(WaitStatusRequest{clear_mask, max_fifo_level, cycle_budget}));
    return checked([&] { return decode_u64(reply.payload, "WAIT_STATUS_REPLY"); });
  }

  void reset() override {
    const Frame reply = call(MsgType::kReset, {});
    checked([&] {
      expect_empty(reply.payload, "RESET_REPLY");
      return 0;
    });
  }

  void trace_start(const TraceRequest& request) override {
    // The server writes the file in its --trace-dir, under the request's file name.
    const Frame reply = call(MsgType::kTraceStart, encode(request));
    checked([&] {
      expect_empty(reply.payload, "TRACE_START_REPLY");
      return 0;
    });
  }

  void trace_stop() override {
    const Frame reply = call(MsgType::kTraceStop, {});
    checked([&] {
      expect_empty(reply.payload, "TRACE_STOP_REPLY");
      return 0;
    });
  }

  SimStats stats() override {
    const Frame reply = call(MsgType::kStats, {});
    return SimStats{checked([&] { return decode_u64(reply.payload, "STATS_REPLY"); })};
  }

  BufferLimits limits() override { return limits_; }

 private:
  struct PostedFailure {
    std::uint32_t seq = 0;
    ErrorReply error;
  };

  std::string name_;
  TcpOptions options_;
  asio::io_context io_;
  tcp::socket socket_;
  FrameDecoder decoder_;
  std::uint32_t max_payload_;
  std::uint16_t in_beat_bytes_ = 0;
  std::uint16_t out_beat_bytes_ = 0;
  std::string server_name_;
  BufferLimits limits_;
  std::vector<std::uint8_t> out_;  // encoded frames not yet sent
  std::array<std::uint8_t, 256 * 1024> read_buffer_{};
  std::uint32_t next_seq_ = 1;
  std::string broken_;  // why the connection is unusable; empty while it is fine
  std::optional<PostedFailure> posted_failure_;

  void connect(const DeviceSpec& spec) {
    error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(spec.host, std::to_string(spec.port), ec);
    if (ec) throw TransportError(name_ + ": cannot resolve '" + spec.host + "': " + ec.message());
    bool done = false;
    error_code connect_ec;
    asio::async_connect(socket_, endpoints, [&](const error_code& e, const tcp::endpoint&) {
      connect_ec = e;
      done = true;
    });
    io_.run_for(options_.connect_timeout);
    if (!done) {
      socket_.close(ec);
      io_.restart();
      io_.run();
      throw TransportError(name_ + ": connect timed out after " +
                           std::to_string(options_.connect_timeout.count()) + " ms");
    }
    if (connect_ec) {
      throw TransportError(name_ + ": cannot connect: " + connect_ec.message() +
                           " (is tessera-sim listening there?)");
    }
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    if (ec) throw TransportError(name_ + ": cannot configure socket: " + ec.message());
  }

  std::uint32_t take_seq() {
    const std::uint32_t seq = next_seq_++;
    if (next_seq_ == 0) next_seq_ = 1;  // 0 addresses no request
    return seq;
  }

  template <typename F>
  auto checked(F&& decode) -> decltype(decode()) {
    try {
      return decode();
    } catch (const ProtocolError& e) {
      fail(std::string("malformed reply: ") + e.what());
    }
  }

  [[noreturn]] void fail(const std::string& why) {
    if (broken_.empty()) broken_ = why;
    throw TransportError(name_ + ": " + why);
  }

  void check_usable() const {
    if (!broken_.empty()) throw TransportError(name_ + ": connection unusable: " + broken_);
  }

  [[noreturn]] void throw_server_error(const ErrorReply& error) const {
    const std::string message = name_ + ": " + error.message;
    switch (error.code) {
      case ErrorCode::kEngine:
        throw EngineError(message);
      case ErrorCode::kInput:
        throw InputError(message);
      default:
        throw TransportError(message);
    }
  }

  [[noreturn]] void throw_posted_failure() {
    const PostedFailure failure = std::move(*posted_failure_);
    posted_failure_.reset();
    throw_server_error(failure.error);
  }

  // Waits until the socket is ready for `events`; honours io_timeout.
  void wait_ready(short events, const char* doing) {
    pollfd pfd{};
    pfd.fd = socket_.native_handle();
    pfd.events = events;
    const int timeout =
        options_.io_timeout.count() > 0
            ? static_cast<int>(std::min<long long>(options_.io_timeout.count(), 1 << 30))
            : -1;
    for (;;) {
      const int ready = ::poll(&pfd, 1, timeout);
      if (ready > 0) return;
      if (ready == 0) {
        fail(std::string("timed out after ") + std::to_string(options_.io_timeout.count()) +
             " ms " + doing);
      }
      if (errno != EINTR) fail(std::string("poll failed: ") + std::strerror(errno));
    }
  }

  // Reads whatever has arrived into the decoder without blocking. False on EOF/error.
  bool read_available() {
    while (decoder_.space() > 0) {
      error_code ec;
      const std::size_t n = socket_.read_some(
          asio::buffer(read_buffer_.data(), std::min(read_buffer_.size(), decoder_.space())), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
      if (ec) return false;
      decoder_.feed(std::span(read_buffer_.data(), n));
    }
    return true;
  }

  // When the link fails, the server has usually said why first (idle timeout, shutting
  // down): report that instead of "broken pipe".
  [[noreturn]] void fail_with_server_reason(const std::string& fallback) {
    read_available();
    while (auto event = decoder_.poll()) {
      if (event->is_frame() && event->frame.type == static_cast<std::uint8_t>(MsgType::kError)) {
        try {
          const ErrorReply error = decode_error(event->frame.payload);
          fail("server closed the connection: " + error.message);
        } catch (const ProtocolError&) {
        }
      }
    }
    fail(fallback);
  }

  void flush_out() {
    std::size_t offset = 0;
    while (offset < out_.size()) {
      error_code ec;
      const std::size_t n =
          socket_.write_some(asio::buffer(out_.data() + offset, out_.size() - offset), ec);
      if (!ec) {
        offset += n;
        continue;
      }
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        wait_ready(POLLOUT, "sending to the server");
        continue;
      }
      out_.clear();
      fail_with_server_reason("send failed: " + ec.message());
    }
    out_.clear();
  }

  Frame read_frame() {
    for (;;) {
      if (auto event = decoder_.poll()) {
        if (event->is_frame()) return std::move(event->frame);
        fail("corrupt data from the server: " + event->describe());
      }
      error_code ec;
      const std::size_t n = socket_.read_some(
          asio::buffer(read_buffer_.data(), std::min(read_buffer_.size(), decoder_.space())), ec);
      if (!ec) {
        decoder_.feed(std::span(read_buffer_.data(), n));
      } else if (ec == asio::error::would_block || ec == asio::error::try_again) {
        wait_ready(POLLIN, "waiting for a reply");
      } else if (ec == asio::error::eof) {
        fail("the server closed the connection");
      } else {
        fail("receive failed: " + ec.message());
      }
    }
  }

  // An ERROR frame that answers no request of ours (seq 0): the server is dropping us.
  [[noreturn]] void unsolicited_error(const ErrorReply& error) {
    broken_ = error.message;
    throw_server_error(error);
  }

  // Queues a POSTED request. Errors it causes come back later as ERROR frames naming
  // its seq; the server then skips everything up to our next synchronous request.
  void post(MsgType type, std::span<const std::uint8_t> payload, std::uint16_t flags = 0) {
    check_usable();
    append_frame(out_, static_cast<std::uint8_t>(type), kFlagPosted | flags, take_seq(), payload);
    if (out_.size() >= options_.send_batch_bytes) {
      flush_out();
      check_posted_errors();
    }
  }

  // Without blocking: if a posted request has already failed, resynchronize (a PING
  // clears the server's skip state) and throw its error now rather than later.
  void check_posted_errors() {
    if (!read_available()) return;  // EOF/error surfaces at the next round trip
    while (auto event = decoder_.poll()) {
      if (!event->is_frame()) fail("corrupt data from the server: " + event->describe());
      note_unexpected_frame(event->frame);
    }
    if (posted_failure_) call(MsgType::kPing, {});  // throws the posted failure
  }

  // A frame that is not the reply we wait for: only ERRORs of posted requests, or the
  // server's parting ERROR (seq 0), may arrive out of turn.
  void note_unexpected_frame(const Frame& frame) {
    if (frame.type != static_cast<std::uint8_t>(MsgType::kError)) {
      fail("unexpected " + msg_type_name(frame.type) + " #" + std::to_string(frame.seq) +
           " from the server");
    }
    const ErrorReply error = checked([&] { return decode_error(frame.payload); });
    if (frame.seq == 0) unsolicited_error(error);
    if (!posted_failure_) posted_failure_ = PostedFailure{frame.seq, error};
  }

  // Asked once, at connect: the limits cannot change while the connection lasts. A
  // server that predates LIMITS answers BAD_REQUEST and buffers without bound.
  BufferLimits ask_limits() {
    const Frame reply = call(MsgType::kLimits, {}, true);
    if (reply.type == static_cast<std::uint8_t>(MsgType::kError)) {
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
  Frame call(MsgType type, std::span<const std::uint8_t> payload, bool error_reply_ok = false) {
    check_usable();
    const std::uint32_t seq = take_seq();
    append_frame(out_, static_cast<std::uint8_t>(type), 0, seq, payload);
    flush_out();
    for (;;) {
      Frame frame = read_frame();
      if (frame.seq != seq) {
        note_unexpected_frame(frame);
        continue;
      }
      if (posted_failure_) throw_posted_failure();
      if (frame.type == static_cast<std::uint8_t>(MsgType::kError) && !error_reply_ok) {
        throw_server_error(checked([&] { return decode_error(frame.payload); }));
      }
      if (frame.type != reply_type(type) &&
          frame.type != static_cast<std::uint8_t>(MsgType::kError)) {
        fail("expected " + msg_type_name(reply_type(type)) + " #" + std::to_string(seq) + ", got " +
             msg_type_name(frame.type));
      }
      return frame;
    }
  }
};

}  // namespace

std::string DeviceSpec::text() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return "tcp://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_tcp_device_spec(const std::string& spec) { return spec.rfind("tcp://", 0) == 0; }

DeviceSpec parse_device_spec(const std::string& spec) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError("device '" + spec + "': " + why +
                      "; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:7000");
  };
  if (!is_tcp_device_spec(spec)) throw bad("unknown scheme");
  const std::string rest = spec.substr(6);
  DeviceSpec result;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) throw bad("unterminated '[' in IPv6 host");
    result.host = rest.substr(1, close - 1);
    if (close + 1 >= rest.size() || rest[close + 1] != ':') throw bad("missing ':PORT'");
    port_text = rest.substr(close + 2);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string::npos) throw bad("missing ':PORT'");
    result.host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (result.host.find(':') != std::string::npos) throw bad("put an IPv6 host in brackets");
  }
  if (result.host.empty()) throw bad("empty host");
  if (result.host.find_first_of("/?#@ ") != std::string::npos) throw bad("bad character in host");
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    throw bad("port '" + port_text + "' is not a number");
  }
  const unsigned long port = std::stoul(port_text);
  if (port == 0 || port > 65535) throw bad("port " + port_text + " is outside 1..65535");
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

std::unique_ptr<Transport> make_tcp_transport(const std::string& host, std::uint16_t port,
                                              const TcpOptions& options) {
  return std::make_unique<TcpTransport>(DeviceSpec{host, port}, options);
}

}  // namespace tessera
