// Dispatcher: takes the command at the FIFO head into its own register, validates every
// field against the configuration (a few pipelined cycles, see "head register"), and
// hands it to its unit when its unit is free and tsr_hazard finds no overlap with the
// work in flight (docs/isa.md, "Ordering"):
//   GEMM: the execute unit is free and the LOAD in progress writes nothing it reads;
//   LOAD: the load unit is free and no GEMM that still reads its target overlaps it;
//   SPGEMM, SPGEMMA (Sparse = 1; SPGEMMA also Rows = Cols): the sparse unit is free, the
//   execute unit holds no GEMM, and the LOAD in progress writes nothing it reads.
// With Coarse, "overlaps" is "might overlap": the scratchpad alone decides (tsr_hazard).
// A bad command is dropped and latches a sticky error; until CLEAR, every later command
// is dropped too, one a cycle, so the FIFO always drains. Errors the units find while
// running (input packet, PARAM shift) and a command lost to a full FIFO latch the same
// way through err_req_i and sp_err_i.
module tsr_dispatch #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned ActDepth   = 64,
  parameter int unsigned WgtDepth   = 64,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  parameter bit          Sparse     = 1'b0,  // SPGEMM, LOAD META and GBUF
  parameter int unsigned GbufDepth  = 2,     // without Sparse: 2 (the widths stay small)
  parameter int unsigned MetaDepth  = 2,
  parameter bit          HeadInFifo = 1'b0,  // the FIFO's head is a register (block RAM)
  parameter bit          Coarse     = 1'b0,  // tsr_hazard compares no ranges (small boards)
  parameter bit          SerialMul  = 1'b0,  // kt*M and kt*nt a bit a cycle (slow clocks)
  parameter bit          HazardReg  = 1'b0,  // the hand-off decided a cycle ahead, into
                                             // registers (large FPGAs)
  localparam int unsigned ActAW   = $clog2(ActDepth),
  localparam int unsigned WgtAW   = $clog2(WgtDepth),
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned GbufAW  = $clog2(GbufDepth),
  localparam int unsigned MetaAW  = $clog2(MetaDepth),
  localparam int unsigned LoadAW  = tsr_pkg::load_aw(ActAW, WgtAW, ParamAW, GbufAW, MetaAW)
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               clear_i,
  // Command FIFO: its head, and the pushes into it (for the command index).
  input  logic               cmd_push_i,
  input  logic               cmd_valid_i,
  input  logic [127:0]       cmd_i,
  output logic               cmd_pop_o,
  // LOAD to the load unit.
  output logic               load_valid_o,
  input  logic               load_ready_i,
  output logic [2:0]         load_target_o,
  output logic [LoadAW-1:0]  load_dst_o,
  output logic [LoadAW:0]    load_count_o,
  // GEMM to the execute unit.
  output logic               gemm_valid_o,
  input  logic               gemm_ready_i,
  output logic [ActAW-1:0]   gemm_act_base_o,
  output logic [WgtAW-1:0]   gemm_wgt_base_o,
  output logic [ParamAW-1:0] gemm_param_base_o,
  output logic [AccAW:0]     gemm_m_rows_o,
  output logic [7:0]         gemm_kt_count_o,
  output logic [7:0]         gemm_nt_count_o,
  output logic [15:0]        gemm_folds_o,    // kt_count * nt_count
  output logic [tsr_pkg::StoreCfgW-1:0] gemm_store_cfg_o,
  // SPGEMM to the sparse unit.
  output logic               sp_valid_o,
  input  logic               sp_ready_i,
  output logic [GbufAW-1:0]  sp_gbuf_base_o,
  output logic [WgtAW-1:0]   sp_wgt_base_o,
  output logic [MetaAW-1:0]  sp_meta_base_o,
  output logic [6:0]         sp_m_rows_o,
  output logic [7:0]         sp_k_last_o,
  output logic [7:0]         sp_len_last_o,
  output logic [7:0]         sp_nt_count_o,
  output logic               sp_trans_o,      // SPGEMMA: A compressed, the sums transposed
  // Releases for the hazard checks.
  input  logic               gemm_cmd_done_i, // the execute unit issued a GEMM's last row
  input  logic               sp_reads_done_i, // the sparse unit read an SPGEMM's last word
  input  logic               param_release_i, // the store unit read a GEMM's last PARAM word
  // Errors found outside the dispatcher: the first one wins, like a bad command.
  input  logic               err_req_i,
  input  logic [7:0]         err_req_code_i,
  input  logic               sp_err_i,        // BAD_META from the running SPGEMM
  input  logic               overflow_i,      // a command was lost to a full FIFO
  // Status.
  output logic               error_o,
  output logic [7:0]         err_code_o,
  output logic [31:0]        err_cmd_o,
  output logic               dropped_o,      // a command was dropped this cycle
  output logic               busy_o
);

  // ---- head register -------------------------------------------------------------------
  // The FIFO head is copied into head_q before anything looks at it, so the FIFO's read
  // path ends at a register. Validation then takes ValidLatency cycles, one short step a
  // cycle (shift-and-add partial products, no multipliers): stage k computes in phase
  // k-1 and then holds, so the verdict and the region ends stay with the head while it
  // waits, and the checks below look only at registers. A new head is taken
  // in the cycle the old one leaves (handed off or dropped), so commands still leave one a
  // cycle while the error is set; a valid one leaves at best every ValidLatency+1 cycles.
  // With HeadInFifo (a FIFO whose head is already a block RAM's read register, stable
  // until popped: tsr_fifo RegRead) that register is the head: the command is validated
  // in place and popped as it leaves, with the same timing, and no copy is made (on an
  // iCE40 each of its flip-flops would take a logic cell of its own).
  // SerialMul: stage 1's products take 8 cycles, one bit of kt each, the stages after
  // it wait for them.
  localparam int unsigned MulCycles    = SerialMul ? 8 : 1;
  localparam int unsigned ValidLatency = 3 + MulCycles;
  localparam int unsigned PhaseW       = $clog2(ValidLatency + 1);

  logic         head_valid, head_leave;
  logic [127:0] head;
  logic [PhaseW-1:0] phase_q;    // cycles the head has been held, saturating at ValidLatency
  logic         checked;         // the validation registers describe the head

  assign checked = head_valid && (phase_q == PhaseW'(ValidLatency));

  if (HeadInFifo) begin : gen_head_in_fifo
    assign head_valid = cmd_valid_i;
    assign head       = cmd_i;
    assign cmd_pop_o  = head_leave;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        phase_q <= '0;
      end else if (clear_i || head_leave || !cmd_valid_i) begin
        phase_q <= '0;  // the next head, if any, shows in the next cycle
      end else if (phase_q != PhaseW'(ValidLatency)) begin
        phase_q <= phase_q + 1'b1;
      end
    end
  end else begin : gen_head_reg
    logic         head_valid_q, head_take;
    logic [127:0] head_q;
    assign head_take  = cmd_valid_i && (!head_valid_q || head_leave);
    assign head_valid = head_valid_q;
    assign head       = head_q;
    assign cmd_pop_o  = head_take;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        head_valid_q <= 1'b0;
        head_q       <= '0;
        phase_q      <= '0;
      end else if (clear_i) begin
        head_valid_q <= 1'b0;
        phase_q      <= '0;
      end else begin
        if (head_take) begin
          head_valid_q <= 1'b1;
          head_q       <= cmd_i;
          phase_q      <= '0;
        end else begin
          if (head_leave) head_valid_q <= 1'b0;
          if (phase_q != PhaseW'(ValidLatency)) phase_q <= phase_q + 1'b1;
        end
      end
    end
  end

  // ---- decode (all from the head) ------------------------------------------------------
  logic [31:0] w0, w1, w2, w3;
  assign {w3, w2, w1, w0} = head;

  logic [7:0]  opcode;
  logic        is_load, is_gemm, is_sp, is_spa;
  assign opcode  = w0[7:0];
  assign is_load = (opcode == tsr_pkg::OpLoad);
  assign is_gemm = (opcode == tsr_pkg::OpGemm);
  // SPGEMMA runs as an SPGEMM (the same fields and checks) with transposed sums; it needs
  // a square array, the lanes of a row block's output being the array's rows.
  assign is_spa  = Sparse && Rows == Cols && (opcode == tsr_pkg::OpSpgemmA);
  assign is_sp   = (Sparse && (opcode == tsr_pkg::OpSpgemm)) || is_spa;

  // LOAD fields.
  logic [2:0]  ld_target;
  logic        ld_bad_target;
  assign ld_target     = w0[10:8];
  assign ld_bad_target = (ld_target > (Sparse ? tsr_pkg::TgtGbuf : tsr_pkg::TgtParam));

  // GEMM fields.
  logic [15:0] g_act_base, g_wgt_base, g_param_base, g_m_rows;
  logic [7:0]  g_kt, g_nt, g_zp, g_lo, g_hi;
  logic        g_requant, g_per_channel;
  assign g_requant     = w0[8];
  assign g_per_channel = w0[9];
  assign g_zp          = w0[23:16];
  assign {g_wgt_base, g_act_base}   = w1;
  assign {g_m_rows, g_param_base}   = w2;
  assign {g_hi, g_lo, g_nt, g_kt}   = w3;

  // SPGEMM fields (requant, per_channel, zero point and clamp where GEMM has them; nt_count
  // where GEMM has kt_count).
  logic [15:0] s_gbuf_base, s_wgt_base, s_meta_base;
  logic [6:0]  s_m_rows;
  logic [7:0]  s_k_last, s_len_last, s_nt;
  logic [8:0]  s_k_count, s_len;
  assign s_m_rows   = {1'b0, w0[15:10]} + 7'd1;
  assign s_k_last   = w0[31:24];
  assign s_len_last = w3[15:8];
  assign s_nt       = w3[7:0];

  logic [7:0] nt_count;  // column blocks: GEMM, SPGEMM (SPGEMMA: one, for all row blocks)
  assign nt_count = is_spa ? 8'd1 : is_sp ? s_nt : g_nt;
  assign s_k_count  = {1'b0, s_k_last} + 9'd1;
  assign s_len      = {1'b0, s_len_last} + 9'd1;
  assign {s_wgt_base, s_gbuf_base}  = w1;
  assign s_meta_base = w2[31:16];  // param_base: the GEMM's field

  // ---- validation pipeline -------------------------------------------------------------
  // Region ends, in widths sized from the depths: ACT base + kt*M, WGT base + kt*nt*Rows,
  // PARAM base + nt*Cols. A base at or past its scratchpad is an ADDR_RANGE error of its
  // own (s1_base_range_q, s1_par_base_q) and an M above AccDepth a SHAPE error (which
  // outranks it), so an end adds only the base's low bits and M's to the product: it is
  // exact whenever those checks pass, and nothing wraps.
  localparam int unsigned RowsW = $clog2(Rows + 1);
  localparam int unsigned ColsW = $clog2(Cols + 1);
  localparam int unsigned MW    = AccAW + 1;          // M <= AccDepth
  localparam int unsigned ActPW = 8 + MW;             // kt * M
  localparam int unsigned KnW   = 16;                 // kt * nt < 2^16
  localparam int unsigned WgtPW = KnW + RowsW;        // kt * nt * Rows
  localparam int unsigned ParPW = 8 + ColsW;          // nt * Cols
  localparam int unsigned ActEW = (ActPW > ActAW ? ActPW : ActAW) + 1;
  localparam int unsigned WgtEW = (WgtPW > WgtAW ? WgtPW : WgtAW) + 1;
  localparam int unsigned ParEW = (ParPW > ParamAW ? ParPW : ParamAW) + 1;
  localparam int unsigned EndW  = 26;                 // > every SPGEMM end (16-bit base)
  // A LOAD's end: dst and count each at most 2^(LoadAW+1) - 1 (either one larger is
  // past every scratchpad by itself: s1_ld_big_q), so their sum fits LdEW bits.
  localparam int unsigned LdEW  = LoadAW + 2;

  // x * C for a constant C, as a sum of shifted copies of x (no multiplier cell).
  function automatic logic [EndW-1:0] times_const(input logic [EndW-1:0] x,
                                                  input int unsigned c);
    times_const = '0;
    for (int i = 0; i < 7; i++) begin
      if (c[i]) times_const = times_const + (x << i);
    end
  endfunction

  // Partial products of a * b over four bits of a each: b << i where a[i] is set.
  function automatic logic [23:0] partial4(input logic [3:0] a, input logic [15:0] b,
                                            input int unsigned base);
    partial4 = '0;
    for (int i = 0; i < 4; i++) begin
      if (a[i]) partial4 = partial4 + (24'(b) << (base + i));
    end
  endfunction

  // Stage 1: partial products, the LOAD end, the checks that need no arithmetic.
  logic [ActPW-1:0] s1_act_lo_q, s1_act_hi_q;      // kt[3:0]*M, kt[7:4]*M (SerialMul:
                                                   // kt*M, 0)
  logic [KnW-1:0]   s1_kn_lo_q, s1_kn_hi_q;        // kt[3:0]*nt, kt[7:4]*nt (likewise)
  logic [ParPW-1:0] s1_par_q;                      // nt * Cols
  logic [LdEW-1:0]  s1_ld_end_q, s1_ld_depth_q;
  logic             s1_ld_big_q;                   // dst or count >= 2^(LoadAW+1)
  logic             s1_bad_field_q, s1_bad_shape_q;
  logic             s1_base_range_q;  // a GEMM base already past its scratchpad
  logic             s1_par_base_q;    // the PARAM base past PARAM (GEMM, SPGEMM)
  logic [23:0]      s1_sp_lo_q, s1_sp_hi_q;        // SPGEMM nt[3:0]*len, nt[7:4]*len
  logic [EndW-1:0]  s1_gbuf_end_q;                 // SPGEMM GBUF end
  logic [EndW-1:0]  s2_sp_kn_q;                    // SPGEMM nt * len
  logic             s2_gbuf_range_q;
  logic [EndW-1:0]  s3_sp_wgt_end_q, s3_meta_end_q;
  // Stage 2: region ends.
  logic [ActEW-1:0] s2_act_end_q;
  logic [ParEW-1:0] s2_par_end_q;
  logic [KnW-1:0]   s2_kn_q;
  logic             s2_ld_range_q;
  // Stage 3: the WGT end, the range checks.
  logic [WgtEW-1:0] s3_wgt_end_q;
  logic             s3_act_range_q, s3_par_range_q;
  // Stage 4: the verdict.
  logic [7:0]       check_q;
  logic [7:0]       check_d;
  logic [7:0]       check;  // the verdict, under the name the wave views show
  assign check = check_q;

  always_ff @(posedge clk_i) begin
    // Stage 1.
    if (phase_q == PhaseW'(0)) begin
      s1_par_q      <= ParPW'(times_const(EndW'(nt_count), Cols));
      s1_ld_end_q   <= LdEW'(w1[LoadAW:0]) + LdEW'(w2[LoadAW:0]);
      s1_ld_big_q   <= (w1 >> (LoadAW + 1)) != 32'd0 || (w2 >> (LoadAW + 1)) != 32'd0;
      case (ld_target)
        tsr_pkg::TgtAct:  s1_ld_depth_q <= LdEW'(ActDepth);
        tsr_pkg::TgtWgt:  s1_ld_depth_q <= LdEW'(WgtDepth);
        tsr_pkg::TgtMeta: s1_ld_depth_q <= LdEW'(MetaDepth);
        tsr_pkg::TgtGbuf: s1_ld_depth_q <= LdEW'(GbufDepth);
        default:          s1_ld_depth_q <= LdEW'(ParamDepth);
      endcase
      s1_sp_lo_q    <= partial4(s_nt[3:0], {7'd0, s_len}, 0);
      s1_sp_hi_q    <= partial4(s_nt[7:4], {7'd0, s_len}, 4);
      s1_gbuf_end_q <= EndW'(s_gbuf_base) + EndW'(s_k_count);
      s1_bad_field_q <= is_load ? ld_bad_target
                                : (g_requant && $signed(g_lo) > $signed(g_hi));
      s1_bad_shape_q <= is_load ? (w2 == 32'd0)
                      : is_sp   ? (s_nt == 8'd0 || 32'(s_m_rows) > 32'(Rows))
                                : (g_m_rows == 16'd0 || g_kt == 8'd0 || g_nt == 8'd0 ||
                                   32'(g_m_rows) > 32'(AccDepth));
      // Implied by the ends below (every product is >= 1 once the shape is legal), but
      // judged on its own: it keeps the dispatcher's proof free of the products.
      s1_base_range_q <= 32'(g_act_base) >= 32'(ActDepth) ||
                         32'(g_wgt_base) >= 32'(WgtDepth) ||
                         32'(g_param_base) >= 32'(ParamDepth);
      s1_par_base_q   <= 32'(g_param_base) >= 32'(ParamDepth);
    end
    // Stage 2.
    if (phase_q == PhaseW'(MulCycles)) begin
      s2_act_end_q  <= ActEW'(g_act_base[ActAW-1:0]) + ActEW'(s1_act_lo_q) +
                       ActEW'(s1_act_hi_q);
      s2_kn_q       <= s1_kn_lo_q + s1_kn_hi_q;
      s2_par_end_q  <= ParEW'(g_param_base[ParamAW-1:0]) + ParEW'(s1_par_q);
      s2_ld_range_q <= s1_ld_big_q || s1_ld_end_q > s1_ld_depth_q;
      s2_sp_kn_q      <= EndW'(s1_sp_lo_q) + EndW'(s1_sp_hi_q);
      s2_gbuf_range_q <= s1_gbuf_end_q > EndW'(GbufDepth);
    end
    // Stage 3.
    if (phase_q == PhaseW'(MulCycles + 1)) begin
      s3_wgt_end_q   <= WgtEW'(g_wgt_base[WgtAW-1:0]) +
                        WgtEW'(WgtPW'(times_const(EndW'(s2_kn_q), Rows)));
      s3_act_range_q <= s2_act_end_q > ActEW'(ActDepth);
      s3_par_range_q <= s1_par_base_q || s2_par_end_q > ParEW'(ParamDepth);
      s3_sp_wgt_end_q <= EndW'(s_wgt_base) + s2_sp_kn_q;
      s3_meta_end_q   <= EndW'(s_meta_base) + s2_sp_kn_q;
    end
    // Stage 4.
    if (phase_q == PhaseW'(MulCycles + 2)) check_q <= check_d;
  end

  // Stage 1's products, kt*M (M's low MW bits) and kt*nt.
  if (SerialMul) begin : gen_mul_serial
    // Top bit of kt first: p <= 2p + (kt[7 - phase] ? x : 0), 8 cycles from phase 0.
    logic kt_bit;
    assign kt_bit = g_kt[3'd7 - phase_q[2:0]];
    assign s1_act_hi_q = '0;
    assign s1_kn_hi_q  = '0;
    always_ff @(posedge clk_i) begin
      if (phase_q < PhaseW'(MulCycles)) begin
        s1_act_lo_q <= (phase_q == '0 ? '0 : s1_act_lo_q << 1) +
                       (kt_bit ? ActPW'(g_m_rows[MW-1:0]) : '0);
        s1_kn_lo_q  <= (phase_q == '0 ? '0 : s1_kn_lo_q << 1) + (kt_bit ? KnW'(g_nt) : '0);
      end
    end
  end else begin : gen_mul_partial
    always_ff @(posedge clk_i) begin
      if (phase_q == PhaseW'(0)) begin
        s1_act_lo_q <= ActPW'(partial4(g_kt[3:0], 16'(g_m_rows[MW-1:0]), 0));
        s1_act_hi_q <= ActPW'(partial4(g_kt[7:4], 16'(g_m_rows[MW-1:0]), 4));
        s1_kn_lo_q  <= KnW'(partial4(g_kt[3:0], {8'd0, g_nt}, 0));
        s1_kn_hi_q  <= KnW'(partial4(g_kt[7:4], {8'd0, g_nt}, 4));
      end
    end
  end

  always_comb begin
    check_d = tsr_pkg::ErrNone;
    if (!is_load && !is_gemm && !is_sp) check_d = tsr_pkg::ErrIllegalOp;
    else if (s1_bad_field_q)           check_d = tsr_pkg::ErrBadField;
    else if (s1_bad_shape_q)           check_d = tsr_pkg::ErrShape;
    else if (is_load ? s2_ld_range_q
           : is_sp   ? (s2_gbuf_range_q || s3_par_range_q ||
                        s3_sp_wgt_end_q > EndW'(WgtDepth) ||
                        s3_meta_end_q > EndW'(MetaDepth))
                     : (s1_base_range_q || s3_act_range_q || s3_par_range_q ||
                        s3_wgt_end_q > WgtEW'(WgtDepth)))
                                       check_d = tsr_pkg::ErrAddrRange;
  end

  // ---- hazard checks -----------------------------------------------------------------
  logic invalid, bad, load_go, gemm_go, sp_go, drop;
  logic error_q;
  logic ld_hazard, gemm_hazard, sp_hazard, sp_held, readers_full;
  tsr_hazard #(
    .ActAW(ActAW), .WgtAW(WgtAW), .ParamAW(ParamAW), .LoadAW(LoadAW),
    .GbufAW(GbufAW), .MetaAW(MetaAW), .Coarse(Coarse)
  ) u_hazard (
    .clk_i, .rst_ni, .clear_i,
    .ld_head_i     (checked && is_load && !error_q && !invalid),
    .gemm_head_i   (checked && is_gemm && !error_q && !invalid),
    .sp_head_i     (checked && is_sp && !error_q && !invalid),
    .ld_target_i   (ld_target),
    .ld_lo_i       (w1[LoadAW:0]),
    .ld_hi_i       (s1_ld_end_q[LoadAW:0]),
    .act_lo_i      ({1'b0, g_act_base[ActAW-1:0]}),
    .act_hi_i      (s2_act_end_q[ActAW:0]),
    .wgt_lo_i      ({1'b0, g_wgt_base[WgtAW-1:0]}),
    .wgt_hi_i      (s3_wgt_end_q[WgtAW:0]),
    .param_lo_i    ({1'b0, g_param_base[ParamAW-1:0]}),
    .param_hi_i    (s2_par_end_q[ParamAW:0]),
    .gbuf_lo_i     ({1'b0, s_gbuf_base[GbufAW-1:0]}),
    .gbuf_hi_i     (s1_gbuf_end_q[GbufAW:0]),
    .sp_wgt_lo_i   ({1'b0, s_wgt_base[WgtAW-1:0]}),
    .sp_wgt_hi_i   (s3_sp_wgt_end_q[WgtAW:0]),
    .meta_lo_i     ({1'b0, s_meta_base[MetaAW-1:0]}),
    .meta_hi_i     (s3_meta_end_q[MetaAW:0]),
    .ld_hazard_o   (ld_hazard),
    .gemm_hazard_o (gemm_hazard),
    .sp_hazard_o   (sp_hazard),
    .sp_held_o     (sp_held),
    .readers_full_o(readers_full),
    .ld_go_i       (load_go),
    .gemm_go_i     (gemm_go),
    .sp_go_i       (sp_go),
    .load_free_i   (load_ready_i),
    .exec_done_i   (gemm_cmd_done_i),
    .sp_done_i     (sp_reads_done_i),
    .param_release_i
  );

  // ---- hand-off and errors -----------------------------------------------------------
  logic [7:0]  err_code_q;
  logic [31:0] err_cmd_q, cmd_index_q;

  // A command that fails validation is judged once the load unit is idle and the SPGEMM in
  // the sparse unit has checked all its META entries: the LOAD or SPGEMM in progress comes
  // first in program order, and its packet or BAD_META error must win.
  assign invalid = checked && (check_q != tsr_pkg::ErrNone);
  assign drop    = head_valid && (error_q || bad);

  if (HazardReg) begin : gen_hand_off_reg
    // HazardReg: the hand-off (and the drop of a bad command) is decided a cycle ahead,
    // into registers, so the range comparators, the units' far-away readiness and the
    // verdict no longer share a cycle with the hand-off's wide fan-out (the FIFO pop, the
    // head register, every unit's command registers, the scoreboard's ranges). In the
    // cycle before the head is checked (phase ValidLatency - 1, when every stage register
    // and so check_d already describe it) and every cycle after, the registers take what
    // the hand-off will need: the head stays, the error stays clear, the verdict, and the
    // hazards and readiness of this cycle. Those are then a cycle old, which is safe and
    // at worst a cycle late: a hazard or a busy unit only ever appears through a hand-off
    // (the head then leaves, and the next one is validated for ValidLatency cycles);
    // everything else only releases (a range retired, a unit done, a PARAM reader freed).
    logic stays_checked, error_next, verdict_ok;
    logic ld_go_q, gemm_go_q, sp_go_q, bad_q;
    assign stays_checked = head_valid && !head_leave && !clear_i &&
                           (phase_q >= PhaseW'(ValidLatency - 1));
    assign error_next    = error_q || overflow_i || err_req_i || sp_err_i || bad;
    assign verdict_ok    = (check_d == tsr_pkg::ErrNone);
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        ld_go_q   <= 1'b0;
        gemm_go_q <= 1'b0;
        sp_go_q   <= 1'b0;
        bad_q     <= 1'b0;
      end else begin
        ld_go_q   <= stays_checked && !error_next && verdict_ok && is_load && load_ready_i &&
                     !ld_hazard;
        gemm_go_q <= stays_checked && !error_next && verdict_ok && is_gemm && gemm_ready_i &&
                     !gemm_hazard && !readers_full;
        sp_go_q   <= stays_checked && !error_next && verdict_ok && is_sp && sp_ready_i &&
                     !sp_hazard && !readers_full;
        bad_q     <= stays_checked && !verdict_ok && load_ready_i && !sp_held;
      end
    end
    assign load_go = ld_go_q;
    assign gemm_go = gemm_go_q;
    assign sp_go   = sp_go_q;
    assign bad     = bad_q;
  end else begin : gen_hand_off_now
    assign bad     = invalid && load_ready_i && !sp_held;
    assign load_go = checked && !error_q && !invalid && is_load && load_ready_i && !ld_hazard;
    assign gemm_go = checked && !error_q && !invalid && is_gemm && gemm_ready_i &&
                     !gemm_hazard && !readers_full;
    assign sp_go   = checked && !error_q && !invalid && is_sp && sp_ready_i &&
                     !sp_hazard && !readers_full;
  end

  assign head_leave   = drop || load_go || gemm_go || sp_go;
  assign load_valid_o = load_go;
  assign gemm_valid_o = gemm_go;
  assign sp_valid_o   = sp_go;

  assign load_target_o     = ld_target;
  assign load_dst_o        = w1[LoadAW-1:0];
  assign load_count_o      = w2[LoadAW:0];
  assign gemm_act_base_o   = g_act_base[ActAW-1:0];
  assign gemm_wgt_base_o   = g_wgt_base[WgtAW-1:0];
  assign gemm_param_base_o = g_param_base[ParamAW-1:0];
  assign gemm_m_rows_o     = g_m_rows[AccAW:0];
  assign gemm_kt_count_o   = g_kt;
  assign gemm_nt_count_o   = g_nt;
  assign gemm_folds_o      = s2_kn_q;
  assign sp_gbuf_base_o    = s_gbuf_base[GbufAW-1:0];
  assign sp_wgt_base_o     = s_wgt_base[WgtAW-1:0];
  assign sp_meta_base_o    = s_meta_base[MetaAW-1:0];
  assign sp_m_rows_o       = s_m_rows;
  assign sp_k_last_o       = s_k_last;
  assign sp_len_last_o     = s_len_last;
  assign sp_nt_count_o     = s_nt;
  assign sp_trans_o        = is_spa;
  always_comb begin
    gemm_store_cfg_o                            = '0;
    gemm_store_cfg_o[tsr_pkg::CfgRequant]       = g_requant;
    gemm_store_cfg_o[tsr_pkg::CfgPerChan]       = g_per_channel;
    gemm_store_cfg_o[tsr_pkg::CfgZp +: 8]       = g_zp;
    gemm_store_cfg_o[tsr_pkg::CfgLo +: 8]       = g_lo;
    gemm_store_cfg_o[tsr_pkg::CfgHi +: 8]       = g_hi;
  end

  assign error_o    = error_q;
  assign err_code_o = err_code_q;
  assign err_cmd_o  = err_cmd_q;
  assign dropped_o  = drop;
  assign busy_o     = head_valid;

  // The index of the command a unit reports an error for: the last one handed to the
  // load unit (a LOAD's packet or PARAM word) or to the sparse unit (BAD_META); when both
  // report in one cycle, the earlier command's error wins. A command lost to a full FIFO
  // is the one after every command pushed so far.
  logic [31:0] load_index_q, sp_index_q, pushed_index_q;
  logic        load_err_first;
  assign load_err_first = err_req_i && (!sp_err_i || load_index_q < sp_index_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      error_q        <= 1'b0;
      err_code_q     <= tsr_pkg::ErrNone;
      err_cmd_q      <= '0;
      cmd_index_q    <= '0;
      load_index_q   <= '0;
      sp_index_q     <= '0;
      pushed_index_q <= '0;
    end else begin
      if (cmd_push_i || overflow_i) pushed_index_q <= pushed_index_q + 32'd1;
      if (clear_i) begin
        error_q    <= 1'b0;
        err_code_q <= tsr_pkg::ErrNone;
        // Commands the CLEAR empties from the FIFO count as issued: the index keeps
        // counting every command written (no push can coincide with a CLEAR write).
        cmd_index_q <= pushed_index_q;
      end else begin
        if (head_leave) cmd_index_q <= cmd_index_q + 32'd1;
        if (load_go) load_index_q <= cmd_index_q;
        if (sp_go)   sp_index_q   <= cmd_index_q;
        if (!error_q) begin
          if (overflow_i) begin
            error_q    <= 1'b1;
            err_code_q <= tsr_pkg::ErrOverflow;
            err_cmd_q  <= pushed_index_q;
          end else if (load_err_first) begin
            error_q    <= 1'b1;
            err_code_q <= err_req_code_i;
            err_cmd_q  <= load_index_q;
          end else if (sp_err_i) begin
            error_q    <= 1'b1;
            err_code_q <= tsr_pkg::ErrBadMeta;
            err_cmd_q  <= sp_index_q;
          end else if (bad) begin
            error_q    <= 1'b1;
            err_code_q <= check_q;
            err_cmd_q  <= cmd_index_q;
          end
        end
      end
    end
  end

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  OneHandOff_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 $onehot0({drop, load_go, gemm_go, sp_go}));
  PopOnlyValid_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   cmd_pop_o |-> cmd_valid_i);
  LeaveOnlyValid_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                     head_leave |-> head_valid);
  // The validation registers describe the head only while it holds still until it
  // leaves: the copy does by construction, a FIFO head (HeadInFifo) must.
  HeadHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                               head_valid && !head_leave |=> head_valid && $stable(head))
    else $error("the command at the head changed or vanished before it left");
  CmdLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni) load_go);
  CmdLoadAct_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                load_go && ld_target == tsr_pkg::TgtAct);
  CmdLoadWgt_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                load_go && ld_target == tsr_pkg::TgtWgt);
  CmdLoadParam_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                  load_go && ld_target == tsr_pkg::TgtParam);
  CmdGemm_C: cover property (@(posedge clk_i) disable iff (!rst_ni) gemm_go);
  CmdSpgemm_C: cover property (@(posedge clk_i) disable iff (!rst_ni) sp_go);
  CmdLoadSparse_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                   load_go && ld_target >= tsr_pkg::TgtMeta);
  ErrBadMeta_C: cover property (@(posedge clk_i) disable iff (!rst_ni) sp_err_i && !error_q);
  CmdGemmMultiBlock_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                       gemm_go && g_kt >= 8'd2 && g_nt >= 8'd2);
  ErrIllegalOp_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                  bad && !error_q && check_q == tsr_pkg::ErrIllegalOp);
  ErrAddrRange_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                  bad && !error_q && check_q == tsr_pkg::ErrAddrRange);
  ErrShape_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                              bad && !error_q && check_q == tsr_pkg::ErrShape);
  ErrBadField_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                 bad && !error_q && check_q == tsr_pkg::ErrBadField);
  ErrStream_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                               err_req_i && !error_q && err_req_code_i == tsr_pkg::ErrStream);
  ErrBadParam_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                 err_req_i && !error_q && err_req_code_i == tsr_pkg::ErrBadParam);
  ErrOverflow_C: cover property (@(posedge clk_i) disable iff (!rst_ni) overflow_i && !error_q);
  DropWhileError_C: cover property (@(posedge clk_i) disable iff (!rst_ni) drop && error_q);
  ClearWhileError_C: cover property (@(posedge clk_i) disable iff (!rst_ni) clear_i && error_q);
`endif

  logic unused_fields;
  assign unused_fields = ^{w0[31:24], w0[15:10], check, s_wgt_base, s_gbuf_base, s_meta_base};

endmodule
