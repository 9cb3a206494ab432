// Execute unit: walks the folds of a GEMM (column block nt outer, row block kt inner).
// Two cooperating sequencers share the array's two weight banks:
//   - the preloader reads fold f's Rows weight words and writes them into bank f%2 of
//     the PEs, as soon as the previous user of that bank has passed the PEs it writes;
//   - the issuer streams fold f's M activation rows from ACT once its bank is loaded.
// So the next fold's weights load while the current fold computes, and folds follow
// back to back when M >= Rows + Cols. Each issued row carries its accumulator bank, row
// and first/last flags; the accumulator applies them when the row's sums arrive.
module tsr_exec_unit #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned ActDepth   = 64,
  parameter int unsigned WgtDepth   = 64,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  parameter bit          AccForward = 1'b1,  // 0: the accumulator does not forward sums
  parameter bit          Overlap    = 1'b1,  // a second GEMM preloads behind the issuing one
  parameter bit          CoarseRaw  = 1'b0,  // a fold waits for any LOAD into its scratchpad
  parameter bit          RawReg     = 1'b0,  // the issuer's read-after-write verdict
                                             // registered too (large FPGAs)
  parameter bit          WgtLate    = 1'b0,  // weight writes reach the array a cycle
                                             // late (tsr_top WgtBusReg)
  parameter bit          IssueReg   = 1'b0,  // the issue leaves from registers, a cycle
                                             // after the issuer decides it (large FPGAs)
  localparam int unsigned ActAW   = $clog2(ActDepth),
  localparam int unsigned WgtAW   = $clog2(WgtDepth),
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned LoadAW  = (ActAW > WgtAW) ? ((ActAW > ParamAW) ? ActAW : ParamAW)
                                                    : ((WgtAW > ParamAW) ? WgtAW : ParamAW),
  localparam int unsigned JobW    = tsr_pkg::JobFixedW + (AccAW + 1) + ParamAW
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               clear_i,
  // GEMM command, already validated by the dispatcher.
  input  logic               cmd_valid_i,
  output logic               cmd_ready_o,
  input  logic [ActAW-1:0]   act_base_i,
  input  logic [WgtAW-1:0]   wgt_base_i,
  input  logic [ParamAW-1:0] param_base_i,
  input  logic [AccAW:0]     m_rows_i,
  input  logic [7:0]         kt_count_i,
  input  logic [7:0]         nt_count_i,
  input  logic [15:0]        folds_i,      // kt_count * nt_count (the dispatcher's product)
  input  logic [tsr_pkg::StoreCfgW-1:0] store_cfg_i,  // fields at tsr_pkg::Cfg*
  // Words the LOAD in progress has yet to write (tsr_load_unit wr_*): a fold waits while
  // its activation rows or its weight tile are among them.
  input  logic               ld_active_i,
  input  logic [2:0]         ld_target_i,
  input  logic [LoadAW:0]    ld_lo_i,
  input  logic [LoadAW:0]    ld_hi_i,
  // Single-port scratchpads (tsr_top's ScratchSpram): ACT / WGT is written this cycle, so
  // the issuer / the preloader may not read it. Tied low for two-port memories.
  input  logic               act_port_busy_i,
  input  logic               wgt_port_busy_i,
  // Scratchpad reads.
  output logic               act_re_o,
  output logic [ActAW-1:0]   act_raddr_o,
  output logic               wgt_re_o,
  output logic [WgtAW-1:0]   wgt_raddr_o,
  // Weight writes into the array; the data is the WGT read data of the previous cycle.
  output logic [Rows-1:0]    wgt_we_o,
  output logic               wgt_bank_o,
  // Issued activation row (its data leaves ACT one cycle later).
  output logic               issue_valid_o,
  output logic               issue_bank_o,
  output logic               issue_acc_bank_o,
  output logic [AccAW-1:0]   issue_row_o,
  output logic               issue_first_o,  // first row block: overwrite, not add
  output logic               issue_last_o,   // last row of the column block
  // Accumulator bank hand-off and store jobs.
  input  logic [1:0]         acc_free_i,
  output logic               acc_claim_o,    // claims bank issue_acc_bank_o
  output logic               job_push_o,
  input  logic               job_room_i,     // the store unit can take a job now
  output logic [JobW-1:0]    job_o,
  output logic               cmd_done_o,     // the last row of a command was issued
  output logic               busy_o,
  output logic               stall_o
);

  // When may the preloader overwrite bank b after the last row issued with b at cycle t?
  // That row's ACT data leaves the scratchpad at t+1 into the edge register, enters PE
  // row r at t+2+r (skew) and reaches PE (r, c) at t+2+r+c; the PE reads its weight
  // combinationally in that cycle. A preload starting at cycle p reads weight row r at
  // p+r and writes it at p+r+1, where the register takes the new value at the end of the
  // cycle. So row r is safe when p+r+1 >= t+2+r+(Cols-1), i.e. p >= t+Cols for every row
  // alike: the skew and the preload both advance a row a cycle. since_use_q[b] reads k-1
  // at cycle t+k, hence the threshold Cols-1. tsr_top checks the bound against the
  // array's real timing (WeightBankSafe_A) in every simulation.
  // IssueReg: the row reaches ACT (and the array) a cycle after the issuer counts it, so
  // the bank is free a cycle later too.
  localparam int unsigned DrainCycles = ((Cols > 1) ? Cols - 1 : 0) + (IssueReg ? 1 : 0);
  localparam int unsigned DrainW = $clog2(DrainCycles + 2);
  localparam int unsigned RowW = (Rows > 1) ? $clog2(Rows) : 1;

  // Command registers.
  logic               active_q;
  logic [ActAW-1:0]   act_base_q;
  logic [AccAW:0]     m_rows_q;
  logic [7:0]         kt_count_q, nt_count_q;
  logic [tsr_pkg::StoreCfgW-1:0] store_cfg_q;

  // Bank state, kept across commands so the next GEMM's first fold can preload early.
  logic [1:0]        wbank_ready_q, wbank_ready_d;
  logic [DrainW-1:0] since_use_q [0:1];

  // Preloader.
  logic              pre_active_q;
  logic              pre_bank_q;
  logic [WgtAW-1:0]  pre_addr_q;
  logic [RowW-1:0]   pre_row_q;
  logic [15:0]       pre_folds_left_q;
  logic              pre_loading_q;   // between the first and last row read of a fold
  logic              pre_we_q;        // write of the row read last cycle
  logic [RowW-1:0]   pre_we_row_q;
  logic              pre_we_bank_q;
  logic              pre_we_last_q;   // that write completes the fold's bank

  // Issuer.
  logic              iss_bank_q;
  logic              acc_bank_q;
  logic [ActAW-1:0]  iss_addr_q;
  logic [AccAW:0]    iss_row_q;
  logic [7:0]        iss_kt_q, iss_nt_q;
  logic [ParamAW-1:0] iss_param_q;
  logic              acc_claimed_q;   // this column block holds its accumulator bank

  // Read after write, fold by fold: the GEMM may start while a LOAD before it still
  // streams in, and each fold waits only for its own rows and tile.
  // The ends of the ranges read (iss_addr_q + M, pre_addr_q + Rows) are kept in registers
  // of their own, updated with the addresses, so the checks are compares only: this path
  // ends at the address registers' enables (100 MHz on ECP5).
  // The preloader's check is registered as well (wgt_raw_q, for the range of the cycle
  // before), which is safe because a range's hazard only ever clears: the LOAD before the
  // GEMM moves on, and the dispatcher starts no LOAD over a range a GEMM it handed on
  // still reads. The cycle after the range moves (a new command, or the fold's reads
  // advancing it) has no verdict yet, so the preloader starts no fold then (pre_fresh_q).
  localparam int unsigned CmpW = 18;  // holds any address + M or + Rows
  logic [CmpW-1:0] iss_end_q, pre_end_q;
  logic act_raw, wgt_raw, wgt_raw_q, pre_fresh_q;
  // CoarseRaw (small boards) compares no ranges: a fold waits while any LOAD into its
  // scratchpad runs, and the end registers and comparators go.
  assign act_raw = ld_active_i && (ld_target_i == tsr_pkg::TgtAct) && (CoarseRaw ||
                   ((CmpW'(iss_addr_q) < CmpW'(ld_hi_i)) && (CmpW'(ld_lo_i) < iss_end_q)));
  assign wgt_raw = ld_active_i && (ld_target_i == tsr_pkg::TgtWgt) && (CoarseRaw ||
                   ((CmpW'(pre_addr_q) < CmpW'(ld_hi_i)) && (CmpW'(ld_lo_i) < pre_end_q)));

  // A second command, taken while the issuer still works on the one before it (once the
  // preloader is done with that one): its first weights preload behind the current
  // command's last fold, so GEMM commands follow each other without a preload bubble.
  // Without Overlap (small FPGAs) a command is taken only when the unit is idle, and
  // these registers are left unused.
  logic                          pend_q;
  logic [ActAW-1:0]              pend_act_base_q;
  logic [AccAW:0]                pend_m_rows_q;
  logic [7:0]                    pend_kt_q, pend_nt_q;
  logic [ParamAW-1:0]            pend_param_q;
  logic [tsr_pkg::StoreCfgW-1:0] pend_cfg_q;
  logic                          accept, finishing, iss_free_next;

  logic pre_can_start, pre_read, pre_fold_done;
  logic ready_we, ready_last, ready_bank;  // the bank-completing write, as the array sees it
  logic iss_fold_ready, iss_fire, iss_last_row, iss_last_kt, iss_last_nt;

  assign cmd_ready_o   = !pre_active_q && !pend_q && (Overlap || !active_q);
  logic take_new;  // the issuer takes the command accepted now, not the pending one
  assign take_new = accept || !Overlap;
  assign accept        = cmd_valid_i && cmd_ready_o;
  assign finishing     = iss_fire && iss_last_row && iss_last_kt && iss_last_nt;
  // The issuer takes a command when it has none left after this cycle. IssueReg: only
  // once it has none (a cycle after a command's last issue, with Overlap a cycle's
  // bubble between commands), so the selects of its command registers do not wait for
  // the issue decision.
  assign iss_free_next = !active_q || (!IssueReg && finishing);

  // ---- preloader -------------------------------------------------------------------
  // With Cols = 1 a bank may be rewritten the cycle after its last use: no count to wait
  // for (and a >= 0 compare that -Wall rightly calls constant).
  logic drained;
  if (DrainCycles == 0) begin : gen_no_drain
    assign drained = 1'b1;
  end else begin : gen_drain
    assign drained = since_use_q[pre_bank_q] >= DrainCycles[DrainW-1:0];
  end
  assign pre_can_start = pre_active_q && !pre_loading_q && !wbank_ready_q[pre_bank_q] &&
                         pre_fresh_q && !wgt_raw_q &&
                         !(pre_we_q && pre_we_bank_q == pre_bank_q) &&
                         !(WgtLate && ready_we && ready_bank == pre_bank_q) &&
                         drained;
  assign pre_read      = (pre_can_start || pre_loading_q) && !wgt_port_busy_i;
  assign pre_fold_done = pre_read && (pre_row_q == RowW'(Rows - 1));

  assign wgt_re_o    = pre_read;
  assign wgt_raddr_o = pre_addr_q;
  for (genvar r = 0; r < Rows; r++) begin : gen_wgt_we
    assign wgt_we_o[r] = pre_we_q && (pre_we_row_q == RowW'(r));
  end
  assign wgt_bank_o = pre_we_bank_q;

  // ---- issuer ----------------------------------------------------------------------
  // Without the accumulator's forwarding (AccForward = 0), a row that adds to its sum
  // (a later row block) is issued at least 3 cycles after the same row of the fold before,
  // so that its read sees that fold's write. Only M <= 2 repeats a row sooner; its rows
  // are told apart by their low bit.
  logic acc_wait;
  if (AccForward) begin : gen_acc_forward
    assign acc_wait = 1'b0;
  end else begin : gen_acc_spacing
    logic [1:0] recent_q;      // a row was issued 1, 2 cycles ago
    logic [1:0] recent_row_q;  // its low bit
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        recent_q     <= '0;
        recent_row_q <= '0;
      end else begin
        recent_q     <= {recent_q[0], iss_fire};
        recent_row_q <= {recent_row_q[0], iss_row_q[0]};
      end
    end
    assign acc_wait = (iss_kt_q != 8'd0) && (m_rows_q[AccAW:2] == '0) &&
                      ((recent_q[0] && recent_row_q[0] == iss_row_q[0]) ||
                       (recent_q[1] && recent_row_q[1] == iss_row_q[0]));
  end

  // RawReg: the fold start's verdict is registered as well, computed a cycle ahead for
  // the range the issuer holds next: the same range, the next row's (one further), or the
  // command's first (a column block starts over). As for the preloader, a range's hazard
  // only clears, so a cycle-old verdict is safe; a newly taken command has none yet and
  // waits a cycle (iss_fresh_q).
  // RawReg also keeps the issuer's position flags (first row, last row, row block, column
  // block) in registers, stepped with the counters, instead of comparing the counters
  // against M - 1, kt - 1 and nt - 1 in the cycle the issue fans out.
  logic fold_raw, iss_first_row;
  if (RawReg) begin : gen_raw_reg
    logic [CmpW-1:0] step_lo, base_lo;
    logic            raw_stay, raw_step, raw_base, act_raw_q, iss_fresh_q, range_new;
    assign step_lo  = CmpW'(ActAW'(iss_addr_q + 1'b1));
    assign base_lo  = CmpW'(act_base_q);
    assign raw_stay = act_raw;
    assign raw_step = ld_active_i && (ld_target_i == tsr_pkg::TgtAct) && (CoarseRaw ||
                      ((step_lo < CmpW'(ld_hi_i)) &&
                       (CmpW'(ld_lo_i) < step_lo + CmpW'(m_rows_q))));
    assign raw_base = ld_active_i && (ld_target_i == tsr_pkg::TgtAct) && (CoarseRaw ||
                      ((base_lo < CmpW'(ld_hi_i)) &&
                       (CmpW'(ld_lo_i) < base_lo + CmpW'(m_rows_q))));
    // A command taken now: the range registers load its first range (below).
    assign range_new = !(Overlap && accept && !iss_free_next) &&
                       (accept || (pend_q && iss_free_next));
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        act_raw_q   <= 1'b1;
        iss_fresh_q <= 1'b0;
      end else begin
        act_raw_q   <= !iss_fire ? raw_stay : (iss_last_row && iss_last_kt) ? raw_base
                                                                             : raw_step;
        iss_fresh_q <= !clear_i && !range_new;
      end
    end
    assign fold_raw = act_raw_q || !iss_fresh_q;

    logic           first_row_q, last_row_q, last_kt_q, last_nt_q;
    logic [AccAW:0] m_take;
    logic [7:0]     kt_take, nt_take;
    assign m_take  = take_new ? m_rows_i : pend_m_rows_q;
    assign kt_take = take_new ? kt_count_i : pend_kt_q;
    assign nt_take = take_new ? nt_count_i : pend_nt_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        first_row_q <= 1'b1;
        last_row_q  <= 1'b0;
        last_kt_q   <= 1'b0;
        last_nt_q   <= 1'b0;
      end else if (range_new) begin  // as the counters: a command taken wins over a step
        first_row_q <= 1'b1;
        last_row_q  <= (m_take == (AccAW + 1)'(1));
        last_kt_q   <= (kt_take == 8'd1);
        last_nt_q   <= (nt_take == 8'd1);
      end else if (iss_fire) begin
        if (last_row_q) begin
          first_row_q <= 1'b1;
          last_row_q  <= (m_rows_q == (AccAW + 1)'(1));
          if (last_kt_q) begin
            last_kt_q <= (kt_count_q == 8'd1);
            last_nt_q <= (9'(iss_nt_q) + 9'd2 == 9'(nt_count_q));
          end else begin
            last_kt_q <= (9'(iss_kt_q) + 9'd2 == 9'(kt_count_q));
          end
        end else begin
          first_row_q <= 1'b0;
          last_row_q  <= ((AccAW + 2)'(iss_row_q) + (AccAW + 2)'(2) == (AccAW + 2)'(m_rows_q));
        end
      end
    end
    assign iss_first_row = first_row_q;
    assign iss_last_row  = last_row_q;
    assign iss_last_kt   = last_kt_q;
    assign iss_last_nt   = last_nt_q;
`ifndef SYNTHESIS
    IssueFlags_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                   active_q |-> first_row_q == (iss_row_q == '0) &&
                                                last_row_q == (iss_row_q == m_rows_q - 1'b1) &&
                                                last_kt_q == (iss_kt_q == kt_count_q - 8'd1) &&
                                                last_nt_q == (iss_nt_q == nt_count_q - 8'd1))
      else $error("the issuer's position flags lost step with its counters");
`endif
  end else begin : gen_raw_now
    assign fold_raw      = act_raw;
    assign iss_first_row = (iss_row_q == '0);
    assign iss_last_row  = (iss_row_q == m_rows_q - 1'b1);
    assign iss_last_kt   = (iss_kt_q == kt_count_q - 8'd1);
    assign iss_last_nt   = (iss_nt_q == nt_count_q - 8'd1);
  end

  assign iss_fold_ready = active_q && wbank_ready_q[iss_bank_q] &&
                          (acc_claimed_q || acc_free_i[acc_bank_q]) &&
                          !(iss_first_row && fold_raw) && !acc_wait &&
                          !(iss_last_row && iss_last_kt && !job_room_i);
  assign iss_fire      = iss_fold_ready && !act_port_busy_i;

  // What an issue tells the other units: at once, or (IssueReg) from registers a cycle
  // later, so the issue decision drives no block RAM, accumulator, store job or
  // scoreboard release across the die in its own cycle. Everything the units see moves
  // together by that cycle; an issue decided in a CLEAR cycle is dropped like one made in
  // it. The issuer's own counters and the read-after-write checks (whose ranges only
  // clear) are unaffected; the preloader waits a cycle longer for a bank (DrainCycles).
  localparam int unsigned IssueW = 1 + ActAW + 3 + AccAW + 2 + 1 + 1 + JobW + 1;
  logic [IssueW-1:0] issue_d, issue_out;
  assign issue_d = {iss_fire, iss_addr_q, iss_bank_q, acc_bank_q, iss_fire,
                    iss_row_q[AccAW-1:0], (iss_kt_q == 8'd0), iss_last_kt && iss_last_row,
                    iss_fire && !acc_claimed_q, iss_fire && iss_last_row && iss_last_kt,
                    {iss_last_nt, acc_bank_q, m_rows_q, iss_param_q, store_cfg_q},  // tsr_pkg
                    finishing};
  logic issue_pending;  // an issue in the output register (IssueReg)
  if (IssueReg) begin : gen_issue_reg
    logic [IssueW-1:0] issue_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) issue_q <= '0;
      else         issue_q <= clear_i ? '0 : issue_d;
    end
    assign issue_out     = issue_q;
    assign issue_pending = issue_q[IssueW-1];
  end else begin : gen_issue_now
    assign issue_out     = issue_d;
    assign issue_pending = 1'b0;
  end
  logic issue_dup;  // issue_valid_o's copy of act_re_o
  assign {act_re_o, act_raddr_o, issue_bank_o, issue_acc_bank_o, issue_dup, issue_row_o,
          issue_first_o, issue_last_o, acc_claim_o, job_push_o, job_o, cmd_done_o} = issue_out;
  assign issue_valid_o = issue_dup;

  assign busy_o  = active_q || pend_q || pre_active_q || pre_we_q ||
                   (WgtLate && ready_we) || issue_pending;
  assign stall_o = active_q && !iss_fire;

  // A bank is ready once its last row is written in the array: with WgtLate the write
  // lands a cycle after it leaves here, so the bank turns ready a cycle later too (an
  // activation is never issued against a bank with a write still on its way).
  if (WgtLate) begin : gen_wgt_late
    logic late_we_q, late_last_q, late_bank_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        late_we_q   <= 1'b0;
        late_last_q <= 1'b0;
        late_bank_q <= 1'b0;
      end else begin
        late_we_q   <= pre_we_q && !clear_i;
        late_last_q <= pre_we_last_q;
        late_bank_q <= pre_we_bank_q;
      end
    end
    assign {ready_we, ready_last, ready_bank} = {late_we_q, late_last_q, late_bank_q};
  end else begin : gen_wgt_now
    assign {ready_we, ready_last, ready_bank} = {pre_we_q, pre_we_last_q, pre_we_bank_q};
  end

  always_comb begin
    wbank_ready_d = wbank_ready_q;
    if (iss_fire && iss_last_row) wbank_ready_d[iss_bank_q] = 1'b0;
    if (ready_we && ready_last) wbank_ready_d[ready_bank] = 1'b1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q         <= 1'b0;
      act_base_q       <= '0;
      m_rows_q         <= '0;
      kt_count_q       <= '0;
      nt_count_q       <= '0;
      store_cfg_q      <= '0;
      wbank_ready_q    <= '0;
      since_use_q[0]   <= '1;
      since_use_q[1]   <= '1;
      pre_active_q     <= 1'b0;
      pre_bank_q       <= 1'b0;
      pre_addr_q       <= '0;
      pre_end_q        <= CmpW'(Rows);
      wgt_raw_q        <= 1'b0;
      pre_fresh_q      <= 1'b0;
      pre_row_q        <= '0;
      pre_folds_left_q <= '0;
      pre_loading_q    <= 1'b0;
      pre_we_q         <= 1'b0;
      pre_we_row_q     <= '0;
      pre_we_bank_q    <= 1'b0;
      pre_we_last_q    <= 1'b0;
      iss_bank_q       <= 1'b0;
      acc_bank_q       <= 1'b0;
      iss_addr_q       <= '0;
      iss_end_q        <= '0;
      iss_row_q        <= '0;
      iss_kt_q         <= '0;
      iss_nt_q         <= '0;
      iss_param_q      <= '0;
      acc_claimed_q    <= 1'b0;
      pend_q           <= 1'b0;
      pend_act_base_q  <= '0;
      pend_m_rows_q    <= '0;
      pend_kt_q        <= '0;
      pend_nt_q        <= '0;
      pend_param_q     <= '0;
      pend_cfg_q       <= '0;
    end else if (clear_i) begin
      active_q      <= 1'b0;
      pend_q        <= 1'b0;
      wbank_ready_q <= '0;
      pre_active_q  <= 1'b0;
      pre_loading_q <= 1'b0;
      pre_we_q      <= 1'b0;
      pre_row_q     <= '0;
      acc_claimed_q <= 1'b0;
      // Bank parities stay in step with each other; nothing is in flight to drain.
      pre_bank_q    <= iss_bank_q;
    end else begin
      wbank_ready_q <= wbank_ready_d;

      for (int b = 0; b < 2; b++) begin
        if (iss_fire && iss_bank_q == b[0]) since_use_q[b] <= '0;
        else if (since_use_q[b] != '1) since_use_q[b] <= since_use_q[b] + 1'b1;
      end

      wgt_raw_q   <= wgt_raw;
      pre_fresh_q <= !(accept || pre_read);

      // Accept a command: the preloader starts on its fold 0 (after a cycle for its
      // read-after-write verdict).
      if (accept) begin
        pre_active_q     <= 1'b1;
        pre_addr_q       <= wgt_base_i;
        pre_end_q        <= CmpW'(wgt_base_i) + CmpW'(Rows);
        pre_row_q        <= '0;
        pre_folds_left_q <= folds_i;
      end

      // Preloader: one weight word a cycle; the write lands a cycle later.
      pre_we_q      <= pre_read;
      pre_we_row_q  <= pre_row_q;
      pre_we_bank_q <= pre_bank_q;
      pre_we_last_q <= pre_fold_done;
      if (pre_read) begin
        pre_addr_q <= pre_addr_q + 1'b1;
        pre_end_q  <= CmpW'(WgtAW'(pre_addr_q + 1'b1)) + CmpW'(Rows);
        if (pre_fold_done) begin
          pre_row_q        <= '0;
          pre_loading_q    <= 1'b0;
          pre_bank_q       <= !pre_bank_q;
          pre_folds_left_q <= pre_folds_left_q - 16'd1;
          if (pre_folds_left_q == 16'd1) pre_active_q <= 1'b0;
        end else begin
          pre_row_q     <= pre_row_q + 1'b1;
          pre_loading_q <= 1'b1;
        end
      end

      // Issuer: one activation row a cycle while the fold's bank is loaded.
      if (iss_fire) begin
        if (!acc_claimed_q) acc_claimed_q <= 1'b1;
        iss_addr_q <= iss_addr_q + 1'b1;
        iss_end_q  <= CmpW'(ActAW'(iss_addr_q + 1'b1)) + CmpW'(m_rows_q);
        iss_row_q  <= iss_row_q + 1'b1;
        if (iss_last_row) begin
          iss_row_q  <= '0;
          iss_bank_q <= !iss_bank_q;
          iss_kt_q   <= iss_kt_q + 8'd1;
          if (iss_last_kt) begin
            iss_kt_q      <= '0;
            iss_addr_q    <= act_base_q;
            iss_end_q     <= CmpW'(act_base_q) + CmpW'(m_rows_q);
            acc_claimed_q <= 1'b0;
            acc_bank_q    <= !acc_bank_q;
            iss_nt_q      <= iss_nt_q + 8'd1;
            iss_param_q   <= iss_param_q + ParamAW'(Cols);
            if (iss_last_nt) active_q <= 1'b0;
          end
        end
      end

      // The issuer takes the next command when it has none left: the one accepted now,
      // or the pending one. (These assignments win over the end-of-command ones above.)
      if (Overlap && accept && !iss_free_next) begin
        pend_q          <= 1'b1;
        pend_act_base_q <= act_base_i;
        pend_m_rows_q   <= m_rows_i;
        pend_kt_q       <= kt_count_i;
        pend_nt_q       <= nt_count_i;
        pend_param_q    <= param_base_i;
        pend_cfg_q      <= store_cfg_i;
      end else if (accept || (pend_q && iss_free_next)) begin
        pend_q      <= 1'b0;
        active_q    <= 1'b1;
        act_base_q  <= take_new ? act_base_i : pend_act_base_q;
        m_rows_q    <= take_new ? m_rows_i : pend_m_rows_q;
        kt_count_q  <= take_new ? kt_count_i : pend_kt_q;
        nt_count_q  <= take_new ? nt_count_i : pend_nt_q;
        store_cfg_q <= take_new ? store_cfg_i : pend_cfg_q;
        iss_addr_q  <= take_new ? act_base_i : pend_act_base_q;
        iss_end_q   <= take_new ? CmpW'(act_base_i) + CmpW'(m_rows_i)
                                : CmpW'(pend_act_base_q) + CmpW'(pend_m_rows_q);
        iss_param_q <= take_new ? param_base_i : pend_param_q;
        iss_row_q   <= '0;
        iss_kt_q    <= '0;
        iss_nt_q    <= '0;
      end
    end
  end

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  RangeEnds_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                iss_end_q == CmpW'(iss_addr_q) + CmpW'(m_rows_q) &&
                                pre_end_q == CmpW'(pre_addr_q) + CmpW'(Rows))
    else $error("a read range's end register lost step with its address");
  // What makes the registered verdict safe: a fold never starts on a range that the live
  // check would hold back.
  IssueRawFresh_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                    iss_fire && iss_row_q == '0 |-> !act_raw)
    else $error("fold issued on an ACT range a running LOAD still writes");
  RawVerdictFresh_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                      pre_can_start |-> !wgt_raw)
    else $error("preload started on a range a running LOAD still writes");
  NoCmdWhileBusy_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     cmd_valid_i |-> !pre_active_q && !pend_q)
    else $error("GEMM handed to an execute unit that holds two");
  // (IssueReg: or in the cycle after the one ahead of it finished, when it is taken.)
  PendOnlyBehindActive_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                           pend_q |-> active_q || (IssueReg && $past(finishing)))
    else $error("a pending GEMM with no GEMM issuing ahead of it");
  IssueOnlyLoadedBank_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                          iss_fire |-> wbank_ready_q[iss_bank_q])
    else $error("activation issued against a weight bank that is not loaded");
  NoPreloadReadyBank_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                         pre_we_q |-> !wbank_ready_q[pre_we_bank_q])
    else $error("preload into a weight bank the issuer may be using");
  RowInRange_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                 active_q |-> iss_row_q < m_rows_q)
    else $error("issuer row counter out of range");
  FoldsLeftInRange_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                       pre_active_q |-> pre_folds_left_q != 16'd0)
    else $error("preloader fold counter wrapped");
  BothWeightBanksLoaded_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                           wbank_ready_q == 2'b11);
  BackToBackFolds_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     iss_fire && iss_last_row && !iss_last_kt &&
                                     wbank_ready_q[!iss_bank_q]);
  FoldWaitsOnLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     active_q && iss_row_q == '0 && act_raw);
  TileWaitsOnLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     pre_active_q && !pre_loading_q && wgt_raw);
  CommandsOverlap_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     pend_q && pre_read);
  ClearDuringExecute_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                        clear_i && active_q);
`endif

endmodule
