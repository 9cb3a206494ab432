// A cycle-level host for the Verilated tsr_top, driving it through its ports only: an
// AXI4-Lite master (one transaction at a time), an AXI4-Stream source of input packets
// (random TVALID gaps, TLAST as the packet says) and an AXI4-Stream sink of results (random
// TREADY, long holds). The debug outputs (dbg_*) are only observed. Every tick() returns the
// events of that cycle, sampled just before its rising edge, so a testbench can follow the
// engine exactly: commands pushed, issued, dropped, CLEAR, beats in and out.
//
// Templated on the Verilated model class so one testbench serves several configurations;
// the configuration itself is read back from the CSRs.
//
// A failing SVA assertion (the RTL is Verilated with --assert) stops the model; tick()
// then throws HostFailure, after Verilator has printed the assertion's name and place.
#pragma once

#include <verilated.h>
#if VM_COVERAGE
#include <verilated_cov.h>
#endif

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "isa_model.hpp"
#include "tessera/isa.hpp"

namespace tessera::rtl_test {

// The engine broke the bus protocol, hung, or an assertion fired.
struct HostFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CycleEvents {
  bool push = false, issue = false, drop = false, load_done = false, gemm_done = false;
  bool clear = false;
  bool in_beat = false;  // an input beat was accepted
  bool in_last = false;
  int in_tag = -1;       // tag of the packet the accepted beat belongs to
  bool out_beat = false; // a result beat was taken
  OutBeat out;
  bool out_valid = false, out_ready = false;  // m_axis TVALID/TREADY this cycle
  // The host's AXI4-Lite write was accepted (address and data) in this cycle.
  bool write_accepted = false;
  std::uint32_t write_addr = 0;
  // The write accepted in the cycle before acts in this one (docs/isa.md: a CMD3 write
  // pushes, or finds the FIFO full, here; a CTRL write's CLEAR shows here).
  bool write_acting = false;
  std::uint32_t acting_addr = 0;
};

template <class Model>
class TopHost {
 public:
  explicit TopHost(std::uint64_t seed)
      : context_(std::make_unique<VerilatedContext>()),
        top_(std::make_unique<Model>(context_.get(), "tsr")),
        rng_(seed) {
    // An assertion failure sets gotFinish instead of aborting: tick() throws with context.
    context_->fatalOnError(false);
    auto& t = *top_;
    t.clk_i = 0;
    t.rst_ni = 0;
    t.s_axil_awvalid_i = t.s_axil_wvalid_i = t.s_axil_bready_i = 0;
    t.s_axil_arvalid_i = t.s_axil_rready_i = 0;
    t.s_axil_awaddr_i = t.s_axil_araddr_i = 0;
    t.s_axil_wdata_i = 0;
    t.s_axil_wstrb_i = 0;
    t.s_axis_tvalid_i = t.s_axis_tlast_i = 0;
    set_in_data(std::vector<std::uint8_t>(64, 0));
    t.m_axis_tready_i = 0;
    zero(t.dbg_pe_stuck0_i);
    for (int i = 0; i < 4; ++i) raw_tick();
    t.rst_ni = 1;
    raw_tick();
    read_config();
  }
  ~TopHost() {
    top_->final();
#if VM_COVERAGE
    // scripts/coverage.sh builds with --coverage and names the file per run.
    const char* path = std::getenv("TSR_COVERAGE_FILE");
    context_->coveragep()->write(path ? path : "coverage.dat");
#endif
  }
  TopHost(const TopHost&) = delete;
  TopHost& operator=(const TopHost&) = delete;

  Model& dut() { return *top_; }
  VerilatedContext& context() { return *context_; }
  const ModelConfig& config() const { return config_; }
  std::uint64_t cycle() const { return cycle_; }
  std::mt19937_64& rng() { return rng_; }

  // ---- AXI4-Lite master ---------------------------------------------------------------------
  struct LiteOp {
    bool write = false;
    std::uint32_t addr = 0, data = 0;
    unsigned resp = 0;
    bool done = false;
  };
  bool lite_idle() const { return !lite_active_; }
  // Starts a transaction (the master must be idle); lite_result() holds it once done.
  void lite_start(bool write, std::uint32_t addr, std::uint32_t data = 0) {
    if (lite_active_) throw HostFailure{"testbench: AXI4-Lite master busy"};
    lite_ = LiteOp{write, addr, data, 0, false};
    lite_active_ = true;
    lite_wait_ = 0;
    drive_lite();
    settle();
  }
  const LiteOp& lite_result() const { return lite_; }

