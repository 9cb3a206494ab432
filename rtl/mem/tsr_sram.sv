// Single-clock 1R1W memory in the form Yosys infers as block RAM: one write port, one
// read port with a registered output (data appears the cycle after re_i).
//
// A read of the word written in the same cycle returns undefined data (no_rw_check:
// Yosys adds no bypass registers around the block RAM). No user relies on it: ACT, WGT
// and PARAM are never read and written at one address in one cycle (the hazard checks
// order every read after the write it needs and every write after the reads of the old
// word), and the accumulator, whose read-modify-write does read the row being written,
// takes that row from its own forwarding register instead (tsr_accumulator.sv).
//
// Spram = 1 builds it from iCE40UP5K SB_SPRAM256KA blocks (16K x 16 each, Width/16 side
// by side) instead: single-port, so the user must never read and write in one cycle
// (tsr_top gives a LOAD's write the cycle and holds the execute unit's read back).
// Simulated with sim/board/SB_SPRAM256KA.sv.
module tsr_sram #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 64,
  parameter bit          Spram = 1'b0,
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

  if (Spram) begin : gen_spram
    localparam int unsigned Blocks = Width / 16;
    if (Width % 16 != 0 || Depth > 16384) begin : gen_bad_shape
      $error("tsr_sram: an SPRAM memory needs Width a multiple of 16 (got %0d) and Depth <= 16384 (got %0d)",
             Width, Depth);
    end
    logic [AddrW-1:0] addr;
    assign addr = we_i ? waddr_i : raddr_i;
    for (genvar b = 0; b < Blocks; b++) begin : gen_block
      SB_SPRAM256KA u_spram (
        .ADDRESS   (14'(addr)),
        .DATAIN    (wdata_i[b*16 +: 16]),
        .MASKWREN  (4'b1111),
        .WREN      (we_i),
        .CHIPSELECT(we_i || re_i),
        .CLOCK     (clk_i),
        .STANDBY   (1'b0),
        .SLEEP     (1'b0),
        .POWEROFF  (1'b1),
        .DATAOUT   (rdata_o[b*16 +: 16])
      );
    end
`ifndef SYNTHESIS
    OnePortOneAccess_A: assert property (@(posedge clk_i) !(we_i && re_i))
      else $error("tsr_sram: read and write in one cycle of a single-port SPRAM");
`endif
  end else begin : gen_bram
    (* no_rw_check *)
    logic [Width-1:0] mem_q [0:Depth-1];
    logic [Width-1:0] rdata_q;

    always_ff @(posedge clk_i) begin
      if (we_i) mem_q[waddr_i] <= wdata_i;
      if (re_i) rdata_q <= mem_q[raddr_i];
    end

    assign rdata_o = rdata_q;
  end

endmodule
