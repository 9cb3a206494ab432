// One io_context, one thread. Requests run synchronously on the engine inside the
// handler that decoded them, one frame per handler (the next is posted), so a signal or
// an idle timer is handled between frames, never inside one.
//
// Bounded memory per connection: the decoder holds at most one maximal frame, replies
// are flushed once 64 KiB are queued (one reply is at most max_payload_bytes), a busy
// queue and the number of closing sockets are capped.
// clang-format off
#include <utility>  // first: Boost 1.74 Asio under C++20 needs std::exchange
// clang-format on
#include "sim_server.hpp"

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <ostream>

#include "tessera/isa.hpp"
#include "tessera/protocol.hpp"

namespace tessera::server {
namespace detail {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace protocol;

namespace {
constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr std::size_t kReadBytes = 256 * 1024;
constexpr std::size_t kMaxClosingSockets = 32;

// A well-formed frame asking for something the server will not do.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.to_string();
  return (address.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(endpoint.port());
}
}  // namespace

class Session;

// A connection accepted while another client is served: queued (busy_policy "wait",
// deadline max) or in its grace period ("reject").
struct WaitingClient {
  tcp::socket socket;
  Clock::time_point deadline;
};

class ServerCore {
 public:
  ServerCore(const ServerConfig& config, Transport& engine, std::ostream& log);

  void log(LogLevel level, const std::string& message);
  void start_accept();
  void enable_signals();
  void begin_stop(const std::string& why);
  void on_session_released(Session* session);
  void stop_trace(const std::string& why);
  std::string resolve_trace_path(const std::string& requested) const;

  template <typename F>
  void count(F&& update) {
    std::lock_guard lock(stats_mutex_);
    update(stats_);
  }

  ServerConfig config_;
  Transport& engine_;
  std::ostream& log_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer accept_retry_;
  asio::steady_timer grace_timer_;
  std::uint16_t in_beat_bytes_ = 0;
  std::uint16_t out_beat_bytes_ = 0;
  tcp::endpoint bound_;  // fixed after construction, so other threads may read it
  std::shared_ptr<Session> active_;
  std::deque<WaitingClient> waiting_;
  std::size_t closing_sockets_ = 0;
  bool stopping_ = false;
  bool trace_active_ = false;
  std::uint64_t next_client_ = 1;
  mutable std::mutex stats_mutex_;
  ServerStats stats_;

 private:
  void on_accept(tcp::socket socket);
  void start_session(tcp::socket socket);
  void refuse_busy(tcp::socket socket);
  void arm_grace_timer();
};

// One client connection: serving (the active client), or closing (a final frame is
// being sent, then input is drained until EOF or linger_ms, so the peer sees the frame
// rather than a reset).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore& core, tcp::socket socket, std::string name)
      : core_(core),
        socket_(std::move(socket)),
        timer_(core.io_),
        decoder_(core.config_.max_payload_bytes),
        read_buffer_(kReadBytes),
        client_max_payload_(core.config_.max_payload_bytes),
        name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  void serve() {
    auto self = shared_from_this();
    active_ = true;
    core_.log(LogLevel::kInfo, name_ + " connected");
    if (core_.config_.reset_on_connect) {
      try {
        core_.engine_.reset();
      } catch (const std::exception& e) {
        core_.log(LogLevel::kInfo, "engine reset for " + name_ + " failed: " + e.what());
      }
    }
    last_activity_ = Clock::now();
    arm_timer();
    pump();
  }

  // Sends one ERROR (seq 0) and closes; for clients that are never served.
  void refuse(ErrorCode code, const std::string& message) {
    auto self = shared_from_this();
    queue_error(0, code, 0, message);
    begin_close();
  }

  void stop_serving(const std::string& message) {
    auto self = shared_from_this();
    if (state_ != State::kServing) return;
    queue_error(0, ErrorCode::kShuttingDown, 0, message);
    begin_close();
  }

 private:
  enum class State { kServing, kClosing, kDone };

