// Store unit: drains one finished accumulator bank (a column block of M rows) per job.
// It first copies the block's Cols channel parameters (bias, multiplier, shift) from
// PARAM into lane registers — while the execute unit is still filling the bank, so the
// copy costs nothing after the last row lands — then streams the rows through the requantization lanes
// into a small output FIFO that feeds the AXI4-Stream master. Rows are issued only
// against free FIFO space, so the lanes never stall. CTRL.CLEAR empties everything but a
// beat the master already presents: AXI4-Stream does not let TVALID drop before the
// handshake, so that (now stale) beat stays until taken and retires nothing.
module tsr_store_unit #(
  parameter int unsigned Cols       = 4,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned JobW    = tsr_pkg::JobFixedW + (AccAW + 1) + ParamAW
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               clear_i,
  // Jobs from the execute unit, in order.
  input  logic               job_push_i,
  input  logic [JobW-1:0]    job_i,
  // Accumulator bank hand-off.
  input  logic [1:0]         acc_written_i,
  output logic               acc_start_o,
  output logic               acc_done_o,
  output logic               acc_bank_o,
  output logic               acc_re_o,
  output logic [AccAW-1:0]   acc_raddr_o,
  input  logic [Cols*32-1:0] acc_rdata_i,
  // PARAM scratchpad read port.
  output logic               param_re_o,
  output logic [ParamAW-1:0] param_raddr_o,
  input  logic [71:0]        param_rdata_i,
  // AXI4-Stream master.
  output logic [Cols*32-1:0] m_tdata_o,
  output logic               m_tvalid_o,
  input  logic               m_tready_i,
  output logic               m_tlast_o,
  output logic               gemm_done_o,    // last beat of a GEMM command left
  output logic               param_release_o, // a command's last PARAM word was read
  output logic               busy_o,
  output logic               stall_o
);

  localparam int unsigned LaneLatency = 4;
  localparam int unsigned PipeLatency = 1 + LaneLatency;  // acc read + lanes
  localparam int unsigned OutDepth    = 8;
  localparam int unsigned LaneW       = $clog2(Cols) + 1;

  typedef enum logic [1:0] {StIdle, StParams, StWait, StRows} state_e;
  state_e state_q, state_d;

  // Job FIFO: at most two jobs wait, one per accumulator bank.
  logic            job_valid, job_pop;
  logic [JobW-1:0] job_head;
  logic            job_full, job_empty;
  logic [1:0]      job_level;
  tsr_fifo #(.Width(JobW), .Depth(2)) u_jobs (
    .clk_i, .rst_ni, .clear_i, .keep_head_i(1'b0),
    .push_i (job_push_i), .data_i(job_i), .full_o(job_full),
    .pop_i  (job_pop), .data_o(job_head), .empty_o(job_empty), .level_o(job_level)
  );
  assign job_valid = !job_empty;

  // Current job.
  logic             cmd_last_q, bank_q;
  logic [AccAW:0]   m_rows_q, row_q;
  logic [ParamAW-1:0] param_addr_q;
  logic [tsr_pkg::StoreCfgW-1:0] cfg_q;  // fields at tsr_pkg::Cfg*
  logic [LaneW-1:0] param_idx_q;        // parameter word being read
  logic             param_we_q;         // write lane param_we_lane_q this cycle
  logic [LaneW-1:0] param_we_lane_q;
  // A command's column blocks are consecutive jobs; per-tensor scaling is the first
  // block's channel 0 word (the command's param_base) for all of them.
  logic             next_first_q;       // the next job popped starts a command
  logic             first_q;            // the current job is a command's first block

  logic head_cmd_last, head_bank, head_requant, head_per_channel;
  logic [AccAW:0] head_m_rows;
  logic [ParamAW-1:0] head_param_base;
  logic [tsr_pkg::StoreCfgW-1:0] head_cfg;
  assign {head_cmd_last, head_bank, head_m_rows, head_param_base, head_cfg} = job_head;
  assign head_requant     = head_cfg[tsr_pkg::CfgRequant];
  assign head_per_channel = head_cfg[tsr_pkg::CfgPerChan];

  // Lane parameters.
  logic [Cols*32-1:0] bias_q, mult_q;
  logic [Cols*8-1:0]  shift_q;
  logic [31:0]        tensor_mult_q;    // per-tensor mode: the command's multiplier
  logic [7:0]         tensor_shift_q;   //   and shift

  // Output FIFO credit: reads in flight plus entries held must fit in the FIFO.
  logic [$clog2(OutDepth):0] out_level;
  logic [3:0]                inflight_q;
  logic                      out_push, out_pop, out_full, out_empty;
  logic                      can_issue, issue, last_row;

  assign last_row  = (row_q == m_rows_q - 1'b1);
  assign can_issue = (4'(out_level) + inflight_q) < 4'(OutDepth);
  assign issue     = (state_q == StRows) && can_issue;

  assign job_pop       = (state_q == StIdle) && job_valid;
  // The last parameter word lands the cycle after its read; rows start then, or as soon
  // as the bank is written.
  logic params_done;
  assign params_done   = (state_q == StParams) && (param_idx_q == LaneW'(Cols));
  assign acc_start_o   = (params_done || state_q == StWait) && acc_written_i[bank_q];
  assign acc_bank_o    = bank_q;
  assign acc_re_o      = issue;
  assign acc_raddr_o   = row_q[AccAW-1:0];
  assign acc_done_o    = issue && last_row;
  assign param_re_o    = (state_q == StParams) && (param_idx_q < LaneW'(Cols));
  assign param_raddr_o = param_addr_q;
  // The hazard checks may let a LOAD overwrite the command's PARAM words from the next
  // cycle on: the last read has happened, its data lands in the lane registers now.
  assign param_release_o = params_done && cmd_last_q;

  always_comb begin
    state_d = state_q;
    case (state_q)
      StIdle:   if (job_pop) state_d = StParams;
      StParams: if (params_done) state_d = acc_start_o ? StRows : StWait;
      StWait:   if (acc_start_o) state_d = StRows;
      StRows:   if (issue && last_row) state_d = StIdle;
      default:  state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q         <= StIdle;
      cmd_last_q      <= 1'b0;
      bank_q          <= 1'b0;
      m_rows_q        <= '0;
      row_q           <= '0;
      param_addr_q    <= '0;
      cfg_q           <= '0;
      param_idx_q     <= '0;
      param_we_q      <= 1'b0;
      param_we_lane_q <= '0;
      inflight_q      <= '0;
      next_first_q    <= 1'b1;
      first_q         <= 1'b0;
    end else if (clear_i) begin
      state_q      <= StIdle;
      param_we_q   <= 1'b0;
      inflight_q   <= '0;
      next_first_q <= 1'b1;
    end else begin
      state_q    <= state_d;
      param_we_q <= param_re_o;
      param_we_lane_q <= param_idx_q;
      if (job_pop) begin
        cmd_last_q    <= head_cmd_last;
        bank_q        <= head_bank;
        m_rows_q      <= head_m_rows;
        row_q         <= '0;
        param_addr_q  <= head_param_base;
        cfg_q         <= head_cfg;
        param_idx_q   <= '0;
        first_q       <= next_first_q;
        next_first_q  <= head_cmd_last;
      end
      if (param_re_o) begin
        param_addr_q <= param_addr_q + 1'b1;
        param_idx_q  <= param_idx_q + 1'b1;
      end
      if (issue) row_q <= row_q + 1'b1;
      inflight_q <= inflight_q + {3'd0, issue} - {3'd0, out_push};
    end
  end

  always_ff @(posedge clk_i) begin
    if (param_we_q) begin
      for (int c = 0; c < Cols; c++) begin
        if (param_we_lane_q == LaneW'(c)) begin
          bias_q[c*32 +: 32] <= param_rdata_i[31:0];
          mult_q[c*32 +: 32] <= param_rdata_i[63:32];
          shift_q[c*8 +: 8]  <= param_rdata_i[71:64];
        end
      end
      if (first_q && param_we_lane_q == '0) begin
        tensor_mult_q  <= param_rdata_i[63:32];
        tensor_shift_q <= param_rdata_i[71:64];
      end
    end
  end

  // Sideband that travels with each issued row: the store settings (tsr_pkg::Cfg*) and
  // above them gemm last, tlast and valid. The lanes sample the settings one stage
  // before the output.
  localparam int unsigned SideW     = tsr_pkg::StoreCfgW + 3;
  localparam int unsigned SideGemm  = tsr_pkg::StoreCfgW;
  localparam int unsigned SideLast  = tsr_pkg::StoreCfgW + 1;
  localparam int unsigned SideValid = tsr_pkg::StoreCfgW + 2;
  logic [PipeLatency*SideW-1:0] side_q;
  logic [SideW-1:0] side_in, side_cfg, side_out;
  assign side_in = {issue, last_row, cmd_last_q && last_row, cfg_q};
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) side_q <= '0;
    else if (clear_i) side_q <= '0;
    else side_q <= {side_q[(PipeLatency-1)*SideW-1:0], side_in};
  end
  assign side_cfg = side_q[(PipeLatency-1)*SideW-1 -: SideW];
  assign side_out = side_q[PipeLatency*SideW-1 -: SideW];

  logic [Cols*32-1:0] lane_data;
  for (genvar c = 0; c < Cols; c++) begin : gen_lane
    // Per-tensor mode: every lane takes the command's first multiplier and shift.
    tsr_requant u_requant (
      .clk_i,
      .acc_i       (acc_rdata_i[c*32 +: 32]),
      .bias_i      (bias_q[c*32 +: 32]),
      .mult_i      (cfg_q[tsr_pkg::CfgPerChan] ? mult_q[c*32 +: 32] : tensor_mult_q),
      .shift_i     (cfg_q[tsr_pkg::CfgPerChan] ? shift_q[c*8 +: 8] : tensor_shift_q),
      .requant_i   (side_cfg[tsr_pkg::CfgRequant]),
      .zero_point_i(side_cfg[tsr_pkg::CfgZp +: 8]),
      .clamp_lo_i  (side_cfg[tsr_pkg::CfgLo +: 8]),
      .clamp_hi_i  (side_cfg[tsr_pkg::CfgHi +: 8]),
      .data_o      (lane_data[c*32 +: 32])
    );
  end

  logic [Cols*32+1:0] out_head;
  assign out_push = side_out[SideValid];
  logic out_keep_head, stale_q;
  assign out_keep_head = m_tvalid_o && !m_tready_i;
  tsr_fifo #(.Width(Cols*32 + 2), .Depth(OutDepth)) u_out (
    .clk_i, .rst_ni, .clear_i, .keep_head_i(out_keep_head),
    .push_i (out_push), .data_i({side_out[SideLast], side_out[SideGemm], lane_data}),
    .full_o(out_full),
    .pop_i  (out_pop), .data_o(out_head), .empty_o(out_empty), .level_o(out_level)
  );
  assign out_pop     = m_tvalid_o && m_tready_i;
  assign m_tvalid_o  = !out_empty;
  assign m_tdata_o   = out_head[Cols*32-1:0];
  assign m_tlast_o   = out_head[Cols*32+1];
  assign gemm_done_o = out_pop && out_head[Cols*32] && !stale_q;

  // A beat kept through CLEAR belongs to no command any more.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)      stale_q <= 1'b0;
    else if (clear_i) stale_q <= out_keep_head || (stale_q && !out_pop);
    else if (out_pop) stale_q <= 1'b0;
  end

  assign busy_o  = (state_q != StIdle) || job_valid || (inflight_q != '0) || !out_empty;
  assign stall_o = (state_q == StRows) && !can_issue;

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  // AXI4-Stream master rules: a presented beat stays, unchanged, until it is taken.
  OutValidHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   m_tvalid_o && !m_tready_i |=> m_tvalid_o)
    else $error("m_axis_tvalid dropped without a handshake");
  OutDataStable_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                    m_tvalid_o && !m_tready_i |=> $stable(m_tdata_o) &&
                                                                  $stable(m_tlast_o))
    else $error("m_axis_tdata/tlast changed while held");
  NoJobOverflow_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                    job_push_i |-> !job_full)
    else $error("store job FIFO overflow");
  InflightBound_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                    (4'(out_level) + inflight_q) <= 4'(OutDepth))
    else $error("output credit exceeded");
  LegalState_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 state_q inside {StIdle, StParams, StWait, StRows});
  // Back-pressure: the result stream held for 100 cycles or more.
  logic [7:0] held_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) held_q <= '0;
    else if (m_tvalid_o && !m_tready_i) held_q <= (held_q == 8'hFF) ? held_q : held_q + 8'd1;
    else held_q <= '0;
  end
  OutHeld100_C: cover property (@(posedge clk_i) disable iff (!rst_ni) held_q == 8'd100);
  ClearKeepsBeat_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                    clear_i && out_keep_head);
  ClearDuringStore_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                      clear_i && state_q != StIdle);
  PerTensor_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                               job_pop && head_requant && !head_per_channel);
  PerChannel_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                job_pop && head_requant && head_per_channel);
  RawOutput_C: cover property (@(posedge clk_i) disable iff (!rst_ni) job_pop && !head_requant);
`endif

  logic unused_status;
  assign unused_status = ^{job_full, job_level, out_full, side_cfg[SideW-1:tsr_pkg::CfgRequant+1],
                           side_cfg[tsr_pkg::CfgPerChan]};

endmodule
