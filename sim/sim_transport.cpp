// In-process Transport: drives the Verilated engine's AXI4-Lite and AXI4-Stream ports
// cycle by cycle. Input beats are queued and fed whenever the engine is ready, output
// beats are collected whenever they come, so the streams run concurrently with every
// CSR access, as they would on a bus.
#include "sim_transport.hpp"

#include <verilated.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <set>
#include <sstream>

#include "harness.hpp"
#include TSR_TOP_HEADER
#include "tessera/errors.hpp"
#include "tessera/isa.hpp"

namespace tessera::sim {
namespace {

constexpr std::uint64_t kCsrCycleBudget = 5'000'000;

// Verilator holds ports up to 64 bits in integers and wider ones in VlWide word arrays;
// these copy either kind to and from little-endian bytes.
template <typename Port>
constexpr std::size_t port_words() {
  return sizeof(Port) / sizeof(std::uint32_t);
}

template <typename Port>
void pack(Port& port, const std::uint8_t* bytes, std::size_t count) {
  if constexpr (std::is_integral_v<Port>) {
    Port value = 0;
    std::memcpy(&value, bytes, std::min(count, sizeof(Port)));
    port = value;
  } else {
    for (std::size_t w = 0; w < port_words<Port>(); ++w) {
      std::uint32_t word = 0;
      if (4 * w < count) std::memcpy(&word, bytes + 4 * w, std::min<std::size_t>(4, count - 4 * w));
      port[w] = word;
    }
  }
}

template <typename Port>
void unpack(const Port& port, std::uint8_t* bytes, std::size_t count) {
  if constexpr (std::is_integral_v<Port>) {
    std::memcpy(bytes, &port, std::min(count, sizeof(Port)));
  } else {
    for (std::size_t w = 0; w < port_words<Port>() && 4 * w < count; ++w) {
      const std::uint32_t word = port[w];
      std::memcpy(bytes + 4 * w, &word, std::min<std::size_t>(4, count - 4 * w));
    }
  }
}

template <typename Port>
void set_bit(Port& port, unsigned bit) {
  if constexpr (std::is_integral_v<Port>) {
    port |= static_cast<Port>(Port{1} << bit);
  } else {
    port[bit / 32] |= 1u << (bit % 32);
  }
}

std::string hex(std::uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

// Unit activity bits of dbg_unit_busy_o.
constexpr unsigned kLoadBusy = 1u << 0;
constexpr unsigned kDatapathBusy = 0b1110;  // execute, accumulator, store
constexpr unsigned kComputeBusy = 0b0110;   // execute, accumulator
constexpr unsigned kStoreBusy = 1u << 3;

// What one clock cycle saw on the AXI4-Lite channels, sampled before the edge.
struct Handshakes {
  bool aw = false, w = false, b = false, ar = false, r = false;
  bool input_taken = false, output_taken = false;
  std::uint32_t rdata = 0;
  unsigned bresp = 0, rresp = 0;
};

class Engine final : public SimTransport {
 public:
  explicit Engine(const SimOptions& options) : options_(options) {
    const std::uint32_t stream = csr_read(isa::csr::kCfgStream);
    in_beat_bytes_ = stream & 0xFFFF;
    out_beat_bytes_ = stream >> 16;
    const std::uint32_t array = csr_read(isa::csr::kCfgArray);
    rows_ = array & 0xFFFF;
    cols_ = array >> 16;
    for (const Fault& fault : options_.faults) apply(fault);
  }

  // ---- Transport -------------------------------------------------------------------
  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    if (addr >= isa::csr::kCmd0 && addr <= isa::csr::kCmd3 && addr % 4 == 0) {
      command_words_[(addr - isa::csr::kCmd0) / 4] = data;
    }
    auto& top = harness_.top();
    top.s_axil_awaddr_i = addr;
    top.s_axil_awvalid_i = 1;
    top.s_axil_wdata_i = data;
    top.s_axil_wstrb_i = 0xF;
    top.s_axil_wvalid_i = 1;
    top.s_axil_bready_i = 1;
    bool address_done = false, data_done = false, response_done = false;
    unsigned bresp = 0;
    run("CSR write to " + hex(addr), kCsrCycleBudget, [&](const Handshakes& seen) {
      address_done |= seen.aw;
      data_done |= seen.w;
      if (seen.aw) top.s_axil_awvalid_i = 0;
      if (seen.w) top.s_axil_wvalid_i = 0;
      if (seen.b) {
        response_done = true;
        bresp = seen.bresp;
      }
      return address_done && data_done && response_done;
    });
    top.s_axil_bready_i = 0;
    if (bresp != 0) {
      throw EngineError("engine rejected the CSR write to " + hex(addr) + " (SLVERR)");
    }
  }

  std::uint32_t csr_read(std::uint32_t addr) override {
    auto& top = harness_.top();
    top.s_axil_araddr_i = addr;
    top.s_axil_arvalid_i = 1;
    top.s_axil_rready_i = 1;
    std::uint32_t value = 0;
    unsigned rresp = 0;
    run("CSR read of " + hex(addr), kCsrCycleBudget, [&](const Handshakes& seen) {
      if (seen.ar) top.s_axil_arvalid_i = 0;
      if (seen.r) {
        value = seen.rdata;
        rresp = seen.rresp;
      }
      return seen.r;
    });
    top.s_axil_rready_i = 0;
    if (rresp != 0) {
      throw EngineError("engine rejected the CSR read of " + hex(addr) + " (SLVERR)");
    }
    return value;
  }

  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override {
    if (bytes.size() % in_beat_bytes_ != 0) {
      throw TransportError("stream write of " + std::to_string(bytes.size()) +
                           " bytes is not a whole number of " + std::to_string(in_beat_bytes_) +
                           "-byte beats");
    }
    if (discard_open_packet_) {
      // The rest of a packet that CTRL.CLEAR caught before its first beat went out.
      discard_open_packet_ = !ends_packet;
      return;
    }
    const std::uint64_t queued_beats = input_.size() / in_beat_bytes_;
    if (bytes.empty()) {
      if (!ends_packet || !packet_open_) return;
      // Ends the open packet: its last beat must still be here to carry TLAST.
      if (queued_beats == 0) {
        throw InputError(
            "stream write: an empty write cannot end a packet whose beats have all been sent");
      }
      packet_ends_.push_back(in_beats_ + queued_beats - 1);
      packet_open_ = false;
      return;
    }
    input_.insert(input_.end(), bytes.begin(), bytes.end());
    tail_lost_ = false;  // the held beat's packet goes on with these beats
    if (ends_packet) packet_ends_.push_back(in_beats_ + input_.size() / in_beat_bytes_ - 1);
    packet_open_ = !ends_packet;
  }

  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t cycle_budget) override {
    const std::size_t want = std::size_t{beats} * out_beat_bytes_;
    const std::string what = "stream read of " + std::to_string(beats) + " beats";
    quiet_cycles_ = 0;
    // The beats asked for are the host's to take whatever max_buffered_output_beats says:
    // that bound is on beats nobody has asked for yet.
    read_want_bytes_ = want;
    struct EndRead {
      std::size_t& want;
      ~EndRead() { want = 0; }
    } end_read{read_want_bytes_};
    run(
        what, cycle_budget,
        [&](const Handshakes&) {
          if (output_.size() >= want) return true;
          // Nothing computes or stores and no beat moves: no output can come while
          // the host waits here, so say why now rather than at the end of the budget.
          if (quiet_cycles_ >= options_.stall_cycles) stalled(what, want);
          return false;
        },
        output_.size() >= want);
    std::vector<std::uint8_t> result(output_.begin(), output_.begin() + want);
    output_.erase(output_.begin(), output_.begin() + want);
    return result;
  }

