// The tessera-sim server: hosts one engine (any Transport, normally the Verilated
// model) and serves the wire protocol (docs/protocol.md) to one TCP client at a time.
// Asio stays inside sim_server.cpp; this header only needs the standard library.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "server_config.hpp"
#include "tessera/transport.hpp"

namespace tessera::server {

struct ServerStats {
  std::uint64_t clients_served = 0;    // sessions started
  std::uint64_t clients_rejected = 0;  // turned away busy (or while shutting down)
  std::uint64_t clients_dropped = 0;   // closed by the server: idle, bad frames, oversize
  std::uint64_t frames_ok = 0;         // well-formed request frames
  std::uint64_t frames_bad = 0;        // decoder errors (garbage, CRC, version, length)
  std::uint64_t requests_failed = 0;   // well-formed requests answered with ERROR
};

namespace detail {
class ServerCore;
}

class SimServer {
 public:
  // Reads the engine's beat widths (CFG_STREAM) and binds the listening socket. Throws
  // TransportError("cannot listen on ADDR: why") or EngineError; main maps both to 3.
  // `engine` and `log` must outlive the server. With config.bounded, `push_input` clocks
  // the engine until it has taken its queued input (sim::SimTransport::push_input;
  // ExecutorOptions::push_input); without it a bounded config is an InputError.
  SimServer(const ServerConfig& config, Transport& engine, std::ostream& log,
            std::function<void(std::uint64_t stall_cycles)> push_input = {});
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // The bound address with the actual port, e.g. "127.0.0.1:40123".
  std::string listen_address() const;
  std::uint16_t port() const;

  // SIGINT/SIGTERM make run() finish the request in progress, tell the client, stop any
  // trace, and return. Call before run().
  void enable_signals();
  // Serves until stop() or a signal. Call once.
  void run();
  // Thread-safe; run() returns after the current request and a short drain.
  void stop();
  // Thread-safe.
  ServerStats stats() const;

 private:
  std::unique_ptr<detail::ServerCore> core_;
};

}  // namespace tessera::server
