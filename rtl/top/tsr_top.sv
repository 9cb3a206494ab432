// Tessera engine top: AXI4-Lite CSRs and command FIFO, AXI4-Stream data in and results
// out, decoupled load / execute / store units around a Rows x Cols weight-stationary
// systolic array. See docs/architecture.md for the dataflow, docs/isa.md for the ISA.
module tsr_top #(
  parameter int unsigned Rows         = 16,
  parameter int unsigned Cols         = 16,
  parameter int unsigned ActDepth     = 16384,  // words of Rows int8
  parameter int unsigned WgtDepth     = 4096,   // words of Cols int8
  parameter int unsigned AccDepth     = 1024,   // rows per accumulator bank (max M)
  parameter int unsigned ParamDepth   = 4096,   // output channels
  parameter int unsigned CmdFifoDepth = 16,
  // FPGA fitting (docs/architecture.md, "Configurations for FPGAs"); the defaults keep the
  // simulation engine as it was:
  parameter int unsigned RqLanes        = Cols,  // requantization lanes (4 multipliers
                                                 // each), time-shared over Cols/RqLanes
                                                 // cycles a result beat; divides Cols
  parameter int unsigned CmdFifoRegRead = 0,      // command FIFO in block RAM
                                                 // (registered read) instead of LUT RAM
  parameter int unsigned OutFifoRegRead = 0,      // output FIFO likewise
  parameter int unsigned LeanDispatch   = 0,      // 1: a command waits for every unit
                                                 // that might touch its scratchpad (no
                                                 // address ranges; tsr_hazard Coarse, and
                                                 // a fold waits for any LOAD into its
                                                 // scratchpad, tsr_exec_unit CoarseRaw)
                                                 // and its products take 8 cycles
                                                 // (tsr_dispatch SerialMul)
  parameter int unsigned SerialMul      = 0,      // 1: only the dispatcher's products
                                                 // take 8 cycles, one adder a cycle
                                                 // (LeanDispatch implies it)
  parameter int unsigned ScratchSpram   = 0,      // ACT and WGT in iCE40 SPRAM (single
                                                 // port: a LOAD's write takes the cycle,
                                                 // the execute unit's read waits for it)
  parameter int unsigned LutMulCols     = 0,      // array columns whose multipliers are
                                                 // logic, not DSP blocks (tsr_pe LutMul)
  parameter int unsigned LoadWriteReg   = 0,      // 1: scratchpad writes registered in the
                                                 // load unit (a cycle later; tsr_load_unit)
  parameter int unsigned RoundSingle    = 1,      // 0: double rounding only, FEATURES bit 7
                                                 // clear (tsr_requant)
  parameter int unsigned PerfDetail     = 1,      // 0: PERF_CYCLES and PERF_LAST_OUT only,
                                                 // FEATURES bit 16 set (tsr_csr)
  parameter int unsigned RqLean         = 0,      // 1: 6-stage requantization lanes for
                                                 // slow clocks (tsr_requant Lean)
  parameter int unsigned RqDeep         = 0,      // 1: 10-stage requantization lanes for
                                                 // slow FPGAs at 100 MHz (tsr_requant
                                                 // Deep); not with RqLean
  parameter int unsigned PeMac16        = 0,      // 1: iCE40: each DSP PE an SB_MAC16
                                                 // instance with its adder (tsr_pe Mac16)
  parameter int unsigned StoreJobs      = 2,      // 1: one store job waits (a register),
                                                 // the execute unit waits for its room;
                                                 // needs Sparse = 0
  parameter int unsigned GemmOverlap    = 1,      // 0: the execute unit takes a GEMM only
                                                 // when idle (no second one preloading)
  parameter int unsigned AccForward     = 1,      // 0: no sum forwarding in the
                                                 // accumulator; the execute unit spaces a
                                                 // row's folds 3 cycles apart instead
  parameter int unsigned HazardReg      = 0,      // 1: the dispatcher decides each hand-off
                                                 // a cycle ahead, into registers
                                                 // (tsr_dispatch), and the execute unit's
                                                 // fold-start check is registered too
                                                 // (tsr_exec_unit RawReg)
  parameter int unsigned WgtBusReg      = 0,      // 1: the weight bus (WGT read data, row
                                                 // write enables, bank) registered once
                                                 // more in front of the array
  parameter int unsigned IssueReg       = 0,      // 1: the execute unit's issue leaves from
                                                 // registers a cycle after it is decided
                                                 // (tsr_exec_unit IssueReg); not with
                                                 // ScratchSpram
  parameter int unsigned StoreInReg     = 0,      // 1: the store unit's accumulator read
                                                 // registered on both sides (request,
                                                 // row; tsr_store_unit AccInReg)
  parameter int unsigned AccWriteReg    = 0,      // 1: the accumulator writes its banks
                                                 // from registers a cycle after the add
                                                 // (tsr_accumulator WriteReg; needs
                                                 // AccForward)
  parameter int unsigned CsrReg         = 0,      // 1: a CSR read decodes its registered
                                                 // address a cycle later, from status
                                                 // registered a cycle earlier (tsr_csr
                                                 // ReadReg), and the command FIFO's full
                                                 // flag comes from a count of its own
  // Sparse-gather path (SPGEMM, docs/isa.md): Rows x Cols MAC lanes of its own, the META
  // scratchpad and GBUF (Cols copies). The simulation engine has it; boards leave it out.
  parameter int unsigned Sparse         = 1,
  parameter int unsigned GbufDepth      = 512,    // words of Rows int8, each of Cols copies
  parameter int unsigned MetaDepth      = 4096,   // words of Cols uint8
  localparam int unsigned InBytes  = (Rows > Cols ? (Rows > 16 ? Rows : 16)
                                                  : (Cols > 16 ? Cols : 16)),
  localparam int unsigned OutBytes = 4 * Cols
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // AXI4-Lite slave: CSRs and commands.
  input  logic [11:0]           s_axil_awaddr_i,
  input  logic                  s_axil_awvalid_i,
  output logic                  s_axil_awready_o,
  input  logic [31:0]           s_axil_wdata_i,
  input  logic [3:0]            s_axil_wstrb_i,
  input  logic                  s_axil_wvalid_i,
  output logic                  s_axil_wready_o,
  output logic [1:0]            s_axil_bresp_o,
  output logic                  s_axil_bvalid_o,
  input  logic                  s_axil_bready_i,
  input  logic [11:0]           s_axil_araddr_i,
  input  logic                  s_axil_arvalid_i,
  output logic                  s_axil_arready_o,
  output logic [31:0]           s_axil_rdata_o,
  output logic [1:0]            s_axil_rresp_o,
  output logic                  s_axil_rvalid_o,
  input  logic                  s_axil_rready_i,
  // AXI4-Stream slave: LOAD data.
  input  logic [InBytes*8-1:0]  s_axis_tdata_i,
  input  logic                  s_axis_tvalid_i,
  output logic                  s_axis_tready_o,
  input  logic                  s_axis_tlast_i,
  // AXI4-Stream master: results.
  output logic [OutBytes*8-1:0] m_axis_tdata_o,
  output logic                  m_axis_tvalid_o,
  input  logic                  m_axis_tready_i,
  output logic                  m_axis_tlast_o,
  // Fault injection for testing the checkers; tie to zero in hardware.
  input  logic [Rows*Cols-1:0]  dbg_pe_stuck0_i,
  // Simulation/debug observation (docs/debugging.md): one-cycle event pulses and unit
  // activity for the harness's command log and stall watchdog. Leave open in hardware.
  output logic                  dbg_cmd_push_o,   // a command entered the FIFO
  output logic                  dbg_cmd_issue_o,  // the FIFO head went to its unit
  output logic                  dbg_cmd_drop_o,   // the FIFO head was dropped (error)
  output logic                  dbg_load_done_o,  // a LOAD wrote its last beat
  output logic                  dbg_gemm_done_o,  // a GEMM's last output beat left
  output logic                  dbg_clear_o,      // CTRL.CLEAR
  output logic [3:0]            dbg_unit_busy_o   // {store, accumulator, execute, load}
);

  localparam int unsigned ActAW   = $clog2(ActDepth);
  localparam int unsigned WgtAW   = $clog2(WgtDepth);
  localparam int unsigned AccAW   = $clog2(AccDepth);
  localparam int unsigned ParamAW = $clog2(ParamDepth);
  // Without the sparse path, GBUF and META shrink to nothing that widens an address.
  localparam int unsigned GbufWords = (Sparse != 0) ? GbufDepth : 2;
  localparam int unsigned MetaWords = (Sparse != 0) ? MetaDepth : 2;
  localparam int unsigned GbufAW  = $clog2(GbufWords);
  localparam int unsigned MetaAW  = $clog2(MetaWords);
  localparam int unsigned LoadAW  = tsr_pkg::load_aw(ActAW, WgtAW, ParamAW, GbufAW, MetaAW);
  localparam int unsigned ExecLoadAW = tsr_pkg::load_aw(ActAW, WgtAW, ParamAW, 0, 0);
  localparam int unsigned JobW    = tsr_pkg::JobFixedW + (AccAW + 1) + ParamAW;
  localparam int unsigned LevelW  = $clog2(CmdFifoDepth) + 1;
  // SB_MAC16 columns that delay their sums a cycle themselves, all but the last column.
  localparam int unsigned MacCols  = Cols - LutMulCols;
  localparam int unsigned LateCols = (PeMac16 == 0) ? 0 : (MacCols < Cols - 1 ? MacCols : Cols - 1);

  // Elaboration-time checks of the configuration.
  if (Rows < 2 || Cols < 2 || Rows > 64 || Cols > 64) begin : gen_bad_array
    $error("Rows and Cols must lie in 2..64");
  end
  if (StoreJobs < 1 || StoreJobs > 2 || (StoreJobs == 1 && Sparse != 0)) begin : gen_bad_jobs
    $error("StoreJobs must be 2, or 1 without the sparse path");
  end
  if (ActDepth > 32768 || WgtDepth > 32768 || ParamDepth > 32768 || AccDepth > 32768 ||
      (1 << ActAW) != ActDepth || (1 << WgtAW) != WgtDepth || (1 << AccAW) != AccDepth ||
      (1 << ParamAW) != ParamDepth || ParamDepth < Cols) begin : gen_bad_depth
    $error("scratchpad depths must be powers of two up to 32768, ParamDepth >= Cols");
  end
  // The command index of a LOAD must fit the dispatcher's LoadAW+1-bit count, and
  // FEATURES[15:8] reports the FIFO depth.
  if (CmdFifoDepth < 2 || CmdFifoDepth > 128 || (1 << $clog2(CmdFifoDepth)) != CmdFifoDepth)
  begin : gen_bad_fifo
    $error("CmdFifoDepth must be a power of two in 2..128 (FEATURES[15:8])");
  end
  if (AccDepth < 2 || ActDepth < 2 || WgtDepth < Rows || ParamDepth < 2) begin : gen_bad_small
    $error("scratchpads too small: AccDepth, ActDepth, ParamDepth >= 2, WgtDepth >= Rows");
  end
  if (RqLanes < 1 || RqLanes > Cols || (Cols / RqLanes) * RqLanes != Cols) begin : gen_bad_lanes
    $error("RqLanes must divide Cols (1..Cols requantization lanes)");
  end
  if (IssueReg > 1 || (IssueReg != 0 && ScratchSpram != 0)) begin : gen_bad_issue_reg
    $error("IssueReg must be 0 or 1, and 0 with ScratchSpram (its read waits on the port)");
  end
  if (RqDeep > 1 || (RqDeep != 0 && RqLean != 0)) begin : gen_bad_rq_deep
    $error("RqDeep must be 0 or 1, and 0 with RqLean");
  end
  if (SerialMul > 1) begin : gen_bad_serial_mul
    $error("SerialMul must be 0 or 1");
  end
  if (CsrReg > 1) begin : gen_bad_csr_reg
    $error("CsrReg must be 0 or 1");
  end
  if (LutMulCols > Cols) begin : gen_bad_lut_mul
    $error("LutMulCols must lie in 0..Cols");
  end
  if (Sparse > 1 || (Sparse != 0 &&
      (GbufDepth < 2 || GbufDepth > 32768 || (1 << GbufAW) != GbufDepth ||
       MetaDepth < 2 || MetaDepth > 32768 || (1 << MetaAW) != MetaDepth ||
       AccDepth < Rows))) begin : gen_bad_sparse
    $error("Sparse must be 0 or 1, GbufDepth and MetaDepth powers of two in 2..32768, AccDepth >= Rows");
  end

  logic clear, cmd_overflow;

  // ---- command FIFO and dispatcher ---------------------------------------------------
  // The dispatcher holds the head command in a register of its own while it validates
  // it; that register counts as one of the CmdFifoDepth entries the host sees (STATUS
  // level, FIFO_FULL), so the queue's capacity is CmdFifoDepth as before. A block RAM
  // FIFO's head is a register already: the dispatcher validates it there (HeadInFifo),
  // and the FIFO's own level counts it.
  logic              cmd_push, cmd_full, cmd_empty, cmd_pop, cmd_fifo_full, dispatch_busy;
  logic [127:0]      cmd_in, cmd_head;
  logic [LevelW-1:0] cmd_level, cmd_fifo_level;
  logic [LevelW-1:0] csr_level;  // STATUS.LEVEL: cmd_level, or its count (CsrReg)
  tsr_fifo #(.Width(tsr_pkg::CmdWidth), .Depth(CmdFifoDepth), .RegRead(CmdFifoRegRead))
  u_cmd_fifo (
    .clk_i, .rst_ni, .clear_i(clear), .keep_head_i(1'b0),
    .push_i(cmd_push), .data_i(cmd_in), .full_o(cmd_fifo_full),
    .pop_i(cmd_pop), .data_o(cmd_head), .empty_o(cmd_empty), .level_o(cmd_fifo_level)
  );
  assign cmd_level = cmd_fifo_level + LevelW'(CmdFifoRegRead == 0 && dispatch_busy);

  logic               load_valid, load_ready, load_done;
  logic [2:0]         load_target;
  logic [LoadAW-1:0]  load_dst;
  logic [LoadAW:0]    load_count;
  logic               gemm_valid, gemm_ready, gemm_done, param_release, exec_cmd_done;
  logic               load_err;
  logic [7:0]         load_err_code;
  logic [ActAW-1:0]   gemm_act_base;
  logic [WgtAW-1:0]   gemm_wgt_base;
  logic [ParamAW-1:0] gemm_param_base;
  logic [AccAW:0]     gemm_m_rows;
  logic [7:0]         gemm_kt, gemm_nt;
  logic [15:0]        gemm_folds;
  logic [tsr_pkg::StoreCfgW-1:0] gemm_store_cfg;
  logic               error, dropped;
  logic [7:0]         err_code;
  logic [31:0]        err_cmd;

  logic               sp_valid, sp_ready, sp_reads_done, sp_err;
  logic [GbufAW-1:0]  sp_gbuf_base;
  logic [WgtAW-1:0]   sp_wgt_base;
  logic [MetaAW-1:0]  sp_meta_base;
  logic [6:0]         sp_m_rows;
  logic [7:0]         sp_k_last, sp_len_last, sp_nt;
  logic               sp_trans;

  tsr_dispatch #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .Sparse(Sparse != 0),
    .GbufDepth(GbufWords), .MetaDepth(MetaWords), .HeadInFifo(CmdFifoRegRead != 0),
    .Coarse(LeanDispatch != 0), .SerialMul(LeanDispatch != 0 || SerialMul != 0), .HazardReg(HazardReg != 0)
  ) u_dispatch (
    .clk_i, .rst_ni, .clear_i(clear),
    .cmd_push_i(cmd_push), .cmd_valid_i(!cmd_empty), .cmd_i(cmd_head), .cmd_pop_o(cmd_pop),
    .load_valid_o(load_valid), .load_ready_i(load_ready), .load_target_o(load_target),
    .load_dst_o(load_dst), .load_count_o(load_count),
    .gemm_valid_o(gemm_valid), .gemm_ready_i(gemm_ready),
    .gemm_act_base_o(gemm_act_base), .gemm_wgt_base_o(gemm_wgt_base),
    .gemm_param_base_o(gemm_param_base), .gemm_m_rows_o(gemm_m_rows),
    .gemm_kt_count_o(gemm_kt), .gemm_nt_count_o(gemm_nt), .gemm_folds_o(gemm_folds),
    .gemm_store_cfg_o(gemm_store_cfg),
    .sp_valid_o(sp_valid), .sp_ready_i(sp_ready), .sp_gbuf_base_o(sp_gbuf_base),
    .sp_wgt_base_o(sp_wgt_base), .sp_meta_base_o(sp_meta_base), .sp_m_rows_o(sp_m_rows),
    .sp_k_last_o(sp_k_last), .sp_len_last_o(sp_len_last), .sp_nt_count_o(sp_nt),
    .sp_trans_o(sp_trans),
    .param_release_i(param_release),
    .gemm_cmd_done_i(exec_cmd_done), .sp_reads_done_i(sp_reads_done),
    .err_req_i(load_err), .err_req_code_i(load_err_code), .sp_err_i(sp_err),
    .overflow_i(cmd_overflow),
    .error_o(error), .err_code_o(err_code), .err_cmd_o(err_cmd),
    .dropped_o(dropped), .busy_o(dispatch_busy)
  );

  // CsrReg: the commands held (the FIFO's and the dispatcher's head) counted in a register
  // of their own, stepped by the pushes and by each command leaving the head (handed off
  // or dropped), so the CSR's push decision starts at a register and a compare, not
  // behind the FIFO's pointer subtraction and the head's add (the CSR may lie far away).
  if (CsrReg != 0) begin : gen_cmd_count
    logic              cmd_leave;  // the head leaves: handed off or dropped
    logic [LevelW-1:0] held_q;
    assign cmd_leave = dropped || load_valid || gemm_valid || sp_valid;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)    held_q <= '0;
      else if (clear) held_q <= '0;  // no push coincides with CLEAR (one write at a time)
      else            held_q <= held_q + LevelW'(cmd_push) - LevelW'(cmd_leave);
    end
    assign cmd_full  = (held_q == LevelW'(CmdFifoDepth));
    assign csr_level = held_q;
`ifndef SYNTHESIS
    HeldCount_A: assert property (@(posedge clk_i) disable iff (!rst_ni) held_q == cmd_level)
      else $error("tsr_top: the count of commands held lost step with the FIFO and the head");
`endif
  end else begin : gen_cmd_level
    assign cmd_full  = (cmd_level == LevelW'(CmdFifoDepth));
    assign csr_level = cmd_level;
  end

  // ---- load unit and scratchpads -----------------------------------------------------
  logic [4:0]           load_we;
  logic [LoadAW-1:0]    load_waddr;
  logic [InBytes*8-1:0] load_wdata;
  logic                 load_busy, load_stall;
  logic                 load_wr_active;
  logic [2:0]           load_wr_target;
  logic [LoadAW:0]      load_wr_lo, load_wr_hi;

  tsr_load_unit #(.InBytes(InBytes), .AddrW(LoadAW), .WriteReg(LoadWriteReg != 0)) u_load (
    .clk_i, .rst_ni, .clear_i(clear),
    .cmd_valid_i(load_valid), .cmd_ready_o(load_ready), .target_i(load_target),
    .dst_i(load_dst), .count_i(load_count),
    .s_tdata_i(s_axis_tdata_i), .s_tvalid_i(s_axis_tvalid_i), .s_tready_o(s_axis_tready_o),
    .s_tlast_i(s_axis_tlast_i),
    .we_o(load_we), .waddr_o(load_waddr), .wdata_o(load_wdata), .done_o(load_done),
    .err_o(load_err), .err_code_o(load_err_code),
    .wr_active_o(load_wr_active), .wr_target_o(load_wr_target), .wr_lo_o(load_wr_lo),
    .wr_hi_o(load_wr_hi),
    .busy_o(load_busy), .stall_o(load_stall)
  );

  logic               act_re, wgt_re, param_re, exec_wgt_re;
  logic [ActAW-1:0]   act_raddr;
  logic [WgtAW-1:0]   wgt_raddr, exec_wgt_raddr;
  logic [ParamAW-1:0] param_raddr;
  logic [Rows*8-1:0]  act_rdata;
  logic [Cols*8-1:0]  wgt_rdata;
  logic [71:0]        param_rdata;

  tsr_sram #(.Width(Rows*8), .Depth(ActDepth), .Spram(ScratchSpram != 0)) u_act_mem (
    .clk_i, .we_i(load_we[0]), .waddr_i(load_waddr[ActAW-1:0]),
    .wdata_i(load_wdata[Rows*8-1:0]), .re_i(act_re), .raddr_i(act_raddr), .rdata_o(act_rdata)
  );
  tsr_sram #(.Width(Cols*8), .Depth(WgtDepth), .Spram(ScratchSpram != 0)) u_wgt_mem (
    .clk_i, .we_i(load_we[1]), .waddr_i(load_waddr[WgtAW-1:0]),
    .wdata_i(load_wdata[Cols*8-1:0]), .re_i(wgt_re), .raddr_i(wgt_raddr), .rdata_o(wgt_rdata)
  );
  // The load unit has checked the shift byte (bits 71:64) against [-31, 30], so its bit 7
  // repeats bit 6 and holds the flags byte's rounding bit instead (tsr_pkg::ParamSingle).
  logic [tsr_pkg::ParamBits-1:0] param_wdata;
  assign param_wdata = {load_wdata[8*(tsr_pkg::ParamBytes-1)], load_wdata[70:0]};
  tsr_sram #(.Width(tsr_pkg::ParamBits), .Depth(ParamDepth)) u_param_mem (
    .clk_i, .we_i(load_we[2]), .waddr_i(load_waddr[ParamAW-1:0]),
    .wdata_i(param_wdata), .re_i(param_re), .raddr_i(param_raddr),
    .rdata_o(param_rdata)
  );

  // ---- execute unit, array, accumulator ----------------------------------------------
  logic [Rows-1:0]  wgt_we;
  logic             wgt_bank;
  logic             issue_valid, issue_bank, issue_acc_bank, issue_first, issue_last;
  logic [AccAW-1:0] issue_row;
  logic [1:0]       acc_free, acc_written;
  logic             acc_claim, job_push, job_room;
  logic [JobW-1:0]  job;
  logic             exec_busy, exec_stall;

  tsr_exec_unit #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .AccForward(AccForward != 0),
    .Overlap(GemmOverlap != 0), .CoarseRaw(LeanDispatch != 0), .RawReg(HazardReg != 0),
    .WgtLate(WgtBusReg != 0), .IssueReg(IssueReg != 0)
  ) u_exec (
    .clk_i, .rst_ni, .clear_i(clear),
    .cmd_valid_i(gemm_valid), .cmd_ready_o(gemm_ready),
    .act_base_i(gemm_act_base), .wgt_base_i(gemm_wgt_base), .param_base_i(gemm_param_base),
    .m_rows_i(gemm_m_rows), .kt_count_i(gemm_kt), .nt_count_i(gemm_nt), .folds_i(gemm_folds),
    .store_cfg_i(gemm_store_cfg),
    .act_port_busy_i(ScratchSpram != 0 && load_we[0]),
    .wgt_port_busy_i(ScratchSpram != 0 && load_we[1]),
    // The execute unit reads ACT and WGT only: their addresses fit its narrower window
    // (a LOAD into a deeper META or GBUF differs in its target).
    .ld_active_i(load_wr_active), .ld_target_i(load_wr_target),
    .ld_lo_i(load_wr_lo[ExecLoadAW:0]), .ld_hi_i(load_wr_hi[ExecLoadAW:0]),
    .act_re_o(act_re), .act_raddr_o(act_raddr), .wgt_re_o(exec_wgt_re),
    .wgt_raddr_o(exec_wgt_raddr),
    .wgt_we_o(wgt_we), .wgt_bank_o(wgt_bank),
    .issue_valid_o(issue_valid), .issue_bank_o(issue_bank),
    .issue_acc_bank_o(issue_acc_bank), .issue_row_o(issue_row),
    .issue_first_o(issue_first), .issue_last_o(issue_last),
    .acc_free_i(acc_free), .acc_claim_o(acc_claim), .job_push_o(job_push), .job_o(job),
    .job_room_i(job_room),
    .cmd_done_o(exec_cmd_done), .busy_o(exec_busy), .stall_o(exec_stall)
  );

  // ACT data arrives a cycle after the issue and is registered before the skew (the
  // block RAM's clock-to-out and the multiplier do not share a cycle); idle slots feed
  // zeros into the array.
  logic              issued_q, issued_bank_q;
  logic [Rows*9-1:0] edge_q, edge_out;
  logic [Rows*8-1:0] array_act;
  logic [Rows-1:0]   array_bank;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      issued_q      <= 1'b0;
      issued_bank_q <= 1'b0;
      edge_q        <= '0;
    end else begin
      issued_q      <= issue_valid;
      issued_bank_q <= issue_bank;
      for (int r = 0; r < Rows; r++) begin
        edge_q[r*9 +: 9] <= {issued_bank_q, issued_q ? act_rdata[r*8 +: 8] : 8'd0};
      end
    end
  end
  for (genvar r = 0; r < Rows; r++) begin : gen_edge
    assign array_act[r*8 +: 8] = edge_out[r*9 +: 8];
    assign array_bank[r]       = edge_out[r*9 + 8];
  end

  tsr_delay_lanes #(.Lanes(Rows), .Width(9), .Reverse(1'b0)) u_skew (
    .clk_i, .data_i(edge_q), .data_o(edge_out)
  );

  // The weight bus reaches every PE of the array, spread over the die on a large FPGA.
  // WgtBusReg registers it once more (the WGT block RAM's clock-to-out and the bus then
  // have a cycle each): every weight lands a cycle later. Safe: a bank is marked loaded
  // (and issued against) a cycle after its last row's write left the execute unit, and
  // an activation reaches PE row r no sooner than 2 + r cycles after its issue, so the
  // late write still lands first; a later write into a drained bank is later still
  // (WeightBankSafe_A below checks the writes as the array sees them).
  logic [Rows-1:0]   array_wgt_we;
  logic              array_wgt_bank;
  logic [Cols*8-1:0] array_wgt;
  if (WgtBusReg != 0) begin : gen_wgt_bus_reg
    logic [Rows-1:0]   wgt_we_q;
    logic              wgt_bank_q;
    logic [Cols*8-1:0] wgt_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) wgt_we_q <= '0;
      else         wgt_we_q <= wgt_we;
    end
    always_ff @(posedge clk_i) begin
      wgt_bank_q <= wgt_bank;
      wgt_q      <= wgt_rdata;
    end
    assign array_wgt_we   = wgt_we_q;
    assign array_wgt_bank = wgt_bank_q;
    assign array_wgt      = wgt_q;
  end else begin : gen_wgt_bus
    assign array_wgt_we   = wgt_we;
    assign array_wgt_bank = wgt_bank;
    assign array_wgt      = wgt_rdata;
  end
  logic [Cols*32-1:0] array_psum, deskewed_psum;
  tsr_systolic_array #(
    .Rows(Rows), .Cols(Cols), .LutMulCols(LutMulCols), .Mac16(PeMac16 != 0),
    .LateCols(LateCols)
  ) u_array (
    .clk_i,
    .act_i(array_act), .act_bank_i(array_bank),
    .wgt_we_i(array_wgt_we), .wgt_bank_i(array_wgt_bank), .wgt_row_i(array_wgt),
    .fault_stuck0_i(dbg_pe_stuck0_i),
    .psum_o(array_psum)
  );

  tsr_delay_lanes #(.Lanes(Cols), .Width(32), .Reverse(1'b1), .Trim(LateCols)) u_deskew (
    .clk_i, .data_i(array_psum), .data_o(deskewed_psum)
  );

  logic               store_start, store_done, store_bank, store_re;
  logic [AccAW-1:0]   store_raddr;
  logic [Cols*32-1:0] store_rdata;
  logic               acc_busy;

  // ---- sparse-gather unit (SPGEMM) ---------------------------------------------------------
  logic               sp_wgt_re, sp_claim, sp_claim_bank, sp_we, sp_bank, sp_last;
  logic               sp_job_push, sp_entry, sp_busy, sp_stall;
  logic [WgtAW-1:0]   sp_wgt_raddr;
  logic [AccAW-1:0]   sp_row;
  logic [Cols*32-1:0] sp_wdata;
  logic [JobW-1:0]    sp_job;
  if (Sparse != 0) begin : gen_sparse
    logic              meta_re;
    logic [MetaAW-1:0] meta_raddr;
    logic [Cols*8-1:0] meta_rdata;
    tsr_sram #(.Width(Cols*8), .Depth(MetaDepth)) u_meta_mem (
      .clk_i, .we_i(load_we[tsr_pkg::TgtMeta]), .waddr_i(load_waddr[MetaAW-1:0]),
      .wdata_i(load_wdata[Cols*8-1:0]), .re_i(meta_re), .raddr_i(meta_raddr),
      .rdata_o(meta_rdata)
    );
    tsr_sparse_unit #(
      .Rows(Rows), .Cols(Cols), .WgtDepth(WgtDepth), .MetaDepth(MetaDepth),
      .GbufDepth(GbufDepth), .AccDepth(AccDepth), .ParamDepth(ParamDepth)
    ) u_sparse (
      .clk_i, .rst_ni, .clear_i(clear),
      .cmd_valid_i(sp_valid), .cmd_ready_o(sp_ready), .gbuf_base_i(sp_gbuf_base),
      .wgt_base_i(sp_wgt_base), .meta_base_i(sp_meta_base), .param_base_i(gemm_param_base),
      .m_rows_i(sp_m_rows), .k_last_i(sp_k_last), .len_last_i(sp_len_last),
      .nt_count_i(sp_nt), .store_cfg_i(gemm_store_cfg), .trans_i(sp_trans),
      .gbuf_we_i(load_we[tsr_pkg::TgtGbuf]), .gbuf_waddr_i(load_waddr[GbufAW-1:0]),
      .gbuf_wdata_i(load_wdata[Rows*8-1:0]),
      .wgt_re_o(sp_wgt_re), .wgt_raddr_o(sp_wgt_raddr), .wgt_rdata_i(wgt_rdata),
      .meta_re_o(meta_re), .meta_raddr_o(meta_raddr), .meta_rdata_i(meta_rdata),
      .acc_free_i(acc_free), .acc_claim_o(sp_claim), .acc_claim_bank_o(sp_claim_bank),
      .acc_we_o(sp_we), .acc_bank_o(sp_bank), .acc_row_o(sp_row), .acc_last_o(sp_last),
      .acc_wdata_o(sp_wdata),
      .job_push_o(sp_job_push), .job_o(sp_job), .reads_done_o(sp_reads_done),
      .entry_o(sp_entry), .err_o(sp_err), .busy_o(sp_busy), .stall_o(sp_stall)
    );
  end else begin : gen_no_sparse
    assign sp_ready      = 1'b0;
    assign sp_wgt_re     = 1'b0;
    assign sp_wgt_raddr  = '0;
    assign sp_claim      = 1'b0;
    assign sp_claim_bank = 1'b0;
    assign sp_we         = 1'b0;
    assign sp_bank       = 1'b0;
    assign sp_row        = '0;
    assign sp_last       = 1'b0;
    assign sp_wdata      = '0;
    assign sp_job_push   = 1'b0;
    assign sp_job        = '0;
    assign sp_reads_done = 1'b0;
    assign sp_entry      = 1'b0;
    assign sp_err        = 1'b0;
    assign sp_busy       = 1'b0;
    assign sp_stall      = 1'b0;
    logic unused_sparse;
    assign unused_sparse = ^{sp_valid, sp_gbuf_base, sp_wgt_base, sp_meta_base, sp_m_rows,
                             sp_k_last, sp_len_last, sp_nt, sp_trans, load_we[4:3]};
  end
  // The two datapaths take turns (tsr_hazard): WGT's read port and the store's job queue
  // belong to whichever runs.
  assign wgt_re    = exec_wgt_re || sp_wgt_re;
  assign wgt_raddr = sp_wgt_re ? sp_wgt_raddr : exec_wgt_raddr;

  tsr_accumulator #(
    .Rows(Rows), .Cols(Cols), .AccDepth(AccDepth), .Forward(AccForward != 0),
    .WriteReg(AccWriteReg != 0)
  ) u_acc (
    .clk_i, .rst_ni, .clear_i(clear),
    .issue_valid_i(issue_valid), .issue_bank_i(issue_acc_bank), .issue_row_i(issue_row),
    .issue_first_i(issue_first), .issue_last_i(issue_last),
    .psum_i(deskewed_psum),
    .sp_claim_i(sp_claim), .sp_claim_bank_i(sp_claim_bank), .sp_we_i(sp_we),
    .sp_bank_i(sp_bank), .sp_row_i(sp_row), .sp_last_i(sp_last), .sp_wdata_i(sp_wdata),
    .claim_i(acc_claim), .store_start_i(store_start), .store_done_i(store_done),
    .store_bank_i(store_bank), .free_o(acc_free), .written_o(acc_written),
    .store_re_i(store_re), .store_raddr_i(store_raddr), .store_rdata_o(store_rdata),
    .busy_o(acc_busy)
  );

  // ---- store unit --------------------------------------------------------------------
  logic store_busy, store_stall;
  tsr_store_unit #(
    .Cols(Cols), .AccDepth(AccDepth), .ParamDepth(ParamDepth), .RqLanes(RqLanes),
    .OutFifoRegRead(OutFifoRegRead), .RoundSingle(RoundSingle != 0), .RqLean(RqLean != 0),
    .RqDeep(RqDeep != 0),
    .JobDepth(StoreJobs), .RqMac16(PeMac16 != 0), .AccInReg(StoreInReg != 0)
  ) u_store (
    .clk_i, .rst_ni, .clear_i(clear),
    .job_push_i(job_push || sp_job_push), .job_i(sp_job_push ? sp_job : job),
    .job_room_o(job_room),
    .acc_written_i(acc_written), .acc_start_o(store_start), .acc_done_o(store_done),
    .acc_bank_o(store_bank), .acc_re_o(store_re), .acc_raddr_o(store_raddr),
    .acc_rdata_i(store_rdata),
    .param_re_o(param_re), .param_raddr_o(param_raddr), .param_rdata_i(param_rdata),
    .m_tdata_o(m_axis_tdata_o), .m_tvalid_o(m_axis_tvalid_o), .m_tready_i(m_axis_tready_i),
    .m_tlast_o(m_axis_tlast_o), .gemm_done_o(gemm_done), .param_release_o(param_release),
    .busy_o(store_busy), .stall_o(store_stall)
  );

  // ---- CSRs --------------------------------------------------------------------------
  logic busy;
  assign busy = (cmd_fifo_level != '0) || dispatch_busy || load_busy || exec_busy || acc_busy ||
                sp_busy || store_busy;

  // What the CSRs see of the units: as they are, or (CsrReg) from registers a cycle
  // later, so the units' state, spread over the die, and the CSRs' status and event
  // registers each get a cycle of their own. Busy then also counts a command pushed in
  // the cycle before, which the registered state does not show yet: a STATUS read after
  // a CMD3 write's response still sees the engine busy.
  logic       csr_busy, csr_stall, csr_mac_row, csr_out_beat, csr_dropped;
  logic [2:0] csr_unit_busy;
  logic [1:0] csr_retired;
  if (CsrReg != 0) begin : gen_csr_in_reg
    logic       busy_q, push_q, stall_q, mac_row_q, out_beat_q, dropped_q;
    logic [2:0] unit_busy_q;
    logic [1:0] retired_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        {busy_q, push_q, stall_q, mac_row_q, out_beat_q, dropped_q, unit_busy_q, retired_q} <= '0;
      end else begin
        {busy_q, push_q, stall_q, mac_row_q, out_beat_q, dropped_q, unit_busy_q, retired_q} <=
          {busy, cmd_push, exec_stall || sp_stall || load_stall || store_stall,
           issue_valid || sp_entry, m_axis_tvalid_o && m_axis_tready_i, dropped,
           store_busy, exec_busy || sp_busy, load_busy, {1'b0, load_done} + {1'b0, gemm_done}};
      end
    end
    assign {csr_busy, csr_stall, csr_mac_row, csr_out_beat, csr_dropped, csr_unit_busy,
            csr_retired} = {busy_q || push_q, stall_q, mac_row_q, out_beat_q, dropped_q,
                            unit_busy_q, retired_q};
  end else begin : gen_csr_in_now
    assign {csr_busy, csr_stall, csr_mac_row, csr_out_beat, csr_dropped, csr_unit_busy,
            csr_retired} = {busy, exec_stall || sp_stall || load_stall || store_stall,
                            issue_valid || sp_entry, m_axis_tvalid_o && m_axis_tready_i,
                            dropped, store_busy, exec_busy || sp_busy, load_busy,
                            {1'b0, load_done} + {1'b0, gemm_done}};
  end

  tsr_csr #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .InBytes(InBytes),
    .CmdFifoDepth(CmdFifoDepth), .Sparse(Sparse != 0), .GbufDepth(GbufDepth),
    .MetaDepth(MetaDepth), .RoundSingle(RoundSingle != 0), .PerfDetail(PerfDetail != 0),
    .ReadReg(CsrReg != 0)
  ) u_csr (
    .clk_i, .rst_ni,
    .s_awaddr_i(s_axil_awaddr_i), .s_awvalid_i(s_axil_awvalid_i),
    .s_awready_o(s_axil_awready_o), .s_wdata_i(s_axil_wdata_i), .s_wstrb_i(s_axil_wstrb_i),
    .s_wvalid_i(s_axil_wvalid_i), .s_wready_o(s_axil_wready_o), .s_bresp_o(s_axil_bresp_o),
    .s_bvalid_o(s_axil_bvalid_o), .s_bready_i(s_axil_bready_i),
    .s_araddr_i(s_axil_araddr_i), .s_arvalid_i(s_axil_arvalid_i),
    .s_arready_o(s_axil_arready_o), .s_rdata_o(s_axil_rdata_o), .s_rresp_o(s_axil_rresp_o),
    .s_rvalid_o(s_axil_rvalid_o), .s_rready_i(s_axil_rready_i),
    .cmd_push_o(cmd_push), .cmd_o(cmd_in), .cmd_full_i(cmd_full), .cmd_level_i(csr_level),
    .cmd_overflow_o(cmd_overflow),
    .clear_o(clear),
    .error_i(error), .err_code_i(err_code), .err_cmd_i(err_cmd), .busy_i(csr_busy),
    .unit_busy_i(csr_unit_busy), .stall_i(csr_stall), .mac_row_i(csr_mac_row),
    .out_beat_i(csr_out_beat), .retired_i(csr_retired), .dropped_i(csr_dropped)
  );

  // ---- debug observation -------------------------------------------------------------
  assign dbg_cmd_push_o  = cmd_push;
  assign dbg_cmd_issue_o = load_valid || gemm_valid || sp_valid;
  assign dbg_cmd_drop_o  = dropped;
  assign dbg_load_done_o = load_done;
  assign dbg_gemm_done_o = gemm_done;
  assign dbg_clear_o     = clear;
  assign dbg_unit_busy_o = {store_busy, acc_busy || sp_busy, exec_busy || sp_busy, load_busy};

  logic unused_top;
  assign unused_top = ^{load_waddr, load_wdata, cmd_fifo_full, load_wr_lo, load_wr_hi};