  std::uint64_t wait_idle(std::uint64_t cycle_budget) override {
    const std::uint64_t start = harness_.cycle();
    while (csr_read(isa::csr::kStatus) & isa::status::kBusy) {
      if (harness_.cycle() - start > cycle_budget) {
        throw TransportError("engine still busy after " + std::to_string(cycle_budget) + " cycles");
      }
    }
    return harness_.cycle() - start;
  }

  std::uint64_t wait_status(std::uint32_t clear_mask, unsigned max_fifo_level,
                            std::uint64_t cycle_budget) override {
    const std::uint64_t start = harness_.cycle();
    while (!status_reached(csr_read(isa::csr::kStatus), clear_mask, max_fifo_level)) {
      if (harness_.cycle() - start > cycle_budget) {
        throw TransportError("still waiting for " + status_wait_text(clear_mask, max_fifo_level) +
                             " after " + std::to_string(cycle_budget) + " cycles");
      }
    }
    return harness_.cycle() - start;
  }

  void reset() override {
    input_.clear();
    output_.clear();
    packet_ends_.clear();
    packet_open_ = head_begun_ = discard_open_packet_ = tail_lost_ = false;
    stale_output_beats_ = 0;
    read_want_bytes_ = 0;
    harness_.reset();
    // Whatever was queued or running is gone; the log keeps it, marked cleared.
    clear_pending(harness_.cycle());
  }

