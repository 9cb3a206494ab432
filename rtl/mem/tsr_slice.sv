// Register slice for one valid/ready channel, for links where a beat a cycle is not
// needed (the UART bridge's): out_valid_o, out_data_o and in_ready_o all come from
// registers, and the data register loads whenever it is empty, so neither side's
// handshake logic reaches the other side's registers in a cycle, nor its data's enables.
// One beat every two cycles at most; AXI rules hold on the output (a presented beat stays,
// unchanged, until it is taken).
module tsr_slice #(
  parameter int unsigned Width = 8
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [Width-1:0] in_data_i,
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [Width-1:0] out_data_o
);

  logic             valid_q;
  logic [Width-1:0] data_q;

  assign in_ready_o  = !valid_q;
  assign out_valid_o = valid_q;
  assign out_data_o  = data_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= 1'b0;
    else         valid_q <= valid_q ? !out_ready_i : in_valid_i;
  end

  always_ff @(posedge clk_i) begin
    if (!valid_q) data_q <= in_data_i;
  end

`ifndef SYNTHESIS
  OutHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                              out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_data_o))
    else $error("tsr_slice: a presented beat changed or vanished before it was taken");
`endif

endmodule
