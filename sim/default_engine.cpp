// The unqualified entry points of one engine build, for binaries that link just that one.
// Its own object file: a binary that links several builds (tessera-sim) calls each
// build's config_<NAME>::make_engine instead, so the linker never pulls these in twice.
#include "sim_transport.hpp"

namespace tessera::sim {

namespace TSR_CONFIG_NS {
std::unique_ptr<SimTransport> make_engine(const SimOptions& options);
}  // namespace TSR_CONFIG_NS

std::unique_ptr<SimTransport> make_sim_engine(const SimOptions& options) {
  return TSR_CONFIG_NS::make_engine(options);
}

std::unique_ptr<Transport> make_sim_transport(const SimOptions& options) {
  return make_sim_engine(options);
}

std::string sim_config_name() { return TSR_CONFIG_NAME; }

}  // namespace tessera::sim
