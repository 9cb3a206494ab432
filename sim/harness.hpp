// The Verilated engine with its clock, reset and FST tracing. One cycle is one call to
// tick(); callers set inputs before it and read the handshakes it reports.
//
// Trace time: cycle c is dumped at 10*(c - origin) ns with the clock low and at +5 ns
// after its rising edge, so GTKWave's time axis reads as a nominal 100 MHz clock and
// time / 10 ns is the cycle number (counted from the origin the caller chose).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

// Each engine build compiles the harness for its own Verilated class, in its own
// namespace (cmake/engine_config.cmake sets both), so one binary can link several builds.
// Code that only needs kTracePeriod includes this header without them.
#ifndef TSR_TOP_CLASS
#define TSR_TOP_CLASS Vtsr_top
#define TSR_CONFIG_NS any_config
#endif

class TSR_TOP_CLASS;
class VerilatedContext;
class VerilatedFstC;

namespace tessera::sim::TSR_CONFIG_NS {

class Harness {
 public:
  using Top = TSR_TOP_CLASS;
  static constexpr std::uint64_t kTracePeriod = 10;  // FST time units (ns) per cycle

  Harness();
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  Top& top() { return *top_; }
  std::uint64_t cycle() const { return cycle_; }

  // Settles combinational outputs for the inputs set so far (before a handshake check).
  // Inputs must not change between settle() and the tick() that follows it: tick() then
  // reuses the settled state instead of evaluating the clock-low phase again.
  void settle();
  // One rising clock edge; the cycle counter then counts it.
  void tick();
  // Holds reset low for `cycles` cycles with every input idle.
  void reset(unsigned cycles = 4);

  // Traces cycles [start, end) (end 0: until trace_off) into an FST file, with trace
  // time 0 at cycle `origin` (<= start).
  void trace_on(const std::string& path, std::uint64_t start, std::uint64_t end,
                std::uint64_t origin = 0);
  void trace_off();
  bool tracing() const { return trace_ != nullptr; }
  // While paused, cycles are not written (used to trace only while a command runs).
  void trace_pause(bool paused) { trace_paused_ = paused; }

 private:
  bool dumping() const;
  void dump(std::uint64_t time);

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Top> top_;
  std::unique_ptr<VerilatedFstC> trace_;
  std::uint64_t trace_start_ = 0;
  std::uint64_t trace_end_ = 0;
  std::uint64_t trace_origin_ = 0;
  bool trace_paused_ = false;
  bool settled_ = false;
  std::uint64_t cycle_ = 0;
};

}  // namespace tessera::sim::TSR_CONFIG_NS

namespace tessera::sim {
using TSR_CONFIG_NS::Harness;
}  // namespace tessera::sim
