// Single-clock 1R1W memory in the form Yosys infers as block RAM: one write port, one
// read port with a registered output (data appears the cycle after re_i).
//
// A read of the word written in the same cycle returns undefined data (no_rw_check:
// Yosys adds no bypass registers around the block RAM). No user relies on it: ACT, WGT
// and PARAM are never read and written at one address in one cycle (the hazard checks
// order every read after the write it needs and every write after the reads of the old
// word), and the accumulator, whose read-modify-write does read the row being written,
// takes that row from its own forwarding register instead (tsr_accumulator.sv).
module tsr_sram #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 64,
  localparam int unsigned AddrW = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             re_i,
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);

  (* no_rw_check *)
  logic [Width-1:0] mem_q [0:Depth-1];
  logic [Width-1:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    if (re_i) rdata_q <= mem_q[raddr_i];
  end

  assign rdata_o = rdata_q;

endmodule
