// Accumulator: two banks of AccDepth rows of Cols int32 sums, ping-ponged between the
// execute unit (filling one column block) and the store unit (draining the other).
// Each issued row's control travels alongside the array (Rows + Cols + 3 cycles) so that
// it meets its column sums at the bottom: the bank row is read two cycles ahead (the
// block RAM's output is registered before the add, so its clock-to-out and the 32-bit
// adder do not share a cycle) and written back as sum (first row block) or sum + old
// (later row blocks). When the same row comes round again within two cycles (M <= 2,
// back-to-back folds), the read saw the memory before the earlier write landed, so
// that write's sum is forwarded to the add instead. With Forward = 0 there is no
// forwarding: the execute unit spaces such rows 3 cycles apart (tsr_exec_unit AccForward),
// and an assertion checks that no row needs it.
// WriteReg = 1 writes the banks from registers a cycle after the add (the ULX3S: a bank's
// block RAMs lie far apart on the die, so the add and the route to them get a cycle each).
// A read then misses the sums of the three rows before it, and a third forwarding
// register covers the one it adds; the bank's written flag follows the write, not the add.
// The sparse unit (tsr_sparse_unit) claims banks the same way and writes whole rows
// directly (a sparse block covers all of K, so nothing is read back); the dispatcher lets
// the two fill banks one after the other, and a claimed bank has one writer.
module tsr_accumulator #(
  parameter int unsigned Rows     = 4,
  parameter int unsigned Cols     = 4,
  parameter int unsigned AccDepth = 16,
  parameter bit          Forward  = 1'b1,  // forward sums the read could not see
  parameter bit          WriteReg = 1'b0,  // bank writes a cycle after the add (needs Forward)
  localparam int unsigned AccAW = $clog2(AccDepth)
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               clear_i,
  // Control of the row issued this cycle (from the execute unit).
  input  logic               issue_valid_i,
  input  logic               issue_bank_i,
  input  logic [AccAW-1:0]   issue_row_i,
  input  logic               issue_first_i,
  input  logic               issue_last_i,
  // Deskewed column sums, Rows + Cols + 3 cycles after the issue.
  input  logic [Cols*32-1:0] psum_i,
  // Direct row writes and bank claims of the sparse unit.
  input  logic               sp_claim_i,     // sparse unit takes bank sp_claim_bank_i
  input  logic               sp_claim_bank_i,
  input  logic               sp_we_i,
  input  logic               sp_bank_i,
  input  logic [AccAW-1:0]   sp_row_i,
  input  logic               sp_last_i,      // the column block's last row
  input  logic [Cols*32-1:0] sp_wdata_i,
  // Bank hand-off.
  input  logic               claim_i,        // execute unit takes bank issue_bank_i
  input  logic               store_start_i,  // store unit starts draining store_bank_i
  input  logic               store_done_i,   // ... and has read its last row
  input  logic               store_bank_i,
  output logic [1:0]         free_o,         // bank may be claimed by the execute unit
  output logic [1:0]         written_o,      // bank holds a finished column block
  // Store unit read port (registered read).
  input  logic               store_re_i,
  input  logic [AccAW-1:0]   store_raddr_i,
  output logic [Cols*32-1:0] store_rdata_o,
  output logic               busy_o
);

  // Issue to deskewed sums: ACT read 1, edge register 1 (tsr_top), skew and deskew
  // Rows - 1 + Cols - 1 together, one cycle a PE down a column Rows, the PE's multiplier
  // input and product registers 2.
  localparam int unsigned Latency = Rows + Cols + 3;
  localparam int unsigned CtrlW   = 4 + AccAW;    // {valid, bank, first, last, row}

  // Control delay line: tap Latency-2 reads the bank, tap Latency-1 registers the read
  // data, tap Latency adds and writes it.
  logic [Latency*CtrlW-1:0] ctrl_q;
  logic [CtrlW-1:0] ctrl_rd, ctrl_mid, ctrl_wr;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) ctrl_q <= '0;
    else if (clear_i) ctrl_q <= '0;
    else ctrl_q <= {ctrl_q[(Latency-1)*CtrlW-1:0],
                    issue_valid_i, issue_bank_i, issue_first_i, issue_last_i, issue_row_i};
  end
  assign ctrl_rd  = ctrl_q[(Latency-2)*CtrlW-1 -: CtrlW];
  assign ctrl_mid = ctrl_q[(Latency-1)*CtrlW-1 -: CtrlW];
  assign ctrl_wr  = ctrl_q[Latency*CtrlW-1 -: CtrlW];

  logic             rd_valid, rd_bank, mid_valid, mid_bank, wr_valid, wr_bank, wr_first, wr_last;
  logic [AccAW-1:0] rd_row, mid_row, wr_row;
  logic             unused_flags;
  assign {rd_valid, rd_bank} = ctrl_rd[CtrlW-1 -: 2];
  assign rd_row = ctrl_rd[AccAW-1:0];
  assign {mid_valid, mid_bank} = ctrl_mid[CtrlW-1 -: 2];
  assign mid_row = ctrl_mid[AccAW-1:0];
  assign unused_flags = ^{ctrl_rd[AccAW +: 2], ctrl_mid[AccAW], wr_first};
  assign {wr_valid, wr_bank, wr_first, wr_last} = ctrl_wr[CtrlW-1 -: 4];
  assign wr_row = ctrl_wr[AccAW-1:0];

  if (WriteReg && !Forward) begin : gen_bad_write_reg
    $error("tsr_accumulator: WriteReg must come with Forward (the execute unit spaces rows 3 cycles only)");
  end

  // The writes as they reach the banks ("landing"): the add's (wr_*) and the sparse unit's
  // (sp_*) at once, or with WriteReg from registers a cycle later.
  logic [Cols*32-1:0] sum;
  logic               ld_valid, ld_bank, ld_last, ld_sp_we, ld_sp_bank, ld_sp_last;
  logic [AccAW-1:0]   ld_row, ld_sp_row;
  logic [Cols*32-1:0] ld_sum, ld_sp_wdata;
  if (WriteReg) begin : gen_write_reg
    logic               valid_q, sp_we_q;
    logic               bank_q, last_q, sp_bank_q, sp_last_q;
    logic [AccAW-1:0]   row_q, sp_row_q;
    logic [Cols*32-1:0] sum_q, sp_wdata_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_q <= 1'b0;
        sp_we_q <= 1'b0;
      end else if (clear_i) begin
        valid_q <= 1'b0;
        sp_we_q <= 1'b0;
      end else begin
        valid_q <= wr_valid;
        sp_we_q <= sp_we_i;
      end
    end
    always_ff @(posedge clk_i) begin
      {bank_q, last_q, row_q, sum_q} <= {wr_bank, wr_last, wr_row, sum};
      {sp_bank_q, sp_last_q, sp_row_q, sp_wdata_q} <= {sp_bank_i, sp_last_i, sp_row_i, sp_wdata_i};
    end
    assign {ld_valid, ld_bank, ld_last, ld_row, ld_sum} = {valid_q, bank_q, last_q, row_q, sum_q};
    assign {ld_sp_we, ld_sp_bank, ld_sp_last, ld_sp_row, ld_sp_wdata} =
           {sp_we_q, sp_bank_q, sp_last_q, sp_row_q, sp_wdata_q};
  end else begin : gen_write_now
    assign {ld_valid, ld_bank, ld_last, ld_row, ld_sum} = {wr_valid, wr_bank, wr_last, wr_row, sum};
    assign {ld_sp_we, ld_sp_bank, ld_sp_last, ld_sp_row, ld_sp_wdata} =
           {sp_we_i, sp_bank_i, sp_last_i, sp_row_i, sp_wdata_i};
  end

  // One 1R1W memory per bank; the read port belongs to the store unit while it drains
  // that bank and to the read-modify-write path otherwise.
  logic [2*Cols*32-1:0] bank_rdata;  // bank b at [b*Cols*32 +: Cols*32]
  logic [Cols*32-1:0] rmw_rdata;
  logic               store_bank_q;

  for (genvar b = 0; b < 2; b++) begin : gen_bank
    logic             store_owns, sp_owns;
    logic             re, we;
    logic [AccAW-1:0] raddr;
    assign store_owns = store_re_i && (store_bank_i == b[0]);
    assign sp_owns    = ld_sp_we && (ld_sp_bank == b[0]);
    assign re    = store_owns || (rd_valid && rd_bank == b[0]);
    assign raddr = store_owns ? store_raddr_i : rd_row;
    assign we    = (ld_valid && (ld_bank == b[0])) || sp_owns;
    tsr_sram #(.Width(Cols*32), .Depth(AccDepth)) u_bank (
      .clk_i,
      .we_i   (we),
      .waddr_i(sp_owns ? ld_sp_row : ld_row),
      .wdata_i(sp_owns ? ld_sp_wdata : ld_sum),
      .re_i   (re),
      .raddr_i(raddr),
      .rdata_o(bank_rdata[b*Cols*32 +: Cols*32])
    );
  end

  // The old sum each add takes: 0 for a row block's first row, else the newest sum the
  // bank's read could not see (forwarded), else the read data. All but the newest
  // (fwd1: the row written in the cycle after the read) are chosen a cycle ahead (tap
  // Latency-1) into old_q, so the add picks between two registers with one select.
  // fwd2: the row written in the cycle of the read (a read of the row written at once
  // returns undefined data); fwd3 (WriteReg): the row whose add was in that cycle.
  logic               mid_first;
  logic               fwd1_q, fwd2_p_q, fwd2_q, fwd3_p_q, fwd3_q;
  logic [Cols*32-1:0] rd_data, old_q, sum1_q, sum2_q;
  assign mid_first = ctrl_mid[AccAW+1];
  assign rd_data   = mid_bank ? bank_rdata[Cols*32 +: Cols*32] : bank_rdata[0 +: Cols*32];
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fwd1_q   <= 1'b0;
      fwd2_p_q <= 1'b0;
      fwd2_q   <= 1'b0;
      fwd3_p_q <= 1'b0;
      fwd3_q   <= 1'b0;
    end else begin
      fwd1_q   <= mid_valid && !mid_first && wr_valid && (mid_bank == wr_bank) &&
                  (mid_row == wr_row);
      fwd2_p_q <= rd_valid && wr_valid && (rd_bank == wr_bank) && (rd_row == wr_row);
      fwd2_q   <= fwd2_p_q;
      fwd3_p_q <= WriteReg && rd_valid && ld_valid && (rd_bank == ld_bank) && (rd_row == ld_row);
      fwd3_q   <= fwd3_p_q;
    end
  end
  always_ff @(posedge clk_i) begin
    sum1_q <= sum;
    sum2_q <= sum1_q;
    if (mid_first)                old_q <= '0;
    else if (Forward && fwd2_p_q) old_q <= sum1_q;
    else if (Forward && fwd3_p_q) old_q <= sum2_q;
    else                          old_q <= rd_data;
  end
  assign rmw_rdata = (Forward && fwd1_q) ? sum1_q : old_q;

  for (genvar c = 0; c < Cols; c++) begin : gen_add
    logic [31:0] old_sum;  // what column c adds to (GTKWave's accumulator view)
    assign old_sum = rmw_rdata[c*32 +: 32];
    assign sum[c*32 +: 32] = old_sum + psum_i[c*32 +: 32];
  end

  always_ff @(posedge clk_i) begin
    if (store_re_i) store_bank_q <= store_bank_i;
  end
  assign store_rdata_o = store_bank_q ? bank_rdata[Cols*32 +: Cols*32]
                                       : bank_rdata[0 +: Cols*32];

  // Bank flags: free -> claimed (exec) -> written (last row landed) -> drained (store).
  logic [1:0] free_q, written_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      free_q    <= 2'b11;
      written_q <= 2'b00;
    end else if (clear_i) begin
      free_q    <= 2'b11;
      written_q <= 2'b00;
    end else begin
      for (int b = 0; b < 2; b++) begin
        if (claim_i && issue_bank_i == b[0]) free_q[b] <= 1'b0;
        if (sp_claim_i && sp_claim_bank_i == b[0]) free_q[b] <= 1'b0;
        if (store_done_i && store_bank_i == b[0]) free_q[b] <= 1'b1;
        if (ld_valid && ld_last && ld_bank == b[0]) written_q[b] <= 1'b1;
        if (ld_sp_we && ld_sp_last && ld_sp_bank == b[0]) written_q[b] <= 1'b1;
        if (store_start_i && store_bank_i == b[0]) written_q[b] <= 1'b0;
      end
    end
  end
  assign free_o    = free_q;
  assign written_o = written_q;
  // Busy while any issued row is still on its way down the array or into a bank.
  logic [Latency-1:0] stage_valid;
  for (genvar s = 0; s < Latency; s++) begin : gen_stage_valid
    assign stage_valid[s] = ctrl_q[s*CtrlW + CtrlW - 1];
  end
  assign busy_o    = (|stage_valid) || ld_valid || ld_sp_we;

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  // The execute unit fills a bank it has claimed; the store unit drains a written one.
  for (genvar b = 0; b < 2; b++) begin : gen_bank_checks
    NoWriteWhileStored_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
        !(ld_valid && ld_bank == b[0] && store_re_i && store_bank_i == b[0]))
      else $error("accumulator bank %0d written while the store unit reads it", b);
    ClaimOnlyFree_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
        claim_i && issue_bank_i == b[0] |-> free_q[b])
      else $error("accumulator bank %0d claimed while not free", b);
    SpClaimOnlyFree_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
        sp_claim_i && sp_claim_bank_i == b[0] |-> free_q[b] &&
                                                  !(claim_i && issue_bank_i == b[0]))
      else $error("accumulator bank %0d claimed by the sparse unit while not free", b);
    OneWriter_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
        !(ld_valid && ld_bank == b[0] && ld_sp_we && ld_sp_bank == b[0]))
      else $error("accumulator bank %0d written by both datapaths at once", b);
    SpNoWriteWhileStored_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
        !(ld_sp_we && ld_sp_bank == b[0] && store_re_i && store_bank_i == b[0]))
      else $error("accumulator bank %0d written by the sparse unit while stored", b);
    StoreOnlyWritten_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
        store_start_i && store_bank_i == b[0] |-> written_q[b])
      else $error("store unit started on accumulator bank %0d before it was written", b);
  end
  BothBanksBusy_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                   free_q == 2'b00);
  NoForwardNeeded_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
      !Forward && wr_valid && !wr_first |-> !fwd1_q && !fwd2_q && !fwd3_q)
    else $error("accumulator row added to before the write it needs had landed");
  Forward1_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i) fwd1_q && wr_valid);
  Forward2_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                              fwd2_q && !fwd1_q && wr_valid);
  Forward3_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                              fwd3_q && !fwd2_q && !fwd1_q && wr_valid);
  ClearDuringAccumulate_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                           clear_i && busy_o);
`endif

endmodule
