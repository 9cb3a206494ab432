// Shared pieces of the RTL block tests: a bench that owns one Verilated block (context and
// model through unique_ptr, as sim/harness does for the whole engine) and drives its clock,
// and the seed handling of the random tests.
//
// Timing convention: clk_i rests low between ticks. A test sets inputs, may call settle()
// to read combinational outputs for them, then tick() takes one rising edge; after it the
// registered outputs hold the new state (and combinational outputs are settled again).
#pragma once

#include <verilated.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#if VM_TRACE_FST
#include <verilated_fst_c.h>
#endif

namespace tessera::rtl_test {

template <class Model>
class BlockBench {
 public:
  BlockBench()
      : context_(std::make_unique<VerilatedContext>()),
        model_(std::make_unique<Model>(context_.get(), "dut")) {
#if VM_TRACE_FST
    // Configure with -DTESSERA_RTL_TRACE=ON, set TSR_TRACE=file.fst and run one test case
    // (each bench opens the file anew) to record it.
    if (const char* path = std::getenv("TSR_TRACE")) trace_on(path);
#endif
    model_->clk_i = 0;
    model_->eval();
  }
  ~BlockBench() {
    trace_off();
    model_->final();
  }
  BlockBench(const BlockBench&) = delete;
  BlockBench& operator=(const BlockBench&) = delete;

  Model* operator->() { return model_.get(); }
  Model& dut() { return *model_; }
  // The block's SVA assertions: a failing one stops the test unless a test that provokes
  // it on purpose turns that off and asks gotError() afterwards.
  VerilatedContext& context() { return *context_; }
  std::uint64_t cycle() const { return cycle_; }

  // Combinational outputs for the inputs set so far.
  void settle() {
    model_->eval();
    dump(2 * cycle_);
  }

  // One rising edge.
  void tick() {
    settle();
    model_->clk_i = 1;
    model_->eval();
    dump(2 * cycle_ + 1);
    model_->clk_i = 0;
    model_->eval();
    ++cycle_;
  }

  void ticks(unsigned n) {
    for (unsigned i = 0; i < n; ++i) tick();
  }

  // Active-low reset for blocks that have one; every other input is the test's business.
  void reset(unsigned cycles = 3) requires requires(Model& m) { m.rst_ni; }
  {
    model_->rst_ni = 0;
    ticks(cycles);
    model_->rst_ni = 1;
    settle();
  }

  void trace_on([[maybe_unused]] const std::string& path) {
#if VM_TRACE_FST
    context_->traceEverOn(true);
    trace_ = std::make_unique<VerilatedFstC>();
    model_->trace(trace_.get(), 99);
    trace_->open(path.c_str());
#endif
  }
  void trace_off() {
#if VM_TRACE_FST
    if (trace_) trace_->close();
    trace_.reset();
#endif
  }

 private:
  void dump([[maybe_unused]] std::uint64_t time) {
#if VM_TRACE_FST
    if (trace_) trace_->dump(time);
#endif
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Model> model_;
#if VM_TRACE_FST
  std::unique_ptr<VerilatedFstC> trace_;
#endif
  std::uint64_t cycle_ = 0;
};

// Seed of a random test: Catch2's --rng-seed when given (e.g. `--rng-seed time` for a fresh
// one), else a fixed default so that CI runs are reproducible. Printed, with the command
// that replays the test, and attached to every failure.
inline std::uint64_t test_seed(const char* executable, const std::string& test_name) {
  const std::uint64_t given = Catch::rngSeed();
  const std::uint64_t seed = given != 0 ? given : 20240601;
  std::printf("%s: seed %llu; replay: %s --rng-seed %llu \"%s\"\n", test_name.c_str(),
              static_cast<unsigned long long>(seed), executable,
              static_cast<unsigned long long>(seed), test_name.c_str());
  return seed;
}

}  // namespace tessera::rtl_test