  // ---- input stream ------------------------------------------------------------------------
  // Packets go out in order; a withheld one (and everything behind it) waits until
  // release_withheld(). At CLEAR the packet in progress is completed, the rest dropped.
  void queue_packet(Packet beats, int tag, bool withheld = false) {
    in_queue_.push_back({std::move(beats), tag, withheld, 0});
  }
  void release_withheld() {
    for (auto& p : in_queue_) p.withheld = false;
  }
  // One withheld packet goes out (the packets in front of it still go first).
  void release_packet(int tag) {
    for (auto& p : in_queue_)
      if (p.tag == tag) {
        p.withheld = false;
        return;
      }
    throw HostFailure{"testbench: no queued packet with tag " + std::to_string(tag)};
  }
  // A withheld packet is taken out of the queue: its LOAD was dropped, the engine takes
  // none of it (a withheld packet was never presented, so nothing of it went out).
  void discard_packet(int tag) {
    for (auto it = in_queue_.begin(); it != in_queue_.end(); ++it)
      if (it->tag == tag) {
        if (!it->withheld || it->pos != 0)
          throw HostFailure{"testbench: discarding packet " + std::to_string(tag) +
                            " that was released or begun"};
        in_queue_.erase(it);
        return;
      }
    throw HostFailure{"testbench: no queued packet with tag " + std::to_string(tag)};
  }
  bool input_idle() const { return in_queue_.empty(); }
  std::size_t dropped_packets() const { return dropped_packets_; }
  std::size_t input_packets() const { return in_queue_.size(); }
  int in_gap_percent = 0;

  // ---- result sink ------------------------------------------------------------------------
  int out_ready_percent = 100;  // TREADY high this share of cycles
  int hold_per_mille = 0;       // chance per cycle of starting a long hold (TREADY low)
  int hold_min = 100, hold_max = 300;
  bool sink_enabled = true;     // false: TREADY low until set again

  // ---- clock --------------------------------------------------------------------------------
  CycleEvents tick() {
    auto& t = *top_;
    settle();
    CycleEvents ev;
    ev.push = t.dbg_cmd_push_o;
    ev.issue = t.dbg_cmd_issue_o;
    ev.drop = t.dbg_cmd_drop_o;
    ev.load_done = t.dbg_load_done_o;
    ev.gemm_done = t.dbg_gemm_done_o;
    ev.clear = t.dbg_clear_o;
    ev.write_acting = accepted_before_;
    ev.acting_addr = accepted_before_addr_;
    accepted_before_ = false;
    ev.out_valid = t.m_axis_tvalid_o;
    ev.out_ready = t.m_axis_tready_i;
    if (ev.out_valid) ev.out = out_beat();
    ev.out_beat = ev.out_valid && ev.out_ready;
    // AXI4-Stream master rule: a presented beat stays, unchanged, until taken.
    if (out_held_ && (!ev.out_valid || !(ev.out == out_prev_)))
      throw HostFailure{"m_axis: TVALID dropped or TDATA/TLAST changed before the beat was taken"};
    out_held_ = ev.out_valid && !ev.out_ready;
    out_prev_ = ev.out;

    const bool in_valid = t.s_axis_tvalid_i, in_ready = t.s_axis_tready_o;
    ev.in_beat = in_valid && in_ready;
    if (in_valid) {
      ev.in_tag = in_queue_.front().tag;
      ev.in_last = t.s_axis_tlast_i;
    }
    const bool lite_aw = t.s_axil_awvalid_i && t.s_axil_awready_o;
    const bool lite_w = t.s_axil_wvalid_i && t.s_axil_wready_o;
    const bool lite_b = t.s_axil_bvalid_o && t.s_axil_bready_i;
    const bool lite_ar = t.s_axil_arvalid_i && t.s_axil_arready_o;
    const bool lite_r = t.s_axil_rvalid_o && t.s_axil_rready_i;
    const unsigned bresp = t.s_axil_bresp_o, rresp = t.s_axil_rresp_o;
    const std::uint32_t rdata = t.s_axil_rdata_o;

    t.clk_i = 1;
    t.eval();
    ++cycle_;
    check_finish();

    // ---- advance the drivers on this cycle's handshakes ----
    bool popped = false;
    if (ev.in_beat) {
      auto& p = in_queue_.front();
      ++p.pos;
      if (p.pos == p.beats.size()) {
        in_queue_.pop_front();
        popped = true;
      }
    }
    if (ev.clear) {
      // docs/isa.md CTRL.CLEAR: a packet begun (beats accepted, or a beat presented in this
      // cycle) is completed by the host; packets not begun are dropped.
      std::deque<QueuedPacket> keep;
      if (!popped && !in_queue_.empty() && (in_queue_.front().pos > 0 || in_valid))
        keep.push_back(std::move(in_queue_.front()));
      dropped_packets_ += in_queue_.size() - keep.size();
      in_queue_.swap(keep);
    }
    if (lite_active_) {
      if (lite_.write) {
        const bool before = lite_aw_done_ && lite_w_done_;
        if (lite_aw) lite_aw_done_ = true;
        if (lite_w) lite_w_done_ = true;
        if (!before && lite_aw_done_ && lite_w_done_) {
          ev.write_accepted = true;
          ev.write_addr = lite_.addr;
          accepted_before_ = true;
          accepted_before_addr_ = lite_.addr;
        }
        if (lite_b) {
          lite_.resp = bresp;
          finish_lite();
        }
      } else {
        if (lite_ar) lite_aw_done_ = true;
        if (lite_r) {
          lite_.resp = rresp;
          lite_.data = rdata;
          finish_lite();
        }
      }
      if (lite_active_ && ++lite_wait_ > 2000)
        throw HostFailure{std::string("AXI4-Lite ") + (lite_.write ? "write" : "read") +
                          " of 0x" + hex(lite_.addr) + " not answered within 2000 cycles" +
                          (lite_.write && !(lite_aw_done_ && lite_w_done_)
                               ? " (AWREADY/WREADY held low)"
                               : "")};
    }

    // ---- next cycle's inputs ----
    t.clk_i = 0;
    drive_lite();
    drive_input(in_valid && !ev.in_beat);
    drive_sink();
    settle();
    return ev;
  }

