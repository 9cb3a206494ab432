// Board-independent part of every FPGA top: reset synchronizer, UART bridge (docs/
// protocol.md over 8N1 serial, Baud default 1,000,000, exact at 12/24/48/100 MHz) and
// the engine (tsr_top), plus four status LEDs (active high here; a board top inverts
// them where its LEDs are active low):
//   led_o[0]  heartbeat: toggles every half second, so the clock runs and the core is out
//             of reset (PLL locked, button released)
//   led_o[1]  engine busy: a load, execute or store unit has work
//   led_o[2]  error: lit after the bridge answered a request or a frame with an error, a
//             UART byte had a bad stop bit, or a byte was lost to a full receive FIFO;
//             stays lit until the next RESET request (or board reset)
//   led_o[3]  UART activity: a byte received or sent in this or the last activity
//             period (2^TickW cycles, 1/64 to 1/32 s)
module tsr_board_core #(
  // Engine configuration, passed to tsr_top.
  parameter int unsigned Rows         = 4,
  parameter int unsigned Cols         = 4,
  parameter int unsigned ActDepth     = 1024,
  parameter int unsigned WgtDepth     = 1024,
  parameter int unsigned AccDepth     = 256,
  parameter int unsigned ParamDepth   = 256,
  parameter int unsigned CmdFifoDepth = 16,
  parameter int unsigned RqLanes        = Cols,   // requantization lanes, time-shared (tsr_top)
  parameter int unsigned CmdFifoRegRead = 0,     // command FIFO in block RAM
  parameter int unsigned OutFifoRegRead = 0,     // output FIFO in block RAM
  parameter int unsigned ScratchSpram   = 0,     // ACT and WGT in iCE40 SPRAM
  parameter int unsigned LutMulCols     = 0,     // array columns with logic multipliers
  parameter int unsigned LoadWriteReg   = 0,     // scratchpad writes registered (tsr_top)
  parameter int unsigned RoundSingle    = 1,     // single rounding (tsr_top)
  parameter int unsigned PerfDetail     = 1,     // every performance counter (tsr_top)
  parameter int unsigned AccForward     = 1,     // accumulator sum forwarding (tsr_top)
  parameter int unsigned RqLean         = 0,     // 6-stage requantization lanes (tsr_top)
  parameter int unsigned RqDeep         = 0,     // 10-stage requantization lanes (tsr_top)
  parameter int unsigned GemmOverlap    = 1,     // two GEMMs in the execute unit (tsr_top)
  parameter int unsigned LeanDispatch   = 0,     // coarse hazards, serial products (tsr_top)
  parameter int unsigned PeMac16        = 0,     // PEs as SB_MAC16 instances (tsr_top)
  parameter int unsigned StoreJobs      = 2,     // store jobs waiting (tsr_top)
  parameter int unsigned HazardReg      = 0,     // registered hand-off verdicts (tsr_top)
  parameter int unsigned WgtBusReg      = 0,     // weight bus registered again (tsr_top)
  parameter int unsigned StoreInReg     = 0,     // store unit's input registered (tsr_top)
  parameter int unsigned AccWriteReg    = 0,     // accumulator writes registered (tsr_top)
  parameter int unsigned IssueReg       = 0,     // the issue from registers (tsr_top)
  parameter int unsigned CsrReg         = 0,     // CSR reads and FIFO room registered (tsr_top)
  parameter int unsigned SerialMul      = 0,     // dispatcher's products serial (tsr_top)
  // 1: a register slice (tsr_slice) on every channel between the bridge and the engine,
  // so no path crosses from one to the other in a cycle (large FPGAs, where they lie far
  // apart); each transaction and beat takes a cycle more.
  parameter int unsigned LinkRegs       = 0,
  // 1: the bridge (and the LEDs) run on their own clock, bridge_clk_i at ClkHz, and the
  // engine on clk_i: every channel between them crosses through a tsr_cdc_slice (LinkRegs
  // is then moot), and the engine's reset is synchronized to its clock. For a board whose
  // engine clock is too fast for the bridge's byte-wide control logic.
  parameter int unsigned SplitClk       = 0,
  parameter int unsigned Sparse         = 0,     // sparse-gather path (tsr_top); no board
                                                 // builds it, its cost is measured with it
  // Board.
  parameter int unsigned ClkHz        = 100_000_000,  // the bridge's clock (UART, LEDs)
  parameter int unsigned Baud         = 1_000_000,
  parameter int unsigned FrameBytes   = 4096,     // bridge frame buffer = max payload (HELLO)
  parameter int unsigned RxFifoBytes  = 512,
  parameter bit          FrameBufSpram = 1'b0,    // frame buffer in an iCE40 SPRAM
  parameter int unsigned StallCycles  = 1 << 26,
  localparam int unsigned InBytes  = (Rows > Cols ? (Rows > 16 ? Rows : 16)
                                                  : (Cols > 16 ? Cols : 16)),
  localparam int unsigned OutBytes = 4 * Cols
) (
  input  logic       clk_i,         // the engine's clock
  input  logic       bridge_clk_i,  // the bridge's and the LEDs' (ClkHz): clk_i itself
                                    // without SplitClk, connect both to the same clock
  input  logic       rst_ni,        // asynchronous, active low (button / PLL lock)
  input  logic       uart_rx_i,  // idle high, 8N1
  output logic       uart_tx_o,
  output logic [3:0] led_o
);

  localparam int unsigned HeartW    = $clog2(ClkHz / 2 + 1);
  localparam int unsigned TickW     = $clog2(ClkHz / 64 + 1);  // activity period, bits

  logic rst_n, engine_rst_n, engine_rst_req_n;

  if (SplitClk > 1) begin : gen_bad_split
    $error("tsr_board_core: SplitClk must be 0 or 1");
  end

  tsr_reset_sync u_reset_sync (.clk_i(bridge_clk_i), .rst_ni, .rst_no(rst_n));

  // The engine leaves reset with the board and whenever a RESET request pulses it, a
  // cycle after the request ends. Its reset comes from a flip-flop (the board's reset
  // asserts it at once), so the net to every engine register starts there, not at a gate
  // fed from both sides of the die. With SplitClk that flip-flop is the bridge's, and
  // asserts the engine's reset synchronizer (and the link's bridge side) at once; the
  // engine leaves reset two of its clocks after it.
  logic engine_rst_q;
  always_ff @(posedge bridge_clk_i or negedge rst_n) begin
    if (!rst_n) engine_rst_q <= 1'b0;
    else        engine_rst_q <= engine_rst_req_n;
  end
  if (SplitClk != 0) begin : gen_engine_rst_sync
    tsr_reset_sync u_engine_rst_sync (.clk_i, .rst_ni(engine_rst_q), .rst_no(engine_rst_n));
  end else begin : gen_engine_rst
    assign engine_rst_n = engine_rst_q;
  end

  // ---- bridge <-> engine --------------------------------------------------------------
  logic [11:0]           awaddr, araddr;
  logic                  awvalid, awready, wvalid, wready, bvalid, bready;
  logic                  arvalid, arready, rvalid, rready;
  logic [31:0]           wdata, rdata;
  logic [3:0]            wstrb;
  logic [1:0]            bresp, rresp;
  logic [InBytes*8-1:0]  in_tdata;
  logic                  in_tvalid, in_tready, in_tlast;
  logic [OutBytes*8-1:0] out_tdata;
  logic                  out_tvalid, out_tready, out_tlast;
  logic                  bridge_error, rx_byte, tx_byte;
  logic [3:0]            unit_busy;
  logic [5:0]            dbg_events;

  tsr_bridge #(
    .InBytes(InBytes), .OutBytes(OutBytes), .ClkHz(ClkHz), .Baud(Baud),
    .FrameBytes(FrameBytes), .RxFifoBytes(RxFifoBytes), .FrameBufSpram(FrameBufSpram),
    .StallCycles(StallCycles)
  ) u_bridge (
    .clk_i(bridge_clk_i), .rst_ni(rst_n), .uart_rx_i, .uart_tx_o,
    .m_axil_awaddr_o(awaddr), .m_axil_awvalid_o(awvalid), .m_axil_awready_i(awready),
    .m_axil_wdata_o(wdata), .m_axil_wstrb_o(wstrb), .m_axil_wvalid_o(wvalid),
    .m_axil_wready_i(wready), .m_axil_bresp_i(bresp), .m_axil_bvalid_i(bvalid),
    .m_axil_bready_o(bready), .m_axil_araddr_o(araddr), .m_axil_arvalid_o(arvalid),
    .m_axil_arready_i(arready), .m_axil_rdata_i(rdata), .m_axil_rresp_i(rresp),
    .m_axil_rvalid_i(rvalid), .m_axil_rready_o(rready),
    .m_axis_tdata_o(in_tdata), .m_axis_tvalid_o(in_tvalid), .m_axis_tready_i(in_tready),
    .m_axis_tlast_o(in_tlast),
    .s_axis_tdata_i(out_tdata), .s_axis_tvalid_i(out_tvalid), .s_axis_tready_o(out_tready),
    .s_axis_tlast_i(out_tlast),
    .engine_rst_no(engine_rst_req_n), .error_o(bridge_error),
    .rx_byte_o(rx_byte), .tx_byte_o(tx_byte)
  );

  // ---- bridge <-> engine link: direct, or through register slices ----------------------
  logic [11:0]           e_awaddr, e_araddr;
  logic                  e_awvalid, e_awready, e_wvalid, e_wready, e_bvalid, e_bready;
  logic                  e_arvalid, e_arready, e_rvalid, e_rready;
  logic [31:0]           e_wdata, e_rdata;
  logic [3:0]            e_wstrb;
  logic [1:0]            e_bresp, e_rresp;
  logic [InBytes*8-1:0]  e_in_tdata;
  logic                  e_in_tvalid, e_in_tready, e_in_tlast;
  logic [OutBytes*8-1:0] e_out_tdata;
  logic                  e_out_tvalid, e_out_tready, e_out_tlast;
  if (SplitClk != 0 || LinkRegs != 0) begin : gen_link
    // Each channel through a tsr_link_slice: a crossing with SplitClk, else a register
    // slice. The bridge side is reset by engine_rst_q, the engine side by engine_rst_n:
    // both assert together, and without SplitClk they are one, as are the two clocks.
    // What a slice holds belongs to the engine's transactions.
    localparam bit Cdc = (SplitClk != 0);
    tsr_link_slice #(.Width(12), .Cdc(Cdc)) u_aw (
      .src_clk_i(bridge_clk_i), .src_rst_ni(engine_rst_q), .src_flush_i(1'b0),
      .in_valid_i(awvalid), .in_ready_o(awready), .in_data_i(awaddr),
      .dst_clk_i(clk_i), .dst_rst_ni(engine_rst_n),
      .out_valid_o(e_awvalid), .out_ready_i(e_awready), .out_data_o(e_awaddr)
    );
    tsr_link_slice #(.Width(36), .Cdc(Cdc)) u_w (
      .src_clk_i(bridge_clk_i), .src_rst_ni(engine_rst_q), .src_flush_i(1'b0),
      .in_valid_i(wvalid), .in_ready_o(wready), .in_data_i({wstrb, wdata}),
      .dst_clk_i(clk_i), .dst_rst_ni(engine_rst_n),
      .out_valid_o(e_wvalid), .out_ready_i(e_wready), .out_data_o({e_wstrb, e_wdata})
    );
    tsr_link_slice #(.Width(2), .Cdc(Cdc)) u_b (
      .src_clk_i(clk_i), .src_rst_ni(engine_rst_n), .src_flush_i(1'b0),
      .in_valid_i(e_bvalid), .in_ready_o(e_bready), .in_data_i(e_bresp),
      .dst_clk_i(bridge_clk_i), .dst_rst_ni(engine_rst_q),
      .out_valid_o(bvalid), .out_ready_i(bready), .out_data_o(bresp)
    );
    tsr_link_slice #(.Width(12), .Cdc(Cdc)) u_ar (
      .src_clk_i(bridge_clk_i), .src_rst_ni(engine_rst_q), .src_flush_i(1'b0),
      .in_valid_i(arvalid), .in_ready_o(arready), .in_data_i(araddr),
      .dst_clk_i(clk_i), .dst_rst_ni(engine_rst_n),
      .out_valid_o(e_arvalid), .out_ready_i(e_arready), .out_data_o(e_araddr)
    );
    tsr_link_slice #(.Width(34), .Cdc(Cdc)) u_r (
      .src_clk_i(clk_i), .src_rst_ni(engine_rst_n), .src_flush_i(1'b0),
      .in_valid_i(e_rvalid), .in_ready_o(e_rready), .in_data_i({e_rresp, e_rdata}),
      .dst_clk_i(bridge_clk_i), .dst_rst_ni(engine_rst_q),
      .out_valid_o(rvalid), .out_ready_i(rready), .out_data_o({rresp, rdata})
    );
    tsr_link_slice #(.Width(InBytes*8 + 1), .Cdc(Cdc)) u_in (
      .src_clk_i(bridge_clk_i), .src_rst_ni(engine_rst_q), .src_flush_i(1'b0),
      .in_valid_i(in_tvalid), .in_ready_o(in_tready), .in_data_i({in_tlast, in_tdata}),
      .dst_clk_i(clk_i), .dst_rst_ni(engine_rst_n),
      .out_valid_o(e_in_tvalid), .out_ready_i(e_in_tready),
      .out_data_o({e_in_tlast, e_in_tdata})
    );
    // CTRL.CLEAR (dbg_events[5]): the link may hold a stale beat when the engine presents
    // another; the engine's is dropped in front of it, so the one left is in the link by
    // the time the bridge drops it (a crossing also drops, by epoch, what it took until
    // then).
    logic out_in_valid, out_in_ready;
    tsr_clear_drop u_out_drop (
      .clk_i, .rst_ni(engine_rst_n), .clear_i(dbg_events[5]),
      .s_valid_i(e_out_tvalid), .s_ready_o(e_out_tready),
      .m_valid_o(out_in_valid), .m_ready_i(out_in_ready)
    );
    tsr_link_slice #(.Width(OutBytes*8 + 1), .Cdc(Cdc)) u_out (
      .src_clk_i(clk_i), .src_rst_ni(engine_rst_n), .src_flush_i(dbg_events[5]),
      .in_valid_i(out_in_valid), .in_ready_o(out_in_ready),
      .in_data_i({e_out_tlast, e_out_tdata}),
      .dst_clk_i(bridge_clk_i), .dst_rst_ni(engine_rst_q),
      .out_valid_o(out_tvalid), .out_ready_i(out_tready), .out_data_o({out_tlast, out_tdata})
    );
  end else begin : gen_link_direct
    assign {e_awaddr, e_awvalid, awready} = {awaddr, awvalid, e_awready};
    assign {e_wdata, e_wstrb, e_wvalid, wready} = {wdata, wstrb, wvalid, e_wready};
    assign {bresp, bvalid, e_bready} = {e_bresp, e_bvalid, bready};
    assign {e_araddr, e_arvalid, arready} = {araddr, arvalid, e_arready};
    assign {rdata, rresp, rvalid, e_rready} = {e_rdata, e_rresp, e_rvalid, rready};
    assign {e_in_tdata, e_in_tlast, e_in_tvalid, in_tready} =
           {in_tdata, in_tlast, in_tvalid, e_in_tready};
    assign {out_tdata, out_tlast, out_tvalid, e_out_tready} =
           {e_out_tdata, e_out_tlast, e_out_tvalid, out_tready};
  end

  tsr_top #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .CmdFifoDepth(CmdFifoDepth),
    .RqLanes(RqLanes), .CmdFifoRegRead(CmdFifoRegRead), .OutFifoRegRead(OutFifoRegRead),
    .ScratchSpram(ScratchSpram), .LutMulCols(LutMulCols), .LoadWriteReg(LoadWriteReg),
    .Sparse(Sparse), .RoundSingle(RoundSingle), .PerfDetail(PerfDetail),
    .AccForward(AccForward), .RqLean(RqLean), .RqDeep(RqDeep), .GemmOverlap(GemmOverlap),
    .LeanDispatch(LeanDispatch), .PeMac16(PeMac16), .StoreJobs(StoreJobs),
    .HazardReg(HazardReg), .WgtBusReg(WgtBusReg), .StoreInReg(StoreInReg),
    .IssueReg(IssueReg), .AccWriteReg(AccWriteReg), .CsrReg(CsrReg),
    .SerialMul(SerialMul)
  ) u_engine (
    .clk_i, .rst_ni(engine_rst_n),
    .s_axil_awaddr_i(e_awaddr), .s_axil_awvalid_i(e_awvalid), .s_axil_awready_o(e_awready),
    .s_axil_wdata_i(e_wdata), .s_axil_wstrb_i(e_wstrb), .s_axil_wvalid_i(e_wvalid),
    .s_axil_wready_o(e_wready), .s_axil_bresp_o(e_bresp), .s_axil_bvalid_o(e_bvalid),
    .s_axil_bready_i(e_bready), .s_axil_araddr_i(e_araddr), .s_axil_arvalid_i(e_arvalid),
    .s_axil_arready_o(e_arready), .s_axil_rdata_o(e_rdata), .s_axil_rresp_o(e_rresp),
    .s_axil_rvalid_o(e_rvalid), .s_axil_rready_i(e_rready),
    .s_axis_tdata_i(e_in_tdata), .s_axis_tvalid_i(e_in_tvalid),
    .s_axis_tready_o(e_in_tready), .s_axis_tlast_i(e_in_tlast),
    .m_axis_tdata_o(e_out_tdata), .m_axis_tvalid_o(e_out_tvalid),
    .m_axis_tready_i(e_out_tready), .m_axis_tlast_o(e_out_tlast),
    .dbg_pe_stuck0_i('0),
    .dbg_cmd_push_o(dbg_events[0]), .dbg_cmd_issue_o(dbg_events[1]),
    .dbg_cmd_drop_o(dbg_events[2]), .dbg_load_done_o(dbg_events[3]),
    .dbg_gemm_done_o(dbg_events[4]), .dbg_clear_o(dbg_events[5]),
    .dbg_unit_busy_o(unit_busy)
  );
  // The event pulses are for the simulation's command log (and CLEAR's for the LinkRegs link);
  // the LEDs use the unit activity.
  logic unused_dbg;
  assign unused_dbg = ^dbg_events;

  // ---- LEDs (the bridge's clock; the busy LED straight from the engine's units) ---------
  logic [HeartW-1:0]    heart_q;
  logic                 heart_led_q, error_led_q;
  logic                 seen_q, shown_q;  // a byte this activity period, the last one

  always_ff @(posedge bridge_clk_i or negedge rst_n) begin
    if (!rst_n) begin
      heart_q     <= '0;
      heart_led_q <= 1'b0;
      error_led_q <= 1'b0;
      seen_q      <= 1'b0;
      shown_q     <= 1'b0;
    end else begin
      if (heart_q == HeartW'(ClkHz / 2 - 1)) begin
        heart_q     <= '0;
        heart_led_q <= !heart_led_q;
      end else begin
        heart_q <= heart_q + 1'b1;
      end
      if (bridge_error)           error_led_q <= 1'b1;
      else if (!engine_rst_req_n) error_led_q <= 1'b0;
      // Activity periods of 2^TickW cycles, ticked by the heartbeat counter's low bits.
      if (heart_q[TickW-1:0] == '0) begin
        shown_q <= seen_q || rx_byte || tx_byte;
        seen_q  <= 1'b0;
      end else if (rx_byte || tx_byte) begin
        seen_q  <= 1'b1;
      end
    end
  end

  assign led_o = {seen_q || shown_q, error_led_q, unit_busy != '0, heart_led_q};

endmodule