  ServerCore& core_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  FrameDecoder decoder_;
  std::vector<std::uint8_t> read_buffer_;
  std::span<const std::uint8_t> pending_;  // received, not yet fed to the decoder
  std::vector<std::uint8_t> out_;          // replies queued
  std::vector<std::uint8_t> writing_;      // replies being sent
  std::uint32_t client_max_payload_;
  std::string name_;
  State state_ = State::kServing;
  bool active_ = false;
  bool released_ = false;
  bool read_in_flight_ = false;
  bool write_in_flight_ = false;
  Clock::time_point last_activity_ = Clock::now();
  Clock::time_point close_deadline_;
  std::uint32_t consecutive_bad_ = 0;
  // Set when a POSTED request fails: later posted requests are dropped and the next
  // synchronous one is answered SKIPPED (docs/protocol.md, "Posted requests").
  std::optional<std::string> posted_failure_;

  void queue_error(std::uint32_t seq, ErrorCode code, std::uint8_t type,
                   const std::string& message) {
    append_frame(out_, static_cast<std::uint8_t>(MsgType::kError), 0, seq,
                 encode(ErrorReply{code, type, message}));
  }

  void drop(const std::string& why) {
    core_.log(LogLevel::kInfo, "dropping " + name_ + ": " + why);
    core_.count([](ServerStats& s) { ++s.clients_dropped; });
    begin_close();
  }

  // ---- state machine ----

  void pump() {
    while (state_ == State::kServing) {
      if (core_.stopping_) {
        stop_serving("server shutting down; connection closed");
        return;
      }
      if (out_.size() >= kFlushBytes) {
        start_write();
        return;
      }
      if (auto event = decoder_.poll()) {
        if (!event->is_frame()) {
          on_bad_frame(*event);
          continue;
        }
        handle_frame(event->frame);
        last_activity_ = Clock::now();
        if (state_ == State::kServing) {
          asio::post(core_.io_, [self = shared_from_this()] { self->pump(); });
        }
        return;
      }
      if (!pending_.empty()) {
        pending_ = pending_.subspan(decoder_.feed(pending_));
        continue;
      }
      if (!out_.empty()) {
        start_write();
        return;
      }
      start_read();
      return;
    }
  }

  void start_read() {
    read_in_flight_ = true;
    socket_.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, std::size_t n) {
    read_in_flight_ = false;
    if (state_ == State::kDone) return;
    if (state_ == State::kClosing) {  // draining until EOF; input is ignored
      if (ec) {
        finish();
      } else {
        start_read();
      }
      return;
    }
    if (ec) {
      if (ec == asio::error::eof) {
        const std::size_t partial = decoder_.buffered();
        core_.log(
            LogLevel::kInfo,
            name_ + " disconnected" +
                (partial ? " mid-frame (" + std::to_string(partial) + " bytes discarded)" : ""));
      } else if (ec != asio::error::operation_aborted) {
        core_.log(LogLevel::kInfo, name_ + " connection lost: " + ec.message());
      }
      finish();
      return;
    }
    last_activity_ = Clock::now();
    pending_ = std::span<const std::uint8_t>(read_buffer_.data(), n);
    pump();
  }

