// Synchronous first-word-fall-through FIFO. Depth must be a power of two, at least 2.
// clear_i empties it in one cycle (CTRL.CLEAR); with keep_head_i it keeps the head entry,
// for an AXI4-Stream master that may not withdraw a beat it presents.
//
// Two implementations behind the same ports and the same FWFT behaviour:
//   RegRead = 0: the head is read straight from the memory (an asynchronous read: LUT RAM
//     on ECP5, flip-flops where the FPGA has no such RAM, e.g. iCE40);
//   RegRead = 1: the memory has a registered read port (block RAM: DP16KD, SB_RAM40_4K)
//     whose read register is the head: an entry is read into it as soon as it is empty or
//     being popped. A push into an empty FIFO shows one cycle later than with RegRead = 0
//     (two cycles after the push instead of one); level_o counts the head register, and
//     full_o, empty_o and level_o keep their meaning. The memory is never read and
//     written at the same address in one cycle (the entry read is one already written,
//     and a push only writes a free entry), so it needs no read-during-write logic:
//     no_rw_check tells Yosys.
module tsr_fifo #(
  parameter int unsigned Width   = 32,
  parameter int unsigned Depth   = 4,
  parameter int unsigned RegRead = 0,
  localparam int unsigned PtrW = $clog2(Depth)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,
  input  logic            keep_head_i,
  input  logic            push_i,
  input  logic [Width-1:0] data_i,
  output logic            full_o,
  input  logic            pop_i,
  output logic [Width-1:0] data_o,
  output logic            empty_o,
  output logic [PtrW:0]   level_o
);

  if (Depth < 2 || (1 << PtrW) != Depth) begin : gen_bad_depth
    $error("tsr_fifo: Depth must be a power of two >= 2");
  end

  (* no_rw_check *)
  logic [Width-1:0] mem_q [0:Depth-1];
  logic [PtrW:0] wptr_q, rptr_q;
  logic do_push, do_pop;

  always_ff @(posedge clk_i) begin
    if (do_push) mem_q[wptr_q[PtrW-1:0]] <= data_i;
  end

  if (RegRead == 0) begin : gen_async
    // full_o and empty_o come from registers, stepped with the pointers (equal to
    // level_o == Depth and level_o == 0), so a producer's or consumer's handshake does
    // not wait for the pointers' subtraction.
    logic full_q, empty_q, one_short, one_left;
    assign level_o   = wptr_q - rptr_q;
    assign one_short = (level_o == (PtrW + 1)'(Depth - 1));
    assign one_left  = (level_o == (PtrW + 1)'(1));
    assign full_o    = full_q;
    assign empty_o   = empty_q;
    assign do_push   = push_i && !full_o;
    assign do_pop    = pop_i && !empty_o;
    assign data_o    = mem_q[rptr_q[PtrW-1:0]];

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        wptr_q  <= '0;
        rptr_q  <= '0;
        full_q  <= 1'b0;
        empty_q <= 1'b1;
      end else if (clear_i) begin
        full_q <= 1'b0;  // Depth >= 2: at most the head stays
        if (keep_head_i && !empty_o) begin
          wptr_q  <= rptr_q + 1'b1;
          empty_q <= 1'b0;
        end else begin
          wptr_q  <= '0;
          rptr_q  <= '0;
          empty_q <= 1'b1;
        end
      end else begin
        if (do_push) wptr_q <= wptr_q + 1'b1;
        if (do_pop)  rptr_q <= rptr_q + 1'b1;
        if (do_push && !do_pop) begin
          full_q  <= one_short;
          empty_q <= 1'b0;
        end else if (do_pop && !do_push) begin
          full_q  <= 1'b0;
          empty_q <= one_left;
        end
      end
    end
  end else begin : gen_regread
    // wptr_q - rptr_q: entries still in the memory; head_valid_q: the read register holds
    // the head.
    logic             head_valid_q, do_read;
    logic [Width-1:0] head_q;
    logic [PtrW:0]    stored;

    assign stored  = wptr_q - rptr_q;
    assign level_o = stored + (PtrW + 1)'(head_valid_q);
    assign full_o  = (level_o == Depth[PtrW:0]);
    assign empty_o = !head_valid_q;
    assign do_push = push_i && !full_o;
    assign do_pop  = pop_i && head_valid_q;
    assign do_read = (stored != '0) && (!head_valid_q || do_pop) && !clear_i;
    assign data_o  = head_q;

    // The memory's read register: nothing else may drive it, or it stops being one.
    always_ff @(posedge clk_i) begin
      if (do_read) head_q <= mem_q[rptr_q[PtrW-1:0]];
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        wptr_q       <= '0;
        rptr_q       <= '0;
        head_valid_q <= 1'b0;
      end else if (clear_i) begin
        wptr_q       <= '0;
        rptr_q       <= '0;
        head_valid_q <= keep_head_i && head_valid_q;
      end else begin
        if (do_push) wptr_q <= wptr_q + 1'b1;
        if (do_read) rptr_q <= rptr_q + 1'b1;
        if (do_read)     head_valid_q <= 1'b1;
        else if (do_pop) head_valid_q <= 1'b0;
      end
    end
  end

`ifndef SYNTHESIS
  // ---- assertions ------------------------------------------------------------------------
  // Callers never push into a full FIFO nor pop an empty one: the push or pop would be lost.
  NoPushWhenFull_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     push_i |-> !full_o)
    else $error("push into a full FIFO");
  NoPopWhenEmpty_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     pop_i |-> !empty_o)
    else $error("pop from an empty FIFO");
  LevelInRange_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   level_o <= Depth[PtrW:0]);
`endif

endmodule
