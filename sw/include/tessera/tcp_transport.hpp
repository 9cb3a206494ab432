// Transport to a tessera-sim server over TCP (docs/protocol.md). Writes that return
// nothing (csr_write, stream_write) are POSTED: batched and sent without waiting for a
// reply; a failure of one surfaces as the exception of the next call that waits for the
// server (or of the posted call itself, if the error has already arrived), naming the
// failing request. Every other call is one round trip. A program that ends with posted
// writes should make one call that waits (stats(), say) to hear of their failure as an
// exception: the destructor waits for them too, but can only print a failure to stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tessera/protocol.hpp"
#include "tessera/transport.hpp"

namespace tessera {

struct TcpOptions {
  std::chrono::milliseconds connect_timeout{5000};
  /// Longest silence before a call gives up on the server (TransportError naming the
  /// request); 0 waits forever. A call that clocks the engine for a cycle budget
  /// (stream_read, wait_idle, wait_status) may take budget / budget_cycles_per_second
  /// seconds more: a simulation with a large budget legitimately takes minutes. The
  /// HELLO at connect waits without it: a server with busy_policy "wait" answers it only
  /// when the clients queued before have left.
  std::chrono::milliseconds io_timeout{60'000};
  /// The slowest simulation speed the allowance above counts on (a 16x16 model with full
  /// FST tracing runs faster than this on one core).
  std::uint64_t budget_cycles_per_second = 20'000;
  /// Largest payload this client sends or accepts; the smaller of this and the server's
  /// limit (from HELLO) bounds each frame. Big stream reads/writes are split to fit.
  std::uint32_t max_payload = protocol::kDefaultMaxPayload;
  /// Posted frames are buffered up to this many bytes before being sent.
  std::size_t send_batch_bytes = 256 * 1024;
};

/// Connects and exchanges HELLO. Throws TransportError naming "tcp://HOST:PORT" when the
/// server cannot be reached, is busy, or speaks another protocol version.
std::unique_ptr<Transport> make_tcp_transport(const std::string& host, std::uint16_t port,
                                              const TcpOptions& options = {});

struct DeviceSpec {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const;  ///< "tcp://HOST:PORT" (IPv6 hosts in brackets)
};

/// Parses "tcp://HOST:PORT" (HOST a name, IPv4, or [IPv6]; PORT 1..65535). Throws
/// InputError saying what is wrong with the spec.
DeviceSpec parse_device_spec(const std::string& spec);

/// True when `spec` names a TCP device (starts with "tcp://"), so a CLI can dispatch
/// before parsing.
bool is_tcp_device_spec(const std::string& spec);

}  // namespace tessera
