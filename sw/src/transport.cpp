#include "tessera/transport.hpp"

#include <cstdio>
#include <string>

#include "tessera/errors.hpp"
#include "tessera/isa.hpp"

namespace tessera {

std::uint64_t Transport::wait_status_clear(std::uint32_t mask, std::uint64_t cycle_budget) {
  const std::uint64_t start = stats().cycles;
  // Each CSR read clocks the engine, so polling advances it.
  while ((csr_read(isa::csr::kStatus) & mask) != 0) {
    if (stats().cycles - start > cycle_budget) {
      char bits[16];
      std::snprintf(bits, sizeof bits, "0x%x", mask);
      throw TransportError(std::string("STATUS bits ") + bits + " still set after " +
                           std::to_string(cycle_budget) + " cycles");
    }
  }
  return stats().cycles - start;
}

}  // namespace tessera
