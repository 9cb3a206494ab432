// Request executor of the UART bridge: runs the requests of docs/protocol.md one at a
// time, in order, against the engine's AXI4-Lite and AXI4-Stream ports, and has the
// reply sender answer them. Bounded semantics (docs/protocol.md, "Serial"; the FPGA plan):
// - STREAM_WRITE pushes its beats, blocking on TREADY; StallCycles cycles without the
//   engine taking a beat fail it with TRANSPORT, and the rest of the frame is dropped.
//   The last beat of a frame with MORE is held back until the next STREAM_WRITE, so an
//   empty frame that ends the packet can still put TLAST on it.
// - STREAM_READ collects its beats into the frame buffer, then replies (u64 cycles,
//   beats); a budget that runs out is a TRANSPORT error.
// - A CSR_WRITE of CTRL.CLEAR does the host's part (docs/isa.md): the stale result beat
//   the engine still presents is dropped, and an open input packet of which no beat went
//   out is dropped with the rest of it (later STREAM_WRITEs up to the one without MORE).
//   A packet whose TLAST beat a stall dropped gets a zero beat with TLAST, so that the
//   engine's discard ends there and not in the next LOAD's packet.
// - Posted requests: no reply on success; a failure answers with its seq, then posted
//   requests are skipped until the next synchronous one, which is answered SKIPPED.
module tsr_bridge_exec
  import tsr_bridge_pkg::*;
