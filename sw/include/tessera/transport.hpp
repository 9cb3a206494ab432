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
  std::string path;               ///< FST file to write
  std::uint64_t start_cycle = 0;  ///< absolute simulator cycles, inclusive
  std::uint64_t end_cycle = 0;    ///< exclusive; 0 = until trace_stop
};

/// What the other end buffers (docs/protocol.md, "Bounded buffers"). A board's bridge
/// blocks on the engine's input and holds only the engine's output FIFO, so the runtime
/// must send a LOAD before its data and read results before they outgrow the FIFO.
struct BufferLimits {
  static constexpr std::uint32_t kUnbounded = 0xFFFFFFFF;
  /// Stream bytes accepted ahead of the LOAD that consumes them (0: none, a board).
  std::uint32_t input_ahead_bytes = kUnbounded;
  /// Result beats held engine-side without a stream_read (a board: the engine's 8-beat
  /// output FIFO).
  std::uint32_t output_beats = kUnbounded;

  bool bounded() const { return input_ahead_bytes != kUnbounded || output_beats != kUnbounded; }
  bool operator==(const BufferLimits&) const = default;
};

struct SimStats {
  std::uint64_t cycles = 0;  ///< clock cycles since the model was created
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual void csr_write(std::uint32_t addr, std::uint32_t data) = 0;
  virtual std::uint32_t csr_read(std::uint32_t addr) = 0;
  /// Input packets (docs/isa.md, "Input packets"): each LOAD consumes one AXI4-Stream
  /// packet, TLAST on its last beat. stream_write(bytes) queues one whole packet;
  /// stream_write(bytes, false) queues the first part of one whose later calls continue it,
  /// until a call with ends_packet true puts TLAST on its last beat. `bytes` are whole
  /// input beats (in_beat_bytes each). An empty call with ends_packet ends the open
  /// packet, which needs its last beat still queued (else InputError); otherwise it does
  /// nothing. Implementations override the two-argument form (and add `using
  /// Transport::stream_write;` so that the one-argument form stays visible).
  void stream_write(std::span<const std::uint8_t> bytes) { stream_write(bytes, true); }
  virtual void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) = 0;
  /// Returns exactly `beats` output beats (out_beat_bytes each), clocking the engine
  /// until they arrive; throws TransportError if cycle_budget cycles pass first.
  virtual std::vector<std::uint8_t> stream_read(std::uint32_t beats,
                                                std::uint64_t cycle_budget) = 0;
  /// Clocks until STATUS.BUSY is clear; returns cycles waited; throws on budget.
  virtual std::uint64_t wait_idle(std::uint64_t cycle_budget) = 0;
  /// Clocks until STATUS has every bit of `clear_mask` clear and a command FIFO level
  /// (STATUS[23:16]) of at most `max_fifo_level` (wait_idle is mask BUSY, any level);
  /// returns cycles waited; throws TransportError on budget. The default polls STATUS
  /// through csr_read and measures cycles with stats(); transports that can wait next to
  /// the engine override it.
  static constexpr unsigned kAnyFifoLevel = 0xFF;
  virtual std::uint64_t wait_status(std::uint32_t clear_mask, unsigned max_fifo_level,
                                    std::uint64_t cycle_budget);
  virtual std::uint64_t wait_status_clear(std::uint32_t mask, std::uint64_t cycle_budget) {
    return wait_status(mask, kAnyFifoLevel, cycle_budget);
  }
  /// For implementations: whether a STATUS value ends a wait_status, and how to name one.
  static bool status_reached(std::uint32_t status, std::uint32_t clear_mask,
                             unsigned max_fifo_level) {
    return (status & clear_mask) == 0 && ((status >> 16) & 0xFF) <= max_fifo_level;
  }
  static std::string status_wait_text(std::uint32_t clear_mask, unsigned max_fifo_level);
  /// Hardware reset; also drops queued input beats and unread output beats.
  /// CTRL.CLEAR is a csr_write, and the transport does the host's part of it (docs/isa.md
  /// "CTRL.CLEAR"): it drops the input packets it has not begun to send, still sends the
  /// rest of the one it has begun (the engine discards it), and drops every output beat
  /// of the cleared commands, the stale one the engine still presents included.
  virtual void reset() = 0;
  virtual void trace_start(const TraceRequest& request) = 0;
  virtual void trace_stop() = 0;
  virtual SimStats stats() = 0;
  /// The other end's buffer limits; unbounded unless a transport says otherwise. Cheap:
  /// a transport that asks its server does so once.
  virtual BufferLimits limits() { return {}; }
};

}  // namespace tessera
