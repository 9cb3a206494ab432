// Byte FIFO in block RAM between the UART receiver and the frame receiver: it holds the
// bytes that arrive while the bridge executes a request or sends a reply. Inferable
// 1R1W form with a registered read, and the read data registered once more in fabric so
// the block RAM's clock-to-out does not share a cycle with the frame receiver's logic:
// pop_i (when !empty_o) returns the byte in data_o with data_valid_o two cycles later.
// A push to a full FIFO is dropped, and overflow_o pulses: the UART cannot be held off.
module tsr_byte_fifo #(
  parameter int unsigned Depth = 512,
  localparam int unsigned PtrW = $clog2(Depth)
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       push_i,
  input  logic [7:0] data_i,
  input  logic       pop_i,
  output logic       empty_o,
  output logic [7:0] data_o,
  output logic       data_valid_o,
  output logic       overflow_o
);

  if (Depth < 2 || (1 << PtrW) != Depth) begin : gen_bad_depth
    $error("tsr_byte_fifo: Depth must be a power of two >= 2");
  end

  logic [7:0]    mem_q [Depth];
  logic [PtrW:0] wptr_q, rptr_q;
  logic [7:0]    rdata_q, data_q;
  logic          rvalid_q, valid_q;
  logic          full, do_push, do_pop;

  // Full: same slot, other lap (an equality, no subtraction on the write-enable path).
  assign full    = (wptr_q[PtrW] != rptr_q[PtrW]) && (wptr_q[PtrW-1:0] == rptr_q[PtrW-1:0]);
  assign empty_o = (wptr_q == rptr_q);
  assign do_push = push_i && !full;
  assign do_pop  = pop_i && !empty_o;

  always_ff @(posedge clk_i) begin
    if (do_push) mem_q[wptr_q[PtrW-1:0]] <= data_i;
    if (do_pop)  rdata_q <= mem_q[rptr_q[PtrW-1:0]];
    data_q <= rdata_q;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q     <= '0;
      rptr_q     <= '0;
      rvalid_q   <= 1'b0;
      valid_q    <= 1'b0;
    end else begin
      if (do_push) wptr_q <= wptr_q + 1'b1;
      if (do_pop)  rptr_q <= rptr_q + 1'b1;
      rvalid_q <= do_pop;
      valid_q  <= rvalid_q;
    end
  end

  assign data_o       = data_q;
  assign data_valid_o = valid_q;
  assign overflow_o   = push_i && full;

endmodule
