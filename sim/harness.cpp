#include "harness.hpp"

#include <verilated.h>
#include <verilated_fst_c.h>

#include <type_traits>

#include TSR_TOP_HEADER
#include "tessera/errors.hpp"

namespace tessera::sim::TSR_CONFIG_NS {
namespace {

// Ports up to 64 bits are integers, wider ones VlWide word arrays.
template <typename Port>
void clear_port(Port& port) {
  if constexpr (std::is_integral_v<Port>) {
    port = 0;
  } else {
    for (std::size_t w = 0; w < sizeof(Port) / sizeof(port[0]); ++w) port[w] = 0;
  }
}

}  // namespace

Harness::Harness()
    : context_(std::make_unique<VerilatedContext>()),
      top_(std::make_unique<Top>(context_.get(), "tsr")) {
  context_->traceEverOn(true);
  // The model sets picoseconds; nanoseconds make the 10-per-cycle trace time read as a
  // 100 MHz clock in GTKWave.
  context_->timeunit(-9);
  context_->timeprecision(-9);
  // Fault-injection inputs start clear; the transport forces the faults it was given.
  clear_port(top_->dbg_pe_stuck0_i);
  reset();
}

// Verilator keeps one "current" context per thread (the last one constructed), and reads it
// in final(), $time, assertion messages and trace setup. With several engines alive in one
// process (Python Devices, threads), each harness makes its own current before using its
// model, so none reads another's context, nor a destroyed one's.
Harness::~Harness() {
  Verilated::threadContextp(context_.get());
  trace_off();
  top_->final();
}

void Harness::settle() {
  Verilated::threadContextp(context_.get());
  top_->clk_i = 0;
  top_->eval();
  settled_ = true;
}

bool Harness::dumping() const {
  return trace_ && !trace_paused_ && cycle_ >= trace_start_ &&
         (trace_end_ == 0 || cycle_ < trace_end_);
}

void Harness::dump(std::uint64_t time) { trace_->dump(time); }

void Harness::tick() {
  Verilated::threadContextp(context_.get());
  if (!settled_) {
    top_->clk_i = 0;
    top_->eval();
  }
  settled_ = false;
  const bool dumping_now = dumping();
  const std::uint64_t time = (cycle_ - trace_origin_) * kTracePeriod;
  if (dumping_now) dump(time);
  top_->clk_i = 1;
  top_->eval();
  if (dumping_now) dump(time + kTracePeriod / 2);
  ++cycle_;
  if (trace_ && trace_end_ != 0 && cycle_ >= trace_end_) trace_off();
}

void Harness::reset(unsigned cycles) {
  top_->rst_ni = 0;
  top_->s_axil_awvalid_i = 0;
  top_->s_axil_wvalid_i = 0;
  top_->s_axil_bready_i = 0;
  top_->s_axil_arvalid_i = 0;
  top_->s_axil_rready_i = 0;
  top_->s_axis_tvalid_i = 0;
  top_->m_axis_tready_i = 0;
  settled_ = false;
  for (unsigned i = 0; i < cycles; ++i) tick();
  top_->rst_ni = 1;
  tick();
}

void Harness::trace_on(const std::string& path, std::uint64_t start, std::uint64_t end,
                       std::uint64_t origin) {
  trace_off();
  Verilated::threadContextp(context_.get());
  if (origin > start) origin = start;  // trace time never runs negative
  auto trace = std::make_unique<VerilatedFstC>();
  top_->trace(trace.get(), 99);
  trace->open(path.c_str());
  if (!trace->isOpen()) throw TransportError("cannot open trace file '" + path + "'");
  trace_ = std::move(trace);
  trace_start_ = start;
  trace_end_ = end;
  trace_origin_ = origin;
  trace_paused_ = false;
}

void Harness::trace_off() {
  if (trace_) {
    trace_->close();
    trace_.reset();
  }
  trace_paused_ = false;
}

}  // namespace tessera::sim::TSR_CONFIG_NS
