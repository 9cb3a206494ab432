// Simulation model of the ECP5 EHXPLLL (only what rtl/board/tsr_ulx3s.sv and
// tsr_orangecrab.sv use), so Verilator can simulate the board tops: CLKOP IS the input
// clock (the simulated clock is abstract; the core counts ClkHz/Baud clocks per UART bit
// as on the board), CLKOS (when enabled) divides it by CLKOS_DIV / CLKOP_DIV (1 or an even
// ratio, rising with CLKOP), and LOCK rises LockCycles clocks after RST falls.
// Never synthesized: the FPGA flow uses the vendor cell.
module EHXPLLL #(
  parameter string       PLLRST_ENA      = "DISABLED",
  parameter string       INTFB_WAKE      = "DISABLED",
  parameter string       STDBY_ENABLE    = "DISABLED",
  parameter string       DPHASE_SOURCE   = "DISABLED",
  parameter string       OUTDIVIDER_MUXA = "DIVA",
  parameter string       OUTDIVIDER_MUXB = "DIVB",
  parameter string       CLKOP_ENABLE    = "ENABLED",
  parameter string       CLKOS_ENABLE    = "DISABLED",
  parameter string       FEEDBK_PATH     = "CLKOP",
  parameter int unsigned CLKI_DIV        = 1,
  parameter int unsigned CLKOP_DIV       = 1,
  parameter int unsigned CLKOP_CPHASE    = 0,
  parameter int unsigned CLKOP_FPHASE    = 0,
  parameter int unsigned CLKOS_DIV       = 1,
  parameter int unsigned CLKOS_CPHASE    = 0,
  parameter int unsigned CLKOS_FPHASE    = 0,
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
  output logic CLKOS,
  output logic LOCK
);

  logic [$clog2(LockCycles + 1)-1:0] count_q;

  always_ff @(posedge CLKI or posedge RST) begin
    if (RST)                                            count_q <= '0;
    else if (count_q != LockCycles[$bits(count_q)-1:0]) count_q <= count_q + 1'b1;
  end

  assign CLKOP = CLKI;

  localparam int unsigned OsRatio = CLKOS_DIV / CLKOP_DIV;
  if (CLKOS_ENABLE == "ENABLED" &&
      (CLKOS_DIV % CLKOP_DIV != 0 || (OsRatio != 1 && OsRatio % 2 != 0))) begin : gen_bad_os
    $error("EHXPLLL model: CLKOS_DIV / CLKOP_DIV must be 1 or an even whole number");
  end
  if (OsRatio <= 1) begin : gen_os_same
    assign CLKOS = CLKI;
  end else begin : gen_os_div
    // Toggles every OsRatio/2 rising edges of CLKI, first to high on the first one.
    logic [$clog2(OsRatio)-1:0] os_count_q;
    logic                       os_q = 1'b0;
    always_ff @(posedge CLKI) begin
      if (os_count_q == '0) begin
        os_q       <= !os_q;
        os_count_q <= ($bits(os_count_q))'(OsRatio / 2 - 1);
      end else begin
        os_count_q <= os_count_q - 1'b1;
      end
    end
    initial os_count_q = '0;
    assign CLKOS = os_q;
  end
  assign LOCK  = (count_q == LockCycles[$bits(count_q)-1:0]);

  logic unused;
  assign unused = ^{CLKFB, STDBY, PHASESEL0, PHASESEL1, PHASEDIR, PHASESTEP, PHASELOADREG,
                    PLLWAKESYNC, ENCLKOP, CLKI_DIV, CLKOP_DIV, CLKOP_CPHASE, CLKOP_FPHASE,
                    CLKOS_CPHASE, CLKOS_FPHASE, CLKFB_DIV, PLLRST_ENA.len(),
                    INTFB_WAKE.len(), STDBY_ENABLE.len(), DPHASE_SOURCE.len(),
                    OUTDIVIDER_MUXA.len(), OUTDIVIDER_MUXB.len(), CLKOP_ENABLE.len(),
                    CLKOS_ENABLE.len(), FEEDBK_PATH.len()};

endmodule
