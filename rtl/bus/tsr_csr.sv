// AXI4-Lite CSR slave: identification and configuration readback, control, status,
// sticky error, performance counters and the command FIFO's write port (docs/isa.md).
// One outstanding read and one outstanding write; a write acts in the cycle after its
// handshake and is answered a cycle later. A write to CMD3 pushes the command; while the
// FIFO is full it is answered without waiting, with SLVERR, and reported as OVERFLOW
// (holding the bus would deadlock a master that must also feed the input stream). Unmapped
// addresses, writes to read-only registers and partial-strobe writes answer SLVERR and
// change nothing.
module tsr_csr #(
  parameter int unsigned Rows         = 4,
  parameter int unsigned Cols         = 4,
  parameter int unsigned ActDepth     = 64,
  parameter int unsigned WgtDepth     = 64,
  parameter int unsigned AccDepth     = 16,
  parameter int unsigned ParamDepth   = 16,
  parameter int unsigned InBytes      = 16,
  parameter int unsigned CmdFifoDepth = 16,
  parameter bit          Sparse       = 1'b0,  // FEATURES bit 5; GBUF and META depths
  parameter int unsigned GbufDepth    = 0,
  parameter int unsigned MetaDepth    = 0,
  parameter bit          RoundSingle  = 1'b1,  // FEATURES bit 7
  parameter bit          PerfDetail   = 1'b1,  // 0: PERF_CYCLES and PERF_LAST_OUT only
                                              // (FEATURES bit 16 set)
  parameter bit          ReadReg      = 1'b0,  // 1: a read decodes its registered address
                                              // a cycle after the handshake, from status
                                              // inputs registered a cycle earlier
  localparam int unsigned LevelW = $clog2(CmdFifoDepth) + 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // AXI4-Lite slave.
  input  logic [11:0]       s_awaddr_i,
  input  logic              s_awvalid_i,
  output logic              s_awready_o,
  input  logic [31:0]       s_wdata_i,
  input  logic [3:0]        s_wstrb_i,
  input  logic              s_wvalid_i,
  output logic              s_wready_o,
  output logic [1:0]        s_bresp_o,
  output logic              s_bvalid_o,
  input  logic              s_bready_i,
  input  logic [11:0]       s_araddr_i,
  input  logic              s_arvalid_i,
  output logic              s_arready_o,
  output logic [31:0]       s_rdata_o,
  output logic [1:0]        s_rresp_o,
  output logic              s_rvalid_o,
  input  logic              s_rready_i,
  // Command FIFO write port and control pulses.
  output logic              cmd_push_o,
  output logic [127:0]      cmd_o,
  input  logic              cmd_full_i,
  input  logic [LevelW-1:0] cmd_level_i,
  output logic              cmd_overflow_o,  // a CMD3 write found the FIFO full
  output logic              clear_o,
  // Status inputs.
  input  logic              error_i,
  input  logic [7:0]        err_code_i,
  input  logic [31:0]       err_cmd_i,
  input  logic              busy_i,
  input  logic [2:0]        unit_busy_i,   // load, exec, store
  input  logic              stall_i,
  input  logic              mac_row_i,     // an activation row entered the array
  input  logic              out_beat_i,    // an output beat was handed off
  input  logic [1:0]        retired_i,     // commands retired this cycle
  input  logic              dropped_i
);

  localparam logic [1:0] RespOkay  = 2'b00;
  localparam logic [1:0] RespSlvErr = 2'b10;
  localparam logic [63:0] MacsPerRow = 64'(Rows * Cols);

  // ---- write channel -----------------------------------------------------------------
  // A write is accepted, then acted on: the handshake cycle only registers the write (its
  // data, and what its address and strobes decode to); the next cycle pushes the command,
  // writes CMD0..CMD2 and judges a CMD3 write against the FIFO's room, and the response
  // follows a cycle later. So the master's address and data reach flip-flops only, never
  // the FIFO's pointers or the engine. CTRL.CLEAR and PERF_CLEAR are decided at the
  // handshake and take effect in the acting cycle, before the response.
  logic        wpend_q;         // an accepted write acts in this cycle
  logic [31:0] wdata_q;
  logic [3:0]  wcmd_q;          // CMD0..CMD3 with all four strobes
  logic        wctrl_q;         // CTRL with all four strobes
  logic        bvalid_q;
  logic [1:0]  bresp_q;
  logic [31:0] cmd0_q, cmd1_q, cmd2_q;
  logic        wr_fire, wr_full_strb, w_ok;
  logic        clear_q, perf_clear_q;

  assign wr_fire      = s_awvalid_i && s_wvalid_i && !wpend_q && !bvalid_q;
  assign wr_full_strb = (s_wstrb_i == 4'hF);
  assign s_awready_o  = wr_fire;
  assign s_wready_o   = wr_fire;
  assign s_bvalid_o   = bvalid_q;
  assign s_bresp_o    = bresp_q;

  // Acting cycle: a full FIFO refuses CMD3 (SLVERR and OVERFLOW: holding the bus would
  // deadlock a master that must also feed the input stream); nothing else depends on it.
  assign w_ok           = wctrl_q || (|wcmd_q[2:0]) || (wcmd_q[3] && !cmd_full_i);
  assign cmd_push_o     = wpend_q && wcmd_q[3] && !cmd_full_i;
  assign cmd_overflow_o = wpend_q && wcmd_q[3] && cmd_full_i;
  assign cmd_o          = {wdata_q, cmd2_q, cmd1_q, cmd0_q};
  assign clear_o        = clear_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wpend_q      <= 1'b0;
      wcmd_q       <= '0;
      wctrl_q      <= 1'b0;
      clear_q      <= 1'b0;
      perf_clear_q <= 1'b0;
      bvalid_q     <= 1'b0;
      bresp_q      <= RespOkay;
      cmd0_q       <= '0;
      cmd1_q       <= '0;
      cmd2_q       <= '0;
    end else begin
      wpend_q      <= wr_fire;
      clear_q      <= wr_fire && wr_full_strb && (s_awaddr_i == tsr_pkg::CsrCtrl) &&
                      s_wdata_i[tsr_pkg::CtrlClear];
      perf_clear_q <= wr_fire && wr_full_strb && (s_awaddr_i == tsr_pkg::CsrCtrl) &&
                      s_wdata_i[tsr_pkg::CtrlPerfClear];
      if (wr_fire) begin
        wctrl_q <= wr_full_strb && (s_awaddr_i == tsr_pkg::CsrCtrl);
        wcmd_q  <= {4{wr_full_strb}} & {s_awaddr_i == tsr_pkg::CsrCmd3,
                                        s_awaddr_i == tsr_pkg::CsrCmd2,
                                        s_awaddr_i == tsr_pkg::CsrCmd1,
                                        s_awaddr_i == tsr_pkg::CsrCmd0};
      end
      if (s_bvalid_o && s_bready_i) bvalid_q <= 1'b0;
      if (wpend_q) begin
        bvalid_q <= 1'b1;
        bresp_q  <= w_ok ? RespOkay : RespSlvErr;
        if (wcmd_q[0]) cmd0_q <= wdata_q;
        if (wcmd_q[1]) cmd1_q <= wdata_q;
        if (wcmd_q[2]) cmd2_q <= wdata_q;
      end
    end
  end

  // The write's data, for the acting cycle (CMD3's is the command's top word).
  always_ff @(posedge clk_i) begin
    if (wr_fire) wdata_q <= s_wdata_i;
  end

  // ---- performance counters ----------------------------------------------------------
  // The events are registered first and counted a cycle later (a read sees the events up
  // to two cycles before it): the engine's handshakes and the counters' adders then do not
  // share a cycle. An event in the cycle PERF_CLEAR takes effect is dropped, as the clear
  // drops it.
  logic [31:0] cycles_q, busy_cycles_q, stall_cycles_q, last_out_q, retired_q, dropped_q;
  logic [63:0] macs_q;
  logic        busy_ev_q, stall_ev_q, mac_ev_q, drop_ev_q, out_ev_q;
  logic [1:0]  retired_ev_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      {busy_ev_q, stall_ev_q, mac_ev_q, drop_ev_q, out_ev_q, retired_ev_q} <= '0;
    end else begin
      {busy_ev_q, stall_ev_q, mac_ev_q, drop_ev_q, out_ev_q, retired_ev_q} <=
        perf_clear_q ? '0 : {busy_i, stall_i, mac_row_i, dropped_i, out_beat_i, retired_i};
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cycles_q       <= '0;
      busy_cycles_q  <= '0;
      stall_cycles_q <= '0;
      last_out_q     <= '0;
      retired_q      <= '0;
      dropped_q      <= '0;
      macs_q         <= '0;
    end else if (perf_clear_q) begin
      cycles_q       <= '0;
      busy_cycles_q  <= '0;
      stall_cycles_q <= '0;
      last_out_q     <= '0;
      retired_q      <= '0;
      dropped_q      <= '0;
      macs_q         <= '0;
    end else begin
      cycles_q <= cycles_q + 32'd1;
      // PERF_LAST_OUT is the cycles from PERF_CLEAR to the beat, the beat's cycle counted:
      // PERF_CYCLES + 1 in that cycle, which is PERF_CYCLES in the next.
      if (out_ev_q) last_out_q <= cycles_q;
      // Without PerfDetail these stay 0 (and synthesis removes them).
      if (PerfDetail) begin
        if (busy_ev_q)  busy_cycles_q  <= busy_cycles_q + 32'd1;
        if (stall_ev_q) stall_cycles_q <= stall_cycles_q + 32'd1;
        if (mac_ev_q)   macs_q         <= macs_q + MacsPerRow;
        if (drop_ev_q)  dropped_q      <= dropped_q + 32'd1;
        retired_q <= retired_q + {30'd0, retired_ev_q};
      end
    end
  end

  // ---- read channel ------------------------------------------------------------------
  // The readable registers, one table: each address with its value. A read selects one
  // (one-hot, rd_sel) and the data is the OR of the selected value; no select answers
  // SLVERR. CTRL reads 0.
  localparam int unsigned NumRd = 23;
  localparam logic [11:0] RdAddr [NumRd] = '{
    tsr_pkg::CsrId, tsr_pkg::CsrVersion, tsr_pkg::CsrCfgArray, tsr_pkg::CsrCfgActDepth,
    tsr_pkg::CsrCfgWgtDepth, tsr_pkg::CsrCfgAccDepth, tsr_pkg::CsrCfgParamDepth,
    tsr_pkg::CsrCfgStream, tsr_pkg::CsrFeatures, tsr_pkg::CsrCtrl, tsr_pkg::CsrStatus,
    tsr_pkg::CsrErrCode, tsr_pkg::CsrErrCmd, tsr_pkg::CsrCfgGbufDepth,
    tsr_pkg::CsrCfgMetaDepth, tsr_pkg::CsrPerfCycles, tsr_pkg::CsrPerfBusy,
    tsr_pkg::CsrPerfStall, tsr_pkg::CsrPerfMacsLo, tsr_pkg::CsrPerfMacsHi,
    tsr_pkg::CsrPerfLastOut, tsr_pkg::CsrPerfCmds, tsr_pkg::CsrPerfDropped
  };
  function automatic logic [NumRd-1:0] decode(input logic [11:0] addr);
    for (int k = 0; k < NumRd; k++) decode[k] = (addr == RdAddr[k]);
  endfunction

  // ReadReg: the handshake registers the decoded address, the next cycle forms the data,
  // and the answer follows; the status bits then come from registers as well. So neither
  // the master's address nor the engine's state reaches the read data in the cycle they
  // change (on a large die both come from far away). A read answers a cycle later and
  // sees the status of its handshake cycle, the performance counters a cycle later; no
  // read is taken while one is being formed.
  logic        rvalid_q;
  logic [1:0]  rresp_q;
  logic [31:0] rdata_q, rdata_d;
  logic [NumRd-1:0] rd_sel;       // the register read
  logic        rd_take, rd_busy;  // rdata_d is taken now; a read is being formed
  logic        st_error, st_busy, st_full;
  logic [2:0]  st_unit_busy;
  logic [7:0]  st_code;
  logic [31:0] st_cmd;
  logic [LevelW-1:0] st_level;

  assign s_arready_o = !rvalid_q && !clear_q && !rd_busy;
  assign s_rvalid_o  = rvalid_q;
  assign s_rdata_o   = rdata_q;
  assign s_rresp_o   = rresp_q;

  if (ReadReg) begin : gen_read_reg
    logic              pend_q;
    logic [NumRd-1:0]  sel_q;
    logic              error_q, busy_q, full_q;
    logic [2:0]        unit_busy_q;
    logic [7:0]        code_q;
    logic [31:0]       cmd_q;
    logic [LevelW-1:0] level_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) pend_q <= 1'b0;
      else         pend_q <= s_arvalid_i && s_arready_o;
    end
    always_ff @(posedge clk_i) begin
      if (s_arvalid_i && s_arready_o) sel_q <= decode(s_araddr_i);
      {error_q, busy_q, full_q, unit_busy_q, code_q, cmd_q, level_q} <=
        {error_i, busy_i, cmd_full_i, unit_busy_i, err_code_i, err_cmd_i, cmd_level_i};
    end
    assign {rd_sel, rd_take, rd_busy} = {sel_q, pend_q, pend_q};
    assign {st_error, st_busy, st_full, st_unit_busy, st_code, st_cmd, st_level} =
           {error_q, busy_q, full_q, unit_busy_q, code_q, cmd_q, level_q};
  end else begin : gen_read_now
    assign {rd_sel, rd_take, rd_busy} = {decode(s_araddr_i), s_arvalid_i && s_arready_o, 1'b0};
    assign {st_error, st_busy, st_full, st_unit_busy, st_code, st_cmd, st_level} =
           {error_i, busy_i, cmd_full_i, unit_busy_i, err_code_i, err_cmd_i, cmd_level_i};
  end

  logic [31:0] rd_value [NumRd];  // in RdAddr's order
  assign rd_value = '{
    tsr_pkg::IdValue,
    tsr_pkg::VersionValue,
    {16'(Cols), 16'(Rows)},
    32'(ActDepth),
    32'(WgtDepth),
    32'(AccDepth),
    32'(ParamDepth),
    {16'(4 * Cols), 16'(InBytes)},
    {16'd0, 8'(CmdFifoDepth),
     tsr_pkg::FeatureBits | (8'(RoundSingle) << tsr_pkg::FeatureRoundSingle) |
     (8'(Sparse) << tsr_pkg::FeatureSparse) |
     (8'(Sparse && Rows == Cols) << tsr_pkg::FeatureSparseA)} |
    (32'(!PerfDetail) << tsr_pkg::FeaturePerfLite),
    32'd0,  // CTRL
    {8'd0, 8'(st_level), 10'd0, st_unit_busy, st_full, st_error, st_busy},
    {24'd0, st_code},
    st_cmd,
    Sparse ? 32'(GbufDepth) : 32'd0,
    Sparse ? 32'(MetaDepth) : 32'd0,
    cycles_q,
    busy_cycles_q,
    stall_cycles_q,
    macs_q[31:0],
    macs_q[63:32],
    last_out_q,
    retired_q,
    dropped_q
  };
  always_comb begin
    rdata_d = '0;
    for (int k = 0; k < NumRd; k++) rdata_d |= rd_value[k] & {32{rd_sel[k]}};
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rvalid_q <= 1'b0;
      rresp_q  <= RespOkay;
      rdata_q  <= '0;
    end else begin
      if (s_rvalid_o && s_rready_i) rvalid_q <= 1'b0;
      if (rd_take) begin
        rvalid_q <= 1'b1;
        rresp_q  <= (rd_sel != '0) ? RespOkay : RespSlvErr;
        rdata_q  <= rdata_d;
      end
    end
  end

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  BValidHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 s_bvalid_o && !s_bready_i |=> s_bvalid_o && $stable(s_bresp_o))
    else $error("BVALID dropped or BRESP changed before BREADY");
  RValidHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 s_rvalid_o && !s_rready_i |=> s_rvalid_o && $stable(s_rdata_o) &&
                                                              $stable(s_rresp_o))
    else $error("RVALID dropped or RDATA/RRESP changed before RREADY");
  // Never holds a write off while none is owed: no master can deadlock on it.
  WriteAnswered_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                    s_awvalid_i && s_wvalid_i && !wpend_q && !s_bvalid_o
                                    |-> s_awready_o)
    else $error("write held off with no write owed");
  NoPushWhenFull_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                     cmd_push_o |-> !cmd_full_i);
  // The master's side of AXI4-Lite, checked for the testbenches that drive it.
  AwHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                             s_awvalid_i && !s_awready_o |=> s_awvalid_i && $stable(s_awaddr_i))
    else $error("AWVALID dropped or AWADDR changed before AWREADY (master bug)");
  WHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                            s_wvalid_i && !s_wready_o |=> s_wvalid_i && $stable(s_wdata_i))
    else $error("WVALID dropped or WDATA changed before WREADY (master bug)");
  ArHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                             s_arvalid_i && !s_arready_o |=> s_arvalid_i && $stable(s_araddr_i))
    else $error("ARVALID dropped or ARADDR changed before ARREADY (master bug)");
  FifoFull_C: cover property (@(posedge clk_i) disable iff (!rst_ni) cmd_full_i);
  Overflow_C: cover property (@(posedge clk_i) disable iff (!rst_ni) cmd_overflow_o);
  Clear_C: cover property (@(posedge clk_i) disable iff (!rst_ni) clear_o);
`endif

endmodule
