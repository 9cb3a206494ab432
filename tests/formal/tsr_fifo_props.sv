// Formal-only harness for rtl/mem/tsr_fifo.sv (read by SymbiYosys, never synthesized).
// The FIFO's inputs are the harness's free inputs; the properties look inside through
// hierarchical references (u_dut.do_push, u_dut.mem_q, ...).
//
// Proved (tests/formal/tsr_fifo.sby, k-induction), for both implementations (RegRead 0:
// the head read straight from the memory; 1: the memory's read register is the head):
//   - never pushes when full nor pops when empty (do_push/do_pop);
//   - level stays in 0..Depth, and full/empty agree with it;
//   - FWFT order: one "tracked" item, chosen freely by the solver among all pushes, comes
//     out in order (after exactly the items that were ahead of it) and unchanged;
//   - clear: without keep_head_i (or when empty) it leaves the FIFO empty on the next
//     cycle; with keep_head_i it keeps exactly the head entry, unchanged (the tracked item
//     survives a clear only as that head).
// The environment is free: push_i when full and pop_i when empty are allowed (and ignored
// by the FIFO), so these hold for any caller. The RTL's own SVA block is not read here
// (read_slang defines SYNTHESIS); its LevelInRange_A is restated below, its caller
// assertions (NoPushWhenFull_A, NoPopWhenEmpty_A) are obligations of the callers.
module tsr_fifo_props #(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 4,
  parameter int unsigned RegRead = 0,
  localparam int unsigned PtrW = $clog2(Depth)
) (
  input logic             clk_i,
  input logic             rst_ni,
  input logic             clear_i,
  input logic             keep_head_i,
  input logic             push_i,
  input logic [Width-1:0] data_i,
  input logic             pop_i,
  input logic             track_i   // free: make this cycle's push the tracked item
);

  logic             full, empty;
  logic [Width-1:0] data_o;
  logic [PtrW:0]    level;

  tsr_fifo #(.Width(Width), .Depth(Depth), .RegRead(RegRead)) u_dut (
    .clk_i, .rst_ni, .clear_i, .keep_head_i, .push_i, .data_i, .full_o(full), .pop_i, .data_o,
    .empty_o(empty), .level_o(level)
  );

  // ---- environment: reset in the first cycle, never again (clear_i stays free) --------
  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb begin
    if (init_q) assume (!rst_ni);
    else        assume (rst_ni);
  end

  // ---- tracked item: its value and how many items are ahead of it ---------------------
  logic             tracked_q;
  logic [Width-1:0] tval_q;
  logic [PtrW:0]    ahead_q;
  logic             tracked_pop;  // the tracked item leaves this cycle

  assign tracked_pop = tracked_q && u_dut.do_pop && ahead_q == '0;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      tracked_q <= 1'b0;
    end else if (clear_i) begin
      // Only the head survives a clear, and only with keep_head_i (and only once shown:
      // an entry still on its way to the read register is not a head yet).
      tracked_q <= tracked_q && keep_head_i && ahead_q == '0 && !empty;
    end else if (tracked_q) begin
      if (tracked_pop)       tracked_q <= 1'b0;
      else if (u_dut.do_pop) ahead_q   <= ahead_q - 1'b1;
    end else if (track_i && u_dut.do_push) begin
      tracked_q <= 1'b1;
      tval_q    <= data_i;
      // Everything now stored is ahead of it, less the one that leaves this cycle.
      ahead_q   <= level - {{PtrW{1'b0}}, u_dut.do_pop};
    end
  end

  // ---- properties ----------------------------------------------------------------------
  logic past_valid_q = 1'b0;
  logic past_clear_q, past_keep_q;
  logic [Width-1:0] past_head_q;
  always_ff @(posedge clk_i) begin
    past_valid_q <= 1'b1;
    past_clear_q <= rst_ni && clear_i;
    past_keep_q  <= keep_head_i && !empty;
    past_head_q  <= data_o;
  end

  always_comb begin
    if (rst_ni) begin
      assert (!(u_dut.do_push && full));                 // no push when full
      assert (!(u_dut.do_pop && empty));                 // no pop when empty
      assert (level <= (PtrW + 1)'(Depth));              // level in 0..Depth
      assert (full == (level == (PtrW + 1)'(Depth)));
      // Empty means no head to show; in the registered-read form an entry pushed into an
      // empty FIFO is counted a cycle before it shows (below: it always does, next cycle).
      if (RegRead == 0) assert (empty == (level == '0));
      if (level == '0) assert (empty);
      // FWFT: the tracked item is in the FIFO behind ahead_q items, unchanged...
      if (tracked_q) begin
        assert (ahead_q < level);
        if (RegRead == 0) assert (u_dut.mem_q[PtrW'(u_dut.rptr_q + ahead_q)] == tval_q);
        // ...and at the head it is what data_o shows (once shown: registered read).
        if (ahead_q == '0 && !empty) assert (data_o == tval_q);
      end
      // clear empties it in one cycle, or keeps just the (unchanged) head.
      if (past_valid_q && past_clear_q) begin
        if (past_keep_q) assert (level == 1 && data_o == past_head_q);
        else             assert (empty);
      end
    end
  end

  // The registered-read form: the head register, then the memory from rptr_q on.
  if (RegRead != 0) begin : gen_regread_props
    logic past_waiting_q = 1'b0;
    always_ff @(posedge clk_i)
      past_waiting_q <= rst_ni && !clear_i && !u_dut.gen_regread.head_valid_q &&
                        u_dut.gen_regread.stored != '0;
    always_comb begin
      if (rst_ni) begin
        // Stored entries reach the head register the next cycle, and empty says exactly
        // that the head register holds nothing.
        if (past_waiting_q) assert (!empty);
        assert (empty == !u_dut.gen_regread.head_valid_q);
        assert (u_dut.gen_regread.stored <= (PtrW + 1)'(Depth));
        if (tracked_q && !(ahead_q == '0 && u_dut.gen_regread.head_valid_q))
          assert (u_dut.mem_q[PtrW'(u_dut.rptr_q + ahead_q -
                                    (PtrW + 1)'(u_dut.gen_regread.head_valid_q))] == tval_q);
      end
    end
  end

  // ---- covers: the interesting states are reachable --------------------------------
  always_comb begin
    if (rst_ni) begin
      cover (full);
      cover (tracked_pop && ahead_q == '0 && level == (PtrW + 1)'(Depth));
      cover (past_valid_q && past_clear_q && past_keep_q && tracked_q);
    end
  end

endmodule
