// Opening an engine by the device spec the CLI's --device takes. Defined by the
// in-process engine library (tessera::sim), which is the one place that knows "sim".
#pragma once

#include <memory>
#include <string>

#include "tessera/transport.hpp"

namespace tessera {

/// "sim": the in-process engine model this library was built with (16x16 by default);
/// "tcp://HOST:PORT": a tessera-sim server; "serial://PATH[?baud=N]": a board's UART
/// bridge (or tessera-sim --pty). Throws InputError for any other spec and
/// TransportError when the other end cannot be reached.
std::unique_ptr<Transport> open_transport(const std::string& spec);

}  // namespace tessera
