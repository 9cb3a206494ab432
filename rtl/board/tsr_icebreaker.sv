// iCEBreaker (iCE40UP5K-SG48): 12 MHz oscillator -> SB_PLL40_PAD -> 24 MHz core clock,
// UART over the FT2232H's second channel (the board's USB serial port), LEDs:
//   LEDG_N (green, pin 37)  heartbeat            LEDR_N (red, pin 11)  error
//   snap-off LED1 (pin 26)  engine busy          snap-off LED2 (pin 27) UART activity
// (see tsr_board_core for their meaning). BTN_N (pin 10) resets the core.
// PLL: `build/venv/bin/yowasp-icepll -i 12 -o 24` (DIVR 0, DIVF 63, DIVQ 5, FILTER_RANGE 1,
// 24.000 MHz exactly; 1 Mbaud is then 24 clocks per bit).
module tsr_icebreaker #(
  parameter int unsigned Rows         = 2,
  parameter int unsigned Cols         = 2,
  parameter int unsigned ActDepth     = 1024,
  parameter int unsigned WgtDepth     = 1024,
  parameter int unsigned AccDepth     = 256,
  parameter int unsigned ParamDepth   = 256,
  parameter int unsigned CmdFifoDepth = 16,
  parameter int unsigned RqLanes        = 1,   // requantization lanes, time-shared (tsr_top)
  parameter int unsigned CmdFifoRegRead = 1,     // command FIFO in block RAM
  parameter int unsigned OutFifoRegRead = 1,     // output FIFO in block RAM
  parameter int unsigned ScratchSpram   = 1,     // ACT and WGT in SPRAM, not 8 EBRs
  parameter int unsigned RoundSingle    = 0,     // double rounding only (~320 cells less)
  parameter int unsigned PerfDetail     = 0,     // PERF_CYCLES, PERF_LAST_OUT only (~430)
  parameter int unsigned AccForward     = 0,     // no accumulator forwarding (tsr_top)
  parameter int unsigned RqLean         = 1,     // 6-stage requantization lane (tsr_top)
  parameter int unsigned GemmOverlap    = 0,     // one GEMM at a time in the execute unit
  parameter int unsigned LeanDispatch   = 1,     // coarse hazards, serial products
  parameter int unsigned PeMac16        = 1,     // PEs as SB_MAC16 instances with adders
  parameter int unsigned StoreJobs      = 1,     // one store job waits
  parameter int unsigned ClkHz        = 24_000_000,
  parameter int unsigned Baud         = 1_000_000,
  parameter int unsigned FrameBytes   = 4096,
  parameter int unsigned RxFifoBytes  = 512,
  parameter bit          FrameBufSpram = 1'b1   // the frame buffer in one SPRAM, not 8 EBRs
) (
  input  logic clk_12mhz_i,  // pin 35
  input  logic btn_ni,       // BTN_N, pin 10, active low
  input  logic uart_rx_i,    // RX, pin 6 (from the FTDI)
  output logic uart_tx_o,    // TX, pin 9 (to the FTDI)
  output logic led_red_no,   // LEDR_N, pin 11
  output logic led_green_no, // LEDG_N, pin 37
  output logic led1_o,       // snap-off LED1, pin 26
  output logic led2_o        // snap-off LED2, pin 27
);

  // iCE40UP5K: 8 SB_MAC16, 30 EBR of 4 kbit, 4 SPRAM of 256 kbit.
  localparam int unsigned Dsps    = 8;
  localparam int unsigned RamBits = 30 * 4096 + 4 * 262144;
  localparam int unsigned PeMults = Rows * Cols;
  localparam int unsigned BufBits = ActDepth * Rows * 8 + WgtDepth * Cols * 8 +
                                    2 * AccDepth * Cols * 32 + ParamDepth * 72 +
                                    (FrameBytes + RxFifoBytes) * 8;
  if (PeMults > Dsps) begin : gen_too_many_mults
    $error("tsr_icebreaker: Rows*Cols = %0d PE multipliers exceed the iCE40UP5K's %0d SB_MAC16",
           PeMults, Dsps);
  end
  localparam int unsigned Sprams = (FrameBufSpram ? 1 : 0) +
      (ScratchSpram != 0 ? (Rows * 8 + 15) / 16 + (Cols * 8 + 15) / 16 : 0);
  if (Sprams > 4) begin : gen_too_many_sprams
    $error("tsr_icebreaker: ScratchSpram/FrameBufSpram need %0d SB_SPRAM256KA, the iCE40UP5K has 4: lower Rows/Cols or set ScratchSpram=0",
           Sprams);
  end
  if (BufBits > RamBits) begin : gen_too_much_ram
    $error("tsr_icebreaker: scratchpads + bridge buffers need %0d bits, the iCE40UP5K has %0d (EBR + SPRAM): lower ActDepth/WgtDepth/AccDepth/ParamDepth",
           BufBits, RamBits);
  end

  logic clk, pll_lock, unused_pll_core;
  logic [3:0] led;

  SB_PLL40_PAD #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR(4'd0),
    .DIVF(7'd63),
    .DIVQ(3'd5),
    .FILTER_RANGE(3'd1)
  ) u_pll (
    .PACKAGEPIN(clk_12mhz_i),
    .PLLOUTCORE(unused_pll_core),
    .PLLOUTGLOBAL(clk),
    .RESETB(1'b1),
    .BYPASS(1'b0),
    .LOCK(pll_lock)
  );

  tsr_board_core #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .CmdFifoDepth(CmdFifoDepth),
    .RqLanes(RqLanes), .CmdFifoRegRead(CmdFifoRegRead), .OutFifoRegRead(OutFifoRegRead),
    .ScratchSpram(ScratchSpram), .RoundSingle(RoundSingle), .PerfDetail(PerfDetail),
    .AccForward(AccForward), .RqLean(RqLean), .GemmOverlap(GemmOverlap),
    .LeanDispatch(LeanDispatch), .PeMac16(PeMac16), .StoreJobs(StoreJobs),
    .ClkHz(ClkHz), .Baud(Baud), .FrameBytes(FrameBytes), .RxFifoBytes(RxFifoBytes),
    .FrameBufSpram(FrameBufSpram)
  ) u_core (
    .clk_i(clk), .bridge_clk_i(clk), .rst_ni(pll_lock && btn_ni), .uart_rx_i, .uart_tx_o, .led_o(led)
  );

  assign led_green_no = !led[0];
  assign led1_o       = led[1];
  assign led_red_no   = !led[2];
  assign led2_o       = led[3];

endmodule