  void start_write() {
    write_in_flight_ = true;
    writing_.swap(out_);
    out_.clear();
    asio::async_write(
        socket_, asio::buffer(writing_),
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const error_code& ec) {
    write_in_flight_ = false;
    writing_.clear();
    if (writing_.capacity() > 4 * kFlushBytes) writing_.shrink_to_fit();
    if (state_ == State::kDone) return;
    if (ec) {
      if (state_ == State::kServing) {
        core_.log(LogLevel::kInfo, name_ + " vanished while receiving a reply: " + ec.message());
      }
      finish();
      return;
    }
    last_activity_ = Clock::now();
    if (state_ == State::kClosing) {
      if (!out_.empty()) {
        start_write();
      } else {
        after_final_write();
      }
      return;
    }
    pump();
  }

  void arm_timer() {
    Clock::time_point deadline;
    if (state_ == State::kServing) {
      if (core_.config_.idle_timeout_ms == 0) return;
      deadline = last_activity_ + std::chrono::milliseconds(core_.config_.idle_timeout_ms);
    } else if (state_ == State::kClosing) {
      deadline = close_deadline_;
    } else {
      return;
    }
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec != asio::error::operation_aborted) self->on_timer();
    });
  }

  // Deadlines are checked against the clock, not trusted from the timer: a wait that
  // completed while a long request ran is stale once last_activity_ moved on.
  void on_timer() {
    const auto now = Clock::now();
    if (state_ == State::kServing) {
      const auto idle = std::chrono::milliseconds(core_.config_.idle_timeout_ms);
      if (now - last_activity_ >= idle) {
        queue_error(0, ErrorCode::kIdleTimeout, 0,
                    "idle timeout: nothing received for " + std::to_string(idle.count()) +
                        " ms (idle_timeout_ms); connection closed");
        drop("idle for " + std::to_string(idle.count()) + " ms");
      } else {
        arm_timer();
      }
    } else if (state_ == State::kClosing) {
      if (now >= close_deadline_) {
        finish();
      } else {
        arm_timer();
      }
    }
  }

  void release() {
    if (released_) return;
    released_ = true;
    if (active_) core_.on_session_released(this);
  }

  void begin_close() {
    auto self = shared_from_this();
    if (state_ != State::kServing) return;
    state_ = State::kClosing;
    ++core_.closing_sockets_;
    release();
    if (core_.closing_sockets_ > kMaxClosingSockets) {
      finish();
      return;
    }
    close_deadline_ = Clock::now() + std::chrono::milliseconds(core_.config_.linger_ms);
    arm_timer();
    if (!write_in_flight_) {
      if (!out_.empty()) {
        start_write();
      } else {
        after_final_write();
      }
    }
  }

  void after_final_write() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    if (!read_in_flight_) start_read();
  }

  void finish() {
    auto self = shared_from_this();
    if (state_ == State::kDone) return;
    if (state_ == State::kClosing) --core_.closing_sockets_;
    state_ = State::kDone;
    timer_.cancel();
    error_code ignored;
    socket_.close(ignored);
    release();
  }

  // ---- requests ----

  void on_bad_frame(const DecodeEvent& event) {
    core_.count([](ServerStats& s) { ++s.frames_bad; });
    ++consecutive_bad_;
    const std::string what = event.describe();
    core_.log(LogLevel::kDebug, name_ + ": " + what);
    ErrorCode code = ErrorCode::kBadFrame;
    if (event.error == FrameError::kBadVersion) code = ErrorCode::kBadVersion;
    if (event.error == FrameError::kTooLarge) code = ErrorCode::kTooLarge;
    const std::uint32_t seq = event.header_valid ? event.seq : 0;
    queue_error(seq, code, event.header_valid ? event.type : 0, what);
    // A lost POSTED request must still surface at the client's next synchronous call.
    if (event.header_valid && (event.flags & kFlagPosted) && !posted_failure_) {
      posted_failure_ = "request #" + std::to_string(seq) + " (" + msg_type_name(event.type) + ")";
    }
    if (code == ErrorCode::kTooLarge) {
      // The sender is about to stream the oversize payload; resynchronizing through it
      // is wasted work on TCP, so the client is dropped.
      drop(what);
    } else if (consecutive_bad_ >= core_.config_.max_bad_frames) {
      queue_error(0, ErrorCode::kBadFrame, 0,
                  std::to_string(consecutive_bad_) +
                      " consecutive bad frames (max_bad_frames); connection closed");
      drop(std::to_string(consecutive_bad_) + " consecutive bad frames");
    }
  }

  void handle_frame(const Frame& frame) {
    consecutive_bad_ = 0;
    core_.count([](ServerStats& s) { ++s.frames_ok; });
    const bool posted = (frame.flags & kFlagPosted) != 0;
    // Built only when needed: the success path of a posted write allocates nothing.
    auto request = [&] {
      return describe_request(frame) + " [request #" + std::to_string(frame.seq) +
             (posted ? ", posted]" : "]");
    };
    if (posted_failure_) {
      if (posted) {
        if (core_.config_.log >= LogLevel::kDebug) {
          core_.log(LogLevel::kDebug, name_ + ": skipped " + request());
        }
        return;
      }
      queue_error(frame.seq, ErrorCode::kSkipped, frame.type,
                  request() + " not executed: the earlier posted " + *posted_failure_ + " failed");
      posted_failure_.reset();
      return;
    }

    ErrorCode code = ErrorCode::kInternal;
    std::string what;
    try {
      if ((frame.flags & ~kKnownFlags) != 0) {
        throw BadRequest("unknown flag bits " + std::to_string(frame.flags & ~kKnownFlags));
      }
      if ((frame.flags & kFlagMore) != 0 &&
          frame.type != static_cast<std::uint8_t>(MsgType::kStreamWrite)) {
        throw BadRequest("flag MORE applies to STREAM_WRITE only");
      }
      if (posted && !may_be_posted(frame.type)) {
        throw BadRequest(msg_type_name(frame.type) + " may not be posted (its reply carries data)");
      }
      Bytes reply = execute(frame);
      if (!posted) append_frame(out_, frame.type | kReplyBit, 0, frame.seq, reply);
      return;
    } catch (const BadRequest& e) {
      code = ErrorCode::kBadRequest;
      what = e.what();
    } catch (const ProtocolError& e) {  // before TransportError: it is one
      code = ErrorCode::kBadRequest;
      what = e.what();
    } catch (const EngineError& e) {
      code = ErrorCode::kEngine;
      what = e.what();
    } catch (const InputError& e) {
      code = ErrorCode::kInput;
      what = e.what();
    } catch (const TransportError& e) {
      code = ErrorCode::kTransport;
      what = e.what();
    } catch (const std::exception& e) {
      code = ErrorCode::kInternal;
      what = std::string("internal error: ") + e.what();
    }
    core_.count([](ServerStats& s) { ++s.requests_failed; });
    const std::string message = request() + " failed: " + what;
    core_.log(LogLevel::kDebug, name_ + ": " + message);
    queue_error(frame.seq, code, frame.type, message);
    if (posted) {
      posted_failure_ = "request #" + std::to_string(frame.seq) + " " + describe_request(frame);
    }
  }

  Bytes execute(const Frame& frame) {
    Transport& engine = core_.engine_;
    const std::span<const std::uint8_t> p = frame.payload;
    switch (static_cast<MsgType>(frame.type)) {
      case MsgType::kHello: {
        const HelloRequest hello = decode_hello_request(p);
        client_max_payload_ = std::clamp(hello.max_payload, kMinMaxPayload, kMaxMaxPayload);
        return encode(HelloReply{core_.config_.max_payload_bytes, core_.in_beat_bytes_,
                                 core_.out_beat_bytes_, core_.config_.engine_name});
      }
      case MsgType::kCsrWrite: {
        const CsrWriteRequest write = decode_csr_write(p);
        engine.csr_write(write.addr, write.data);
        return {};
      }
      case MsgType::kCsrRead:
        return encode_u32(engine.csr_read(decode_u32(p, "CSR_READ")));
      case MsgType::kStreamWrite:
        engine.stream_write(p, (frame.flags & kFlagMore) == 0);
        return {};
      case MsgType::kStreamRead: {
        const StreamReadRequest read = decode_stream_read(p);
        const std::uint64_t limit =
            std::min(core_.config_.max_payload_bytes, client_max_payload_) - 8u;
        const std::uint64_t bytes = std::uint64_t{read.beats} * core_.out_beat_bytes_;
        if (bytes > limit) {
          throw BadRequest("reply of " + std::to_string(bytes) + " bytes exceeds the " +
                           std::to_string(limit) + "-byte limit; split the read");
        }
        const std::uint64_t before = engine.stats().cycles;
        StreamReadReply reply;
        reply.data = engine.stream_read(read.beats, read.cycle_budget);
        reply.cycles = engine.stats().cycles - before;
        if (reply.data.size() > limit) {
          throw std::runtime_error("engine returned " + std::to_string(reply.data.size()) +
                                   " bytes");
        }
        return encode(reply);
      }
      case MsgType::kWaitIdle:
        return encode_u64(engine.wait_idle(decode_u64(p, "WAIT_IDLE")));
      case MsgType::kWaitStatus: {
        const WaitStatusRequest wait = decode_wait_status(p);
        return encode_u64(engine.wait_status(wait.mask, wait.max_fifo_level, wait.cycle_budget));
      }
      case MsgType::kReset:
        expect_empty(p, "RESET");
        engine.reset();
        return {};
      case MsgType::kTraceStart: {
        TraceRequest trace = decode_trace_start(p);
        trace.path = core_.resolve_trace_path(trace.path);
        engine.trace_start(trace);
        core_.trace_active_ = true;
        core_.log(LogLevel::kInfo, name_ + " started a trace: " + trace.path);
        return {};
      }
      case MsgType::kTraceStop:
        expect_empty(p, "TRACE_STOP");
        engine.trace_stop();
        core_.trace_active_ = false;
        return {};
      case MsgType::kStats:
        expect_empty(p, "STATS");
        return encode_u64(engine.stats().cycles);
      case MsgType::kPing:
        expect_empty(p, "PING");
        return {};
      default:
        throw BadRequest("unknown request type " + msg_type_name(frame.type));
    }
  }
};

