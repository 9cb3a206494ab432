// Store unit: drains one finished accumulator bank (a column block of M rows) per job.
// It first copies the block's Cols channel parameters (bias, multiplier, shift) from
// PARAM into lane registers — while the execute unit is still filling the bank, so the
// copy costs nothing after the last row lands — then streams the rows through the requantization lanes
// into a small output FIFO that feeds the AXI4-Stream master. Rows are issued only
// against free FIFO space, so the lanes never stall.
//
// RqLanes requantization lanes serve the Cols columns in Groups = Cols / RqLanes
// consecutive cycles a row (time sharing, for FPGAs short of multipliers: each lane takes
// four): group g, columns g*RqLanes .. g*RqLanes+RqLanes-1, enters the lanes g cycles
// after group 0; the row is read from the accumulator once and held for the later groups,
// and the output beat is assembled from the groups as they leave. A row is issued every
// Groups cycles; with RqLanes = Cols (the default) every cycle, as before. CTRL.CLEAR empties everything but a
// beat the master already presents: AXI4-Stream does not let TVALID drop before the
// handshake, so that (now stale) beat stays until taken and retires nothing.
module tsr_store_unit #(
  parameter int unsigned Cols       = 4,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  parameter int unsigned RqLanes    = Cols,  // requantization lanes, a divisor of Cols
  parameter int unsigned OutDepth   = 16,    // output FIFO entries (power of two >= 2)
  parameter int unsigned OutFifoRegRead = 0,  // 1: output FIFO on a registered-read memory
  parameter bit          RoundSingle = 1'b1,   // single rounding in the lanes (tsr_requant)
  parameter bit          RqLean      = 1'b0,   // 6-stage lanes for slow clocks (tsr_requant)
  parameter bit          RqDeep      = 1'b0,   // 10-stage lanes for slow FPGAs (tsr_requant)
  parameter int unsigned JobDepth    = 2,      // waiting jobs: 2, or 1 with job_room_o
  parameter bit          RqMac16     = 1'b0,   // iCE40 SB_MAC16 instances (tsr_requant Mac16)
  parameter bit          AccInReg    = 1'b0,   // the accumulator read registered on both
                                               // sides: request and row (large FPGAs)
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
  output logic               job_room_o,     // JobDepth 1: a job may be pushed (else 1)
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

  localparam int unsigned LaneLatency = tsr_pkg::rq_latency(RqLean, RqDeep);
  localparam int unsigned ZpAt        = tsr_pkg::rq_zp_at(RqLean);
  localparam int unsigned ClampAt     = tsr_pkg::rq_clamp_at(RqLean);
  // AccInReg: the read request leaves from registers a cycle after the issue, the row is
  // registered as it arrives, and each lane's operands are registered once they are
  // selected for the group, so a group enters the lanes InExtra cycles later.
  localparam int unsigned InExtra     = AccInReg ? 3 : 0;
  localparam int unsigned PipeLatency = 1 + InExtra + LaneLatency;  // acc read + lanes
  localparam int unsigned LaneW       = $clog2(Cols) + 1;
  localparam int unsigned Groups      = (RqLanes == 0) ? 1 : Cols / RqLanes;
  localparam int unsigned GrpW        = (Groups > 1) ? $clog2(Groups) : 1;
  localparam int unsigned CreditW     = $clog2(OutDepth) + 1;

  if (RqLanes < 1 || RqLanes > Cols || Groups * RqLanes != Cols) begin : gen_bad_lanes
    $error("RqLanes must divide Cols");
  end

  // StDrain: the last row is read, its later column groups still enter the lanes (the
  // lane parameters must not change under them).
  typedef enum logic [2:0] {StIdle, StParams, StWait, StRows, StDrain} state_e;
  state_e state_q, state_d;

  // Job FIFO: at most two jobs wait, one per accumulator bank. JobDepth 1 (small FPGAs)
  // keeps one in a register, and the execute unit holds a column block's last row back
  // while it is taken (job_room_o).
  logic            job_valid, job_pop;
  logic [JobW-1:0] job_head;
  logic            job_full, job_empty;
  logic [1:0]      job_level;
  if (JobDepth == 1) begin : gen_job_reg
    logic            job_valid_q;
    logic [JobW-1:0] job_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)         job_valid_q <= 1'b0;
      else if (clear_i)    job_valid_q <= 1'b0;
      else if (job_push_i) job_valid_q <= 1'b1;
      else if (job_pop)    job_valid_q <= 1'b0;
    end
    always_ff @(posedge clk_i) begin
      if (job_push_i) job_q <= job_i;
    end
    assign job_head   = job_q;
    assign job_empty  = !job_valid_q;
    assign job_full   = job_valid_q;
    assign job_level  = {1'b0, job_valid_q};
    assign job_room_o = !job_valid_q;
  end else begin : gen_job_fifo
    if (JobDepth != 2) begin : gen_bad_depth
      $error("JobDepth must be 1 or 2");
    end
    tsr_fifo #(.Width(JobW), .Depth(2)) u_jobs (
      .clk_i, .rst_ni, .clear_i, .keep_head_i(1'b0),
      .push_i (job_push_i), .data_i(job_i), .full_o(job_full),
      .pop_i  (job_pop), .data_o(job_head), .empty_o(job_empty), .level_o(job_level)
    );
    assign job_room_o = 1'b1;
  end
  assign job_valid = !job_empty;

  // Current job.
  logic             cmd_last_q, bank_q;
  logic [AccAW:0]   m_rows_q, row_q;
  logic [ParamAW-1:0] param_addr_q;
  logic             requant_q, per_channel_q;
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

  // Lane parameters. Per-tensor mode scales every column by the command's first word: its
  // multiplier and shift go to column 0 in the command's first block and stay there, and
  // the other columns copy them as their words are written (column 0's is written first),
  // so the lanes read one set of registers in either mode.
  logic [Cols*32-1:0] bias_q, mult_q;
  logic [Cols*8-1:0]  shift_q;

  // Output FIFO credit: reads in flight plus entries held must fit in the FIFO.
  logic [CreditW-1:0] out_level;
  logic [CreditW-1:0] inflight_q;
  logic               out_push, out_pop, out_full, out_empty;
  logic               out_keep_head;  // CLEAR keeps the head: it is presented, not taken
  logic               can_issue, issue, last_row;
  // Column group the lanes take next cycle: 0 with a row read this cycle, then 1.. on.
  logic [GrpW-1:0]    grp_q;
  logic               grp_busy;

  assign grp_busy  = (grp_q != '0);
  assign issue     = (state_q == StRows) && !grp_busy && can_issue;
  // AccInReg: the credit (entries held plus reads in flight) in a counter of its own and
  // the last-row flag in a register stepped with the row, so the issue is decided from
  // registers, not through the FIFO's level, an adder and a comparator.
  if (AccInReg) begin : gen_issue_reg
    logic [CreditW-1:0] used_q;
    logic               last_row_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        used_q     <= '0;
        last_row_q <= 1'b0;
      end else begin
        // CLEAR empties the FIFO but for a head it keeps, and drops the reads in flight.
        if (clear_i) used_q <= CreditW'(out_keep_head);
        else         used_q <= used_q + CreditW'(issue) - CreditW'(out_pop);
        if (job_pop)    last_row_q <= (head_m_rows == (AccAW + 1)'(1));
        else if (issue) last_row_q <= ((AccAW + 2)'(row_q) + 2 == (AccAW + 2)'(m_rows_q));
      end
    end
    assign can_issue = (used_q != CreditW'(OutDepth));
    assign last_row  = last_row_q;
`ifndef SYNTHESIS
    CreditCount_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                    used_q == CreditW'(out_level) + inflight_q)
      else $error("store unit: the credit counter lost count");
    LastRow_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                state_q == StRows |-> last_row_q == (row_q == m_rows_q - 1'b1))
      else $error("store unit: the last-row flag is out of step");
`endif
  end else begin : gen_issue_now
    assign can_issue = (CreditW'(out_level) + inflight_q) < CreditW'(OutDepth);
    assign last_row  = (row_q == m_rows_q - 1'b1);
  end

  logic zc_busy;  // the job slot the next job takes is still read (below)
  assign job_pop       = (state_q == StIdle) && job_valid && !zc_busy;
  // The last parameter word lands the cycle after its read; rows start then, or as soon
  // as the bank is written.
  logic params_done;
  assign params_done   = (state_q == StParams) && (param_idx_q == LaneW'(Cols));
  assign acc_start_o   = (params_done || state_q == StWait) && acc_written_i[bank_q];
  assign acc_bank_o    = bank_q;
  logic last_group_enters;  // the job's last row's last group enters the lanes (below)
  logic drain_done;         // StDrain ends: the lane parameters are no longer needed
  logic row_take;           // AccInReg: the row read shows at the accumulator's output
  if (AccInReg) begin : gen_acc_in_reg
    // The read leaves from registers (the accumulator's address mux and its block RAMs
    // lie across the die on a large FPGA); bank_q holds through StDrain, which now lasts
    // until the last group has entered the lanes, and the bank is handed back then.
    logic             rd_q, rd_shown_q;
    logic [AccAW-1:0] rd_addr_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        rd_q       <= 1'b0;
        rd_shown_q <= 1'b0;
        rd_addr_q  <= '0;
      end else begin
        rd_q       <= issue && !clear_i;
        rd_shown_q <= rd_q && !clear_i;
        if (issue) rd_addr_q <= row_q[AccAW-1:0];
      end
    end
    assign acc_re_o    = rd_q;
    assign acc_raddr_o = rd_addr_q;
    assign row_take    = rd_shown_q;
    assign acc_done_o  = last_group_enters;
    assign drain_done  = last_group_enters;
  end else begin : gen_acc_in_now
    assign acc_re_o    = issue;
    assign acc_raddr_o = row_q[AccAW-1:0];
    assign row_take    = 1'b0;
    assign acc_done_o  = (Groups == 1) ? issue && last_row : last_group_enters;
    assign drain_done  = (grp_q == GrpW'(Groups - 1));
  end
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
      StRows:   if (issue && last_row) state_d = (Groups > 1 || AccInReg) ? StDrain : StIdle;
      StDrain:  if (drain_done) state_d = StIdle;
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
      requant_q       <= 1'b0;
      per_channel_q   <= 1'b0;
      param_idx_q     <= '0;
      param_we_q      <= 1'b0;
      param_we_lane_q <= '0;
      inflight_q      <= '0;
      next_first_q    <= 1'b1;
      first_q         <= 1'b0;
      grp_q           <= '0;
    end else if (clear_i) begin
      state_q      <= StIdle;
      param_we_q   <= 1'b0;
      inflight_q   <= '0;
      next_first_q <= 1'b1;
      grp_q        <= '0;
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
        requant_q     <= head_requant;
        per_channel_q <= head_per_channel;
        param_idx_q   <= '0;
        first_q       <= next_first_q;
        next_first_q  <= head_cmd_last;
      end
      if (param_re_o) begin
        param_addr_q <= param_addr_q + 1'b1;
        param_idx_q  <= param_idx_q + 1'b1;
      end
      if (issue) row_q <= row_q + 1'b1;
      inflight_q <= inflight_q + CreditW'(issue) - CreditW'(out_push);
      if (Groups > 1) begin
        if (issue || grp_busy) grp_q <= (grp_q == GrpW'(Groups - 1)) ? '0 : grp_q + 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (param_we_q) begin
      for (int c = 0; c < Cols; c++) begin
        if (param_we_lane_q == LaneW'(c)) begin
          bias_q[c*32 +: 32] <= param_rdata_i[31:0];
          if (per_channel_q) begin
            mult_q[c*32 +: 32] <= param_rdata_i[63:32];
            shift_q[c*8 +: 8]  <= param_rdata_i[71:64];
          end else if (c != 0) begin
            mult_q[c*32 +: 32] <= mult_q[31:0];
            shift_q[c*8 +: 8]  <= shift_q[7:0];
          end else if (first_q) begin
            mult_q[31:0] <= param_rdata_i[63:32];
            shift_q[7:0] <= param_rdata_i[71:64];
          end
        end
      end
    end
  end

  // The zero point and clamp, read late in the lanes, do not travel down the sideband:
  // they wait in one of two job slots, and the sideband carries the slot's number. A job
  // takes the slot of the job before the last, so it is popped only when no group of
  // that job has yet to read it (zc_busy: in practice only after a job of one row).
  localparam int unsigned ZcW = 24;  // {zero point, clamp lo, clamp hi}
  logic [1:0][ZcW-1:0] zc_q;
  logic           jslot_q;            // the current job's slot
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)      jslot_q <= 1'b0;
    else if (job_pop) jslot_q <= !jslot_q;
  end
  always_ff @(posedge clk_i) begin
    if (job_pop) zc_q[!jslot_q] <= head_cfg[tsr_pkg::CfgHi +: ZcW];
  end

  // Sideband that travels with each column group into the lanes, from the cycle before
  // it enters them (the row's read for group 0): requant, the job slot, gemm
  // last, tlast, last group of the row, valid, and the group number.
  localparam int unsigned SideReq   = 0;
  localparam int unsigned SideJob   = 1;
  localparam int unsigned SideGemm  = 2;
  localparam int unsigned SideLast  = 3;
  localparam int unsigned SideEnd   = 4;  // last group of a row
  localparam int unsigned SideValid = 5;
  localparam int unsigned SideGrp   = 6;
  localparam int unsigned SideW     = SideGrp + GrpW;
  logic [PipeLatency*SideW-1:0] side_q;
  logic [SideW-1:0] side_in, side_lane, side_zp, side_clamp, side_out;
  logic             slot, slot_end, slot_gemm_last, slot_tlast;
  logic             row_last_q, row_gemm_last_q;  // of the row whose groups are under way
  assign slot           = issue || grp_busy;
  assign slot_end       = (Groups == 1) ? issue : (grp_q == GrpW'(Groups - 1));
  assign slot_tlast     = issue ? last_row : row_last_q;
  assign slot_gemm_last = issue ? (cmd_last_q && last_row) : row_gemm_last_q;
  assign side_in = {grp_q, slot, slot_end && slot, slot_tlast, slot_gemm_last, jslot_q,
                    requant_q};
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      side_q          <= '0;
      row_last_q      <= 1'b0;
      row_gemm_last_q <= 1'b0;
    end else if (clear_i) begin
      side_q <= '0;
    end else begin
      side_q <= {side_q[(PipeLatency-1)*SideW-1:0], side_in};
      if (issue) begin
        row_last_q      <= last_row;
        row_gemm_last_q <= cmd_last_q && last_row;
      end
    end
  end
  // side_q stage k (1-based) describes the group in its k-th cycle after side_in; a group
  // enters the lanes in its first, and the result comes out at stage PipeLatency. The
  // lanes read the zero point ZpAt and the clamp ClampAt cycles after they take a
  // group: from registers loaded out of the group's job slot a stage earlier.
  assign side_lane  = side_q[InExtra*SideW +: SideW];
  assign side_zp    = side_q[(InExtra + ZpAt - 1)*SideW +: SideW];
  assign side_clamp = side_q[(InExtra + ClampAt - 1)*SideW +: SideW];
  assign side_out   = side_q[(PipeLatency-1)*SideW +: SideW];
  logic [7:0]  zp_q;
  logic [15:0] clamp_q;  // {lo, hi}
  always_ff @(posedge clk_i) begin
    zp_q    <= zc_q[side_zp[SideJob]][tsr_pkg::CfgZp - tsr_pkg::CfgHi +: 8];
    clamp_q <= zc_q[side_clamp[SideJob]][15:0];
  end
  // A group that reads a slot later than this cycle must not see it rewritten.
  always_comb begin
    zc_busy = 1'b0;
    for (int k = 0; k < InExtra + ClampAt - 1; k++) begin
      if (side_q[k*SideW + SideValid] && side_q[k*SideW + SideJob] != jslot_q) zc_busy = 1'b1;
    end
  end

  // The row read from the accumulator shows the cycle after its read and stays there for
  // the later groups: the store unit reads no other row meanwhile, and the bank is not
  // handed back (acc_done_o) before its last row's last group has entered the lanes, so
  // no read-modify-write reads it either.
  // AccInReg: the row is registered as it shows (row_take) and held there instead.
  logic [Cols*32-1:0] row_data;
  if (AccInReg) begin : gen_row_reg
    logic [Cols*32-1:0] row_q_data;
    always_ff @(posedge clk_i) begin
      if (row_take) row_q_data <= acc_rdata_i;
    end
    assign row_data = row_q_data;
  end else begin : gen_row_direct
    assign row_data = acc_rdata_i;
  end

  logic [RqLanes*32-1:0] lane_data;
  logic [GrpW-1:0]       lane_grp;  // the group whose operands are selected this cycle
  if (AccInReg) begin : gen_grp_early
    // Selected a cycle before the group enters the lanes (gen_sel_reg below).
    assign lane_grp = side_q[(InExtra - 1)*SideW + SideGrp +: GrpW];
  end else begin : gen_grp_now
    assign lane_grp = side_lane[SideGrp +: GrpW];
  end
  assign last_group_enters = side_lane[SideValid] && side_lane[SideEnd] && side_lane[SideLast];
  for (genvar l = 0; l < RqLanes; l++) begin : gen_lane
    // The lane's column in the group entering now (per-tensor mode: its registers hold
    // the command's first multiplier and shift).
    logic [31:0] acc_sel, bias_sel, mult_sel;
    logic [7:0]  shift_sel;
    always_comb begin
      acc_sel   = row_data[l*32 +: 32];
      bias_sel  = bias_q[l*32 +: 32];
      mult_sel  = mult_q[l*32 +: 32];
      shift_sel = shift_q[l*8 +: 8];
      for (int g = 1; g < Groups; g++) begin
        if (lane_grp == GrpW'(g)) begin
          acc_sel   = row_data[(g*RqLanes+l)*32 +: 32];
          bias_sel  = bias_q[(g*RqLanes+l)*32 +: 32];
          mult_sel  = mult_q[(g*RqLanes+l)*32 +: 32];
          shift_sel = shift_q[(g*RqLanes+l)*8 +: 8];
        end
      end
    end
    // AccInReg: the selected operands are registered before the lane's first stage (the
    // lane parameters and the row are wide, and spread out on a large FPGA).
    logic [31:0] acc_in, bias_in, mult_in;
    logic [7:0]  shift_in;
    if (AccInReg) begin : gen_sel_reg
      always_ff @(posedge clk_i) begin
        acc_in   <= acc_sel;
        bias_in  <= bias_sel;
        mult_in  <= mult_sel;
        shift_in <= shift_sel;
      end
    end else begin : gen_sel_now
      assign acc_in   = acc_sel;
      assign bias_in  = bias_sel;
      assign mult_in  = mult_sel;
      assign shift_in = shift_sel;
    end
    tsr_requant #(.RoundSingle(RoundSingle), .Lean(RqLean), .Deep(RqDeep), .Mac16(RqMac16))
      u_requant (
      .clk_i,
      .requant_i   (side_lane[SideReq]),
      .acc_i       (acc_in),
      .bias_i      (bias_in),
      .mult_i      (mult_in),
      .shift_i     (shift_in),
      .zero_point_i(zp_q),
      .clamp_lo_i  (clamp_q[15:8]),
      .clamp_hi_i  (clamp_q[7:0]),
      .data_o      (lane_data[l*32 +: 32])
    );
  end

  // The beat: the earlier groups, shifted in as they leave the lanes, then the last one.
  logic [Cols*32-1:0] beat;
  if (Groups > 1) begin : gen_assemble
    logic [(Cols-RqLanes)*32-1:0] asm_q;
    logic [(Cols-RqLanes)*32-1:0] asm_d;
    if (Groups > 2) begin : gen_shift
      assign asm_d = {lane_data, asm_q[(Cols-RqLanes)*32-1:RqLanes*32]};
    end else begin : gen_one
      assign asm_d = lane_data;
    end
    always_ff @(posedge clk_i) begin
      if (side_out[SideValid] && !side_out[SideEnd]) asm_q <= asm_d;
    end
    assign beat = {lane_data, asm_q};
  end else begin : gen_beat_direct
    assign beat = lane_data;
  end

  logic [Cols*32+1:0] out_head;
  assign out_push = side_out[SideValid] && side_out[SideEnd];
  logic stale_q;
  assign out_keep_head = m_tvalid_o && !m_tready_i;
  tsr_fifo #(.Width(Cols*32 + 2), .Depth(OutDepth), .RegRead(OutFifoRegRead)) u_out (
    .clk_i, .rst_ni, .clear_i, .keep_head_i(out_keep_head),
    .push_i (out_push), .data_i({side_out[SideLast], side_out[SideGemm], beat}),
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

  // The output FIFO's level, not its empty flag: a registered-read FIFO counts a pushed
  // beat a cycle before it shows it.
  assign busy_o  = (state_q != StIdle) || job_valid || (inflight_q != '0) || (out_level != '0);
  assign stall_o = (state_q == StRows) && !grp_busy && !can_issue;

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
                                    (CreditW'(out_level) + inflight_q) <= CreditW'(OutDepth))
    else $error("output credit exceeded");
  LegalState_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 state_q inside {StIdle, StParams, StWait, StRows, StDrain});
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
  assign unused_status = ^{job_full, job_level, out_full, side_lane, side_zp, side_clamp,
                           side_out, row_take};

endmodule
