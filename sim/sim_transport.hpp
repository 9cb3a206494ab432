// In-process backend: the Verilated engine behind the Transport interface. Each build
// configuration (rows, cols, depths) is its own library, tsr_sim_<config>, all
// exposing this same factory.
//
// Beyond the Transport, the in-process engine offers what only a simulation can:
// forced faults (to prove the checks catch them), a log of every command's push, issue
// and retire cycles, the cycle of every output beat, and command-gated tracing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/isa.hpp"
#include "tessera/transport.hpp"

namespace tessera::sim {

// A fault forced into the engine or its stream links.
struct Fault {
  enum class Kind {
    kPeStuck0,       // "pe:ROW,COL:stuck0": that PE's product is always zero
    kStreamInDrop,   // "stream-in:BEAT:drop": input beat BEAT never reaches the engine
    kStreamOutDrop,  // "stream-out:BEAT:drop": output beat BEAT never reaches the host
  };
  Kind kind = Kind::kPeStuck0;
  unsigned row = 0, col = 0;  // kPeStuck0
  std::uint64_t beat = 0;     // stream faults: beats counted from the engine's creation
};

// Parses a fault spec (the forms above); throws InputError naming what is wrong.
Fault parse_fault(const std::string& spec);
// The spec parse_fault() reads back, e.g. "pe:3,1:stuck0".
std::string fault_spec(const Fault& fault);
// The fault's class for mutation scores: "pe-stuck0", "stream-in-drop", "stream-out-drop".
std::string fault_class(const Fault& fault);

struct SimOptions {
  // Host-side bound on buffered output beats nobody has asked for yet; the engine sees
  // back-pressure beyond it (a stream_read takes the beats it asks for regardless).
  std::size_t max_buffered_output_beats = 1u << 20;
  // Faults forced from the first cycle; a PE outside the array is an InputError.
  std::vector<Fault> faults;
  // Keep the command log and every output beat's cycle (memory grows with the run).
  bool record = false;
  // stream_read stops waiting once the engine has sat this many cycles with no unit
  // able to move (nothing computing or storing, no stream beat), since no output can
  // come then: a LOAD waits for input the host never sent, or output was lost.
  std::uint64_t stall_cycles = 4096;
};

// One command's life in absolute simulator cycles; kNever where it did not happen.
struct CommandRecord {
  static constexpr std::uint64_t kNever = ~std::uint64_t{0};
  enum class Status { kQueued, kIssued, kRetired, kDropped, kCleared };
  std::uint64_t index = 0;  // order of pushes since the engine was created
  isa::CommandWords words{};
  std::uint64_t push = kNever;    // entered the command FIFO
  std::uint64_t issue = kNever;   // left the FIFO for its unit
  std::uint64_t retire = kNever;  // LOAD: last beat written; GEMM: last output beat sent
  Status status = Status::kQueued;
};
const char* status_name(CommandRecord::Status status);

class SimTransport : public Transport {
 public:
  using Transport::stream_write;
  unsigned rows() const { return rows_; }
  unsigned cols() const { return cols_; }
  virtual std::uint64_t cycle() const = 0;

  // Output beats handed to the host so far; with SimOptions::record, the cycle each
  // left the engine (index = beat number).
  virtual std::uint64_t output_beats() const = 0;
  virtual const std::vector<std::uint64_t>& output_beat_cycles() const = 0;
  // Input beats consumed so far, dropped ones included.
  virtual std::uint64_t input_beats() const = 0;
  // What a board's bridge does with a STREAM_WRITE (docs/protocol.md, "Bounded
  // buffers"): clocks until the engine has taken every queued input beat. If it takes
  // none for `stall_cycles` cycles, or sooner when no unit can move at all, the queued
  // input is dropped and TransportError names the likely cause.
  virtual void push_input(std::uint64_t stall_cycles) = 0;
  // With SimOptions::record: every command pushed, in order.
  virtual const std::vector<CommandRecord>& commands() const = 0;

  // trace_start() with FST time 0 at cycle `time_origin`.
  virtual void trace_window(const TraceRequest& request, std::uint64_t time_origin) = 0;
  // Traces into `path` only while command `index` executes, from its issue to its
  // retire (needs SimOptions::record); FST time 0 at cycle `time_origin`.
  virtual void trace_command(const std::string& path, std::uint64_t index,
                             std::uint64_t time_origin) = 0;

 protected:
  unsigned rows_ = 0, cols_ = 0;
};

// The engine of the one build a binary links (sim/default_engine.cpp).
std::unique_ptr<SimTransport> make_sim_engine(const SimOptions& options = {});
std::unique_ptr<Transport> make_sim_transport(const SimOptions& options = {});

// Name of the configuration this library was built for, e.g. "16x16".
std::string sim_config_name();

// Every build's own factory, for binaries that link several (cmake/engine_config.cmake):
//   namespace tessera::sim::config_16x16 { std::unique_ptr<SimTransport> make_engine(...); }
struct EngineBuild {
  const char* name;  // "16x16"
  std::unique_ptr<SimTransport> (*make)(const SimOptions& options);
};

}  // namespace tessera::sim
