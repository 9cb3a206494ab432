// Formal-only harness for rtl/bus/tsr_csr.sv (read by SymbiYosys, never synthesized).
// The AXI4-Lite master and every status input are free inputs of this harness; the master
// is assumed AXI-legal (VALID held until READY, payload stable while held), nothing else
// is assumed: cmd_full_i may rise and fall at any time.
//
// Proved (tests/formal/tsr_csr.sby, k-induction), per docs/isa.md (ISA 1.1):
//   - BVALID held until BREADY with BRESP stable; RVALID held until RREADY with RDATA and
//     RRESP stable;
//   - at most one write and one read outstanding, and every accepted request gets exactly
//     one response; a write acts in the cycle after its handshake and its response is
//     presented from the cycle after that; a read's response from the cycle after its
//     handshake;
//   - a write (AWVALID && WVALID) with none owed is accepted in the same cycle, AW and W
//     together, also while the command FIFO is full;
//   - a full-strobe CMD3 write finding the FIFO full in its acting cycle: no push,
//     cmd_overflow_o, and the response is SLVERR; otherwise it pushes {WDATA, CMD2, CMD1,
//     CMD0} as last written and answers OKAY; full-strobe CTRL and CMD0..CMD2 writes
//     answer OKAY, full FIFO or not;
//   - cmd_push_o never while cmd_full_i, and only in the acting cycle of a CMD3 write;
//   - clear_o is a one-cycle pulse, high exactly in the cycle after a full-strobe CTRL
//     write with bit 0 is accepted, and no read is accepted while it is high;
//   - reads: ID answers 0x54535241 OKAY, an unmapped address answers SLVERR.
// The RTL's own SVA block is not read here (read_slang defines SYNTHESIS): its
// BValidHeld_A, RValidHeld_A, WriteAnswered_A and NoPushWhenFull_A are restated below,
// its master-side AwHeld_A/WHeld_A/ArHeld_A are the assumptions.
module tsr_csr_props #(
  parameter int unsigned CmdFifoDepth = 16,
  localparam int unsigned LevelW = $clog2(CmdFifoDepth) + 1
) (
  input logic              clk_i,
  input logic              rst_ni,
  input logic [11:0]       s_awaddr_i,
  input logic              s_awvalid_i,
  input logic [31:0]       s_wdata_i,
  input logic [3:0]        s_wstrb_i,
  input logic              s_wvalid_i,
  input logic              s_bready_i,
  input logic [11:0]       s_araddr_i,
  input logic              s_arvalid_i,
  input logic              s_rready_i,
  input logic              cmd_full_i,
  input logic [LevelW-1:0] cmd_level_i,
  input logic              error_i,
  input logic [7:0]        err_code_i,
  input logic [31:0]       err_cmd_i,
  input logic              busy_i,
  input logic [2:0]        unit_busy_i,
  input logic              stall_i,
  input logic              mac_row_i,
  input logic              out_beat_i,
  input logic [1:0]        retired_i,
  input logic              dropped_i
);

  logic         awready, wready, bvalid, arready, rvalid;
  logic [1:0]   bresp, rresp;
  logic [31:0]  rdata;
  logic         cmd_push, cmd_overflow, clear;
  logic [127:0] cmd;

  tsr_csr #(.CmdFifoDepth(CmdFifoDepth)) u_dut (
    .clk_i, .rst_ni,
    .s_awaddr_i, .s_awvalid_i, .s_awready_o(awready), .s_wdata_i, .s_wstrb_i, .s_wvalid_i,
    .s_wready_o(wready), .s_bresp_o(bresp), .s_bvalid_o(bvalid), .s_bready_i,
    .s_araddr_i, .s_arvalid_i, .s_arready_o(arready), .s_rdata_o(rdata), .s_rresp_o(rresp),
    .s_rvalid_o(rvalid), .s_rready_i,
    .cmd_push_o(cmd_push), .cmd_o(cmd), .cmd_full_i, .cmd_level_i,
    .cmd_overflow_o(cmd_overflow), .clear_o(clear),
    .error_i, .err_code_i, .err_cmd_i, .busy_i, .unit_busy_i, .stall_i, .mac_row_i,
    .out_beat_i, .retired_i, .dropped_i
  );

  localparam logic [1:0] Okay = 2'b00, SlvErr = 2'b10;

  logic aw_hs, w_hs, b_hs, ar_hs, r_hs;
  assign aw_hs = s_awvalid_i && awready;
  assign w_hs  = s_wvalid_i && wready;
  assign b_hs  = bvalid && s_bready_i;
  assign ar_hs = s_arvalid_i && arready;
  assign r_hs  = rvalid && s_rready_i;

  // ---- reset in the first cycle only ---------------------------------------------------
  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb begin
    if (init_q) assume (!rst_ni);
    else        assume (rst_ni);
  end

  // ---- last cycle's values --------------------------------------------------------------
  logic        past_valid_q = 1'b0;
  logic        p_awvalid, p_awready, p_wvalid, p_wready, p_arvalid, p_arready;
  logic        p_bvalid, p_bready, p_rvalid, p_rready, p_clear;
  logic [11:0] p_awaddr, p_araddr;
  logic [31:0] p_wdata, p_rdata;
  logic [3:0]  p_wstrb;
  logic [1:0]  p_bresp, p_rresp;
  logic        p_aw_hs, p_cmd3_hs, p_reg_hs, p_id_read, p_unmapped_read, p_clear_write;
  logic        pp_overflow_write, pp_cmd3_write, pp_reg_write;
  always_ff @(posedge clk_i) begin
    past_valid_q <= rst_ni;
    {p_awvalid, p_awready, p_wvalid, p_wready, p_arvalid, p_arready} <=
      {s_awvalid_i, awready, s_wvalid_i, wready, s_arvalid_i, arready};
    {p_bvalid, p_bready, p_rvalid, p_rready, p_clear} <=
      {bvalid, s_bready_i, rvalid, s_rready_i, clear};
    {p_awaddr, p_araddr, p_wdata, p_rdata, p_wstrb, p_bresp, p_rresp} <=
      {s_awaddr_i, s_araddr_i, s_wdata_i, rdata, s_wstrb_i, bresp, rresp};
    p_aw_hs          <= rst_ni && aw_hs;
    p_cmd3_hs        <= rst_ni && aw_hs && s_awaddr_i == tsr_pkg::CsrCmd3 && s_wstrb_i == 4'hF;
    p_reg_hs         <= rst_ni && aw_hs && s_wstrb_i == 4'hF &&
                        (s_awaddr_i == tsr_pkg::CsrCtrl || s_awaddr_i == tsr_pkg::CsrCmd0 ||
                         s_awaddr_i == tsr_pkg::CsrCmd1 || s_awaddr_i == tsr_pkg::CsrCmd2);
    // Judged in the acting cycle (the one after the handshake), answered in the next.
    pp_overflow_write <= rst_ni && p_cmd3_hs && cmd_full_i;
    pp_cmd3_write     <= rst_ni && p_cmd3_hs && !cmd_full_i;
    pp_reg_write      <= rst_ni && p_reg_hs;
    p_id_read        <= ar_hs && s_araddr_i == tsr_pkg::CsrId;
    p_clear_write    <= rst_ni && aw_hs && s_awaddr_i == tsr_pkg::CsrCtrl && s_wstrb_i == 4'hF &&
                        s_wdata_i[tsr_pkg::CtrlClear];
    p_unmapped_read  <= ar_hs && s_araddr_i == 12'hFFC;
  end

  // ---- the master is AXI4-Lite legal --------------------------------------------------
  always_comb begin
    if (past_valid_q && rst_ni) begin
      if (p_awvalid && !p_awready) assume (s_awvalid_i && s_awaddr_i == p_awaddr);
      if (p_wvalid && !p_wready)   assume (s_wvalid_i && s_wdata_i == p_wdata &&
                                           s_wstrb_i == p_wstrb);
      if (p_arvalid && !p_arready) assume (s_arvalid_i && s_araddr_i == p_araddr);
    end
  end

  // ---- outstanding responses, counted from the handshakes ------------------------------
  logic [1:0] wr_owed_q, rd_owed_q;  // accepted requests not yet answered
  // The command words as the master last wrote them (full strobe, OKAY), as of the cycle
  // after the write's acting cycle.
  logic [31:0] cmd0_q, cmd1_q, cmd2_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      wr_owed_q <= '0;
      rd_owed_q <= '0;
      cmd0_q    <= '0;
      cmd1_q    <= '0;
      cmd2_q    <= '0;
    end else begin
      wr_owed_q <= wr_owed_q + 2'(aw_hs) - 2'(b_hs);
      rd_owed_q <= rd_owed_q + 2'(ar_hs) - 2'(r_hs);
      if (p_aw_hs && p_wstrb == 4'hF) begin
        if (p_awaddr == tsr_pkg::CsrCmd0) cmd0_q <= p_wdata;
        if (p_awaddr == tsr_pkg::CsrCmd1) cmd1_q <= p_wdata;
        if (p_awaddr == tsr_pkg::CsrCmd2) cmd2_q <= p_wdata;
      end
    end
  end

  // ---- properties ------------------------------------------------------------------------
  always_comb begin
    if (rst_ni) begin
      // At most one of each outstanding; a read's response is shown exactly when owed, a
      // write's exactly when owed and not in its acting cycle (the cycle after its
      // handshake).
      assert (wr_owed_q <= 2'd1 && rd_owed_q <= 2'd1);
      if (past_valid_q) assert (bvalid == (wr_owed_q == 2'd1 && !p_aw_hs));
      else              assert (!bvalid);
      assert (u_dut.wpend_q == (past_valid_q && p_aw_hs));
      assert (rvalid == (rd_owed_q == 2'd1));
      // The slave keeps CMD0..CMD2 as the master last wrote them (makes the cmd_o check
      // below inductive).
      assert (u_dut.cmd0_q == cmd0_q && u_dut.cmd1_q == cmd1_q && u_dut.cmd2_q == cmd2_q);
      // AW and W are taken together (the write counter above relies on it).
      assert (aw_hs == w_hs);
      // A write with none owed is taken at once, FIFO full or not.
      if (s_awvalid_i && s_wvalid_i && wr_owed_q == 2'd0) assert (awready && wready);
      // Pushes: never into a full FIFO, only in the acting cycle of an accepted
      // full-strobe CMD3 write, and the command is the four words the master wrote.
      if (cmd_push) begin
        assert (!cmd_full_i);
        assert (past_valid_q && p_cmd3_hs);
        assert (cmd == {p_wdata, cmd2_q, cmd1_q, cmd0_q});
      end
      if (past_valid_q && p_cmd3_hs)
        assert (cmd_push == !cmd_full_i && cmd_overflow == cmd_full_i);
      if (cmd_overflow) assert (past_valid_q && p_cmd3_hs && cmd_full_i);
      // CLEAR: exactly the cycle after an accepted full-strobe CTRL write with bit 0, and
      // no read is taken in it.
      if (past_valid_q) assert (clear == p_clear_write);
      else              assert (!clear);
      if (clear) assert (!arready);
      if (past_valid_q) begin
        // Responses are held, with a stable payload, until taken.
        if (p_bvalid && !p_bready) assert (bvalid && bresp == p_bresp);
        if (p_rvalid && !p_rready) assert (rvalid && rdata == p_rdata && rresp == p_rresp);
        // clear_o lasts one cycle.
        if (p_clear) assert (!clear);
        // The answer to a CMD3 write: SLVERR when it found the FIFO full, else OKAY; to
        // CTRL and CMD0..CMD2: OKAY.
        if (pp_overflow_write) assert (bvalid && bresp == SlvErr);
        if (pp_cmd3_write)     assert (bvalid && bresp == Okay);
        if (pp_reg_write)      assert (bvalid && bresp == Okay);
        if (p_id_read)        assert (rvalid && rresp == Okay && rdata == tsr_pkg::IdValue);
        if (p_unmapped_read)  assert (rvalid && rresp == SlvErr);
      end
    end
  end

  // ---- covers --------------------------------------------------------------------------
  always_comb begin
    if (rst_ni && past_valid_q) begin
      cover (pp_overflow_write && bvalid);            // SLVERR for a full FIFO
      cover (cmd_push && cmd0_q != '0 && cmd2_q != '0);
      cover (clear);
      cover (bvalid && !s_bready_i && p_bvalid && !p_bready);  // a held response
      cover (rvalid && !s_rready_i && p_rvalid && !p_rready);
      cover (b_hs && aw_hs == 1'b0 && s_awvalid_i && s_wvalid_i);  // waits while owed
    end
  end

endmodule
