// One io_context, one thread. Requests run synchronously on the engine inside the
// handler that decoded them, one frame per handler (the next is posted), so a signal or
// an idle timer is handled between frames, never inside one. What a request means
// (decoding, execution, replies, posted failures) is the RequestExecutor's; this file
// only adds sockets, clients, timers and the policy for misbehaving clients.
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

#include "request_executor.hpp"
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
  ServerCore(const ServerConfig& config, Transport& engine, std::ostream& log,
             std::function<void(std::uint64_t)> push_input);

  void log(LogLevel level, const std::string& message);
  void start_accept();
  void enable_signals();
  void begin_stop(const std::string& why);
  void on_session_released(Session* session);
  void stop_trace(const std::string& why) { executor_.stop_trace(why); }

  template <typename F>
  void count(F&& update) {
    std::lock_guard lock(stats_mutex_);
    update(stats_);
  }

  ServerConfig config_;
  Transport& engine_;
  std::ostream& log_;
  RequestExecutor executor_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer accept_retry_;
  asio::steady_timer grace_timer_;
  tcp::endpoint bound_;  // fixed after construction, so other threads may read it
  std::shared_ptr<Session> active_;
  std::deque<WaitingClient> waiting_;
  std::size_t closing_sockets_ = 0;
  bool stopping_ = false;
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
        read_buffer_(kReadBytes),
        name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  void serve() {
    auto self = shared_from_this();
    active_ = true;
    core_.executor_.begin_session();
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
  std::vector<std::uint8_t> read_buffer_;
  std::span<const std::uint8_t> pending_;  // received, not yet fed to the decoder
  std::vector<std::uint8_t> out_;          // replies queued
  std::vector<std::uint8_t> writing_;      // replies being sent
  std::string name_;
  State state_ = State::kServing;
  bool active_ = false;
  bool released_ = false;
  bool read_in_flight_ = false;
  bool write_in_flight_ = false;
  Clock::time_point last_activity_ = Clock::now();
  Clock::time_point close_deadline_;

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
      if (auto outcome = core_.executor_.step(out_)) {
        if (outcome->kind == StepOutcome::Kind::kBadFrame) {
          on_bad_frame(*outcome);
          continue;
        }
        on_request(*outcome);
        last_activity_ = Clock::now();
        if (state_ == State::kServing) {
          asio::post(core_.io_, [self = shared_from_this()] { self->pump(); });
        }
        return;
      }
      if (!pending_.empty()) {
        pending_ = pending_.subspan(core_.executor_.feed(pending_));
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
        const std::size_t partial = core_.executor_.buffered();
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

  // ---- requests: executed by the RequestExecutor, policed here ----

  void on_bad_frame(const StepOutcome& outcome) {
    core_.count([](ServerStats& s) { ++s.frames_bad; });
    core_.log(LogLevel::kDebug, name_ + ": " + outcome.message);
    if (outcome.code == ErrorCode::kTooLarge) {
      // The sender is about to stream the oversize payload; resynchronizing through it
      // is wasted work on TCP, so the client is dropped.
      drop(outcome.message);
    } else if (outcome.consecutive_bad_frames >= core_.config_.max_bad_frames) {
      queue_error(0, ErrorCode::kBadFrame, 0,
                  std::to_string(outcome.consecutive_bad_frames) +
                      " consecutive bad frames (max_bad_frames); connection closed");
      drop(std::to_string(outcome.consecutive_bad_frames) + " consecutive bad frames");
    }
  }

  void on_request(const StepOutcome& outcome) {
    core_.count([&](ServerStats& s) {
      ++s.frames_ok;
      if (outcome.kind == StepOutcome::Kind::kFailed) ++s.requests_failed;
    });
  }
};

// ---- ServerCore ----------------------------------------------------------------------

namespace {
ExecutorOptions executor_options(const ServerConfig& config, std::ostream& log,
                                 std::function<void(std::uint64_t)> push_input) {
  ExecutorOptions options;
  options.max_payload_bytes = config.max_payload_bytes;
  options.server_name = config.engine_name;
  options.trace_dir = config.trace_dir;
  options.bounded = config.bounded;
  options.push_input = std::move(push_input);
  options.log_level = config.log;
  options.log = [&log](LogLevel, const std::string& message) {
    log << "tessera-sim: " << message << std::endl;
  };
  return options;
}
}  // namespace

ServerCore::ServerCore(const ServerConfig& config, Transport& engine, std::ostream& log,
                       std::function<void(std::uint64_t)> push_input)
    : config_(config),
      engine_(engine),
      log_(log),
      executor_(engine, executor_options(config, log, std::move(push_input))),
      acceptor_(io_),
      signals_(io_),
      accept_retry_(io_),
      grace_timer_(io_) {
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

SimServer::SimServer(const ServerConfig& config, Transport& engine, std::ostream& log,
                     std::function<void(std::uint64_t)> push_input)
    : core_(std::make_unique<detail::ServerCore>(config, engine, log, std::move(push_input))) {}

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
