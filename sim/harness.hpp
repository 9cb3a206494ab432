// The Verilated engine with its clock, reset and FST tracing. One cycle is one call to
// tick(); callers set inputs before it and read the handshakes it reports.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

class Vtsr_top;
class VerilatedContext;
class VerilatedFstC;

namespace tessera::sim {

class Harness {
 public:
  Harness();
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  Vtsr_top& top() { return *top_; }
  std::uint64_t cycle() const { return cycle_; }

  // Settles combinational outputs for the inputs set so far (before a handshake check).
  void settle();
  // One rising clock edge; the cycle counter then counts it.
  void tick();
  // Holds reset low for `cycles` cycles with every input idle.
  void reset(unsigned cycles = 4);

  // Traces cycles [start, end) (end 0: until trace_off) into an FST file.
  void trace_on(const std::string& path, std::uint64_t start, std::uint64_t end);
  void trace_off();
  bool tracing() const { return trace_ != nullptr; }

 private:
  void dump(std::uint64_t time);

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Vtsr_top> top_;
  std::unique_ptr<VerilatedFstC> trace_;
  std::uint64_t trace_start_ = 0;
  std::uint64_t trace_end_ = 0;
  std::uint64_t cycle_ = 0;
};

}  // namespace tessera::sim
