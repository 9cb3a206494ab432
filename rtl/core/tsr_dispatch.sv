// Dispatcher: decodes the command at the FIFO head, validates every field against the
// configuration, and hands it to its unit when the ordering rules allow (docs/isa.md):
//   GEMM: all earlier LOADs done and the execute unit free;
//   LOAD: load unit free and at most one GEMM (the newest) not yet stored.
// A bad command is dropped and latches a sticky error; until CLEAR, every later command
// is dropped too, one a cycle, so the FIFO always drains and no host write blocks.
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
  // Command FIFO head.
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
  output logic [25:0]        gemm_store_cfg_o,
  input  logic               gemm_done_i,    // the store unit sent a GEMM's last beat
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

  // ---- ordering and hand-off ---------------------------------------------------------
  logic       error_q;
  logic [7:0] err_code_q;
  logic [31:0] err_cmd_q, cmd_index_q;
  logic [1:0] gemms_unstored_q;  // dispatched GEMMs whose last beat has not left
  logic       bad, load_go, gemm_go, drop;

  assign bad     = cmd_valid_i && (check != tsr_pkg::ErrNone);
  assign drop    = cmd_valid_i && (error_q || bad);
  assign load_go = cmd_valid_i && !drop && is_load && load_ready_i && gemms_unstored_q <= 2'd1;
  assign gemm_go = cmd_valid_i && !drop && is_gemm && gemm_ready_i && load_ready_i;

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
  assign gemm_store_cfg_o  = {g_requant, g_per_channel, g_zp, g_lo, g_hi};

  assign error_o    = error_q;
  assign err_code_o = err_code_q;
  assign err_cmd_o  = err_cmd_q;
  assign dropped_o  = drop;
  assign busy_o     = cmd_valid_i || (gemms_unstored_q != 2'd0);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      error_q          <= 1'b0;
      err_code_q       <= tsr_pkg::ErrNone;
      err_cmd_q        <= '0;
      cmd_index_q      <= '0;
      gemms_unstored_q <= '0;
    end else if (clear_i) begin
      error_q          <= 1'b0;
      err_code_q       <= tsr_pkg::ErrNone;
      gemms_unstored_q <= '0;
    end else begin
      if (cmd_pop_o) cmd_index_q <= cmd_index_q + 32'd1;
      if (bad && !error_q) begin
        error_q    <= 1'b1;
        err_code_q <= check;
        err_cmd_q  <= cmd_index_q;
      end
      gemms_unstored_q <= gemms_unstored_q + {1'b0, gemm_go} - {1'b0, gemm_done_i};
    end
  end

  logic unused_fields;
  assign unused_fields = ^{w0[31:24], w0[15:10], w1[31:LoadAW], w2[31:LoadAW+1],
                           g_act_base[15:ActAW], g_wgt_base[15:WgtAW], g_param_base[15:ParamAW],
                           g_m_rows[15:AccAW+1]};

endmodule