  void trace_start(const TraceRequest& request) override { trace_window(request, 0); }

  void trace_stop() override {
    harness_.trace_off();
    trace_command_ = CommandRecord::kNever;
  }

  SimStats stats() override { return SimStats{harness_.cycle()}; }

  // ---- SimTransport ----------------------------------------------------------------
  void push_input(std::uint64_t stall_cycles) override {
    std::uint64_t waiting = 0;  // cycles since the engine last took a beat
    std::uint64_t quiet = 0;    // ... with nothing computing and no output moving either
    while (input_.size() >= in_beat_bytes_) {
      const Handshakes seen = cycle_once();
      if (seen.input_taken) {
        waiting = quiet = 0;
        continue;
      }
      ++waiting;
      // The store unit counts as busy while results wait unread, so only the execute
      // and accumulator units show that the engine may still get to the LOAD.
      quiet = seen.output_taken || (last_busy_ & kComputeBusy) ? 0 : quiet + 1;
      if (waiting < stall_cycles && quiet < options_.stall_cycles) continue;
      const std::uint64_t left = input_.size() / in_beat_bytes_;
      std::string why;
      if (last_busy_ & kLoadBusy) {
        why = "a LOAD is running but takes no beat";
      } else if (last_busy_ & kStoreBusy) {
        why = "results wait unread in the engine's output FIFO: read them before sending more";
      } else {
        why = "no LOAD waits for it: data sent before the LOAD that consumes it";
      }
      // What a board's bridge does: the rest of the frame is dropped, but the beat the
      // engine sees presented stays (AXI4-Stream: it may not be withdrawn) and goes first.
      // Should its packet have lost its TLAST beat, CTRL.CLEAR ends it (host_clear).
      const bool head_last = head_beat_is_last();
      input_.resize(in_beat_bytes_);
      packet_ends_.clear();
      if (head_last) packet_ends_.push_back(in_beats_);
      tail_lost_ = !head_last && !packet_open_;
      discard_open_packet_ = false;
      throw TransportError("engine took no input for " + std::to_string(waiting) + " cycles, " +
                           std::to_string(left) + " beats not taken (" + why + ")");
    }
  }

  std::uint64_t cycle() const override { return harness_.cycle(); }
  std::uint64_t output_beats() const override { return host_out_beats_; }
  const std::vector<std::uint64_t>& output_beat_cycles() const override { return beat_cycles_; }
  std::uint64_t input_beats() const override { return in_beats_; }
  const std::vector<CommandRecord>& commands() const override { return commands_; }

  void trace_window(const TraceRequest& request, std::uint64_t time_origin) override {
    trace_command_ = CommandRecord::kNever;
    harness_.trace_on(request.path, request.start_cycle, request.end_cycle, time_origin);
  }

