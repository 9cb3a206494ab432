// Synchronous first-word-fall-through FIFO. Depth must be a power of two. clear_i
// empties it in one cycle (used by CTRL.CLEAR).
module tsr_fifo #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 4,
  localparam int unsigned PtrW = $clog2(Depth)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,
  input  logic            push_i,
  input  logic [Width-1:0] data_i,
  output logic            full_o,
  input  logic            pop_i,
  output logic [Width-1:0] data_o,
  output logic            empty_o,
  output logic [PtrW:0]   level_o
);

  logic [Width-1:0] mem_q [0:Depth-1];
  logic [PtrW:0] wptr_q, rptr_q;
  logic do_push, do_pop;

  assign level_o = wptr_q - rptr_q;
  assign full_o  = (level_o == Depth[PtrW:0]) ;
  assign empty_o = (level_o == '0);
  assign do_push = push_i && !full_o;
  assign do_pop  = pop_i && !empty_o;
  assign data_o  = mem_q[rptr_q[PtrW-1:0]];

  always_ff @(posedge clk_i) begin
    if (do_push) mem_q[wptr_q[PtrW-1:0]] <= data_i;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q <= '0;
      rptr_q <= '0;
    end else if (clear_i) begin
      wptr_q <= '0;
      rptr_q <= '0;
    end else begin
      if (do_push) wptr_q <= wptr_q + 1'b1;
      if (do_pop)  rptr_q <= rptr_q + 1'b1;
    end
  end

endmodule