  // Blocking helpers (for directed tests; the random testbench drives lite_start itself).
  unsigned csr_write(std::uint32_t addr, std::uint32_t data,
                     const std::function<void(const CycleEvents&)>& each = {}) {
    lite_start(true, addr, data);
    while (lite_active_) {
      const CycleEvents ev = tick();
      if (each) each(ev);
    }
    return lite_.resp;
  }
  std::uint32_t csr_read(std::uint32_t addr, unsigned* resp = nullptr,
                         const std::function<void(const CycleEvents&)>& each = {}) {
    lite_start(false, addr);
    while (lite_active_) {
      const CycleEvents ev = tick();
      if (each) each(ev);
    }
    if (resp) *resp = lite_.resp;
    return lite_.data;
  }

  static std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03X", v);
    return buf;
  }

 private:
  struct QueuedPacket {
    Packet beats;
    int tag;
    bool withheld;
    std::size_t pos;
  };

  template <class T>
  static void zero(T& port) {
    if constexpr (std::is_integral_v<T>) {
      port = 0;
    } else {
      for (std::size_t i = 0; i < sizeof(port) / sizeof(port[0]); ++i) port[i] = 0;
    }
  }

  void settle() {
    top_->eval();
    check_finish();
  }
  void raw_tick() {
    top_->clk_i = 0;
    settle();
    top_->clk_i = 1;
    settle();
    top_->clk_i = 0;
    settle();
    ++cycle_;
  }
  void check_finish() {
    if (context_->gotFinish())
      throw HostFailure{"the RTL stopped at cycle " + std::to_string(cycle_) +
                        ": an SVA assertion failed (Verilator's %Error line above names it)"};
  }

  void set_in_data(const std::vector<std::uint8_t>& bytes) {
    auto& port = top_->s_axis_tdata_i;
    constexpr int words = sizeof(port) / sizeof(port[0]);
    for (int w = 0; w < words; ++w) {
      std::uint32_t v = 0;
      for (int b = 0; b < 4; ++b) {
        const std::size_t i = 4 * w + b;
        v |= std::uint32_t{i < bytes.size() ? bytes[i] : std::uint8_t{0}} << (8 * b);
      }
      port[w] = v;
    }
  }

  OutBeat out_beat() const {
    OutBeat beat;
    beat.lanes.resize(config_.cols);
    for (int c = 0; c < config_.cols; ++c)
      beat.lanes[c] = static_cast<std::int32_t>(top_->m_axis_tdata_o[c]);
    beat.last = top_->m_axis_tlast_o;
    return beat;
  }

  void drive_lite() {
    auto& t = *top_;
    t.s_axil_awvalid_i = t.s_axil_wvalid_i = t.s_axil_arvalid_i = 0;
    t.s_axil_bready_i = t.s_axil_rready_i = 0;
    if (!lite_active_) return;
    if (lite_.write) {
      t.s_axil_awaddr_i = lite_.addr;
      t.s_axil_wdata_i = lite_.data;
      t.s_axil_wstrb_i = 0xF;
      t.s_axil_awvalid_i = !lite_aw_done_;
      t.s_axil_wvalid_i = !lite_w_done_;
      t.s_axil_bready_i = lite_aw_done_ && lite_w_done_;
    } else {
      t.s_axil_araddr_i = lite_.addr;
      t.s_axil_arvalid_i = !lite_aw_done_;
      t.s_axil_rready_i = lite_aw_done_;
    }
  }
  void finish_lite() {
    lite_.done = true;
    lite_active_ = false;
    lite_aw_done_ = lite_w_done_ = false;
  }

