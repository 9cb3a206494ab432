// What a run sent, counted at the transport (shared by the residency and sparse tests):
// tests check what went over the link, not what the runtime says it sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tessera/isa.hpp"
#include "tessera/transport.hpp"

namespace tessera::test {

// Passes every call through to the transport it wraps, and counts the commands pushed
// (decoded from the words written to CMD0..CMD3: LOADs per target with their words,
// GEMMs, SPGEMMs, SPGEMMAs) and the bytes streamed.
class CountingTransport : public Transport {
 public:
  explicit CountingTransport(Transport& inner) : inner_(inner) {}

  struct Counts {
    std::size_t loads[5] = {0, 0, 0, 0, 0};       // by isa::Target
    std::size_t load_words[5] = {0, 0, 0, 0, 0};  // the LOADs' count fields
    std::size_t gemms = 0;
    std::size_t spgemms = 0;
    std::size_t spgemmas = 0;
    std::size_t stream_bytes = 0;
  };
  Counts counts;

  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    if (addr >= isa::csr::kCmd0 && addr <= isa::csr::kCmd3) {
      words_[(addr - isa::csr::kCmd0) / 4] = data;
      if (addr == isa::csr::kCmd3) count_command();
    }
    inner_.csr_write(addr, data);
  }
  std::uint32_t csr_read(std::uint32_t addr) override { return inner_.csr_read(addr); }
  using Transport::stream_write;
  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override {
    counts.stream_bytes += bytes.size();
    inner_.stream_write(bytes, ends_packet);
  }
  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t cycle_budget) override {
    return inner_.stream_read(beats, cycle_budget);
  }
  std::uint64_t wait_idle(std::uint64_t cycle_budget) override {
    return inner_.wait_idle(cycle_budget);
  }
  std::uint64_t wait_status_clear(std::uint32_t mask, std::uint64_t cycle_budget) override {
    return inner_.wait_status_clear(mask, cycle_budget);
  }
  void reset() override { inner_.reset(); }
  void trace_start(const TraceRequest& request) override { inner_.trace_start(request); }
  void trace_stop() override { inner_.trace_stop(); }
  SimStats stats() override { return inner_.stats(); }
  BufferLimits limits() override { return inner_.limits(); }

 private:
  void count_command() {
    const unsigned opcode = words_[0] & 0xFF;
    if (opcode == static_cast<unsigned>(isa::Opcode::kGemm)) ++counts.gemms;
    if (opcode == static_cast<unsigned>(isa::Opcode::kSpgemm)) ++counts.spgemms;
    if (opcode == static_cast<unsigned>(isa::Opcode::kSpgemmA)) ++counts.spgemmas;
    if (opcode != static_cast<unsigned>(isa::Opcode::kLoad)) return;
    const unsigned target = (words_[0] >> 8) & 0x7;
    if (target > static_cast<unsigned>(isa::Target::kGbuf)) return;
    ++counts.loads[target];
    counts.load_words[target] += words_[2];
  }

  Transport& inner_;
  std::uint32_t words_[4] = {0, 0, 0, 0};
};

}  // namespace tessera::test
