// In-process Transport: drives the Verilated engine's AXI4-Lite and AXI4-Stream ports
// cycle by cycle. Input beats are queued and fed whenever the engine is ready, output
// beats are collected whenever they come, so the streams run concurrently with every
// CSR access, as they would on a bus.
#include <verilated.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <sstream>

#include "Vtsr_top.h"
#include "harness.hpp"
#include "sim_transport.hpp"
#include "tessera/errors.hpp"
#include "tessera/isa.hpp"

namespace tessera::sim {
namespace {

constexpr std::uint64_t kCsrCycleBudget = 5'000'000;

// Verilator holds ports up to 64 bits in integers and wider ones in VlWide word arrays;
// these copy either kind to and from little-endian bytes.
template <typename Port>
constexpr std::size_t port_words() {
  return sizeof(Port) / sizeof(std::uint32_t);
}

template <typename Port>
void pack(Port& port, const std::uint8_t* bytes, std::size_t count) {
  if constexpr (std::is_integral_v<Port>) {
    Port value = 0;
    std::memcpy(&value, bytes, std::min(count, sizeof(Port)));
    port = value;
  } else {
    for (std::size_t w = 0; w < port_words<Port>(); ++w) {
      std::uint32_t word = 0;
      if (4 * w < count) std::memcpy(&word, bytes + 4 * w, std::min<std::size_t>(4, count - 4 * w));
      port[w] = word;
    }
  }
}

template <typename Port>
void unpack(const Port& port, std::uint8_t* bytes, std::size_t count) {
  if constexpr (std::is_integral_v<Port>) {
    std::memcpy(bytes, &port, std::min(count, sizeof(Port)));
  } else {
    for (std::size_t w = 0; w < port_words<Port>() && 4 * w < count; ++w) {
      const std::uint32_t word = port[w];
      std::memcpy(bytes + 4 * w, &word, std::min<std::size_t>(4, count - 4 * w));
    }
  }
}

std::string hex(std::uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

// What one clock cycle saw on the AXI4-Lite channels, sampled before the edge.
struct Handshakes {
  bool aw = false, w = false, b = false, ar = false, r = false;
  std::uint32_t rdata = 0;
  unsigned bresp = 0, rresp = 0;
};

class SimTransport final : public Transport {
 public:
  explicit SimTransport(const SimOptions& options) : options_(options) {
    in_beat_bytes_ = csr_read(isa::csr::kCfgStream) & 0xFFFF;
    out_beat_bytes_ = csr_read(isa::csr::kCfgStream) >> 16;
  }

  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    auto& top = harness_.top();
    top.s_axil_awaddr_i = addr;
    top.s_axil_awvalid_i = 1;
    top.s_axil_wdata_i = data;
    top.s_axil_wstrb_i = 0xF;
    top.s_axil_wvalid_i = 1;
    top.s_axil_bready_i = 1;
    bool address_done = false, data_done = false, response_done = false;
    unsigned bresp = 0;
    run("CSR write to " + hex(addr), kCsrCycleBudget, [&](const Handshakes& seen) {
      address_done |= seen.aw;
      data_done |= seen.w;
      if (seen.aw) top.s_axil_awvalid_i = 0;
      if (seen.w) top.s_axil_wvalid_i = 0;
      if (seen.b) {
        response_done = true;
        bresp = seen.bresp;
      }
      return address_done && data_done && response_done;
    });
    top.s_axil_bready_i = 0;
    if (bresp != 0) {
      throw EngineError("engine rejected the CSR write to " + hex(addr) + " (SLVERR)");
    }
  }

  std::uint32_t csr_read(std::uint32_t addr) override {
    auto& top = harness_.top();
    top.s_axil_araddr_i = addr;
    top.s_axil_arvalid_i = 1;
    top.s_axil_rready_i = 1;
    std::uint32_t value = 0;
    unsigned rresp = 0;
    run("CSR read of " + hex(addr), kCsrCycleBudget, [&](const Handshakes& seen) {
      if (seen.ar) top.s_axil_arvalid_i = 0;
      if (seen.r) {
        value = seen.rdata;
        rresp = seen.rresp;
      }
      return seen.r;
    });
    top.s_axil_rready_i = 0;
    if (rresp != 0) {
      throw EngineError("engine rejected the CSR read of " + hex(addr) + " (SLVERR)");
    }
    return value;
  }

  void stream_write(std::span<const std::uint8_t> bytes) override {
    if (bytes.size() % in_beat_bytes_ != 0) {
      throw TransportError("stream write of " + std::to_string(bytes.size()) +
                           " bytes is not a whole number of " +
                           std::to_string(in_beat_bytes_) + "-byte beats");
    }
    input_.insert(input_.end(), bytes.begin(), bytes.end());
  }

  std::vector<std::uint8_t> stream_read(std::uint32_t beats,
                                        std::uint64_t cycle_budget) override {
    const std::size_t want = std::size_t{beats} * out_beat_bytes_;
    run("stream read of " + std::to_string(beats) + " beats", cycle_budget,
        [&](const Handshakes&) { return output_.size() >= want; }, output_.size() >= want);
    std::vector<std::uint8_t> result(output_.begin(), output_.begin() + want);
    output_.erase(output_.begin(), output_.begin() + want);
    return result;
  }

  std::uint64_t wait_idle(std::uint64_t cycle_budget) override {
    const std::uint64_t start = harness_.cycle();
    while (csr_read(isa::csr::kStatus) & isa::status::kBusy) {
      if (harness_.cycle() - start > cycle_budget) {
        throw TransportError("engine still busy after " + std::to_string(cycle_budget) +
                             " cycles");
      }
    }
    return harness_.cycle() - start;
  }

  void reset() override {
    input_.clear();
    output_.clear();
    harness_.reset();
  }

  void trace_start(const TraceRequest& request) override {
    harness_.trace_on(request.path, request.start_cycle, request.end_cycle);
  }

  void trace_stop() override { harness_.trace_off(); }

  SimStats stats() override { return SimStats{harness_.cycle()}; }

 private:
  // Clocks the engine until done(handshakes) is true, servicing the streams each cycle.
  template <typename Done>
  void run(const std::string& what, std::uint64_t budget, Done done, bool already = false) {
    if (already) return;
    for (std::uint64_t n = 0; n < budget; ++n) {
      if (done(cycle())) return;
    }
    throw TransportError(what + " timed out after " + std::to_string(budget) + " cycles");
  }

  Handshakes cycle() {
    auto& top = harness_.top();
    const bool have_input = input_.size() >= in_beat_bytes_;
    top.s_axis_tvalid_i = have_input;
    if (have_input) {
      std::uint8_t beat[256];
      std::copy_n(input_.begin(), in_beat_bytes_, beat);
      pack(top.s_axis_tdata_i, beat, in_beat_bytes_);
    }
    top.m_axis_tready_i =
        output_.size() / out_beat_bytes_ < options_.max_buffered_output_beats;
    harness_.settle();

    Handshakes seen;
    seen.aw = top.s_axil_awvalid_i && top.s_axil_awready_o;
    seen.w = top.s_axil_wvalid_i && top.s_axil_wready_o;
    seen.b = top.s_axil_bvalid_o && top.s_axil_bready_i;
    seen.bresp = top.s_axil_bresp_o;
    seen.ar = top.s_axil_arvalid_i && top.s_axil_arready_o;
    seen.r = top.s_axil_rvalid_o && top.s_axil_rready_i;
    seen.rdata = top.s_axil_rdata_o;
    seen.rresp = top.s_axil_rresp_o;
    const bool input_taken = have_input && top.s_axis_tready_o;
    if (top.m_axis_tvalid_o && top.m_axis_tready_i) {
      std::uint8_t beat[256 * 4];
      unpack(top.m_axis_tdata_o, beat, out_beat_bytes_);
      output_.insert(output_.end(), beat, beat + out_beat_bytes_);
    }
    harness_.tick();
    if (input_taken) input_.erase(input_.begin(), input_.begin() + in_beat_bytes_);
    return seen;
  }

  SimOptions options_;
  Harness harness_;
  std::deque<std::uint8_t> input_;
  std::deque<std::uint8_t> output_;
  std::size_t in_beat_bytes_ = 16;
  std::size_t out_beat_bytes_ = 16;
};

}  // namespace

std::unique_ptr<Transport> make_sim_transport(const SimOptions& options) {
  return std::make_unique<SimTransport>(options);
}

std::string sim_config_name() { return TSR_CONFIG_NAME; }

}  // namespace tessera::sim