  // held: the current beat was presented and not taken: it must stay.
  void drive_input(bool held) {
    auto& t = *top_;
    if (held) return;
    if (in_queue_.empty() || in_queue_.front().withheld ||
        (in_gap_percent > 0 && static_cast<int>(rng_() % 100) < in_gap_percent)) {
      t.s_axis_tvalid_i = 0;
      t.s_axis_tlast_i = 0;
      return;
    }
    const auto& p = in_queue_.front();
    const InBeat& beat = p.beats[p.pos];
    set_in_data(beat.bytes);
    t.s_axis_tlast_i = beat.last;
    t.s_axis_tvalid_i = 1;
  }

  void drive_sink() {
    auto& t = *top_;
    if (hold_left_ > 0) {
      --hold_left_;
      t.m_axis_tready_i = 0;
      return;
    }
    if (!sink_enabled) {
      t.m_axis_tready_i = 0;
      return;
    }
    if (hold_per_mille > 0 && static_cast<int>(rng_() % 1000) < hold_per_mille) {
      hold_left_ = hold_min + static_cast<int>(rng_() % (hold_max - hold_min + 1));
      t.m_axis_tready_i = 0;
      return;
    }
    t.m_axis_tready_i =
        out_ready_percent >= 100 || static_cast<int>(rng_() % 100) < out_ready_percent;
  }

  void read_config() {
    auto rd = [&](std::uint32_t addr) {
      unsigned resp = 0;
      const std::uint32_t v = csr_read(addr, &resp);
      if (resp != 0) throw HostFailure{"CSR read 0x" + hex(addr) + " answered SLVERR"};
      return v;
    };
    if (rd(isa::csr::kId) != isa::kIdValue) throw HostFailure{"ID register mismatch"};
    const std::uint32_t array = rd(isa::csr::kCfgArray);
    config_.rows = array & 0xFFFF;
    config_.cols = array >> 16;
    config_.act_depth = rd(isa::csr::kCfgActDepth);
    config_.wgt_depth = rd(isa::csr::kCfgWgtDepth);
    config_.acc_depth = rd(isa::csr::kCfgAccDepth);
    config_.param_depth = rd(isa::csr::kCfgParamDepth);
    const std::uint32_t stream = rd(isa::csr::kCfgStream);
    config_.in_bytes = stream & 0xFFFF;
    const std::uint32_t features = rd(isa::csr::kFeatures);
    config_.fifo_depth = (features >> 8) & 0xFF;
    // The sparse feature decides at run time what a testbench may send. CFG_GBUF_DEPTH and
    // CFG_META_DEPTH are mapped either way (ISA 1.2) and read 0 without it.
    config_.sparse = (features >> isa::kFeatureSparse) & 1;
    config_.sparse_a = (features >> isa::kFeatureSparseA) & 1;
    if (config_.sparse_a != (config_.sparse && config_.rows == config_.cols))
      throw HostFailure{"FEATURES bit 6 (SPGEMMA) must be set exactly on a square engine "
                        "with the sparse feature"};
    const int gbuf_depth = static_cast<int>(rd(isa::csr::kCfgGbufDepth));
    const int meta_depth = static_cast<int>(rd(isa::csr::kCfgMetaDepth));
    if (config_.sparse) {
      config_.gbuf_depth = gbuf_depth;
      config_.meta_depth = meta_depth;
      if (config_.gbuf_depth == 0 || config_.meta_depth == 0)
        throw HostFailure{"FEATURES reports the sparse feature but CFG_GBUF_DEPTH or "
                          "CFG_META_DEPTH reads 0"};
    } else if (gbuf_depth != 0 || meta_depth != 0) {
      throw HostFailure{"no sparse feature in FEATURES, but CFG_GBUF_DEPTH reads " +
                        std::to_string(gbuf_depth) + " and CFG_META_DEPTH " +
                        std::to_string(meta_depth) + " (expected 0)"};
    }
    if (static_cast<int>(stream >> 16) != config_.out_bytes() ||
        config_.in_bytes != static_cast<int>(sizeof(top_->s_axis_tdata_i)))
      throw HostFailure{"CFG_STREAM disagrees with the model's port widths"};
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Model> top_;
  std::mt19937_64 rng_;
  ModelConfig config_;
  std::uint64_t cycle_ = 0;

  LiteOp lite_;
  bool lite_active_ = false, lite_aw_done_ = false, lite_w_done_ = false;
  bool accepted_before_ = false;  // a write was accepted in the cycle before this one
  std::uint32_t accepted_before_addr_ = 0;
  int lite_wait_ = 0;

  std::deque<QueuedPacket> in_queue_;
  std::size_t dropped_packets_ = 0;
  int hold_left_ = 0;
  bool out_held_ = false;
  OutBeat out_prev_;
};

}  // namespace tessera::rtl_test