#(
  parameter int unsigned InBytes      = 16,
  parameter int unsigned OutBytes     = 16,
  parameter int unsigned FrameBytes   = 4096,
  parameter int unsigned StallCycles  = 1 << 26,
  parameter int unsigned OutFifoBeats = 8,    // LIMITS.output_beats
  localparam int unsigned AddrW = $clog2(FrameBytes),
  localparam int unsigned LenW  = AddrW + 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // Events from the frame receiver.
  input  logic                 ev_valid_i,
  output logic                 ev_ready_o,
  input  logic                 ev_ok_i,
  input  err_e                 ev_code_i,
  input  msg_e                 ev_msg_i,
  input  logic                 ev_hdr_valid_i,
  input  logic [7:0]           ev_type_i,
  input  logic [2:0]           ev_flags_i,   // POSTED, MORE, any other flag bit
  input  logic [LenW-1:0]      ev_len_i,
  // The argument / reply register, which is the receiver's header window (bytes 4..19):
  // ours while a good frame's event is held. arg_shift_o shifts it down a byte, arg_byte_o
  // entering at the top; arg_we_o loads it with arg_o.
  input  logic [127:0]         arg_i,
  output logic                 arg_shift_o,
  output logic [7:0]           arg_byte_o,
  output logic                 arg_we_o,
  output logic [127:0]         arg_o,
  // Frame buffer port (registered read), at the shared position counter (tsr_bridge),
  // whose low bits (pos_i) are the sender's fixed payload byte while a reply goes out.
  input  logic [1:0]           pos_i,
  output logic                 pos_clr_o,
  output logic                 pos_inc_o,
  output logic                 buf_en_o,
  output logic                 buf_we_o,
  output logic [7:0]           buf_wdata_o,
  input  logic [7:0]           buf_rdata_i,
  // Reply sender.
  output logic                 tx_start_o,
  input  logic                 tx_busy_i,
  output logic                 tx_err_o,         // an ERROR reply
  output logic [7:0]           tx_fixed_byte_o,  // the next fixed payload byte
  input  logic                 tx_fixed_next_i,  // the sender took it: shift the next in
  output logic [3:0]           tx_fixed_len_o,
  output logic                 tx_tail_rom_o,
  output msg_e                 tx_msg_o,
  output logic                 tx_tail_buf_o,    // tail: the pos_i bytes STREAM_READ collected
  // AXI4-Lite master to the engine's CSRs.
  output logic [11:0]          m_axil_awaddr_o,
  output logic                 m_axil_awvalid_o,
  input  logic                 m_axil_awready_i,
  output logic [31:0]          m_axil_wdata_o,
  output logic [3:0]           m_axil_wstrb_o,
  output logic                 m_axil_wvalid_o,
  input  logic                 m_axil_wready_i,
  input  logic [1:0]           m_axil_bresp_i,
  input  logic                 m_axil_bvalid_i,
  output logic                 m_axil_bready_o,
  output logic [11:0]          m_axil_araddr_o,
  output logic                 m_axil_arvalid_o,
  input  logic                 m_axil_arready_i,
  input  logic [31:0]          m_axil_rdata_i,
  input  logic [1:0]           m_axil_rresp_i,
  input  logic                 m_axil_rvalid_i,
  output logic                 m_axil_rready_o,
  // AXI4-Stream to the engine (LOAD data) and from it (results).
  output logic [InBytes*8-1:0] m_axis_tdata_o,
  output logic                 m_axis_tvalid_o,
  input  logic                 m_axis_tready_i,
  output logic                 m_axis_tlast_o,
  input  logic [OutBytes*8-1:0] s_axis_tdata_i,
  input  logic                 s_axis_tvalid_i,
  output logic                 s_axis_tready_o,
  input  logic                 s_axis_tlast_i,
  // Engine reset (RESET request), and a pulse per error reply (LED).
  output logic                 engine_rst_no,
  output logic                 error_o
);

  if (InBytes < 1 || OutBytes < 1 || FrameBytes < 8 + OutBytes || FrameBytes < InBytes)
  begin : gen_bad_widths
    $error("tsr_bridge_exec: FrameBytes must hold one input beat and 8 + one output beat");
  end

  localparam int unsigned CycW    = 40;  // cycle counters: over 3 hours at 100 MHz
  localparam int unsigned StallW  = $clog2(StallCycles + 1);
  // InBytes a power of two: a frame's beats are its length shifted, no counting loop.
  localparam int unsigned InShift = $clog2(InBytes);
  localparam bit          InPow2  = (1 << InShift) == InBytes;

  if (StallW > CycW) begin : gen_bad_stall
    $error("tsr_bridge_exec: StallCycles must be below 2^40 (it shares the cycle counter)");
  end
  localparam int unsigned BeatW   = LenW;  // beats of a frame, either direction
  localparam int unsigned InIdxW  = $clog2(InBytes + 1);
  localparam int unsigned OutIdxW = $clog2(OutBytes + 1);
  localparam int unsigned MaxReadBeats = (FrameBytes - 8) / OutBytes;
  localparam int unsigned ReadW = $clog2(MaxReadBeats + 1);  // beats of a STREAM_READ
  localparam logic [11:0] CsrCtrl   = 12'h024;
  localparam logic [11:0] CsrStatus = 12'h028;

  typedef enum logic [4:0] {
    StIdle, StArgs, StDispatch, StCsrWrite, StCsrRead, StClearDrain, StClearEnd, StWait,
    StWaitRead, StSwCount, StSwBegin, StSwFill, StSwPush, StSrCollect, StReset, StAlign, StReply,
    StAck
  } state_e;

  state_e             state_q, state_d;
  // The first min(len, 16) payload bytes, the last of them in bits 127:120: each request's
  // fields are then at fixed places (any budget in arg_q[127:64]), read where they are.
  // Once the request is done, arg_q[63:0] holds the reply's fixed payload bytes (byte 0 in
  // bits 7:0), and the sender shifts them out a byte at a time (tx_fixed_next_i): no
  // separate 64-bit reply register, and no byte mux in the sender. An error reply's fixed
  // bytes are not loaded: tx_fixed_byte_o picks them by position (rep_code_q, the type),
  // and arg_q is left alone (the window may hold bytes the receiver rescans).
  logic [127:0]       arg_q, arg_d;
  assign arg_q = arg_i;
  // What arg_q takes: one mux per bit, outside the state machine. The state machine
  // decides a load (arg_ld) and the register takes it a cycle later (ld_q), so the enable
  // of its 128 flip-flops is a few registers' function, not the end of the state
  // machine's cone. Nothing reads arg_q the cycle after deciding a load (StArgs'
  // last shift lands as it moves on; StDispatch reads arg_q the cycle after that), and
  // what a load takes holds that cycle: the frame buffer's registered read data until its
  // next read, the CSR read data until the next read, the cycle counter (StWait's final
  // cycle does not count). Loads are decided only while the event is held, and the last
  // one lands long before the reply is sent and the event acknowledged.
  typedef enum logic [3:0] {
    LdHold, LdShift, LdAlign, LdArgs, LdHello, LdStats, LdLimits, LdRdata, LdCycles
  } arg_ld_e;
  arg_ld_e            arg_ld, ld_q;
  logic [4:0]         nargs_q, nargs_d;      // payload bytes read into arg_q, bytes aligned
  logic               rd_pending_q, rd_pending_d;
  logic               skip_q, skip_d;        // a posted request failed
  // Reply descriptor. Its type and seq are the request's, which the sender takes from the
  // receiver (held until the executor acknowledges the event, after the reply went out):
  // only whether it is an ERROR is kept here. A buffer tail is always the pos_i bytes
  // STREAM_READ collected.
  logic               rep_err_q, rep_err_d;
  err_e               rep_code_q, rep_code_d;  // an ERROR reply's code
  logic [1:0]         rep_fixed_len_q, rep_fixed_len_d;  // fixed payload bytes / 4
  logic               rep_rom_q, rep_rom_d;
  msg_e               rep_msg_q, rep_msg_d;
  logic               rep_buf_q, rep_buf_d;
  logic               sent_q, sent_d;        // the sender took the descriptor
  // AXI4-Lite.
  logic               aw_q, aw_d, w_q, w_d, ar_q, ar_d;
  // Cycle counting (waits, reads) and the bridge's own cycle counter (STATS).
  logic [CycW-1:0]    cyc_q, cyc_d;
  logic [47:0]        stats_q;
  // Stream write.
  logic [LenW-1:0]    rem_q, rem_d;
  logic [BeatW-1:0]   nbeats_q, nbeats_d, beat_q, beat_d;
  logic [InIdxW-1:0]  in_byte_q, in_byte_d;
  logic [InBytes*8-1:0] beat_data_q, beat_data_d;
  logic               tvalid_q, tvalid_d, tlast_q, tlast_d;
  logic               pend_q, pend_d;        // beat_data_q holds the open packet's last beat
  logic               open_q, open_d;        // an input packet has begun and not ended
  logic               begun_q, begun_d;      // a beat of the open packet went out
  logic               drop_q, drop_d;        // dropping the rest of a packet CLEAR caught
  logic               cut_q, cut_d;          // a stall dropped the open packet's TLAST beat
  state_e             push_next_q, push_next_d;  // where StSwPush goes once its beat is taken
  // Stream read.
  logic [OutIdxW-1:0] out_byte_q, out_byte_d;
  logic               read_done_q, read_done_d;  // STREAM_READ: beat_q reached the count
  logic               cyc_clr, cyc_inc, beat_clr, beat_inc;
  logic               in_byte_clr, in_byte_inc, out_byte_clr, out_byte_inc;
  logic [2:0]         rst_cnt_q, rst_cnt_d;

  // Beats of the STREAM_WRITE frame: counted by StSwCount unless InBytes is a power of two.
  logic [BeatW-1:0] nbeats;
  assign nbeats = InPow2 ? BeatW'(ev_len_i >> InShift) : nbeats_q;

  logic posted, more, do_fail;
  err_e fail_code;
  msg_e fail_msg;
  assign posted = ev_flags_i[FlagPosted];
  assign more   = ev_flags_i[FlagMore];

  // The u64 budget saturates at 2^40 - 1 cycles, longer than anyone waits: with a budget
  // that large (budget_huge) a STREAM_READ fails once cyc_q is all ones, and a wait never.
  // Registered: the budget's bits are in arg_q from StDispatch on and stay there through
  // StWait and StSrCollect, so the register holds their value in both (BudgetHeld_A).
  logic            budget_huge, budget_huge_q;
  logic [CycW-1:0] budget;
  assign budget_huge = budget_huge_q;
  assign budget      = arg_q[64 +: CycW];

  // One comparator for both budgets, registered: a wait or a STREAM_READ fails once
  // cyc_q > budget, which is the comparison of the cycle before (cyc_q counts up by one a
  // cycle in StWait and StSrCollect until then; over_q is clear in their first). The
  // 40-bit compare then ends at a flip-flop, not in the stream handshake. With a huge
  // budget only a STREAM_READ fails, once cyc_q is all ones: over_q is set as it gets
  // there, from the count one below (HugeOver_A), so the 40-input AND is not in the
  // handshake either.
  logic budget_ge, over_q, over_d;
  assign budget_ge = (cyc_q >= budget);
  assign over_d    = budget_huge ? (state_q == StSrCollect && cyc_q == ~CycW'(1))
                                 : ((state_q == StWait || state_q == StSrCollect) &&
                                    budget_ge);

  // WAIT_IDLE waits for STATUS.busy; WAIT_STATUS for its mask and FIFO level (a level
  // over 255 is no limit). StDispatch leaves both in arg_q (LdArgs): WAIT_IDLE's as mask
  // 1 and level 255, a level over 255 as 255.
  logic        wait_idle;
  logic [31:0] wait_mask;
  logic [7:0]  wait_level;
  assign wait_idle  = (ev_type_i == TypeWaitIdle);
  assign wait_mask  = arg_q[31:0];
  assign wait_level = arg_q[39:32];

  // The verdict on each STATUS read, registered: the AXI read data and these comparators
  // do not share a cycle with the state machine (StWait acts on it a cycle after RVALID).
  logic r_seen_q, r_err_q, r_ok_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_seen_q <= 1'b0;
      r_err_q  <= 1'b0;
      r_ok_q   <= 1'b0;
    end else begin
      r_seen_q <= (state_q == StWait) && m_axil_rvalid_i;
      r_err_q  <= m_axil_rresp_i[1];
      r_ok_q   <= (m_axil_rdata_i & wait_mask) == '0 && m_axil_rdata_i[23:16] <= wait_level;
    end
  end

  // Payload bytes StArgs reads: min(len, 16).
  logic [4:0] nargs_want;
  assign nargs_want = (ev_len_i >= LenW'(16)) ? 5'd16 : 5'(ev_len_i);

  function automatic logic [LenW-1:0] payload_bytes(logic [7:0] kind);
    unique case (kind)
      TypeHello, TypeCsrRead:  return LenW'(4);
      TypeCsrWrite, TypeWaitIdle: return LenW'(8);
      TypeStreamRead:          return LenW'(12);
      TypeWaitStatus:          return LenW'(16);
      default:                 return '0;
    endcase
  endfunction

  // The request's verdict, decoded from the event's type, flags and length into registers
  // while StArgs reads its arguments (the event holds them from StIdle on, and StDispatch
  // only follows StArgs): StDispatch acts on a few flip-flops, not on the 8-bit type
  // compares, and the argument register's load decisions stay shallow.
  typedef enum logic [3:0] {
    ReqFail, ReqHello, ReqCsrWrite, ReqCsrRead, ReqWait, ReqStreamWrite, ReqStreamRead,
    ReqReset, ReqStats, ReqLimits, ReqPing
  } req_e;
  req_e req_q, req_d;
  msg_e req_msg_q, req_msg_d;  // why a ReqFail fails (always BAD_REQUEST)
  always_comb begin
    req_msg_d = MsgPayloadSize;
    unique case (ev_type_i)
      TypeHello:       req_d = ReqHello;
      TypeCsrWrite:    req_d = ReqCsrWrite;
      TypeCsrRead:     req_d = ReqCsrRead;
      TypeWaitIdle, TypeWaitStatus: req_d = ReqWait;
      TypeStreamWrite: req_d = ReqStreamWrite;
      TypeStreamRead:  req_d = ReqStreamRead;
      TypeReset:       req_d = ReqReset;
      TypeStats:       req_d = ReqStats;
      TypeLimits:      req_d = ReqLimits;
      TypePing:        req_d = ReqPing;
      default:         req_d = ReqFail;
    endcase
    if (ev_flags_i[2]) begin
      req_d = ReqFail; req_msg_d = MsgBadFlags;
    end else if (more && ev_type_i != TypeStreamWrite) begin
      req_d = ReqFail; req_msg_d = MsgMoreFlag;
    end else if (posted && !(ev_type_i inside {TypeCsrWrite, TypeStreamWrite, TypeReset,
                                                 TypeTraceStop, TypePing})) begin
      req_d = ReqFail; req_msg_d = MsgNotPostable;
    end else if (ev_type_i == TypeTraceStart || ev_type_i == TypeTraceStop) begin
      req_d = ReqFail; req_msg_d = MsgNoTrace;
    end else if (req_d == ReqFail) begin
      req_msg_d = MsgUnknownType;
    end else if (ev_type_i != TypeStreamWrite && ev_len_i != payload_bytes(ev_type_i)) begin
      req_d = ReqFail; req_msg_d = MsgPayloadSize;
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      req_q     <= ReqFail;
      req_msg_q <= MsgPayloadSize;
    end else begin
      req_q     <= req_d;
      req_msg_q <= req_msg_d;
    end
  end

  // STREAM_READ's beats over MaxReadBeats: a few OR gates when MaxReadBeats is all ones.
  logic read_over;
  if ((MaxReadBeats + 1) == (1 << ReadW)) begin : gen_read_ones
    assign read_over = (arg_q[63:32+ReadW] != '0);
  end else begin : gen_read_any
    assign read_over = (arg_q[63:32] > 32'(MaxReadBeats));
  end

  // StallCycles without the engine taking a beat: cyc_q counts them from 0 and stops there.
  // Registered with the count (StalledReg_A), so the compare is not in front of the
  // failure's enables: set as the count steps onto StallCycles, or clears to it.
  logic stalled_q, stalled_d;
  assign stalled_d = cyc_clr ? (StallCycles == 0)
                   : (cyc_inc ? cyc_q[StallW-1:0] == StallW'(StallCycles) - StallW'(1)
                              : stalled_q);

  logic [OutBytes*8-1:0] out_shifted;
  assign out_shifted = s_axis_tdata_i >> (8 * out_byte_q);

  // SLVERR and DECERR both have bit 1 set; results are counted in beats, not packets.
  logic unused_inputs;
  assign unused_inputs = ^{m_axil_bresp_i[0], m_axil_rresp_i[0], s_axis_tlast_i,
                           out_shifted[OutBytes*8-1:8]};

  always_comb begin
    state_d         = state_q;
    arg_ld          = (tx_fixed_next_i && !rep_err_q) ? LdShift : LdHold;
    rep_code_d      = rep_code_q;
    nargs_d         = nargs_q;
    rd_pending_d    = 1'b0;
    skip_d          = skip_q;
    rep_err_d       = rep_err_q;
    rep_fixed_len_d = rep_fixed_len_q;
    rep_rom_d       = rep_rom_q;
    rep_msg_d       = rep_msg_q;
    rep_buf_d       = rep_buf_q;
    sent_d          = sent_q;
    aw_d            = aw_q;
    w_d             = w_q;
    ar_d            = ar_q;
    cyc_clr         = 1'b0;
    cyc_inc         = 1'b0;
    rem_d           = rem_q;
    nbeats_d        = nbeats_q;
    beat_clr        = 1'b0;
    beat_inc        = 1'b0;
    in_byte_clr     = 1'b0;
    in_byte_inc     = 1'b0;
    pos_clr_o       = 1'b0;
    pos_inc_o       = 1'b0;
    beat_data_d     = beat_data_q;
    tvalid_d        = tvalid_q;
    tlast_d         = tlast_q;
    pend_d          = pend_q;
    open_d          = open_q;
    begun_d         = begun_q;
    drop_d          = drop_q;
    cut_d           = cut_q;
    push_next_d     = push_next_q;
    out_byte_clr    = 1'b0;
    out_byte_inc    = 1'b0;
    rst_cnt_d       = rst_cnt_q;
    buf_en_o        = 1'b0;
    buf_we_o        = 1'b0;
    buf_wdata_o     = out_shifted[7:0];
    s_axis_tready_o = 1'b0;
    ev_ready_o      = 1'b0;
    error_o         = 1'b0;

    do_fail         = 1'b0;
    fail_code       = ErrBadRequest;
    fail_msg        = MsgPayloadSize;

    // An input beat, once presented, stays until the engine takes it (AXI4-Stream), even
    // after a stall failed its request: a later STREAM_WRITE waits for it first.
    if (tvalid_q && m_axis_tready_i) begin
      tvalid_d = 1'b0;
      begun_d  = !tlast_q;
      open_d   = !tlast_q;
    end

    unique case (state_q)
      StIdle: if (ev_valid_i) begin
        rep_err_d       = 1'b0;
        rep_fixed_len_d = '0;
        rep_rom_d       = 1'b0;
        rep_buf_d       = 1'b0;
        if (!ev_ok_i) begin
          // A framing error: answered with the header's seq and type when it is intact.
          // A posted frame lost this way starts the skip like a failed posted request.
          rep_err_d       = 1'b1;
          rep_code_d      = ev_code_i;
          rep_fixed_len_d = 2'd1;
          rep_rom_d       = 1'b1;
          rep_msg_d       = ev_msg_i;
          if (ev_hdr_valid_i && posted) skip_d = 1'b1;
          error_o         = 1'b1;
          state_d         = StReply;
        end else if (skip_q) begin
          if (posted) state_d = StAck;
          else begin
            skip_d          = 1'b0;
            rep_err_d       = 1'b1;
            rep_code_d      = ErrSkipped;
            rep_fixed_len_d = 2'd1;
            rep_rom_d       = 1'b1;
            rep_msg_d       = MsgSkipped;
            state_d         = StReply;
          end
        end else begin
          nargs_d = '0;
          pos_clr_o = 1'b1;
          state_d = StArgs;
        end
      end

      // Read the first min(len, 16) payload bytes into arg_q: issue a read, take its byte
      // the next cycle.
      StArgs: begin
        if (nargs_q == nargs_want) begin
          state_d = StDispatch;
        end else if (rd_pending_q) begin
          arg_ld  = LdShift;
          nargs_d = nargs_q + 5'd1;
          pos_inc_o = 1'b1;
        end else begin
          buf_en_o     = 1'b1;
          rd_pending_d = 1'b1;
        end
      end

      StDispatch: begin
        state_d = StReply;  // every branch below either replies, fails or moves on
        if (req_q == ReqFail) begin
          do_fail  = 1'b1;
          fail_msg = req_msg_q;  // fail_code: BAD_REQUEST
        end else begin
          unique case (req_q)
            ReqHello: begin
              // u32 max payload, u16 input beat bytes, u16 output beat bytes, name.
              arg_ld          = LdHello;
              rep_fixed_len_d = 2'd2;
              rep_rom_d       = 1'b1;
              rep_msg_d       = MsgName;
            end
            ReqCsrWrite: begin
              aw_d    = 1'b1;
              w_d     = 1'b1;
              state_d = StCsrWrite;
            end
            ReqCsrRead: begin
              ar_d    = 1'b1;
              state_d = StCsrRead;
            end
            ReqWait: begin
              arg_ld   = LdArgs;
              cyc_clr    = 1'b1;
              ar_d     = 1'b1;
              state_d  = StWait;
            end
            ReqStreamWrite: begin
              rem_d       = ev_len_i;
              nbeats_d    = '0;
              cyc_clr       = 1'b1;
              push_next_d = StSwCount;
              // A beat a stalled write left presented goes first.
              state_d     = tvalid_q ? StSwPush : StSwCount;
            end
            ReqStreamRead: begin
              if (read_over) begin
                begin do_fail = 1'b1; fail_code = ErrBadRequest; fail_msg = MsgReplyTooLarge; end
              end else begin
                cyc_clr      = 1'b1;
                beat_clr     = 1'b1;
                out_byte_clr = 1'b1;
                pos_clr_o    = 1'b1;
                state_d    = StSrCollect;
              end
            end
            ReqReset: begin
              rst_cnt_d = 3'd7;
              state_d   = StReset;
            end
            ReqStats: begin
              arg_ld          = LdStats;
              rep_fixed_len_d = 2'd2;
              nargs_d         = 5'd6;
              state_d         = StAlign;
            end
            ReqLimits: begin
              // Nothing is accepted ahead of the LOAD that consumes it; the engine holds
              // OutFifoBeats results without a STREAM_READ.
              arg_ld          = LdLimits;
              rep_fixed_len_d = 2'd2;
            end
            default: ;  // ReqPing
          endcase
        end
      end

      StCsrWrite: begin
        if (m_axil_awready_i) aw_d = 1'b0;
        if (m_axil_wready_i) w_d = 1'b0;
        if (m_axil_bvalid_i) begin
          if (m_axil_bresp_i[1]) begin do_fail = 1'b1; fail_code = ErrEngine; fail_msg = MsgSlverr; end
          else if (arg_q[75:64] == CsrCtrl && arg_q[96]) begin
            // CTRL.CLEAR, the host's part. An open packet none of whose beats went out
            // is dropped, its later frames too; one already begun still goes out (the
            // engine discards it up to its TLAST).
            if (open_q && !begun_q && !tvalid_q) begin
              drop_d = 1'b1;
              pend_d = 1'b0;
              open_d = 1'b0;
            end
            state_d = StClearDrain;
          end else state_d = StReply;
        end
      end

      // The result beat the engine presented when CLEAR took effect is stale: drop it.
      StClearDrain: begin
        s_axis_tready_o = 1'b1;
        cyc_clr           = 1'b1;
        state_d         = cut_q ? StClearEnd : StReply;
      end

      // The cut packet: once the engine has taken the beat still presented (it discards
      // the packet CLEAR caught), a zero beat with TLAST ends it.
      StClearEnd: begin
        if (!tvalid_q) begin
          beat_data_d = '0;
          tvalid_d    = 1'b1;
          tlast_d     = 1'b1;
          cut_d       = 1'b0;
          push_next_d = StReply;
          state_d     = StSwPush;
        end else if (stalled_q) begin
          begin do_fail = 1'b1; fail_code = ErrTransport; fail_msg = MsgStall; end
        end else begin
          cyc_inc = 1'b1;
        end
      end

      StCsrRead: begin
        if (m_axil_arready_i) ar_d = 1'b0;
        if (m_axil_rvalid_i) begin
          if (m_axil_rresp_i[1]) begin do_fail = 1'b1; fail_code = ErrEngine; fail_msg = MsgSlverr; end
          else begin
            arg_ld          = LdRdata;
            rep_fixed_len_d = 2'd1;
            state_d         = StReply;
          end
        end
      end

      // WAIT_IDLE / WAIT_STATUS: read STATUS until the mask bits are clear and the FIFO
      // level is low enough; cycles counted from the first read, as tessera-sim does.
      StWait: begin
        cyc_inc = 1'b1;
        if (m_axil_arready_i) ar_d = 1'b0;
        if (r_seen_q) begin
          if (r_err_q) begin do_fail = 1'b1; fail_code = ErrEngine; fail_msg = MsgSlverr; end
          else if (r_ok_q) begin
            cyc_inc         = 1'b0;  // the count the load takes a cycle later
            arg_ld          = LdCycles;
            rep_fixed_len_d = 2'd2;
            nargs_d         = 5'd11;
            state_d         = StAlign;
          end else if (over_q) begin
            begin do_fail = 1'b1; fail_code = ErrTransport; fail_msg = MsgBudget; end
          end else begin
            ar_d = 1'b1;
          end
        end
      end

      // STREAM_WRITE: count whole beats first, so a partial one fails before any goes out.
      StSwCount: begin
        if (InPow2) begin
          if ((ev_len_i & LenW'(InBytes - 1)) != '0) begin
            do_fail = 1'b1; fail_code = ErrTransport; fail_msg = MsgPartialBeat;
          end else state_d = StSwBegin;
        end else if (rem_q >= LenW'(InBytes)) begin
          rem_d    = rem_q - LenW'(InBytes);
          nbeats_d = nbeats_q + 1'b1;
        end else if (rem_q != '0) begin
          begin do_fail = 1'b1; fail_code = ErrTransport; fail_msg = MsgPartialBeat; end
        end else state_d = StSwBegin;
      end

      StSwBegin: begin
        beat_clr    = 1'b1;
        in_byte_clr = 1'b1;
        pos_clr_o   = 1'b1;
        state_d   = StReply;
        if (drop_q) begin
          drop_d = more;  // the packet CLEAR dropped: this frame is part of it
        end else if (nbeats == '0) begin
          if (!more && open_q) begin
            if (pend_q) begin
              // An empty frame ends the packet: TLAST on its held-back last beat.
              tvalid_d    = 1'b1;
              tlast_d     = 1'b1;
              pend_d      = 1'b0;
              push_next_d = StReply;
              cyc_clr       = 1'b1;
              state_d     = StSwPush;
            end else begin do_fail = 1'b1; fail_code = ErrInput; fail_msg = MsgEmptyEnd; end
          end
        end else if (pend_q) begin
          tvalid_d    = 1'b1;
          tlast_d     = 1'b0;
          pend_d      = 1'b0;
          cut_d       = 1'b0;
          push_next_d = StSwFill;
          cyc_clr       = 1'b1;
          state_d     = StSwPush;
        end else begin
          cut_d   = 1'b0;  // the held beat's packet goes on with these beats
          state_d = StSwFill;
        end
      end

      // Assemble one beat from the frame buffer, byte 0 first.
      StSwFill: begin
        if (rd_pending_q) begin
          beat_data_d = {buf_rdata_i, beat_data_q[InBytes*8-1:8]};
          pos_inc_o     = 1'b1;
          in_byte_inc   = 1'b1;
          if (in_byte_q == InIdxW'(InBytes - 1)) begin
            in_byte_clr = 1'b1;
            beat_inc    = 1'b1;
            open_d    = 1'b1;
            if (beat_q == nbeats - 1'b1 && more) begin
              pend_d  = 1'b1;  // held back: the packet goes on in the next frame
              state_d = StReply;
            end else begin
              tvalid_d    = 1'b1;
              tlast_d     = (beat_q == nbeats - 1'b1);
              push_next_d = (beat_q == nbeats - 1'b1) ? StReply : StSwFill;
              cyc_clr       = 1'b1;
              state_d     = StSwPush;
            end
          end
        end else begin
          buf_en_o     = 1'b1;
          rd_pending_d = 1'b1;
        end
      end

      StSwPush: begin
        if (m_axis_tready_i) begin
          state_d = push_next_q;  // the handshake rule above updates the packet state
        end else if (stalled_q) begin
          // The engine took nothing: the rest of the frame is dropped; the beat stays
          // presented (it may not be withdrawn) and goes first in the next STREAM_WRITE.
          // Without MORE the dropped rest held the packet's TLAST beat, unless this is it.
          begin do_fail = 1'b1; fail_code = ErrTransport; fail_msg = MsgStall; end
          if (!tlast_q && !more) cut_d = 1'b1;
        end else begin
          cyc_inc = 1'b1;
        end
      end

      // STREAM_READ: each result beat goes into the frame buffer a byte a cycle; TREADY
      // takes it with its last byte.
      StSrCollect: begin
        if (read_done_q) begin
          arg_ld          = LdCycles;
          rep_fixed_len_d = 2'd2;
          rep_buf_d       = 1'b1;  // pos_i: beats * OutBytes
          nargs_d         = 5'd11;
          state_d         = StAlign;
        end else if (over_q) begin
          begin do_fail = 1'b1; fail_code = ErrTransport; fail_msg = MsgBudget; end
        end else begin
          cyc_inc = 1'b1;
          if (s_axis_tvalid_i) begin
            buf_en_o   = 1'b1;
            buf_we_o   = 1'b1;
            pos_inc_o    = 1'b1;
            out_byte_inc = 1'b1;
            if (out_byte_q == OutIdxW'(OutBytes - 1)) begin
              s_axis_tready_o = 1'b1;
              out_byte_clr      = 1'b1;
              beat_inc          = 1'b1;
            end
          end
        end
      end

      StReset: begin
        if (rst_cnt_q != 3'd0) rst_cnt_d = rst_cnt_q - 3'd1;
        pend_d    = 1'b0;
        open_d    = 1'b0;
        begun_d   = 1'b0;
        drop_d    = 1'b0;
        cut_d     = 1'b0;
        tvalid_d  = 1'b0;
        if (rst_cnt_q == 3'd0) state_d = StReply;
      end

      // Move a STATS or cycles reply down to arg_q[63:0], a byte a cycle (zeros above it).
      StAlign: begin
        if (nargs_q == 5'd16) state_d = StReply;
        else begin
          arg_ld  = LdAlign;
          nargs_d = nargs_q + 5'd1;
        end
      end

      // Success or failure: a reply unless this was a posted success.
      StReply: begin
        if (!sent_q) begin
          if (!rep_err_q && posted) state_d = StAck;
          else if (!tx_busy_i) sent_d = 1'b1;
        end else if (!tx_busy_i) begin
          sent_d  = 1'b0;
          state_d = StAck;
        end
      end

      StAck: begin
        ev_ready_o = 1'b1;
        state_d    = StIdle;
      end

      default: state_d = StIdle;
    endcase

    // The counters: cleared or stepped (one adder and one mux each, whatever the state).
    cyc_d      = cyc_clr ? '0 : (cyc_inc ? cyc_q + 1'b1 : cyc_q);
    beat_d     = beat_clr ? '0 : (beat_inc ? beat_q + 1'b1 : beat_q);
    in_byte_d  = in_byte_clr ? '0 : (in_byte_inc ? in_byte_q + 1'b1 : in_byte_q);
    out_byte_d = out_byte_clr ? '0 : (out_byte_inc ? out_byte_q + 1'b1 : out_byte_q);
    // STREAM_READ has all its beats (at most MaxReadBeats): registered from the next beat
    // count, so the comparison with the request's count (in arg_q from StDispatch on) ends
    // at a flip-flop, not in the engine's TREADY (ReadDone_A).
    read_done_d = (beat_d[ReadW-1:0] == arg_q[32 +: ReadW]);

    // A request fails: an error reply with its seq; a posted one starts the skip.
    if (do_fail) begin
      rep_err_d       = 1'b1;
      rep_code_d      = fail_code;
      rep_fixed_len_d = 2'd1;
      rep_rom_d       = 1'b1;
      rep_msg_d       = fail_msg;
      rep_buf_d       = 1'b0;
      if (posted) skip_d = 1'b1;
      error_o         = 1'b1;
      state_d         = StReply;
    end
  end

  // The argument / reply register's loads (its shifts are the receiver's, arg_shift_o).
  // A CSR read's fixed payload is 4 bytes: only arg_q[31:0] is loaded for it.
  always_comb begin
    arg_d = arg_q;
    unique case (ld_q)
      LdArgs: begin
        if (wait_idle) arg_d[39:0] = {8'hFF, 32'h1};
        else if (arg_q[63:40] != '0) arg_d[39:32] = 8'hFF;  // (LdArgs: waits only)
      end
      LdHello:  arg_d[63:0] = {16'(OutBytes), 16'(InBytes), 32'(FrameBytes)};
      LdStats:  arg_d[127:80] = stats_q;  // 10 bytes up (StAlign)
      LdLimits: arg_d[63:0] = {32'(OutFifoBeats), 32'h0};
      LdRdata:  arg_d[31:0] = m_axil_rdata_i;
      LdCycles: arg_d[127:40] = {48'h0, cyc_q};  // 5 bytes up (StAlign)
      default: ;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q         <= StIdle;
      nargs_q         <= '0;
      rd_pending_q    <= 1'b0;
      skip_q          <= 1'b0;
      rep_err_q       <= 1'b0;
      rep_code_q      <= ErrNone;
      rep_fixed_len_q <= '0;
      rep_rom_q       <= 1'b0;
      rep_msg_q       <= MsgName;
      rep_buf_q       <= 1'b0;
      sent_q          <= 1'b0;
      aw_q            <= 1'b0;
      w_q             <= 1'b0;
      ar_q            <= 1'b0;
      cyc_q           <= '0;
      stalled_q       <= (StallCycles == 0);
      over_q          <= 1'b0;
      budget_huge_q   <= 1'b0;
      read_done_q     <= 1'b0;
      stats_q         <= '0;
      rem_q           <= '0;
      nbeats_q        <= '0;
      beat_q          <= '0;
      in_byte_q       <= '0;
      beat_data_q     <= '0;
      tvalid_q        <= 1'b0;
      tlast_q         <= 1'b0;
      pend_q          <= 1'b0;
      open_q          <= 1'b0;
      begun_q         <= 1'b0;
      drop_q          <= 1'b0;
      cut_q           <= 1'b0;
      push_next_q     <= StReply;
      out_byte_q      <= '0;
      rst_cnt_q       <= '0;
      ld_q            <= LdHold;
    end else begin
      state_q         <= state_d;
      nargs_q         <= nargs_d;
      rd_pending_q    <= rd_pending_d;
      skip_q          <= skip_d;
      rep_err_q       <= rep_err_d;
      rep_code_q      <= rep_code_d;
      rep_fixed_len_q <= rep_fixed_len_d;
      rep_rom_q       <= rep_rom_d;
      rep_msg_q       <= rep_msg_d;
      rep_buf_q       <= rep_buf_d;
      sent_q          <= sent_d;
      ld_q            <= arg_ld;
      aw_q            <= aw_d;
      w_q             <= w_d;
      ar_q            <= ar_d;
      cyc_q           <= cyc_d;
      stalled_q       <= stalled_d;
      over_q          <= over_d;
      budget_huge_q   <= (arg_q[127:64+CycW] != '0);
      read_done_q     <= read_done_d;
      stats_q         <= stats_q + 1'b1;
      rem_q           <= rem_d;
      nbeats_q        <= nbeats_d;
      beat_q          <= beat_d;
      in_byte_q       <= in_byte_d;
      beat_data_q     <= beat_data_d;
      tvalid_q        <= tvalid_d;
      tlast_q         <= tlast_d;
      pend_q          <= pend_d;
      open_q          <= open_d;
      begun_q         <= begun_d;
      drop_q          <= drop_d;
      cut_q           <= cut_d;
      push_next_q     <= push_next_d;
      out_byte_q      <= out_byte_d;
      rst_cnt_q       <= rst_cnt_d;
    end
  end

  assign tx_start_o        = (state_q == StReply) && !sent_q && !tx_busy_i &&
                             !(!rep_err_q && posted);
  assign tx_err_o          = rep_err_q;
  // An ERROR reply's fixed bytes: u16 code, u8 type of the request (0 if unknown), u8 0.
  always_comb begin
    tx_fixed_byte_o = arg_q[7:0];
    if (rep_err_q) begin
      unique case (pos_i)
        2'd0:    tx_fixed_byte_o = 8'(rep_code_q);
        2'd2:    tx_fixed_byte_o = ev_hdr_valid_i ? ev_type_i : 8'h00;
        default: tx_fixed_byte_o = 8'h00;
      endcase
    end
  end
  assign tx_fixed_len_o    = {rep_fixed_len_q, 2'b00};
  assign arg_shift_o       = (ld_q == LdShift) || (ld_q == LdAlign);
  assign arg_byte_o        = (ld_q == LdShift) ? buf_rdata_i : 8'h00;
  assign arg_we_o          = !arg_shift_o && (ld_q != LdHold);
  assign arg_o             = arg_d;
  assign tx_tail_rom_o     = rep_rom_q;
  assign tx_msg_o          = rep_msg_q;
  assign tx_tail_buf_o     = rep_buf_q;

  assign m_axil_awaddr_o  = arg_q[75:64];
  assign m_axil_awvalid_o = aw_q;
  assign m_axil_wdata_o   = arg_q[127:96];
  assign m_axil_wstrb_o   = 4'hF;
  assign m_axil_wvalid_o  = w_q;
  assign m_axil_bready_o  = (state_q == StCsrWrite);
  assign m_axil_araddr_o  = (state_q == StWait) ? CsrStatus : arg_q[107:96];
  assign m_axil_arvalid_o = ar_q;
  assign m_axil_rready_o  = (state_q == StCsrRead) || (state_q == StWait);

  assign m_axis_tdata_o  = beat_data_q;
  assign m_axis_tvalid_o = tvalid_q;
  assign m_axis_tlast_o  = tlast_q;
  assign engine_rst_no   = (rst_cnt_q == 3'd0);

`ifndef SYNTHESIS
  // AXI4-Stream: a presented input beat stays, unchanged, until the engine takes it, a
  // stall included (only a RESET, which resets the engine too, withdraws it).
  InBeatHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      tvalid_q && !m_axis_tready_i && engine_rst_no && rst_cnt_d == 3'd0 |=>
      tvalid_q && $stable(beat_data_q) && $stable(tlast_q));
  // A cut packet has begun: its held beat (not its last) is presented, or went in.
  CutPacketOpen_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      cut_q |-> (tvalid_q && !tlast_q) || open_q);
  // req_q decodes the event the cycle before: StDispatch comes only from StArgs, whose
  // event it is, and the event's fields hold while it is.
  DispatchAfterArgs_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      state_q == StDispatch |-> $past(state_q) == StArgs && $stable(ev_type_i) &&
                                $stable(ev_flags_i) && $stable(ev_len_i));
  // The registered STREAM_READ count and budget checks see what the combinational ones
  // would: the request's arguments stay in arg_q while it waits or reads.
  ReadDone_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      state_q == StSrCollect |-> read_done_q == (beat_q[ReadW-1:0] == arg_q[32 +: ReadW]));
  BudgetHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      state_q == StWait || state_q == StSrCollect |->
        budget_huge_q == (arg_q[127:64+CycW] != '0));
  StalledReg_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      stalled_q == (cyc_q[StallW-1:0] == StallW'(StallCycles)));
  HugeOver_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      state_q == StSrCollect && budget_huge_q |-> over_q == (&cyc_q));
`endif

endmodule
