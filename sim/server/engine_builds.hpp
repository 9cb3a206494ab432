// The engine builds tessera-sim serves (--engine NAME, config key "engine").
#pragma once

#include <span>

#include "sim_transport.hpp"

namespace tessera::server {

// Every build linked in, in cmake/engine_config.cmake's order.
std::span<const sim::EngineBuild> engine_builds();

}  // namespace tessera::server
