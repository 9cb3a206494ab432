#include "pty.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <utility>

#include "request_executor.hpp"
#include "tessera/errors.hpp"

namespace tessera::board {
namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }

[[noreturn]] void fail(const std::string& call) {
  throw TransportError("pseudo-terminal: " + call + " failed: " + std::strerror(errno));
}

}  // namespace

Pty::Pty() {
  master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master_ < 0) fail("posix_openpt");
  if (::grantpt(master_) != 0) fail("grantpt");
  if (::unlockpt(master_) != 0) fail("unlockpt");
  const char* name = ::ptsname(master_);
  if (name == nullptr) fail("ptsname");
  path_ = name;
  slave_ = ::open(path_.c_str(), O_RDWR | O_NOCTTY);
  if (slave_ < 0) fail("open " + path_);
  // Raw before anyone sees the path: a cooked terminal would echo the client's frames
  // back to it and turn 0x0A into 0x0D 0x0A.
  termios tio{};
  if (::tcgetattr(slave_, &tio) != 0) fail("tcgetattr");
  ::cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (::tcsetattr(slave_, TCSANOW, &tio) != 0) fail("tcsetattr");
  const int flags = ::fcntl(master_, F_GETFL);
  if (flags < 0 || ::fcntl(master_, F_SETFL, flags | O_NONBLOCK) != 0) fail("fcntl");
}

Pty::~Pty() {
  if (slave_ >= 0) ::close(slave_);
  if (master_ >= 0) ::close(master_);
}

bool Pty::read_into(std::vector<std::uint8_t>& in) {
  std::array<std::uint8_t, 16 * 1024> buffer;
  bool any = false;
  for (;;) {
    const ssize_t n = ::read(master_, buffer.data(), buffer.size());
    if (n > 0) {
      in.insert(in.end(), buffer.begin(), buffer.begin() + n);
      any = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN: nothing more now. EIO cannot happen while we hold the slave open.
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) fail("read");
    return any;
  }
}

void Pty::write_from(std::vector<std::uint8_t>& out, std::size_t& written) {
  while (written < out.size()) {
    const ssize_t n = ::write(master_, out.data() + written, out.size() - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) fail("write");
    return;  // the terminal is full until the client reads (or the next one flushes)
  }
  out.clear();
  written = 0;
}

void Pty::wait(std::chrono::milliseconds timeout, bool want_write) {
  pollfd pfd{};
  pfd.fd = master_;
  pfd.events = static_cast<short>(POLLIN | (want_write ? POLLOUT : 0));
  ::poll(&pfd, 1, static_cast<int>(timeout.count()));  // EINTR: a signal, checked by the caller
}

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return g_stop != 0; }

void serve_executor(Pty& pty, server::RequestExecutor& executor, std::ostream& log,
                    const std::atomic<bool>* stop,
                    std::chrono::milliseconds partial_frame_timeout) {
  using Clock = std::chrono::steady_clock;
  // Replies waiting for a client that reads slowly; beyond this we stop reading
  // requests, which is the back-pressure a UART would give.
  constexpr std::size_t kMaxPendingOut = 4u << 20;
  std::vector<std::uint8_t> in, out;
  std::size_t written = 0;
  auto last_input = Clock::now();
  executor.begin_session();
  while (!stop_requested() && (stop == nullptr || !stop->load())) {
    const bool want_write = !out.empty();
    pty.wait(std::chrono::milliseconds(100), want_write);
    if (out.size() - written < kMaxPendingOut && pty.read_into(in)) {
      last_input = Clock::now();
      executor.process(in, out);
      in.clear();
    } else if (executor.buffered() > 0 && Clock::now() - last_input > partial_frame_timeout) {
      log << "tessera-sim: dropped " << executor.discard_buffered()
          << " bytes of an incomplete frame (no byte for " << partial_frame_timeout.count()
          << " ms)\n";
    }
    pty.write_from(out, written);
  }
  executor.stop_trace("tessera-sim is stopping");
}

void serve_engine_pty(const server::ServerConfig& config, Transport& engine,
                      std::function<void(std::uint64_t stall_cycles)> push_input, std::ostream& out,
                      std::ostream& log) {
  server::ExecutorOptions options;
  options.max_payload_bytes = config.max_payload_bytes;
  options.server_name = config.engine_name + " (pty)";
  options.trace_dir = config.trace_dir;
  options.bounded = config.bounded;
  options.push_input = std::move(push_input);
  options.log_level = config.log;
  options.log = [&log](server::LogLevel, const std::string& message) {
    log << "tessera-sim: " << message << std::endl;
  };
  server::RequestExecutor executor(engine, std::move(options));
  Pty pty;
  install_stop_signals();
  out << "pty " << pty.path() << std::endl;
  serve_executor(pty, executor, log);
}

}  // namespace tessera::board