// ---- ServerCore ----------------------------------------------------------------------

ServerCore::ServerCore(const ServerConfig& config, Transport& engine, std::ostream& log)
    : config_(config),
      engine_(engine),
      log_(log),
      acceptor_(io_),
      signals_(io_),
      accept_retry_(io_),
      grace_timer_(io_) {
  const std::uint32_t stream = engine_.csr_read(isa::csr::kCfgStream);
  in_beat_bytes_ = static_cast<std::uint16_t>(stream & 0xFFFF);
  out_beat_bytes_ = static_cast<std::uint16_t>(stream >> 16);
  if (in_beat_bytes_ == 0 || out_beat_bytes_ == 0) {
    throw EngineError(
        "engine reports zero stream beat width (CFG_STREAM = " + std::to_string(stream) + ")");
  }
  if (std::uint64_t{out_beat_bytes_} + 8 > config_.max_payload_bytes) {
    throw InputError("max_payload_bytes " + std::to_string(config_.max_payload_bytes) +
                     " cannot hold one output beat");
  }
  const std::string where = listen_text(config_.listen_host, config_.listen_port);
  error_code ec;
  const auto address = asio::ip::make_address(config_.listen_host, ec);
  if (ec) throw TransportError("cannot listen on " + where + ": " + ec.message());
  const tcp::endpoint endpoint(address, config_.listen_port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_ = acceptor_.local_endpoint(ec);
  if (ec) throw TransportError("cannot listen on " + where + ": " + ec.message());
}

void ServerCore::log(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) > static_cast<int>(config_.log)) return;
  log_ << "tessera-sim: " << message << std::endl;
}

