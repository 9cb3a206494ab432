// Sparse-gather unit: runs SPGEMM commands (docs/isa.md) on Rows x Cols MAC lanes of its
// own, sharing the command queue, the scratchpads, the accumulator and the store unit
// with the dense path. A column block of B is `len` entries per column: a weight value
// (WGT) and the K index it multiplies (META). Each cycle the unit reads one entry of
// every column; column c gathers GBUF word gbuf_base + index(c) — the activations
// A[0..M-1, index(c)] of the block's M rows, from a GBUF copy of its own — and lane
// (r, c) multiplies byte r by the column's value. So every lane does useful work on
// every cycle whatever the sparsity pattern, and a column block costs `len` cycles
// (the longest column's nonzero count), against K/Rows * M for the dense array.
//
// Pipeline, from the cycle an entry is read (0): WGT/META data at 1 (the index range
// check and the gather address registered), GBUF read at 2, data at 3 into the lanes'
// input registers, product at 4, sum at 5. The last entry's sum is captured at 5; the
// M rows then leave for the accumulator one a cycle (direct writes: a block covers all of
// K, so nothing is read back) while the next block accumulates. A block's last entry is
// read only once its accumulator bank is claimed and at least M cycles after the previous
// block's, so the hand-off registers are free when it lands; the pipeline never stalls
// after a read.
//
// SPGEMMA (trans_i, Rows = Cols) swaps the operands' roles: a "column" is a row of A
// (its nonzero activations and their K indices), GBUF holds a column block of B, and lane
// (r, c) sums output row c of channel r. The hand-off then shifts along the rows instead
// of up the columns, so lane column 0 leaves first and each accumulator row is one output
// row, channel r in lane r; every block reuses the command's PARAM words.
module tsr_sparse_unit #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned WgtDepth   = 64,
  parameter int unsigned MetaDepth  = 64,
  parameter int unsigned GbufDepth  = 64,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  localparam int unsigned WgtAW   = $clog2(WgtDepth),
  localparam int unsigned MetaAW  = $clog2(MetaDepth),
  localparam int unsigned GbufAW  = $clog2(GbufDepth),
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned JobW    = tsr_pkg::JobFixedW + (AccAW + 1) + ParamAW
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          clear_i,
  // SPGEMM from the dispatcher (validated).
  input  logic                          cmd_valid_i,
  output logic                          cmd_ready_o,
  input  logic [GbufAW-1:0]             gbuf_base_i,
  input  logic [WgtAW-1:0]              wgt_base_i,
  input  logic [MetaAW-1:0]             meta_base_i,
  input  logic [ParamAW-1:0]            param_base_i,
  input  logic [6:0]                    m_rows_i,    // 1..Rows
  input  logic [7:0]                    k_last_i,    // K - 1: the largest legal index
  input  logic [7:0]                    len_last_i,  // len - 1
  input  logic [7:0]                    nt_count_i,
  input  logic [tsr_pkg::StoreCfgW-1:0] store_cfg_i,
  input  logic                          trans_i,     // SPGEMMA
  // GBUF writes from the load unit (every copy at once).
  input  logic                          gbuf_we_i,
  input  logic [GbufAW-1:0]             gbuf_waddr_i,
  input  logic [Rows*8-1:0]             gbuf_wdata_i,
  // WGT and META read ports (registered read).
  output logic                          wgt_re_o,
  output logic [WgtAW-1:0]              wgt_raddr_o,
  input  logic [Cols*8-1:0]             wgt_rdata_i,
  output logic                          meta_re_o,
  output logic [MetaAW-1:0]             meta_raddr_o,
  input  logic [Cols*8-1:0]             meta_rdata_i,
  // Accumulator: bank claim and direct row writes.
  input  logic [1:0]                    acc_free_i,
  output logic                          acc_claim_o,
  output logic                          acc_claim_bank_o,
  output logic                          acc_we_o,
  output logic                          acc_bank_o,
  output logic [AccAW-1:0]              acc_row_o,
  output logic                          acc_last_o,   // the block's last row
  output logic [Cols*32-1:0]            acc_wdata_o,
  // Store jobs, one a column block (tsr_pkg job word).
  output logic                          job_push_o,
  output logic [JobW-1:0]               job_o,
  output logic                          reads_done_o, // the command read its last GBUF word
  output logic                          entry_o,      // an entry was read (Rows*Cols MACs)
  output logic                          err_o,        // BAD_META: an index past K
  output logic                          busy_o,
  output logic                          stall_o
);

  if (Rows > 64 || AccDepth < Rows) begin : gen_bad_rows
    $error("the sparse unit must have Rows <= 64 and AccDepth >= Rows");
  end
  // SPGEMMA's transposed hand-off: lane column c (Rows sums) becomes an accumulator row.
  localparam bit Square = (Rows == Cols);

  // ---- command and sequencer ---------------------------------------------------------
  logic                          run_q;
  logic [GbufAW-1:0]             gbuf_base_q;
  logic [WgtAW-1:0]              wgt_ptr_q;
  logic [MetaAW-1:0]             meta_ptr_q;
  logic [ParamAW-1:0]            param_q;
  logic [6:0]                    m_rows_q;
  logic [7:0]                    k_last_q, len_last_q, nt_last_q;
  logic [tsr_pkg::StoreCfgW-1:0] store_cfg_q;
  logic                          trans_q;
  logic [7:0]                    entry_q, nt_q;     // entry within the block, block
  logic                          bank_q;            // accumulator bank of the next block
  logic [6:0]                    hold_q;            // cycles until a block may end again

  logic last_entry, last_block, can_read, read;
  assign last_entry = (entry_q == len_last_q);
  assign last_block = (nt_q == nt_last_q);
  assign can_read   = !last_entry || (hold_q == 7'd0 && acc_free_i[bank_q]);
  assign read       = run_q && can_read;

  assign cmd_ready_o  = !run_q;
  assign wgt_re_o     = read;
  assign wgt_raddr_o  = wgt_ptr_q;
  assign meta_re_o    = read;
  assign meta_raddr_o = meta_ptr_q;
  assign entry_o      = read;
  assign stall_o      = run_q && !can_read;

  assign acc_claim_o      = read && last_entry;
  assign acc_claim_bank_o = bank_q;
  assign job_push_o       = read && last_entry;
  assign job_o            = {last_block, bank_q, (AccAW + 1)'(m_rows_q), param_q,
                             store_cfg_q};  // tsr_pkg job word

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q  <= 1'b0;
      bank_q <= 1'b0;
      hold_q <= '0;
    end else if (clear_i) begin
      run_q  <= 1'b0;
      bank_q <= 1'b0;
      hold_q <= '0;
    end else begin
      if (hold_q != 7'd0) hold_q <= hold_q - 7'd1;
      if (!run_q && cmd_valid_i) begin
        run_q <= 1'b1;
      end else if (read && last_entry) begin
        bank_q <= !bank_q;
        hold_q <= m_rows_q - 7'd1;
        if (last_block) run_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!run_q && cmd_valid_i) begin
      gbuf_base_q <= gbuf_base_i;
      wgt_ptr_q   <= wgt_base_i;
      meta_ptr_q  <= meta_base_i;
      param_q     <= param_base_i;
      m_rows_q    <= m_rows_i;
      k_last_q    <= k_last_i;
      len_last_q  <= len_last_i;
      nt_last_q   <= nt_count_i - 8'd1;
      store_cfg_q <= store_cfg_i;
      trans_q     <= Square && trans_i;
      entry_q     <= '0;
      nt_q        <= '0;
    end else if (read) begin
      wgt_ptr_q  <= wgt_ptr_q + 1'b1;
      meta_ptr_q <= meta_ptr_q + 1'b1;
      entry_q    <= last_entry ? 8'd0 : entry_q + 8'd1;
      if (last_entry) begin
        nt_q <= nt_q + 8'd1;
        if (!trans_q) param_q <= param_q + ParamAW'(Cols);
      end
    end
  end

  // ---- pipeline control: stage s holds the entry read s cycles ago ----------------------
  typedef struct packed {
    logic       valid;
    logic       first;      // the block's first entry
    logic       last;       // the block's last entry
    logic       cmd_last;   // ... of the command's last block
    logic       bank;
    logic       trans;      // SPGEMMA: hand off lane columns
    logic [6:0] m_rows;
  } ctl_t;
  localparam int unsigned Stages = 5;
  ctl_t ctl_q [1:Stages];
  ctl_t ctl_in;
  always_comb begin
    ctl_in          = '0;
    ctl_in.valid    = read;
    ctl_in.first    = (entry_q == 8'd0);
    ctl_in.last     = last_entry;
    ctl_in.cmd_last = last_entry && last_block;
    ctl_in.bank     = bank_q;
    ctl_in.trans    = trans_q;
    ctl_in.m_rows   = m_rows_q;
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int s = 1; s <= Stages; s++) ctl_q[s] <= '0;
    end else if (clear_i) begin
      for (int s = 1; s <= Stages; s++) ctl_q[s] <= '0;
    end else begin
      ctl_q[1] <= ctl_in;
      for (int s = 2; s <= Stages; s++) ctl_q[s] <= ctl_q[s-1];
    end
  end

  // ---- stage 1: index check, gather addresses ------------------------------------------
  logic [Cols*8-1:0]      value_q, value2_q;
  logic [GbufAW-1:0]      gaddr_q [Cols];
  logic                   bad_d, bad_q;
  always_comb begin
    bad_d = 1'b0;
    for (int c = 0; c < Cols; c++) begin
      if (meta_rdata_i[c*8 +: 8] > k_last_q) bad_d = 1'b1;
    end
  end
  always_ff @(posedge clk_i) begin
    value_q  <= wgt_rdata_i;
    value2_q <= value_q;
    for (int c = 0; c < Cols; c++) begin
      // An index past K still lands inside GBUF (the sum wraps at its depth).
      gaddr_q[c] <= gbuf_base_q + GbufAW'(meta_rdata_i[c*8 +: 8]);
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) bad_q <= 1'b0;
    else         bad_q <= ctl_q[1].valid && bad_d && !clear_i;
  end
  assign err_o = bad_q;

  // ---- stage 2: gather, one GBUF copy per column ---------------------------------------
  logic [Rows*8-1:0] gathered [Cols];
  for (genvar c = 0; c < Cols; c++) begin : gen_gbuf
    tsr_sram #(.Width(Rows*8), .Depth(GbufDepth)) u_gbuf (
      .clk_i,
      .we_i   (gbuf_we_i),
      .waddr_i(gbuf_waddr_i),
      .wdata_i(gbuf_wdata_i),
      .re_i   (ctl_q[2].valid),
      .raddr_i(gaddr_q[c]),
      .rdata_o(gathered[c])
    );
  end
  assign reads_done_o = ctl_q[3].valid && ctl_q[3].cmd_last;

  // ---- stages 3-5: the lanes -------------------------------------------------------------
  // Hand-off chain: cap_v[r][c] is lane (r, c)'s register. A block's sums move up the
  // columns (row 0 to the accumulator), or for SPGEMMA left along the rows (column 0 to
  // the accumulator, lane r of the row from lane (r, 0)); the far edges feed zeros.
  logic        drain_busy, drain_trans_q;
  logic [31:0] cap_v [Rows+1][Cols+1];
  for (genvar r = 0; r <= Rows; r++) begin : gen_cap_right_edge
    assign cap_v[r][Cols] = 32'd0;
  end
  for (genvar c = 0; c < Cols; c++) begin : gen_cap_edge
    assign cap_v[Rows][c] = 32'd0;
    if (Square) begin : gen_trans
      assign acc_wdata_o[c*32 +: 32] = drain_trans_q ? cap_v[c][0] : cap_v[0][c];
    end else begin : gen_plain
      assign acc_wdata_o[c*32 +: 32] = cap_v[0][c];
    end
  end
  for (genvar r = 0; r < Rows; r++) begin : gen_row
    for (genvar c = 0; c < Cols; c++) begin : gen_col
      tsr_sparse_lane u_lane (
        .clk_i,
        .act_i     (gathered[c][r*8 +: 8]),
        .wgt_i     (value2_q[c*8 +: 8]),
        .in_en_i   (ctl_q[3].valid),
        .mul_en_i  (ctl_q[4].valid),
        .acc_en_i  (ctl_q[5].valid),
        .first_i   (ctl_q[5].first),
        .cap_en_i  (ctl_q[5].last),
        .shift_en_i(drain_busy),
        .cap_i     ((Square && drain_trans_q) ? cap_v[r][c+1] : cap_v[r+1][c]),
        .cap_o     (cap_v[r][c])
      );
    end
  end

  // ---- hand-off to the accumulator -------------------------------------------------------
  logic [6:0]       drain_left_q;
  logic [AccAW-1:0] drain_row_q;
  logic             drain_bank_q;
  assign drain_busy = (drain_left_q != 7'd0);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      drain_left_q  <= '0;
      drain_row_q   <= '0;
      drain_bank_q  <= 1'b0;
      drain_trans_q <= 1'b0;
    end else if (clear_i) begin
      drain_left_q <= '0;
    end else if (ctl_q[5].valid && ctl_q[5].last) begin
      drain_left_q  <= ctl_q[5].m_rows;
      drain_row_q   <= '0;
      drain_bank_q  <= ctl_q[5].bank;
      drain_trans_q <= ctl_q[5].trans;
    end else if (drain_busy) begin
      drain_left_q <= drain_left_q - 7'd1;
      drain_row_q  <= drain_row_q + 1'b1;
    end
  end
  assign acc_we_o   = drain_busy;
  assign acc_bank_o = drain_bank_q;
  assign acc_row_o  = drain_row_q;
  assign acc_last_o = (drain_left_q == 7'd1);

  // Struct fields under an array select, named for the assertions below (Verilator 5.006
  // cannot take them inside a property).
  logic cap_now, one_entry_block;
  assign cap_now         = ctl_q[5].valid && ctl_q[5].last;
  assign one_entry_block = cap_now && ctl_q[5].first;

  logic pipe_busy;
  always_comb begin
    pipe_busy = 1'b0;
    for (int s = 1; s <= Stages; s++) pipe_busy |= ctl_q[s].valid;
  end
  assign busy_o = run_q || pipe_busy || drain_busy;

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  CmdOnlyWhenIdle_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                      cmd_valid_i |-> cmd_ready_o)
    else $error("SPGEMM handed to a busy sparse unit");
  CmdShape_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                               cmd_valid_i |-> m_rows_i != '0 && 32'(m_rows_i) <= 32'(Rows) &&
                                               nt_count_i != '0)
    else $error("SPGEMM with an illegal shape passed validation");
  // A block's capture never lands on a hand-off still under way (the hold counter).
  CaptureAfterDrain_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                        cap_now |-> drain_left_q <= 7'd1)
    else $error("sparse block captured while the previous one was still handed off");
  ClaimFree_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                acc_claim_o |-> acc_free_i[bank_q]);
  TransSquare_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                  cmd_valid_i && trans_i |-> Square)
    else $error("SPGEMMA handed to a sparse unit that is not square");
  BadMeta_C: cover property (@(posedge clk_i) disable iff (!rst_ni) err_o);
  TransDrain_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                drain_busy && drain_trans_q);
  OneEntryBlock_C: cover property (@(posedge clk_i) disable iff (!rst_ni) one_entry_block);
  HoldWait_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                              run_q && last_entry && hold_q != 7'd0);
  BankWait_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                              run_q && last_entry && hold_q == 7'd0 && !acc_free_i[bank_q]);
`endif

endmodule
