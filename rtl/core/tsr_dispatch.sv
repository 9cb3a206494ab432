// Dispatcher: decodes the command at the FIFO head, validates every field against the
// configuration, and hands it to its unit when its unit is free and tsr_hazard finds no
// overlap with the work in flight (docs/isa.md, "Ordering"):
//   GEMM: the execute unit is free and the LOAD in progress writes nothing it reads;
//   LOAD: the load unit is free and no GEMM that still reads its target overlaps it.
// A bad command is dropped and latches a sticky error; until CLEAR, every later command
// is dropped too, one a cycle, so the FIFO always drains. Errors the units find while
// running (input packet, PARAM shift) and a command lost to a full FIFO latch the same
// way through err_req_i.
module tsr_dispatch #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned ActDepth   = 64,
  parameter int unsigned WgtDepth   = 64,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  localparam int unsigned ActAW   = $clog2(ActDepth),
  localparam int unsigned WgtAW   = $clog2(WgtDepth),
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned LoadAW  = (ActAW > WgtAW) ? ((ActAW > ParamAW) ? ActAW : ParamAW)
                                                    : ((WgtAW > ParamAW) ? WgtAW : ParamAW)
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
  output logic [1:0]         load_target_o,
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
  output logic [tsr_pkg::StoreCfgW-1:0] gemm_store_cfg_o,
  // Releases for the hazard checks.
  input  logic               gemm_cmd_done_i, // the execute unit issued a GEMM's last row
  input  logic               param_release_i, // the store unit read a GEMM's last PARAM word
  // Errors found outside the dispatcher: the first one wins, like a bad command.
  input  logic               err_req_i,
  input  logic [7:0]         err_req_code_i,
  input  logic               overflow_i,      // a command was lost to a full FIFO
  // Status.
  output logic               error_o,
  output logic [7:0]         err_code_o,
  output logic [31:0]        err_cmd_o,
  output logic               dropped_o,      // a command was dropped this cycle
  output logic               busy_o
);

  // ---- decode ------------------------------------------------------------------------
  logic [31:0] w0, w1, w2, w3;
  assign {w3, w2, w1, w0} = cmd_i;

  logic [7:0]  opcode;
  logic        is_load, is_gemm;
  assign opcode  = w0[7:0];
  assign is_load = (opcode == tsr_pkg::OpLoad);
  assign is_gemm = (opcode == tsr_pkg::OpGemm);

  // LOAD fields.
  logic [1:0]  ld_target;
  logic [32:0] ld_end, ld_depth;
  assign ld_target = w0[9:8];
  assign ld_end    = {1'b0, w1} + {1'b0, w2};
  always_comb begin
    case (ld_target)
      tsr_pkg::TgtAct:   ld_depth = 33'(ActDepth);
      tsr_pkg::TgtWgt:   ld_depth = 33'(WgtDepth);
      default:           ld_depth = 33'(ParamDepth);
    endcase
  end

  // GEMM fields.
  logic [15:0] g_act_base, g_wgt_base, g_param_base, g_m_rows;
  logic [7:0]  g_kt, g_nt, g_zp, g_lo, g_hi;
  logic        g_requant, g_per_channel;
  logic [31:0] g_act_end, g_wgt_end, g_param_end;
  assign g_requant     = w0[8];
  assign g_per_channel = w0[9];
  assign g_zp          = w0[23:16];
  assign {g_wgt_base, g_act_base}   = w1;
  assign {g_m_rows, g_param_base}   = w2;
  assign {g_hi, g_lo, g_nt, g_kt}   = w3;
  assign g_act_end   = 32'(g_act_base) + 32'(g_kt) * 32'(g_m_rows);
  assign g_wgt_end   = 32'(g_wgt_base) + 32'(g_kt) * 32'(g_nt) * 32'(Rows);
  assign g_param_end = 32'(g_param_base) + 32'(g_nt) * 32'(Cols);

  // ---- validation --------------------------------------------------------------------
  logic [7:0] check;
  always_comb begin
    check = tsr_pkg::ErrNone;
    if (is_load) begin
      if (ld_target == 2'd3)                 check = tsr_pkg::ErrBadField;
      else if (w2 == 32'd0)                  check = tsr_pkg::ErrShape;
      else if (ld_end > ld_depth)            check = tsr_pkg::ErrAddrRange;
    end else if (is_gemm) begin
      if (g_requant && $signed(g_lo) > $signed(g_hi))           check = tsr_pkg::ErrBadField;
      else if (g_m_rows == 16'd0 || g_kt == 8'd0 || g_nt == 8'd0) check = tsr_pkg::ErrShape;
      else if (32'(g_m_rows) > 32'(AccDepth))                    check = tsr_pkg::ErrShape;
      else if (g_act_end > 32'(ActDepth) || g_wgt_end > 32'(WgtDepth) ||
               g_param_end > 32'(ParamDepth))                    check = tsr_pkg::ErrAddrRange;
    end else begin
      check = tsr_pkg::ErrIllegalOp;
    end
  end

  // ---- hazard checks -----------------------------------------------------------------
  logic invalid, bad, load_go, gemm_go, drop;
  logic error_q;
  logic ld_hazard, gemm_hazard, readers_full;
  tsr_hazard #(
    .ActAW(ActAW), .WgtAW(WgtAW), .ParamAW(ParamAW), .LoadAW(LoadAW)
  ) u_hazard (
    .clk_i, .rst_ni, .clear_i,
    .ld_head_i     (cmd_valid_i && is_load && !error_q && !invalid),
    .gemm_head_i   (cmd_valid_i && is_gemm && !error_q && !invalid),
    .ld_target_i   (ld_target),
    .ld_lo_i       (w1[LoadAW:0]),
    .ld_hi_i       (ld_end[LoadAW:0]),
    .act_lo_i      ({1'b0, g_act_base[ActAW-1:0]}),
    .act_hi_i      (g_act_end[ActAW:0]),
    .wgt_lo_i      ({1'b0, g_wgt_base[WgtAW-1:0]}),
    .wgt_hi_i      (g_wgt_end[WgtAW:0]),
    .param_lo_i    ({1'b0, g_param_base[ParamAW-1:0]}),
    .param_hi_i    (g_param_end[ParamAW:0]),
    .ld_hazard_o   (ld_hazard),
    .gemm_hazard_o (gemm_hazard),
    .readers_full_o(readers_full),
    .ld_go_i       (load_go),
    .gemm_go_i     (gemm_go),
    .load_free_i   (load_ready_i),
    .exec_done_i   (gemm_cmd_done_i),
    .param_release_i
  );

  // ---- hand-off and errors -----------------------------------------------------------
  logic [7:0]  err_code_q;
  logic [31:0] err_cmd_q, cmd_index_q;

  // A command that fails validation is judged once the load unit is idle: the LOAD in
  // progress comes first in program order, and its packet error must win.
  assign invalid = cmd_valid_i && (check != tsr_pkg::ErrNone);
  assign bad     = invalid && load_ready_i;
  assign drop    = cmd_valid_i && (error_q || bad);
  assign load_go = cmd_valid_i && !error_q && !invalid && is_load && load_ready_i && !ld_hazard;
  assign gemm_go = cmd_valid_i && !error_q && !invalid && is_gemm && gemm_ready_i &&
                   !gemm_hazard && !readers_full;

  assign cmd_pop_o    = drop || load_go || gemm_go;
  assign load_valid_o = load_go;
  assign gemm_valid_o = gemm_go;

  assign load_target_o     = ld_target;
  assign load_dst_o        = w1[LoadAW-1:0];
  assign load_count_o      = w2[LoadAW:0];
  assign gemm_act_base_o   = g_act_base[ActAW-1:0];
  assign gemm_wgt_base_o   = g_wgt_base[WgtAW-1:0];
  assign gemm_param_base_o = g_param_base[ParamAW-1:0];
  assign gemm_m_rows_o     = g_m_rows[AccAW:0];
  assign gemm_kt_count_o   = g_kt;
  assign gemm_nt_count_o   = g_nt;
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
  assign busy_o     = cmd_valid_i;

  // The index of the command a unit reports an error for: the last one handed to the
  // load unit (a LOAD's packet or PARAM word). A command lost to a full FIFO is the one
  // after every command pushed so far.
  logic [31:0] load_index_q, pushed_index_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      error_q        <= 1'b0;
      err_code_q     <= tsr_pkg::ErrNone;
      err_cmd_q      <= '0;
      cmd_index_q    <= '0;
      load_index_q   <= '0;
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
        if (cmd_pop_o) cmd_index_q <= cmd_index_q + 32'd1;
        if (load_go) load_index_q <= cmd_index_q;
        if (!error_q) begin
          if (overflow_i) begin
            error_q    <= 1'b1;
            err_code_q <= tsr_pkg::ErrOverflow;
            err_cmd_q  <= pushed_index_q;
          end else if (err_req_i) begin
            error_q    <= 1'b1;
            err_code_q <= err_req_code_i;
            err_cmd_q  <= load_index_q;
          end else if (bad) begin
            error_q    <= 1'b1;
            err_code_q <= check;
            err_cmd_q  <= cmd_index_q;
          end
        end
      end
    end
  end

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  OneHandOff_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 $onehot0({drop, load_go, gemm_go}));
  PopOnlyValid_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   cmd_pop_o |-> cmd_valid_i);
  CmdLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni) load_go);
  CmdLoadAct_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                load_go && ld_target == tsr_pkg::TgtAct);
  CmdLoadWgt_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                load_go && ld_target == tsr_pkg::TgtWgt);
  CmdLoadParam_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                  load_go && ld_target == tsr_pkg::TgtParam);
  CmdGemm_C: cover property (@(posedge clk_i) disable iff (!rst_ni) gemm_go);
  CmdGemmMultiBlock_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                       gemm_go && g_kt >= 8'd2 && g_nt >= 8'd2);
  ErrIllegalOp_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                  bad && !error_q && check == tsr_pkg::ErrIllegalOp);
  ErrAddrRange_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                  bad && !error_q && check == tsr_pkg::ErrAddrRange);
  ErrShape_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                              bad && !error_q && check == tsr_pkg::ErrShape);
  ErrBadField_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                 bad && !error_q && check == tsr_pkg::ErrBadField);
  ErrStream_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                               err_req_i && !error_q && err_req_code_i == tsr_pkg::ErrStream);
  ErrBadParam_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                 err_req_i && !error_q && err_req_code_i == tsr_pkg::ErrBadParam);
  ErrOverflow_C: cover property (@(posedge clk_i) disable iff (!rst_ni) overflow_i && !error_q);
  DropWhileError_C: cover property (@(posedge clk_i) disable iff (!rst_ni) drop && error_q);
  ClearWhileError_C: cover property (@(posedge clk_i) disable iff (!rst_ni) clear_i && error_q);
`endif

  logic unused_fields;
  assign unused_fields = ^{w0[31:24], w0[15:10], w1[31:LoadAW], w2[31:LoadAW+1],
                           g_act_base[15:ActAW], g_wgt_base[15:WgtAW], g_param_base[15:ParamAW],
                           g_m_rows[15:AccAW+1]};

endmodule
