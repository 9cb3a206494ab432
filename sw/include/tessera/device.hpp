// Device: the engine as the runtime sees it, one level above the Transport: its
// configuration, commands, loads, status and performance counters.
#pragma once

#include <cstdint>
#include <span>

#include "tessera/isa.hpp"
#include "tessera/resident.hpp"
#include "tessera/transport.hpp"

namespace tessera {

struct EngineConfig {
  std::uint32_t id = 0;
  std::uint32_t version = 0;
  unsigned rows = 0;
  unsigned cols = 0;
  unsigned act_depth = 0;    ///< words of `rows` int8
  unsigned wgt_depth = 0;    ///< words of `cols` int8
  unsigned acc_depth = 0;    ///< rows per accumulator bank
  unsigned param_depth = 0;  ///< output channels
  unsigned gbuf_depth = 0;   ///< words of `rows` int8 (0 without the sparse feature)
  unsigned meta_depth = 0;   ///< words of `cols` uint8 (0 without the sparse feature)
  unsigned in_beat_bytes = 0;
  unsigned out_beat_bytes = 0;
  unsigned cmd_fifo_depth = 0;
  std::uint32_t features = 0;

  bool sparse() const { return (features >> isa::kFeatureSparse) & 1u; }
  bool sparse_a() const { return (features >> isa::kFeatureSparseA) & 1u; }
  bool round_single() const { return (features >> isa::kFeatureRoundSingle) & 1u; }
  /// Every performance counter, not only PERF_CYCLES and PERF_LAST_OUT.
  bool perf_detail() const { return !((features >> isa::kFeaturePerfLite) & 1u); }
};

/// The engine's performance counters since the last PERF_CLEAR. Without `detail` (an
/// engine whose FEATURES bit 16 is set) only cycles and last_out were counted; busy,
/// stall, macs, retired and dropped are 0 and mean nothing.
struct PerfCounters {
  bool detail = true;
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
  /// Reads and checks the ID register, VERSION and FEATURES, and the configuration; throws
  /// EngineError if the other end is not a Tessera engine, speaks another major ISA version
  /// (the message names both) or lacks a feature in isa::kFeaturesRequired.
  explicit Device(Transport& transport);

  const EngineConfig& config() const { return config_; }
  Transport& transport() { return transport_; }

  /// Pushes one command. A CMD3 write to a full FIFO is refused (docs/isa.md), so push
  /// counts the free entries and reads STATUS only when that count runs out; if the FIFO
  /// is then more than half full, it clocks the engine until half of it has drained (one
  /// wait per depth/2 commands while the engine is the bottleneck), and throws
  /// TransportError after command_wait_budget cycles. Assumes every command goes through
  /// this Device.
  void push(const isa::CommandWords& words);
  std::uint64_t command_wait_budget = 20'000'000;
  /// Queues `words` scratchpad words of `word_bytes` each as one input packet: the data
  /// of one LOAD. Push the LOAD first: a bounded transport (Transport::limits) accepts no
  /// input ahead of the LOAD that consumes it.
  void queue_words(std::span<const std::uint8_t> words, unsigned word_bytes);
  /// CTRL.CLEAR: the engine drops its commands and errors; the transport drops input not
  /// yet begun and every unread result (docs/isa.md "CTRL.CLEAR").
  void clear();
  void perf_clear();
  PerfCounters perf();
  std::uint32_t status();
  /// If an error is latched: clears the engine (CTRL.CLEAR: commands dropped, the input
  /// stream drained, every unread result discarded), then throws EngineError naming the
  /// error code and the failing command. The next call on this Device then works.
  void check_error();

  /// Resident operands. The Device remembers what every LOAD sent through load() wrote,
  /// word by word, so that data already in a scratchpad is not sent again: load() sends
  /// only the words of [dst, dst + count) that differ from what the engine is known to
  /// hold (from the first differing word to the last), or nothing; the LOAD goes before
  /// its data. It forgets a LOAD's
  /// range when one is pushed any other way, and everything on CLEAR, on reset(), and
  /// when check_error() finds an error (a failed LOAD may have written part of its range,
  /// and the commands dropped after it wrote nothing). A transport reset that bypasses
  /// reset() needs forget_resident().
  /// Returns the words sent.
  std::size_t load(isa::Target target, std::uint32_t dst, std::span<const std::uint8_t> words);
  /// Whether [dst, dst + words/word) of `target` is known to hold `words`.
  bool holds(isa::Target target, std::uint32_t dst, std::span<const std::uint8_t> words) const;
  /// How many words of that range are known to hold their part of `words`.
  std::size_t matching_words(isa::Target target, std::uint32_t dst,
                             std::span<const std::uint8_t> words) const;
  /// When [dst, dst + count) was last loaded or used by load() (0: never, or forgotten):
  /// lets a caller overwrite the least recently used region.
  std::uint64_t last_use(isa::Target target, std::uint32_t dst, std::uint32_t count) const;
  void forget_resident();
  /// Transport reset: the engine and its scratchpads start over.
  void reset();

 private:
  void wait_for_command_room();

  Transport& transport_;
  EngineConfig config_;
  unsigned fifo_free_ = 0;  ///< command FIFO entries known to be free

  const ResidentWords& resident(isa::Target target) const;
  ResidentWords& resident(isa::Target target);
  void forget_load(const isa::CommandWords& words);  ///< a LOAD pushed around load()
  ResidentWords resident_[5];  ///< ACT, WGT, PARAM, META, GBUF, by isa::Target
  std::uint64_t load_stamp_ = 0;
};

}  // namespace tessera
