// Device: the engine as the runtime sees it, one level above the Transport: its
// configuration, commands, loads, status and performance counters.
#pragma once

#include <cstdint>
#include <span>

#include "tessera/isa.hpp"
#include "tessera/transport.hpp"

namespace tessera {

struct EngineConfig {
  std::uint32_t id = 0;
  std::uint32_t version = 0;
  unsigned rows = 0;
  unsigned cols = 0;
  unsigned act_depth = 0;    // words of `rows` int8
  unsigned wgt_depth = 0;    // words of `cols` int8
  unsigned acc_depth = 0;    // rows per accumulator bank
  unsigned param_depth = 0;  // output channels
  unsigned in_beat_bytes = 0;
  unsigned out_beat_bytes = 0;
  unsigned cmd_fifo_depth = 0;
  std::uint32_t features = 0;
};

struct PerfCounters {
  std::uint32_t cycles = 0;
  std::uint32_t busy = 0;
  std::uint32_t stall = 0;
  std::uint64_t macs = 0;
  std::uint32_t last_out = 0;
  std::uint32_t retired = 0;
  std::uint32_t dropped = 0;
};

class Device {
 public:
  // Reads and checks the ID register and the configuration; throws EngineError if the
  // other end is not a Tessera engine.
  explicit Device(Transport& transport);

  const EngineConfig& config() const { return config_; }
  Transport& transport() { return transport_; }

  // Pushes one command. A CMD3 write to a full FIFO is refused (docs/isa.md), so push
  // counts the free entries and reads STATUS only when that count says the FIFO may be
  // full; if it is, it clocks the engine until there is room, and throws TransportError
  // after command_wait_budget cycles. Assumes every command goes through this Device.
  void push(const isa::CommandWords& words);
  std::uint64_t command_wait_budget = 20'000'000;
  // Queues `words` scratchpad words of `word_bytes` each as one input packet: the data
  // of one LOAD.
  void queue_words(std::span<const std::uint8_t> words, unsigned word_bytes);
  // CTRL.CLEAR: the engine drops its commands and errors; the transport drops input not
  // yet begun and every unread result (docs/isa.md "CTRL.CLEAR").
  void clear();
  void perf_clear();
  PerfCounters perf();
  std::uint32_t status();
  // Throws EngineError naming the error code and the failing command, if one is latched.
  void check_error();

 private:
  void wait_for_command_room();

  Transport& transport_;
  EngineConfig config_;
  unsigned fifo_free_ = 0;  // command FIFO entries known to be free
};

}  // namespace tessera
