#include "harness.hpp"

#include <verilated.h>
#include <verilated_fst_c.h>

#include "Vtsr_top.h"
#include "tessera/errors.hpp"

namespace tessera::sim {

Harness::Harness()
    : context_(std::make_unique<VerilatedContext>()),
      top_(std::make_unique<Vtsr_top>(context_.get(), "tsr")) {
  context_->traceEverOn(true);
  reset();
}

Harness::~Harness() {
  trace_off();
  top_->final();
}

void Harness::settle() {
  top_->clk_i = 0;
  top_->eval();
}

void Harness::dump(std::uint64_t time) {
  if (trace_ && cycle_ >= trace_start_ && (trace_end_ == 0 || cycle_ < trace_end_)) {
    trace_->dump(time);
  }
}

void Harness::tick() {
  top_->clk_i = 0;
  top_->eval();
  dump(2 * cycle_);
  top_->clk_i = 1;
  top_->eval();
  dump(2 * cycle_ + 1);
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
  for (unsigned i = 0; i < cycles; ++i) tick();
  top_->rst_ni = 1;
  tick();
}

void Harness::trace_on(const std::string& path, std::uint64_t start, std::uint64_t end) {
  trace_off();
  auto trace = std::make_unique<VerilatedFstC>();
  top_->trace(trace.get(), 99);
  trace->open(path.c_str());
  if (!trace->isOpen()) throw TransportError("cannot open trace file '" + path + "'");
  trace_ = std::move(trace);
  trace_start_ = start;
  trace_end_ = end;
}

void Harness::trace_off() {
  if (trace_) {
    trace_->close();
    trace_.reset();
  }
}

}  // namespace tessera::sim
