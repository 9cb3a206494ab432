// Simulation model of the ECP5 EHXPLLL (only what rtl/board/tsr_ulx3s.sv and
// tsr_orangecrab.sv use), so Verilator can simulate the board tops: CLKOP IS the input
// clock (the simulated clock is abstract; the core counts ClkHz/Baud clocks per UART bit
// as on the board), and LOCK rises LockCycles clocks after RST falls.
// Never synthesized: the FPGA flow uses the vendor cell.
module EHXPLLL #(
  parameter string       PLLRST_ENA      = "DISABLED",
  parameter string       INTFB_WAKE      = "DISABLED",
  parameter string       STDBY_ENABLE    = "DISABLED",
  parameter string       DPHASE_SOURCE   = "DISABLED",
  parameter string       OUTDIVIDER_MUXA = "DIVA",
  parameter string       CLKOP_ENABLE    = "ENABLED",
  parameter string       FEEDBK_PATH     = "CLKOP",
  parameter int unsigned CLKI_DIV        = 1,
  parameter int unsigned CLKOP_DIV       = 1,
  parameter int unsigned CLKOP_CPHASE    = 0,
  parameter int unsigned CLKOP_FPHASE    = 0,
  parameter int unsigned CLKFB_DIV       = 1,
  parameter int unsigned LockCycles      = 16
) (
  input  logic CLKI,
  input  logic CLKFB,
  input  logic RST,
  input  logic STDBY,
  input  logic PHASESEL0,
  input  logic PHASESEL1,
  input  logic PHASEDIR,
  input  logic PHASESTEP,
  input  logic PHASELOADREG,
  input  logic PLLWAKESYNC,
  input  logic ENCLKOP,
  output logic CLKOP,
  output logic LOCK
);

  logic [$clog2(LockCycles + 1)-1:0] count_q;

  always_ff @(posedge CLKI or posedge RST) begin
    if (RST)                                            count_q <= '0;
    else if (count_q != LockCycles[$bits(count_q)-1:0]) count_q <= count_q + 1'b1;
  end

  assign CLKOP = CLKI;
  assign LOCK  = (count_q == LockCycles[$bits(count_q)-1:0]);

  logic unused;
  assign unused = ^{CLKFB, STDBY, PHASESEL0, PHASESEL1, PHASEDIR, PHASESTEP, PHASELOADREG,
                    PLLWAKESYNC, ENCLKOP, CLKI_DIV, CLKOP_DIV, CLKOP_CPHASE, CLKOP_FPHASE,
                    CLKFB_DIV, PLLRST_ENA.len(), INTFB_WAKE.len(), STDBY_ENABLE.len(),
                    DPHASE_SOURCE.len(), OUTDIVIDER_MUXA.len(), CLKOP_ENABLE.len(),
                    FEEDBK_PATH.len()};

endmodule
