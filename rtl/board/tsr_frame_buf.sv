// The bridge's frame buffer: one single-port byte memory of Bytes (the request payload
// while a frame comes in and executes, then the reply payload), in the form Yosys maps
// to block RAM (iCE40 EBR, ECP5 DP16KD) or, being single-port, to iCE40 SPRAM. A read
// (en_i && !we_i) returns its byte in rdata_o the next cycle.
module tsr_frame_buf #(
  parameter int unsigned Bytes = 4096,
  localparam int unsigned AddrW = $clog2(Bytes)
) (
  input  logic             clk_i,
  input  logic             en_i,
  input  logic             we_i,
  input  logic [AddrW-1:0] addr_i,
  input  logic [7:0]       wdata_i,
  output logic [7:0]       rdata_o
);

  logic [7:0] mem_q [Bytes];
  logic [7:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (en_i) begin
      if (we_i) mem_q[addr_i] <= wdata_i;
      else      rdata_q <= mem_q[addr_i];
    end
  end

  assign rdata_o = rdata_q;

endmodule
