// Transport to a board's UART bridge, or to `tessera-sim --pty`, over a serial device
// (docs/protocol.md, "Serial"). The same requests as over TCP (tcp_transport.hpp): writes
// that return nothing are POSTED and batched; each batch ends with a synchronous PING
// whose reply confirms it. A reply that does not come within the reply timeout is
// reported as a TransportError after the link is resynchronized with PING; the link
// stays usable unless the device stops answering altogether.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tessera/protocol.hpp"
#include "tessera/transport.hpp"

namespace tessera {

struct SerialOptions {
  /// The line rate; a pseudo-terminal ignores it. 1 Mbaud is the boards' default
  /// (docs/fpga.md).
  unsigned baud = 1'000'000;
  /// Longest silence while waiting for a reply (each byte received restarts it), and
  /// longest wait for the device to take a write. A request that legitimately runs
  /// longer on the device before it answers (a wait_idle on a huge GEMM) needs more.
  std::chrono::milliseconds reply_timeout{10'000};
  /// Largest payload this client sends or accepts; a board's bridge asks for less
  /// (its frame buffer, from HELLO).
  std::uint32_t max_payload = protocol::kDefaultMaxPayload;
  /// Posted frames sent before a PING confirms them.
  std::size_t send_batch_bytes = 16 * 1024;
};

struct SerialDeviceSpec {
  std::string path;  ///< e.g. /dev/ttyUSB1, /dev/pts/3
  unsigned baud = SerialOptions{}.baud;
  std::string text() const;  ///< "serial:///dev/ttyUSB1" (with "?baud=N" unless the default)
};

/// True when `spec` names a serial device (starts with "serial://").
bool is_serial_device_spec(const std::string& spec);

/// Parses "serial://PATH[?baud=N]" (PATH absolute, N 300..12000000). Throws InputError
/// naming the spec and saying what is wrong.
SerialDeviceSpec parse_serial_device_spec(const std::string& spec);

/// Opens the device in raw mode (8N1, no flow control) at spec.baud and exchanges HELLO.
/// Throws TransportError naming "serial://PATH" when the device cannot be opened or
/// configured, or does not answer.
std::unique_ptr<Transport> make_serial_transport(const SerialDeviceSpec& spec,
                                                 SerialOptions options = {});

}  // namespace tessera
