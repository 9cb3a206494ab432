// OrangeCrab r0.2 (ECP5 LFE5U-25F): 48 MHz oscillator -> EHXPLLL -> 100 MHz core clock.
// The board has no USB-UART chip: the UART goes to Feather header pins for an external
// 3.3 V USB-UART adapter, following the Feather convention:
//   header "0" (gpio_0, ball N17) = FPGA RX  <- the adapter's TX
//   header "1" (gpio_1, ball M18) = FPGA TX  -> the adapter's RX
//   and GND to the adapter's GND.
// The RGB LED (active low) shows the core's LEDs: green heartbeat, red error, blue UART
// activity or engine busy. The user button (usr_btn, J17, active low) resets the core.
// PLL: `build/venv/bin/yowasp-ecppll -i 48 -o 100` (CLKI_DIV 12, CLKFB_DIV 25, CLKOP_DIV 6,
// CLKOP_CPHASE 2, VCO 600 MHz; 1 Mbaud is then 100 clocks per bit).
module tsr_orangecrab #(
  parameter int unsigned Rows         = 4,
  parameter int unsigned Cols         = 4,
  parameter int unsigned ActDepth     = 1024,
  parameter int unsigned WgtDepth     = 1024,
  parameter int unsigned AccDepth     = 256,
  parameter int unsigned ParamDepth   = 256,
  parameter int unsigned CmdFifoDepth = 16,
  parameter int unsigned RqLanes        = 2,   // requantization lanes, time-shared (tsr_top)
  parameter int unsigned CmdFifoRegRead = 0,     // command FIFO in block RAM
  parameter int unsigned OutFifoRegRead = 0,     // output FIFO in block RAM
  parameter int unsigned Sparse         = 0,     // sparse-gather path: only to measure its
                                                 // cost (its lanes need 16 more DSPs)
  parameter int unsigned ClkHz        = 100_000_000,
  parameter int unsigned Baud         = 1_000_000,
  parameter int unsigned FrameBytes   = 4096,
  parameter int unsigned RxFifoBytes  = 512
) (
  input  logic clk48,       // A9
  input  logic usr_btn,     // J17, active low
  input  logic gpio_0,      // N17, header "0": UART RX
  output logic gpio_1,      // M18, header "1": UART TX
  output logic rgb_led0_r,  // K4, active low
  output logic rgb_led0_g,  // M3, active low
  output logic rgb_led0_b,  // J3, active low
  output logic rst_n        // V17: low reconfigures the FPGA (back to the bootloader); held high
);

  // LFE5U-25F: 28 MULT18X18D, 56 DP16KD of 18 kbit.
  localparam int unsigned Dsps    = 28;
  localparam int unsigned RamBits = 56 * 18432;
  localparam int unsigned PeMults = Rows * Cols;
  localparam int unsigned BufBits = ActDepth * Rows * 8 + WgtDepth * Cols * 8 +
                                    2 * AccDepth * Cols * 32 + ParamDepth * 72 +
                                    (FrameBytes + RxFifoBytes) * 8;
  if (PeMults > Dsps) begin : gen_too_many_mults
    $error("tsr_orangecrab: Rows*Cols = %0d PE multipliers exceed the LFE5U-25F's %0d MULT18X18D",
           PeMults, Dsps);
  end
  if (BufBits > RamBits) begin : gen_too_much_ram
    $error("tsr_orangecrab: scratchpads + bridge buffers need %0d bits, the LFE5U-25F has %0d: lower ActDepth/WgtDepth/AccDepth/ParamDepth",
           BufBits, RamBits);
  end

  logic clk, clk_os, pll_lock;
  logic [3:0] led;

  EHXPLLL #(
    .PLLRST_ENA("DISABLED"), .INTFB_WAKE("DISABLED"), .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"), .OUTDIVIDER_MUXA("DIVA"), .CLKOP_ENABLE("ENABLED"),
    .CLKI_DIV(12), .CLKOP_DIV(6), .CLKOP_CPHASE(2), .CLKOP_FPHASE(0),
    .FEEDBK_PATH("CLKOP"), .CLKFB_DIV(25)
  ) u_pll (
    .CLKI(clk48), .CLKFB(clk), .RST(1'b0), .STDBY(1'b0),
    .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1), .PHASESTEP(1'b1),
    .PHASELOADREG(1'b1), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0),
    .CLKOP(clk), .CLKOS(clk_os), .LOCK(pll_lock)
  );
  logic unused_clk_os;  // the second output is not enabled
  assign unused_clk_os = clk_os;

  tsr_board_core #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .CmdFifoDepth(CmdFifoDepth),
    .RqLanes(RqLanes), .CmdFifoRegRead(CmdFifoRegRead), .OutFifoRegRead(OutFifoRegRead),
    .Sparse(Sparse), .ClkHz(ClkHz), .Baud(Baud), .FrameBytes(FrameBytes), .RxFifoBytes(RxFifoBytes)
  ) u_core (
    .clk_i(clk), .bridge_clk_i(clk), .rst_ni(pll_lock && usr_btn), .uart_rx_i(gpio_0), .uart_tx_o(gpio_1),
    .led_o(led)
  );

  assign rgb_led0_g = !led[0];
  assign rgb_led0_r = !led[2];
  assign rgb_led0_b = !(led[1] || led[3]);
  assign rst_n      = 1'b1;

endmodule
