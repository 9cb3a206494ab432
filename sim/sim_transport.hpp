// In-process backend: the Verilated engine behind the Transport interface. Each build
// configuration (rows, cols, depths) is its own library, tsr_sim_<config>, all
// exposing this same factory.
#pragma once

#include <memory>
#include <string>

#include "tessera/transport.hpp"

namespace tessera::sim {

struct SimOptions {
  // Host-side bound on buffered output beats; the engine sees back-pressure beyond it.
  std::size_t max_buffered_output_beats = 1u << 20;
};

std::unique_ptr<Transport> make_sim_transport(const SimOptions& options = {});

// Name of the configuration this library was built for, e.g. "16x16".
std::string sim_config_name();

}  // namespace tessera::sim