  void trace_command(const std::string& path, std::uint64_t index,
                     std::uint64_t time_origin) override {
    if (!options_.record) {
      throw TransportError("tracing one command needs the command log (SimOptions::record)");
    }
    harness_.trace_on(path, harness_.cycle(), 0, time_origin);
    harness_.trace_pause(true);
    trace_command_ = index;
  }

 private:
  void apply(const Fault& fault) {
    if (fault.kind == Fault::Kind::kPeStuck0) {
      if (fault.row >= rows_ || fault.col >= cols_) {
        throw InputError("fault " + fault_spec(fault) + ": no such PE in a " +
                         std::to_string(rows_) + "x" + std::to_string(cols_) + " array");
      }
      set_bit(harness_.top().dbg_pe_stuck0_i, fault.row * cols_ + fault.col);
    } else if (fault.kind == Fault::Kind::kStreamInDrop) {
      drop_in_.insert(fault.beat);
    } else {
      drop_out_.insert(fault.beat);
    }
  }

  bool head_beat_is_last() const {
    return !packet_ends_.empty() && packet_ends_.front() == in_beats_;
  }

  // The beat at the head of the input queue left it (taken by the engine, or dropped by
  // an injected fault).
  void head_beat_gone() {
    if (head_beat_is_last()) {
      packet_ends_.pop_front();
      head_begun_ = false;
    } else {
      head_begun_ = true;
    }
    ++in_beats_;
  }

  // The host's part of CTRL.CLEAR (docs/isa.md), in the cycle it takes effect. Input: the
  // engine discards the packet in progress up to its TLAST (one with beats taken, or its
  // next beat presented now), so that one still goes out; packets behind it are dropped.
  // Output: everything unread is dropped, and a beat the engine presents now without it
  // being taken is still to come and stale.
  void host_clear(bool input_presented, bool output_presented) {
    const bool head_in_progress = input_presented || head_begun_;
    if (!head_in_progress) {
      // Nothing begun: every queued packet is dropped, the open one's later parts too.
      discard_open_packet_ = packet_open_;
      packet_open_ = tail_lost_ = false;
      input_.clear();
      packet_ends_.clear();
    } else if (!packet_ends_.empty()) {
      // The head packet is complete in the queue: keep it, drop what follows.
      const std::uint64_t keep = packet_ends_.front() - in_beats_ + 1;
      input_.resize(keep * in_beat_bytes_);
      discard_open_packet_ = packet_open_;
      packet_open_ = false;
      packet_ends_.resize(1);
    }
    // Otherwise the head packet is the open one: all of it still goes out. One whose tail
    // a stalled bounded write dropped gets a zero beat with TLAST, so that the engine's
    // discard ends there rather than in the next LOAD's packet.
    if (head_in_progress && tail_lost_) {
      input_.insert(input_.end(), in_beat_bytes_, 0);
      packet_ends_.push_back(in_beats_ + input_.size() / in_beat_bytes_ - 1);
      tail_lost_ = false;
    }
    output_.clear();
    stale_output_beats_ = output_presented ? 1 : 0;
  }

  [[noreturn]] void stalled(const std::string& what, std::size_t want) {
    const std::size_t missing = (want - output_.size()) / out_beat_bytes_;
    std::string why = "no unit can move";
    if (last_busy_ & kLoadBusy) {
      why = "a LOAD waits for input beats the host never sent";
    } else if (last_busy_ == 0) {
      why = "the engine is idle: the missing output was lost or never produced";
    }
    std::string faults;
    for (const auto beat : dropped_in_) faults += " stream-in:" + std::to_string(beat) + ":drop";
    for (const auto beat : dropped_out_) faults += " stream-out:" + std::to_string(beat) + ":drop";
    throw TransportError(what + ": engine stalled with " + std::to_string(missing) +
                         " beats still to come (" + why + "; nothing moved for " +
                         std::to_string(quiet_cycles_) + " cycles)" +
                         (faults.empty() ? "" : "; injected faults that fired:" + faults));
  }

