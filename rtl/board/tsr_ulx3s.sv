// ULX3S (ECP5 LFE5U-85F by default; 12F/25F/45F by the Device parameter): 25 MHz
// oscillator -> EHXPLLL -> 100 MHz engine clock and 50 MHz bridge clock (tsr_board_core
// SplitClk: the UART bridge's control logic is too deep for 100 MHz on this -6 part, and
// a UART needs no more), UART over the FT231X USB serial port, LEDs led[3:0] as
// tsr_board_core documents them (led[0] heartbeat, led[1] engine busy, led[2] error,
// led[3] UART activity; led[7:4] off). FIRE1 (btn[1]) resets the core.
// PLL: `build/venv/bin/yowasp-ecppll -i 25 -o 100 --clkout1 50` (CLKI_DIV 1, CLKFB_DIV 4,
// CLKOP_DIV 6, CLKOS_DIV 12, both CPHASE 2, VCO 600 MHz; 1 Mbaud is then 50 bridge
// clocks per bit).
module tsr_ulx3s #(
  parameter string       Device       = "85F",  // "12F", "25F", "45F" or "85F"
  parameter int unsigned Rows         = 12,
  parameter int unsigned Cols         = 12,
  parameter int unsigned ActDepth     = 4096,
  parameter int unsigned WgtDepth     = 2048,
  parameter int unsigned AccDepth     = 512,
  parameter int unsigned ParamDepth   = 512,
  parameter int unsigned CmdFifoDepth = 16,
  parameter int unsigned RqLanes        = 2,   // requantization lanes, time-shared (tsr_top)
  parameter int unsigned CmdFifoRegRead = 0,     // command FIFO in block RAM
  parameter int unsigned OutFifoRegRead = 0,     // output FIFO in block RAM
  parameter int unsigned LutMulCols     = 12,    // array columns with logic multipliers
  parameter int unsigned LoadWriteReg   = 1,     // scratchpad writes registered (tsr_top)
  parameter int unsigned HazardReg      = 1,     // registered hand-off verdicts (tsr_top)
  parameter int unsigned WgtBusReg      = 1,     // weight bus registered again (tsr_top)
  parameter int unsigned StoreInReg     = 1,     // store unit's input registered (tsr_top)
  parameter int unsigned AccWriteReg    = 1,     // accumulator writes registered (tsr_top)
  parameter int unsigned RqDeep         = 1,     // 10-stage requantization lanes (tsr_top)
  parameter int unsigned LinkRegs       = 1,     // bridge <-> engine register slices
  parameter int unsigned SplitClk       = 1,     // the bridge on CLKOS, the link crossing
                                                 // clock domains (LinkRegs then moot)
  parameter int unsigned IssueReg       = 1,     // the issue from registers (tsr_top)
  parameter int unsigned CsrReg         = 1,     // CSR reads and FIFO room registered (tsr_top)
  parameter int unsigned SerialMul      = 1,     // dispatcher's products serial (tsr_top)
  parameter int unsigned Sparse         = 0,     // sparse-gather path: Rows*Cols more
                                                 // multipliers (its lanes), in DSP blocks
  parameter int unsigned ClkHz        = 100_000_000, // CLKOP: the engine's clock
  parameter int unsigned BridgeHz     = 50_000_000,  // CLKOS: the bridge's (SplitClk)
  parameter int unsigned Baud         = 1_000_000,
  parameter int unsigned FrameBytes   = 4096,
  parameter int unsigned RxFifoBytes  = 512
) (
  input  logic       clk_25mhz,  // G2
  input  logic [1:1] btn,        // btn[1] FIRE1, R1, active high
  input  logic       ftdi_txd,   // M1: the FT231X transmits, the FPGA receives
  output logic       ftdi_rxd,   // L4: the FPGA transmits
  output logic [7:0] led,        // B2 C2 C1 D2 D1 E2 E1 H3
  output logic       wifi_gpio0  // L2: held high so the ESP32 does not reset the board
);

  // LFE5U: 18x18 multipliers and DP16KD (18 kbit) block RAMs per device.
  localparam int unsigned Dsps  = (Device == "12F" || Device == "25F") ? 28 :
                                  (Device == "45F") ? 72 : 156;
  localparam int unsigned Brams = (Device == "12F") ? 32 : (Device == "25F") ? 56 :
                                  (Device == "45F") ? 108 : 208;
  localparam int unsigned RamBits = Brams * 18432;
  localparam int unsigned PeMults = Rows * (Cols - LutMulCols) + (Sparse != 0 ? Rows * Cols : 0);
  localparam int unsigned BufBits = ActDepth * Rows * 8 + WgtDepth * Cols * 8 +
                                    2 * AccDepth * Cols * 32 + ParamDepth * 72 +
                                    (FrameBytes + RxFifoBytes) * 8;
  if (Device != "12F" && Device != "25F" && Device != "45F" && Device != "85F")
  begin : gen_bad_device
    $error("tsr_ulx3s: Device must be 12F, 25F, 45F or 85F");
  end
  if (PeMults > Dsps) begin : gen_too_many_mults
    $error("tsr_ulx3s: Rows*(Cols-LutMulCols) (+ Rows*Cols with Sparse) = %0d multipliers exceed the LFE5U-%s's %0d MULT18X18D: raise LutMulCols",
           PeMults, Device, Dsps);
  end
  if (BufBits > RamBits) begin : gen_too_much_ram
    $error("tsr_ulx3s: scratchpads + bridge buffers need %0d bits, the LFE5U-%s has %0d: lower ActDepth/WgtDepth/AccDepth/ParamDepth",
           BufBits, Device, RamBits);
  end

  logic clk, clk_os, bridge_clk, pll_lock;
  logic [3:0] core_led;

  EHXPLLL #(
    .PLLRST_ENA("DISABLED"), .INTFB_WAKE("DISABLED"), .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"), .OUTDIVIDER_MUXA("DIVA"), .OUTDIVIDER_MUXB("DIVB"),
    .CLKOP_ENABLE("ENABLED"), .CLKOS_ENABLE("ENABLED"),
    .CLKI_DIV(1), .CLKOP_DIV(6), .CLKOP_CPHASE(2), .CLKOP_FPHASE(0),
    .CLKOS_DIV(12), .CLKOS_CPHASE(2), .CLKOS_FPHASE(0),
    .FEEDBK_PATH("CLKOP"), .CLKFB_DIV(4)
  ) u_pll (
    .CLKI(clk_25mhz), .CLKFB(clk), .RST(1'b0), .STDBY(1'b0),
    .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1), .PHASESTEP(1'b1),
    .PHASELOADREG(1'b1), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0),
    .CLKOP(clk), .CLKOS(clk_os), .LOCK(pll_lock)
  );
  if (SplitClk != 0) begin : gen_bridge_clk
    assign bridge_clk = clk_os;
  end else begin : gen_one_clk  // CLKOS runs, unused
    assign bridge_clk = clk;
    logic unused_clk_os;
    assign unused_clk_os = clk_os;
  end

  tsr_board_core #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .CmdFifoDepth(CmdFifoDepth),
    .RqLanes(RqLanes), .CmdFifoRegRead(CmdFifoRegRead), .OutFifoRegRead(OutFifoRegRead),
    .LutMulCols(LutMulCols), .LoadWriteReg(LoadWriteReg), .HazardReg(HazardReg),
    .WgtBusReg(WgtBusReg), .StoreInReg(StoreInReg), .LinkRegs(LinkRegs), .IssueReg(IssueReg),
    .AccWriteReg(AccWriteReg), .RqDeep(RqDeep), .CsrReg(CsrReg), .SerialMul(SerialMul),
    .Sparse(Sparse), .SplitClk(SplitClk), .ClkHz(SplitClk != 0 ? BridgeHz : ClkHz),
    .Baud(Baud), .FrameBytes(FrameBytes), .RxFifoBytes(RxFifoBytes)
  ) u_core (
    .clk_i(clk), .bridge_clk_i(bridge_clk), .rst_ni(pll_lock && !btn[1]),
    .uart_rx_i(ftdi_txd), .uart_tx_o(ftdi_rxd), .led_o(core_led)
  );

  assign led        = {4'b0000, core_led};
  assign wifi_gpio0 = 1'b1;

endmodule
