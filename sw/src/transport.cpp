#include "tessera/transport.hpp"

#include <cstdio>
#include <string>

#include "tessera/errors.hpp"
#include "tessera/isa.hpp"

namespace tessera {

std::string Transport::status_wait_text(std::uint32_t clear_mask, unsigned max_fifo_level) {
  char text[96];
  std::snprintf(text, sizeof text, "STATUS & 0x%x clear, FIFO level <= %u", clear_mask,
                max_fifo_level);
  return text;
}

std::uint64_t Transport::wait_status(std::uint32_t clear_mask, unsigned max_fifo_level,
                                     std::uint64_t cycle_budget) {
  const std::uint64_t start = stats().cycles;
  // Each CSR read clocks the engine, so polling advances it.
  while (!status_reached(csr_read(isa::csr::kStatus), clear_mask, max_fifo_level)) {
    if (stats().cycles - start > cycle_budget) {
      throw TransportError("still waiting for " + status_wait_text(clear_mask, max_fifo_level) +
                           " after " + std::to_string(cycle_budget) + " cycles");
    }
  }
  return stats().cycles - start;
}

}  // namespace tessera