  // Clocks the engine until done(handshakes) is true, servicing the streams each cycle.
  template <typename Done>
  void run(const std::string& what, std::uint64_t budget, Done done, bool already = false) {
    if (already) return;
    for (std::uint64_t n = 0; n < budget; ++n) {
      if (done(cycle_once())) return;
    }
    throw TransportError(what + " timed out after " + std::to_string(budget) + " cycles");
  }

  Handshakes cycle_once() {
    auto& top = harness_.top();
    // An injected input drop: the beat leaves the host queue but never reaches the bus.
    while (input_.size() >= in_beat_bytes_ && drop_in_.count(in_beats_)) {
      dropped_in_.push_back(in_beats_);
      input_.erase(input_.begin(), input_.begin() + in_beat_bytes_);
      head_beat_gone();
    }
    const bool have_input = input_.size() >= in_beat_bytes_;
    top.s_axis_tvalid_i = have_input;
    top.s_axis_tlast_i = have_input && head_beat_is_last();
    if (have_input) {
      std::uint8_t beat[256];
      std::copy_n(input_.begin(), in_beat_bytes_, beat);
      pack(top.s_axis_tdata_i, beat, in_beat_bytes_);
    }
    top.m_axis_tready_i = output_.size() / out_beat_bytes_ < options_.max_buffered_output_beats ||
                          output_.size() < read_want_bytes_;
    harness_.settle();

    Handshakes seen;
    seen.aw = top.s_axil_awvalid_i && top.s_axil_awready_o;
    seen.w = top.s_axil_wvalid_i && top.s_axil_wready_o;
    seen.b = top.s_axil_bvalid_o && top.s_axil_bready_i;
    seen.bresp = top.s_axil_bresp_o;
    seen.ar = top.s_axil_arvalid_i && top.s_axil_arready_o;
    seen.r = top.s_axil_rvalid_o && top.s_axil_rready_i;
    seen.rdata = top.s_axil_rdata_o;
    seen.rresp = top.s_axil_rresp_o;
    const bool input_taken = have_input && top.s_axis_tready_o;
    const bool output_taken = top.m_axis_tvalid_o && top.m_axis_tready_i;
    seen.input_taken = input_taken;
    seen.output_taken = output_taken;
    if (output_taken) {
      if (drop_out_.count(engine_out_beats_)) {
        dropped_out_.push_back(engine_out_beats_);
      } else if (stale_output_beats_ > 0) {
        --stale_output_beats_;  // presented when CTRL.CLEAR took effect: a cleared result
      } else {
        std::uint8_t beat[256 * 4];
        unpack(top.m_axis_tdata_o, beat, out_beat_bytes_);
        output_.insert(output_.end(), beat, beat + out_beat_bytes_);
        if (options_.record) beat_cycles_.push_back(harness_.cycle());
        ++host_out_beats_;
      }
      ++engine_out_beats_;
    }
    if (top.dbg_clear_o) host_clear(have_input, top.m_axis_tvalid_o && !output_taken);
    last_busy_ = top.dbg_unit_busy_o;
    if (input_taken || output_taken || (last_busy_ & kDatapathBusy)) {
      quiet_cycles_ = 0;
    } else {
      ++quiet_cycles_;
    }
    if (options_.record) observe_commands();

    harness_.tick();
    if (input_taken) {
      input_.erase(input_.begin(), input_.begin() + in_beat_bytes_);
      head_beat_gone();
    }
    if (close_trace_after_tick_) {
      harness_.trace_off();
      trace_command_ = CommandRecord::kNever;
      close_trace_after_tick_ = false;
    }
    return seen;
  }

