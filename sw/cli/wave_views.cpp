#include "wave_views.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "tessera/errors.hpp"

namespace tessera::cli {
namespace {

const std::string kTop = "tsr.tsr_top.";

std::string sig(const std::string& path) { return kTop + path; }

std::string pe(unsigned r, unsigned c, const std::string& name) {
  return sig("u_array.gen_row[" + std::to_string(r) + "].gen_col[" + std::to_string(c) + "].u_pe." +
             name);
}

std::string pe_label(unsigned r, unsigned c) {
  return "pe[" + std::to_string(r) + "][" + std::to_string(c) + "]";
}

WaveTrace bin(const std::string& path, const std::string& alias) {
  return {sig(path), alias, WaveFormat::kBinary, false};
}
WaveTrace hex(const std::string& path, const std::string& alias) {
  return {sig(path), alias, WaveFormat::kHex, false};
}
WaveTrace dec(const std::string& path, const std::string& alias) {
  return {sig(path), alias, WaveFormat::kDecimal, false};
}
WaveTrace sdec(const std::string& path, const std::string& alias) {
  return {sig(path), alias, WaveFormat::kSigned, false};
}

WaveGroup clock_group() {
  return {"clock and reset", {bin("clk_i", "clk"), bin("rst_ni", "rst_n")}, false};
}

WaveGroup axil_write_group() {
  return {"AXI4-Lite write (CSRs, commands)",
          {hex("s_axil_awaddr_i", "awaddr"), bin("s_axil_awvalid_i", "awvalid"),
           bin("s_axil_awready_o", "awready"), hex("s_axil_wdata_i", "wdata"),
           bin("s_axil_wvalid_i", "wvalid"), bin("s_axil_wready_o", "wready"),
           bin("s_axil_bvalid_o", "bvalid"), hex("s_axil_bresp_o", "bresp")}};
}

WaveGroup axil_read_group() {
  return {"AXI4-Lite read (status, counters)",
          {hex("s_axil_araddr_i", "araddr"), bin("s_axil_arvalid_i", "arvalid"),
           bin("s_axil_arready_o", "arready"), hex("s_axil_rdata_o", "rdata"),
           bin("s_axil_rvalid_o", "rvalid"), hex("s_axil_rresp_o", "rresp")}};
}

WaveGroup stream_in_group() {
  return {"AXI4-Stream in (LOAD data)",
          {bin("s_axis_tvalid_i", "tvalid"), bin("s_axis_tready_o", "tready"),
           hex("s_axis_tdata_i", "tdata")}};
}

WaveGroup stream_out_group() {
  return {
      "AXI4-Stream out (results)",
      {bin("m_axis_tvalid_o", "tvalid"), bin("m_axis_tready_i", "tready"),
       bin("m_axis_tlast_o", "tlast"), hex("m_axis_tdata_o", "tdata (lane c = bits 32c+31:32c)")}};
}

WaveGroup events_group() {
  return {"command events (debug ports)",
          {bin("dbg_cmd_push_o", "pushed"), bin("dbg_cmd_issue_o", "issued"),
           bin("dbg_cmd_drop_o", "dropped"), bin("dbg_load_done_o", "LOAD retired"),
           bin("dbg_gemm_done_o", "GEMM retired"), bin("dbg_clear_o", "CLEAR"),
           bin("dbg_unit_busy_o", "busy: store acc exec load")}};
}

WaveGroup issuer_group() {
  return {"execute: issuer (activation rows)",
          {bin("u_exec.active_q", "GEMM active"), bin("u_exec.pend_q", "next GEMM waiting"),
           dec("u_exec.m_rows_q", "M rows"),
           dec("u_exec.kt_count_q", "kt count"), dec("u_exec.nt_count_q", "nt count"),
           bin("u_exec.iss_fire", "row issued"), dec("u_exec.iss_kt_q", "kt (row block)"),
           dec("u_exec.iss_nt_q", "nt (column block)"), dec("u_exec.iss_row_q", "row m"),
           hex("u_exec.iss_addr_q", "ACT address"), bin("u_exec.iss_bank_q", "weight bank"),
           bin("u_exec.acc_bank_q", "accumulator bank"), bin("u_exec.stall_o", "stall")}};
}

}  // namespace

std::vector<WaveView> subsystem_views(unsigned rows, unsigned cols) {
  std::vector<WaveView> views;

  views.push_back(
      {"overview",
       "one line per unit: commands in, data in, compute, results out",
       {clock_group(),
        {"host traffic",
         {hex("s_axil_awaddr_i", "CSR write address"), bin("s_axil_wvalid_i", "CSR write"),
          bin("s_axis_tvalid_i", "stream in valid"), bin("s_axis_tready_o", "stream in ready"),
          bin("m_axis_tvalid_o", "stream out valid"), bin("m_axis_tready_i", "stream out ready")}},
        events_group(),
        {"units",
         {dec("cmd_level", "command FIFO level"), hex("u_load.state_q", "LOAD state (0 idle 1 load 2 discard)"),
          hex("u_load.target_q", "LOAD target (0 ACT 1 WGT 2 PARAM 3 META 4 GBUF)"),
          bin("u_exec.active_q", "GEMM active"), dec("u_exec.iss_kt_q", "kt"),
          dec("u_exec.iss_nt_q", "nt"), dec("u_exec.iss_row_q", "row m"),
          hex("u_store.state_q", "store state (0 idle 1 params 2 rows)"),
          dec("u_store.row_q", "store row"), bin("error", "error (sticky)"),
          hex("err_code", "error code")}}}});

  views.push_back(
      {"cmd_queue",
       "command queue: CSR writes, the command FIFO, the dispatcher's checks and hand-offs",
       {clock_group(),
        axil_write_group(),
        {"command FIFO",
         {bin("cmd_push", "push (CMD3 write)"), bin("cmd_full", "full"), bin("cmd_empty", "empty"),
          dec("cmd_level", "level"), bin("cmd_pop", "pop"),
          hex("cmd_head", "head command (w3 w2 w1 w0)")}},
        {"dispatcher",
         {hex("u_dispatch.opcode", "opcode (1 LOAD 2 GEMM)"),
          hex("u_dispatch.check", "check (error code)"), bin("u_dispatch.load_go", "LOAD issued"),
          bin("u_dispatch.gemm_go", "GEMM issued"), bin("u_dispatch.drop", "dropped"),
          bin("u_dispatch.ld_hazard", "LOAD waits (hazard)"),
          bin("u_dispatch.gemm_hazard", "GEMM waits (hazard)"),
          hex("u_dispatch.u_hazard.ex_valid_q", "GEMMs in the execute unit"),
          dec("u_dispatch.u_hazard.pr_level_q", "GEMMs still reading PARAM"),
          dec("u_dispatch.cmd_index_q", "command index"),
          bin("u_dispatch.error_q", "error (sticky)"), hex("u_dispatch.err_code_q", "error code"),
          dec("u_dispatch.err_cmd_q", "failing command")}},
        events_group()}});

  views.push_back(
      {"units",
       "load / execute / store: the three decoupled units and their hand-offs",
       {clock_group(),
        {"load unit",
         {hex("u_load.state_q", "state (0 idle 1 load 2 discard)"),
          hex("u_load.target_q", "target (0 ACT 1 WGT 2 PARAM 3 META 4 GBUF)"),
          hex("u_load.addr_q", "word address"), dec("u_load.left_q", "beats left"),
          bin("u_load.s_tvalid_i", "tvalid"), bin("u_load.s_tready_o", "tready"),
          bin("u_load.done_o", "done"), bin("u_load.stall_o", "waiting for data")}},
        {"execute: weight preloader",
         {bin("u_exec.pre_active_q", "active"), bin("u_exec.pre_read", "reading WGT"),
          hex("u_exec.pre_addr_q", "WGT address"), dec("u_exec.pre_row_q", "array row"),
          bin("u_exec.pre_bank_q", "bank"), dec("u_exec.pre_folds_left_q", "folds left"),
          hex("u_exec.wbank_ready_q", "banks loaded")}},
        issuer_group(),
        {"store unit",
         {bin("u_store.job_valid", "job waiting"),
          hex("u_store.state_q", "state (0 idle 1 params 2 wait 3 rows)"),
          bin("u_store.bank_q", "accumulator bank"), dec("u_store.m_rows_q", "M rows"),
          dec("u_store.row_q", "row"), bin("u_store.issue", "row read"),
          bin("u_store.gemm_done_o", "GEMM done"), bin("u_store.stall_o", "back-pressure")}},
        {"activity",
         {bin("load_busy", "load busy"), bin("exec_busy", "execute busy"),
          bin("acc_busy", "accumulator busy"), bin("store_busy", "store busy"),
          bin("busy", "STATUS.BUSY")}}}});

  WaveGroup corners{"corner PEs", {}};
  const std::pair<unsigned, unsigned> corner_pes[] = {
      {0, 0}, {0, cols - 1}, {rows - 1, 0}, {rows - 1, cols - 1}};
  for (const auto& [r, c] : corner_pes) {
    const std::string label = pe_label(r, c);
    corners.traces.push_back({pe(r, c, "act_i"), label + " activation", WaveFormat::kSigned});
    corners.traces.push_back({pe(r, c, "wgt_sel"), label + " weight", WaveFormat::kSigned});
    corners.traces.push_back({pe(r, c, "psum_o"), label + " partial sum", WaveFormat::kSigned});
  }
  views.push_back(
      {"array_edges",
       "array edges: skewed activations and weights in on the left, sums out at the bottom",
       {clock_group(),
        {"left edge",
         {bin("issue_valid", "row issued"), bin("issued_q", "ACT data valid"),
          hex("array_act", "activations (row r = bits 8r+7:8r, skewed)"),
          hex("array_bank", "weight bank per row"), hex("u_array.wgt_we_i", "weight write per row"),
          bin("u_array.wgt_bank_i", "weight bank written"),
          hex("u_array.wgt_row_i", "weight row (column c = bits 8c+7:8c)")}},
        corners,
        {"bottom edge",
         {hex("array_psum", "column sums (skewed)"),
          hex("deskewed_psum", "column sums (deskewed, lane c = bits 32c+31:32c)")}}}});

  views.push_back(
      {"accumulators",
       "accumulators: rows issued, read-modify-write of the sums, bank hand-off",
       {clock_group(),
        {"issued rows",
         {bin("u_acc.issue_valid_i", "issue"), bin("u_acc.issue_bank_i", "bank"),
          dec("u_acc.issue_row_i", "row"), bin("u_acc.issue_first_i", "first row block"),
          bin("u_acc.issue_last_i", "last row of block")}},
        {"read-modify-write (read Rows+Cols+1, write Rows+Cols+3 cycles later)",
         {bin("u_acc.rd_valid", "read"), dec("u_acc.rd_row", "read row"),
          bin("u_acc.wr_valid", "write"), bin("u_acc.wr_bank", "write bank"),
          dec("u_acc.wr_row", "write row"), bin("u_acc.wr_first", "overwrite (first block)"),
          hex("u_acc.psum_i", "column sums in"), hex("u_acc.sum", "new sums"),
          sdec("u_acc.gen_add[0].old_sum", "lane 0 old sum")}},
        {"banks",
         {hex("u_acc.free_q", "free"), hex("u_acc.written_q", "written"),
          bin("u_acc.claim_i", "claim (execute)"), bin("u_acc.store_start_i", "store start"),
          bin("u_acc.store_done_i", "store done"), bin("u_acc.store_bank_i", "store bank"),
          bin("u_acc.busy_o", "rows in flight")}}}});

  views.push_back(
      {"store_unit",
       "store unit: parameters, requantization lanes, output FIFO",
       {clock_group(),
        {"job",
         {bin("u_store.job_valid", "job waiting"), bin("u_store.job_pop", "job start"),
          hex("u_store.state_q", "state (0 idle 1 params 2 wait 3 rows)"), bin("u_store.bank_q", "bank"),
          dec("u_store.m_rows_q", "M rows"), dec("u_store.row_q", "row"),
          bin("u_store.issue", "row read"), dec("u_store.inflight_q", "rows in lanes"),
          bin("u_store.can_issue", "FIFO space")}},
        {"parameters",
         {bin("u_store.param_re_o", "PARAM read"), hex("u_store.param_raddr_o", "PARAM address"),
          bin("u_store.requant_q", "requantize"), bin("u_store.per_channel_q", "per channel"),
          bin("u_store.jslot_q", "job slot"),
          hex("u_store.zc_q", "job slots: zero point, clamp lo, hi")}},
        {"lane 0",
         {sdec("u_store.gen_lane[0].u_requant.acc_i", "accumulator"),
          sdec("u_store.gen_lane[0].u_requant.bias_i", "bias"),
          hex("u_store.gen_lane[0].u_requant.mult_i", "multiplier"),
          sdec("u_store.gen_lane[0].u_requant.shift_i", "shift"),
          sdec("u_store.gen_lane[0].u_requant.data_o", "result")}},
        {"output FIFO",
         {bin("u_store.out_push", "push"), dec("u_store.out_level", "level"),
          bin("u_store.out_pop", "pop (beat sent)"), bin("u_store.m_tlast_o", "tlast"),
          bin("u_store.gemm_done_o", "GEMM done")}}}});

  views.push_back({"axi_ports",
                   "AXI ports of tsr_top: AXI4-Lite CSR slave, AXI4-Stream in and out",
                   {clock_group(),
                    axil_write_group(),
                    axil_read_group(),
                    stream_in_group(),
                    stream_out_group(),
                    {"fault injection (tie to zero in hardware)",
                     {hex("dbg_pe_stuck0_i", "PE stuck-at-0 mask")}}}});
  return views;
}

WaveView column_view(unsigned rows, unsigned cols, unsigned col,
                     std::optional<unsigned> suspect_row) {
  (void)cols;
  const std::string c = std::to_string(col);
  WaveView view{"column_" + c, "array column " + c + " and its output lane", {}};
  view.groups.push_back(clock_group());
  view.groups.push_back(issuer_group());
  if (suspect_row) {
    const unsigned r = *suspect_row;
    const std::string label = pe_label(r, col);
    view.groups.push_back(
        {"suspect " + label,
         {{pe(r, col, "act_i"), label + " activation", WaveFormat::kSigned, true},
          {pe(r, col, "wgt_sel"), label + " weight", WaveFormat::kSigned, true},
          {pe(r, col, "full_product") + "|" + pe(r, col, "signed_product"),
           label + " activation x weight", WaveFormat::kSigned, true},
          {pe(r, col, "product"), label + " product added", WaveFormat::kSigned, true},
          {pe(r, col, "psum_i"), label + " partial sum in", WaveFormat::kSigned, true},
          {pe(r, col, "psum_o"), label + " partial sum out", WaveFormat::kSigned, true},
          {pe(r, col, "fault_stuck0_i"), label + " stuck-at-0 fault", WaveFormat::kBinary, true}}});
  }
  WaveGroup column{"PE column " + c + " (row r adds activation x weight to the sum from above)",
                   {}};
  WaveGroup faults{"fault inputs of column " + c, {}, true};
  for (unsigned r = 0; r < rows; ++r) {
    const std::string label = pe_label(r, col);
    column.traces.push_back({pe(r, col, "act_i"), label + " activation", WaveFormat::kSigned});
    column.traces.push_back({pe(r, col, "wgt_sel"), label + " weight", WaveFormat::kSigned});
    column.traces.push_back({pe(r, col, "product"), label + " product", WaveFormat::kSigned});
    column.traces.push_back({pe(r, col, "psum_o"), label + " partial sum", WaveFormat::kSigned});
    faults.traces.push_back(
        {pe(r, col, "fault_stuck0_i"), label + " stuck-at-0", WaveFormat::kBinary});
  }
  view.groups.push_back(column);
  view.groups.push_back(faults);
  view.groups.push_back({"accumulator lane " + c,
                         {bin("u_acc.wr_valid", "write"),
                          dec("u_acc.wr_row", "row"),
                          bin("u_acc.wr_first", "overwrite (first row block)"),
                          sdec("u_acc.gen_add[" + c + "].old_sum", "old sum"),
                          {pe(rows - 1, col, "psum_o"), "column " + c + " sum out of the array",
                           WaveFormat::kSigned}}});
  view.groups.push_back({"store lane " + c,
                         {dec("u_store.row_q", "row read"),
                          sdec("u_store.gen_lane[" + c + "].u_requant.acc_i", "accumulator"),
                          sdec("u_store.gen_lane[" + c + "].u_requant.bias_i", "bias"),
                          sdec("u_store.gen_lane[" + c + "].u_requant.data_o", "result")}});
  view.groups.push_back(stream_out_group());
  return view;
}

namespace {

// GTKWave trace flags (its TR_* bits): hex 0x2, dec 0x4, bin 0x8, rjustify 0x20,
// blank 0x200, signed 0x400, closed 0x400000, group begin 0x800000, group end 0x1000000.
unsigned flags(const WaveTrace& trace) {
  unsigned f = 0x20;
  switch (trace.format) {
    case WaveFormat::kBinary:
      f |= 0x8;
      break;
    case WaveFormat::kHex:
      f |= 0x2;
      break;
    case WaveFormat::kDecimal:
      f |= 0x4;
      break;
    case WaveFormat::kSigned:
      f |= 0x400;
      break;
  }
  if (trace.highlight) f |= 0x1;
  return f;
}

}  // namespace

std::vector<std::string> write_save_file(const std::string& path, const WaveView& view,
                                         const TraceFile& trace, const SaveFileOptions& options) {
  std::ofstream out(path);
  if (!out) throw InputError("cannot write '" + path + "'");
  std::vector<std::string> missing;
  out << "[*] Tessera GTKWave view: " << view.title << "\n";
  out << "[*] Written by tessera; names are those of the Verilated tsr_top.\n";
  if (!options.note.empty()) out << "[*] " << options.note << "\n";
  if (!options.dumpfile.empty()) out << "[dumpfile] \"" << options.dumpfile << "\"\n";
  out << "[timestart] " << options.time_start.value_or(0) << "\n";
  out << "[size] 1600 1000\n[pos] -1 -1\n";
  // GTKWave shows about 3.5 * 2^-zoom time units across the wave pane at this size
  // (measured with 3.3.118); a little wider than the span so both ends stay in view.
  // Without a span or marker the zoom line is left out: GTKWave then picks its own, and
  // scripts/wave_png.sh zooms to fit.
  if (options.time_span || options.marker) {
    double zoom = 0.0;
    if (options.time_span && *options.time_span > 0) {
      zoom = -std::log2(static_cast<double>(*options.time_span) / 3.5);
    }
    out << "*" << std::fixed;
    out.precision(6);
    out << zoom << " " << (options.marker ? static_cast<std::int64_t>(*options.marker) : -1);
    for (char name = 'A'; name <= 'Z'; ++name) {
      std::int64_t time = -1;
      for (const auto& [n, t] : options.named_markers) {
        if (n == name) time = static_cast<std::int64_t>(t);
      }
      out << " " << time;
    }
    out << "\n";
  }
  out << "[sst_width] 250\n[signals_width] 360\n[sst_expanded] 1\n[sst_vpaned_height] 300\n";
  for (const WaveGroup& group : view.groups) {
    out << "@" << std::hex << (0x800200u | (group.closed ? 0x400000u : 0u)) << std::dec << "\n";
    out << "-" << group.name << "\n";
    for (const WaveTrace& t : group.traces) {
      // A signal may name alternatives, "a|b": the first the trace has is shown.
      const TraceVar* var = nullptr;
      for (std::size_t begin = 0; !var && begin <= t.signal.size();) {
        const std::size_t bar = std::min(t.signal.find('|', begin), t.signal.size());
        var = trace.find(t.signal.substr(begin, bar - begin));
        begin = bar + 1;
      }
      if (!var) {
        missing.push_back(t.signal);
        continue;
      }
      out << "@" << std::hex << flags(t) << std::dec << "\n";
      // The alias sits inside braces in the save file: it must not hold any itself.
      std::string alias = t.alias;
      std::replace(alias.begin(), alias.end(), '{', '(');
      std::replace(alias.begin(), alias.end(), '}', ')');
      out << "+{" << alias << "} " << var->gtkw << "\n";
    }
    out << "@" << std::hex << (0x1000200u | (group.closed ? 0x401000u : 0u)) << std::dec << "\n";
    out << "-" << group.name << "\n";
  }
  out << "[pattern_trace] 1\n[pattern_trace] 0\n";
  if (!out) throw InputError("cannot write '" + path + "'");
  return missing;
}

}  // namespace tessera::cli
