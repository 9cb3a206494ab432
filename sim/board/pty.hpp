// The serial side of tessera-sim (--pty): a pseudo-terminal standing in for a board's
// USB serial port, and the loop that serves the wire protocol over it, either with the
// in-process engine (RequestExecutor) or with a board top simulated at the bit level
// (board_sim.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace tessera {
class Transport;
}
namespace tessera::server {
class RequestExecutor;
struct ServerConfig;
}  // namespace tessera::server

namespace tessera::board {

// A pseudo-terminal pair in raw mode (8N1, no echo, no line editing). Clients open
// path() (/dev/pts/N) as they would a board's /dev/ttyUSB1; tessera-sim reads and
// writes the master side. The slave side is held open too, so that the master does
// not hang up between clients and a client that goes leaves nothing behind but
// unread bytes (the next client's SerialTransport flushes them).
class Pty {
 public:
  Pty();  // throws TransportError saying which call failed
  ~Pty();
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  int master() const { return master_; }
  const std::string& path() const { return path_; }

  // Non-blocking: appends what the client has written (false: nothing there).
  bool read_into(std::vector<std::uint8_t>& in);
  // Non-blocking: writes as much of out[written..] as the terminal takes, advances
  // `written`; clears `out` once it is all gone.
  void write_from(std::vector<std::uint8_t>& out, std::size_t& written);
  // Waits up to `timeout` for input (or room for output when want_write).
  void wait(std::chrono::milliseconds timeout, bool want_write);

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string path_;
};

// SIGINT/SIGTERM set a flag the serving loops poll; they then return and tessera-sim
// exits 0, as the TCP server does.
void install_stop_signals();
bool stop_requested();

// Serves `executor` over `pty` until a stop signal (or `*stop`, for a server in a
// thread). A frame left incomplete for `partial_frame_timeout` (a client that died
// mid-frame) is dropped, so that the next client is not swallowed into its payload.
void serve_executor(
    Pty& pty, server::RequestExecutor& executor, std::ostream& log,
    const std::atomic<bool>* stop = nullptr,
    std::chrono::milliseconds partial_frame_timeout = std::chrono::milliseconds(500));

// tessera-sim --pty (without --board): serves the in-process engine, with the server
// settings that apply to one byte stream (max_payload_bytes, trace_dir, bounded, log),
// over a new pseudo-terminal; prints "pty /dev/pts/N" on `out` once ready; returns on a
// stop signal. `push_input` as for SimServer (bounded mode).
void serve_engine_pty(const server::ServerConfig& config, Transport& engine,
                      std::function<void(std::uint64_t stall_cycles)> push_input, std::ostream& out,
                      std::ostream& log);

}  // namespace tessera::board
