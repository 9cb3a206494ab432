// The unqualified entry points of one engine build, for binaries that link just that one.
// Its own object file: a binary that links several builds (tessera-sim) calls each
// build's config_<NAME>::make_engine instead, so the linker never pulls these in twice.
#include "sim_transport.hpp"
#include "tessera/errors.hpp"
#include "tessera/open.hpp"
#include "tessera/serial_transport.hpp"
#include "tessera/tcp_transport.hpp"

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

namespace tessera {

std::unique_ptr<Transport> open_transport(const std::string& spec) {
  if (spec == "sim") return sim::make_sim_transport();
  if (is_tcp_device_spec(spec)) {
    const DeviceSpec device = parse_device_spec(spec);
    return make_tcp_transport(device.host, device.port);
  }
  if (is_serial_device_spec(spec)) return make_serial_transport(parse_serial_device_spec(spec));
  throw InputError("device: expected 'sim', 'tcp://HOST:PORT' or 'serial://PATH[?baud=N]', got '" +
                   spec + "'");
}

}  // namespace tessera