`ifndef SYNTHESIS
  // ---- weight banks: never overwritten while an activation still needs them -------------
  // A shadow of the array's timing, from the issue (cycle 0): ACT data at 1, the edge
  // register at 2, PE row r at 2+r, PE (r, c) at 2+r+c, where it reads its weight in
  // that cycle. A preload write to row r of bank b is safe only when every earlier
  // activation of bank b has reached the row's last PE: none issued with b sits at ages
  // 0 .. r+Cols.
  localparam int unsigned Ages = Rows + Cols;
  logic [Ages:1] age_valid_q, age_bank_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      age_valid_q <= '0;
      age_bank_q  <= '0;
    end else if (clear) begin
      age_valid_q <= '0;  // what was in flight no longer counts
    end else begin
      age_valid_q <= {age_valid_q[Ages-1:1], issue_valid};
      age_bank_q  <= {age_bank_q[Ages-1:1], issue_bank};
    end
  end
  for (genvar r = 0; r < Rows; r++) begin : gen_wgt_bank_check
    logic pending;
    always_comb begin
      pending = issue_valid && (issue_bank == array_wgt_bank);
      for (int a = 1; a <= r + Cols; a++) begin
        if (age_valid_q[a] && age_bank_q[a] == array_wgt_bank) pending = 1'b1;
      end
    end
    WeightBankSafe_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                       !(array_wgt_we[r] && pending))
      else $error("weight bank %0d of PE row %0d overwritten while an activation needs it",
                  array_wgt_bank, r);
  end
  OneWgtReader_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   !(exec_wgt_re && sp_wgt_re))
    else $error("the execute unit and the sparse unit read WGT in one cycle");
  OneJobPusher_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   !(job_push && sp_job_push))
    else $error("the execute unit and the sparse unit pushed a store job in one cycle");
  ClearDuringLoadUnit_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                         clear && load_busy);
  ClearDuringStoreUnit_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                          clear && store_busy);
`endif

endmodule