  // Follows the command FIFO and the units through the debug event ports. Commands
  // leave the FIFO in order, LOADs retire in order, and so do GEMMs.
  void observe_commands() {
    auto& top = harness_.top();
    const std::uint64_t now = harness_.cycle();
    if (top.dbg_clear_o) {
      clear_pending(now);
      return;  // the FIFO and the units ignore everything else this cycle
    }
    if ((top.dbg_cmd_issue_o || top.dbg_cmd_drop_o) && !in_fifo_.empty()) {
      const std::uint64_t index = in_fifo_.front();
      in_fifo_.pop_front();
      CommandRecord& record = commands_[index];
      record.issue = now;
      if (top.dbg_cmd_drop_o) {
        record.status = CommandRecord::Status::kDropped;
        finished(record, now);
      } else {
        record.status = CommandRecord::Status::kIssued;
        const auto opcode = static_cast<isa::Opcode>(record.words[0] & 0xFF);
        (opcode == isa::Opcode::kLoad ? loads_ : gemms_).push_back(index);
        if (index == trace_command_) harness_.trace_pause(false);
      }
    }
    if (top.dbg_load_done_o && !loads_.empty()) {
      retire(loads_, now);
    }
    if (top.dbg_gemm_done_o && !gemms_.empty()) {
      retire(gemms_, now);
    }
    if (top.dbg_cmd_push_o) {
      CommandRecord record;
      record.index = commands_.size();
      record.words = command_words_;
      record.push = now;
      in_fifo_.push_back(record.index);
      commands_.push_back(record);
    }
  }

  void retire(std::deque<std::uint64_t>& running, std::uint64_t now) {
    CommandRecord& record = commands_[running.front()];
    running.pop_front();
    record.status = CommandRecord::Status::kRetired;
    finished(record, now);
  }

  void finished(CommandRecord& record, std::uint64_t now) {
    record.retire = now;
    if (record.index == trace_command_) {
      harness_.trace_pause(false);  // a dropped command still shows its one cycle
      close_trace_after_tick_ = true;
    }
  }

  void clear_pending(std::uint64_t now) {
    for (auto* queue : {&in_fifo_, &loads_, &gemms_}) {
      for (const std::uint64_t index : *queue) {
        commands_[index].status = CommandRecord::Status::kCleared;
        if (index == trace_command_ && commands_[index].issue != CommandRecord::kNever) {
          finished(commands_[index], now);
        } else {
          commands_[index].retire = now;
        }
      }
      queue->clear();
    }
  }

  SimOptions options_;
  Harness harness_;
  std::deque<std::uint8_t> input_;
  std::deque<std::uint8_t> output_;
  // Input packets: the beat number (counted like in_beats_) of every queued TLAST beat;
  // whether the newest packet waits for more writes; whether the head packet has had
  // beats taken; whether CTRL.CLEAR dropped the open packet, so its rest is dropped too.
  std::deque<std::uint64_t> packet_ends_;
  bool packet_open_ = false, head_begun_ = false, discard_open_packet_ = false;
  // A stalled bounded write kept the presented beat and dropped its packet's TLAST beat.
  bool tail_lost_ = false;
  // Output: beats to discard as stale (CTRL.CLEAR), bytes a stream_read waits for.
  unsigned stale_output_beats_ = 0;
  std::size_t read_want_bytes_ = 0;
  std::size_t in_beat_bytes_ = 16;
  std::size_t out_beat_bytes_ = 16;

  // Streams: beats consumed from the host queue, sent by the engine, given to the host.
  std::uint64_t in_beats_ = 0, engine_out_beats_ = 0, host_out_beats_ = 0;
  std::set<std::uint64_t> drop_in_, drop_out_;
  std::vector<std::uint64_t> dropped_in_, dropped_out_;
  std::vector<std::uint64_t> beat_cycles_;

  // Stall watch.
  std::uint64_t quiet_cycles_ = 0;
  unsigned last_busy_ = 0;

  // Command log.
  isa::CommandWords command_words_{};
  std::vector<CommandRecord> commands_;
  std::deque<std::uint64_t> in_fifo_, loads_, gemms_;
  std::uint64_t trace_command_ = CommandRecord::kNever;
  bool close_trace_after_tick_ = false;
};

}  // namespace
}  // namespace tessera::sim

namespace tessera::sim::TSR_CONFIG_NS {
std::unique_ptr<SimTransport> make_engine(const SimOptions& options) {
  return std::make_unique<Engine>(options);
}
}  // namespace tessera::sim::TSR_CONFIG_NS