void ServerCore::start_accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (stopping_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // e.g. EMFILE: back off instead of spinning.
      log(LogLevel::kInfo, "accept failed: " + ec.message());
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](const error_code& wait_ec) {
        if (!wait_ec && !stopping_) start_accept();
      });
      return;
    }
    on_accept(std::move(socket));
    start_accept();
  });
}

void ServerCore::on_accept(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (!active_) {
    start_session(std::move(socket));
    return;
  }
  const bool queue = config_.busy_policy == BusyPolicy::kWait;
  if (waiting_.size() < config_.max_waiting_clients && (queue || config_.busy_grace_ms > 0)) {
    const auto deadline = queue ? Clock::time_point::max()
                                : Clock::now() + std::chrono::milliseconds(config_.busy_grace_ms);
    log(queue ? LogLevel::kInfo : LogLevel::kDebug, "client waiting for " + active_->name() + " (" +
                                                        std::to_string(waiting_.size() + 1) +
                                                        " waiting)");
    waiting_.push_back(WaitingClient{std::move(socket), deadline});
    if (!queue) arm_grace_timer();
    return;
  }
  refuse_busy(std::move(socket));
}

void ServerCore::refuse_busy(tcp::socket socket) {
  count([](ServerStats& s) { ++s.clients_rejected; });
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string name = ec ? "client" : "client " + endpoint_text(peer);
  const std::string holder = active_ ? active_->name() : "another client";
  log(LogLevel::kInfo, name + " refused: busy with " + holder);
  std::string why = "server busy: another client (" + holder + ") is attached; busy_policy is " +
                    busy_policy_name(config_.busy_policy);
  if (config_.busy_policy == BusyPolicy::kWait) {
    why += " and the wait queue is full";
  } else if (config_.busy_grace_ms > 0) {
    why += ", waited busy_grace_ms=" + std::to_string(config_.busy_grace_ms);
  }
  auto session = std::make_shared<Session>(*this, std::move(socket), name);
  session->refuse(ErrorCode::kBusy, why + "; retry when it disconnects");
}

