// The transaction layer between the runtime and an engine. One implementation per
// place the engine runs: in-process (sim/), TCP to tessera-sim, serial to a board.
// Every call either completes or throws TransportError / EngineError; none hangs:
// calls that advance the clock take a cycle budget.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera {

struct TraceRequest {
  std::string path;              // FST file to write
  std::uint64_t start_cycle = 0;  // absolute simulator cycles, inclusive
  std::uint64_t end_cycle = 0;    // exclusive; 0 = until trace_stop
};

struct SimStats {
  std::uint64_t cycles = 0;  // clock cycles since the model was created
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual void csr_write(std::uint32_t addr, std::uint32_t data) = 0;
  virtual std::uint32_t csr_read(std::uint32_t addr) = 0;
  // Queues whole input beats (in_beat_bytes each) for the AXI4-Stream slave.
  virtual void stream_write(std::span<const std::uint8_t> bytes) = 0;
  // Returns exactly `beats` output beats (out_beat_bytes each), clocking the engine
  // until they arrive; throws TransportError if cycle_budget cycles pass first.
  virtual std::vector<std::uint8_t> stream_read(std::uint32_t beats,
                                                std::uint64_t cycle_budget) = 0;
  // Clocks until STATUS.BUSY is clear; returns cycles waited; throws on budget.
  virtual std::uint64_t wait_idle(std::uint64_t cycle_budget) = 0;
  // Hardware reset; also drops queued input beats and unread output beats.
  virtual void reset() = 0;
  virtual void trace_start(const TraceRequest& request) = 0;
  virtual void trace_stop() = 0;
  virtual SimStats stats() = 0;
};

}  // namespace tessera
