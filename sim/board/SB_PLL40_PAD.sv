// Simulation model of the iCE40 SB_PLL40_PAD (only what rtl/board/tsr_icebreaker.sv uses),
// so Verilator can simulate the board top: the output clock IS the pad clock (the
// simulated clock is abstract; the core counts ClkHz/Baud clocks per UART bit as on the
// board), and LOCK rises after LockCycles clocks out of reset (RESETB high).
// Never synthesized: the FPGA flow uses the vendor cell.
module SB_PLL40_PAD #(
  parameter string      FEEDBACK_PATH = "SIMPLE",
  parameter logic [3:0] DIVR          = 4'd0,
  parameter logic [6:0] DIVF          = 7'd0,
  parameter logic [2:0] DIVQ          = 3'd0,
  parameter logic [2:0] FILTER_RANGE  = 3'd0,
  parameter int unsigned LockCycles   = 16
) (
  input  logic PACKAGEPIN,
  output logic PLLOUTCORE,
  output logic PLLOUTGLOBAL,
  input  logic RESETB,
  input  logic BYPASS,
  output logic LOCK
);

  logic [$clog2(LockCycles + 1)-1:0] count_q;

  always_ff @(posedge PACKAGEPIN or negedge RESETB) begin
    if (!RESETB)                         count_q <= '0;
    else if (count_q != LockCycles[$bits(count_q)-1:0]) count_q <= count_q + 1'b1;
  end

  assign PLLOUTCORE   = PACKAGEPIN;
  assign PLLOUTGLOBAL = PACKAGEPIN;
  assign LOCK         = BYPASS || (count_q == LockCycles[$bits(count_q)-1:0]);

  logic unused_params;
  assign unused_params = ^{DIVR, DIVF, DIVQ, FILTER_RANGE, FEEDBACK_PATH.len()};

endmodule