// Grace deadlines grow with arrival order, so only the front one needs a timer.
void ServerCore::arm_grace_timer() {
  if (waiting_.empty() || waiting_.front().deadline == Clock::time_point::max()) return;
  grace_timer_.expires_at(waiting_.front().deadline);
  grace_timer_.async_wait([this](const error_code& ec) {
    if (ec == asio::error::operation_aborted || stopping_) return;
    const auto now = Clock::now();
    while (!waiting_.empty() && waiting_.front().deadline <= now) {
      tcp::socket socket = std::move(waiting_.front().socket);
      waiting_.pop_front();
      refuse_busy(std::move(socket));
    }
    arm_grace_timer();
  });
}

void ServerCore::start_session(tcp::socket socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string name = "client #" + std::to_string(next_client_++) +
                           (ec ? std::string() : " (" + endpoint_text(peer) + ")");
  count([](ServerStats& s) { ++s.clients_served; });
  active_ = std::make_shared<Session>(*this, std::move(socket), name);
  active_->serve();
}

void ServerCore::on_session_released(Session* session) {
  if (active_.get() != session) return;
  active_.reset();
  stop_trace("client " + session->name() + " left");
  if (stopping_) return;
  if (!waiting_.empty()) {
    tcp::socket next = std::move(waiting_.front().socket);
    waiting_.pop_front();
    start_session(std::move(next));
    arm_grace_timer();
  }
}

void ServerCore::stop_trace(const std::string& why) {
  if (!trace_active_) return;
  trace_active_ = false;
  try {
    engine_.trace_stop();
    log(LogLevel::kInfo, "trace stopped: " + why);
  } catch (const std::exception& e) {
    log(LogLevel::kInfo, std::string("trace stop failed: ") + e.what());
  }
}

std::string ServerCore::resolve_trace_path(const std::string& requested) const {
  // Clients name the file; where it goes is the server's choice (--trace-dir), so a
  // remote client cannot write outside that directory.
  const std::filesystem::path name = std::filesystem::path(requested).filename();
  if (name.empty() || name == "." || name == "..") {
    throw InputError("trace path '" + requested + "' names no file");
  }
  return (std::filesystem::path(config_.trace_dir) / name).string();
}

void ServerCore::enable_signals() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const error_code& ec, int signal_number) {
    if (!ec) begin_stop(signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  });
}

void ServerCore::begin_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  log(LogLevel::kInfo, "stopping (" + why + ")");
  error_code ignored;
  acceptor_.close(ignored);
  signals_.cancel(ignored);
  accept_retry_.cancel();
  grace_timer_.cancel();
  while (!waiting_.empty()) {
    auto session =
        std::make_shared<Session>(*this, std::move(waiting_.front().socket), "waiting client");
    waiting_.pop_front();
    session->refuse(ErrorCode::kShuttingDown, "server shutting down; connection closed");
  }
  if (active_) {
    auto session = active_;
    session->stop_serving("server shutting down (" + why + "); connection closed");
  }
  stop_trace("server stopping");
}

}  // namespace detail

// ---- SimServer -----------------------------------------------------------------------

SimServer::SimServer(const ServerConfig& config, Transport& engine, std::ostream& log)
    : core_(std::make_unique<detail::ServerCore>(config, engine, log)) {}

SimServer::~SimServer() = default;

std::uint16_t SimServer::port() const { return core_->bound_.port(); }

std::string SimServer::listen_address() const { return detail::endpoint_text(core_->bound_); }

void SimServer::enable_signals() { core_->enable_signals(); }

void SimServer::run() {
  core_->start_accept();
  core_->io_.run();
  core_->stop_trace("server stopped");
}

void SimServer::stop() {
  boost::asio::post(core_->io_, [core = core_.get()] { core->begin_stop("stop requested"); });
}

ServerStats SimServer::stats() const {
  std::lock_guard lock(core_->stats_mutex_);
  return core_->stats_;
}

}  // namespace tessera::server
