// Frame receiver of the UART bridge: finds frames in the received byte stream exactly as
// docs/protocol.md's FrameDecoder does, writes each payload into the frame buffer and
// hands the executor one event at a time (a good frame, or a framing error to answer).
//
// The header is collected in a 20-byte window, which is also the scanner: a window that
// does not start with the magic shifts one byte (garbage, reported once the next magic
// is found), a bad header CRC drops one byte and rescans the other 19, an intact header
// that is refused (version, reserved bits, length) or whose frame CRC fails drops just
// the magic and rescans the rest of the header. The payload of a frame with a bad CRC is
// not rescanned (see "Missing" in the report): a frame hidden inside a truncated one's
// claimed payload is lost, and its requester times out and resynchronizes with PING.
//
// The window is a plain shift register (cheap on an FPGA: no per-byte insert muxes): a
// byte enters at byte 19 and everything moves down one, so the cnt_q bytes held are bytes
// 20-cnt_q..19, oldest first, and dropping the oldest bytes is only a smaller cnt_q. Once
// full, byte i is header byte i. The header CRC rotates the full window once through
// byte 0 (20 cycles), which leaves it as it was. A flag vector that moves with the window
// says which bytes begin the magic (that byte Magic0, the next Magic1), set as the second
// byte enters; one more flag says whether the newest byte is Magic0.
//
// An intact header's flags, length and seq are copied out as its CRC check ends, and for
// a good frame (which leaves nothing in the window to rescan) the executor uses window
// bytes 4..19 as its argument / reply register (arg_*) while it holds the event. The
// type stays in window byte 3, which the executor leaves alone.
//
// Between the event and its acknowledgement (ev_ready_i) the receiver reads nothing: the
// executor owns the frame buffer and the byte FIFO absorbs what arrives meanwhile.
module tsr_bridge_rx
  import tsr_bridge_pkg::*;
#(
  parameter int unsigned FrameBytes = 4096,
  localparam int unsigned AddrW = $clog2(FrameBytes),
  localparam int unsigned LenW  = AddrW + 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  // Received bytes: a pop returns its byte with fifo_valid_i a few cycles later (one pop
  // in flight at a time).
  input  logic             fifo_empty_i,
  output logic             fifo_pop_o,
  input  logic [7:0]       fifo_data_i,
  input  logic             fifo_valid_i,
  // Frame buffer, written with the payload at the shared position counter (tsr_bridge),
  // which also counts the trailer's bytes.
  input  logic [LenW-1:0]  pos_i,
  output logic             pos_clr_o,
  output logic             pos_inc_o,
  output logic             buf_we_o,
  output logic [7:0]       buf_wdata_o,
  // One event at a time, held until the executor is done with it.
  output logic             ev_valid_o,
  input  logic             ev_ready_i,
  output logic             ev_ok_o,         // a good frame (else a framing error)
  output err_e             ev_code_o,       // framing error code
  output msg_e             ev_msg_o,        // framing error message
  output logic             ev_hdr_valid_o,  // the fields below come from an intact header
  output logic [7:0]       ev_type_o,
  output logic [2:0]       ev_flags_o,      // POSTED, MORE, and any other flag bit set
  output logic [LenW-1:0]  ev_len_o,
  // The reply sender reads the seq a byte at a time: seq_byte_o is its byte 0, seq_next_i
  // rotates it by one byte.
  output logic [7:0]       seq_byte_o,
  input  logic             seq_next_i,
  // Window bytes 4..19, the executor's argument register while it holds a good frame's
  // event: arg_shift_i shifts the window in arg_byte_i, arg_we_i loads them with arg_i.
  output logic [127:0]     arg_o,
  input  logic             arg_shift_i,
  input  logic [7:0]       arg_byte_i,
  input  logic             arg_we_i,
  input  logic [127:0]     arg_i,
  // The shared CRC register (tsr_bridge): a step over crc_byte_o, and its next value.
  output crc_op_e          crc_op_o,
  output logic [7:0]       crc_byte_o,
  input  logic [31:0]      crc_next_i
);

  if (FrameBytes < 64 || (1 << AddrW) != FrameBytes) begin : gen_bad_frame
    $error("tsr_bridge_rx: FrameBytes must be a power of two >= 64");
  end

  typedef enum logic [2:0] {StHeader, StHeaderCrc, StPayload, StTrailer, StEvent} state_e;
  // What the window does once the executor has taken the event.
  typedef enum logic [1:0] {PostKeep, PostClear, PostSkip1, PostSkip2} post_e;

  localparam logic [4:0] WinBytes = 5'd20;

  state_e          state_q, state_d;
  post_e           post_q, post_d;
  logic [159:0]    win_q, win_d;      // byte i of the window in bits 8i+7:8i
  logic [18:0]     mm_q, mm_d;        // window bytes i, i+1 are Magic0, Magic1
  logic            m0_q, m0_d;        // window byte 19 (the newest) is Magic0
  logic            hbad_q, hbad_d;    // the header CRC failed
  logic [4:0]      cnt_q, cnt_d;      // bytes in the window
  logic            inflight_q, inflight_d;
  logic            garbage_q, garbage_d;
  logic [4:0]      k_q, k_d;          // header byte being CRCed
  logic            copy;              // copy the header fields out of the window
  logic [2:0]      flags_q, flags_d;  // POSTED, MORE, any other flag bit
  logic [LenW-1:0] len_q, len_d;
  logic [31:0]     seq_q, seq_d;
  logic            ev_ok_q, ev_ok_d, ev_hv_q, ev_hv_d;
  err_e            ev_code_q, ev_code_d;
  msg_e            ev_msg_q, ev_msg_d;

  // The CRC runs over the CRC fields too: a match leaves the residue (one comparator for
  // the header's and the frame's CRC, and no copy of either field).
  logic crc_ok;
  assign crc_ok = (crc_next_i == CrcResidue);

  // Header fields, valid once the window is full.
  logic [7:0]  hdr_version, hdr_type;
  logic [15:0] hdr_flags, hdr_reserved;
  logic [31:0] hdr_seq, hdr_len;
  assign hdr_version  = win_q[8*2 +: 8];
  assign hdr_type     = win_q[8*3 +: 8];
  assign hdr_flags    = win_q[8*4 +: 16];
  assign hdr_reserved = win_q[8*6 +: 16];
  assign hdr_seq      = win_q[8*8 +: 32];
  assign hdr_len      = win_q[8*12 +: 32];

  // hdr_len > FrameBytes, a power of two: no magnitude comparator.
  logic too_large;
  assign too_large = (hdr_len[31:AddrW+1] != '0) || (hdr_len[AddrW] && hdr_len[AddrW-1:0] != '0);

  // The CRC takes the header from the rotating window, the payload from the FIFO.
  assign crc_byte_o = (state_q == StHeaderCrc) ? win_q[7:0] : fifo_data_i;

  // The byte a shift of the window takes in: received, rotated (CRC) or the executor's.
  logic       rx_shift;   // the receiver's own shifts: a received byte, the CRC's rotation
  logic [7:0] win_in;
  always_comb begin
    unique case (state_q)
      StHeader:    win_in = fifo_data_i;
      StHeaderCrc: win_in = win_q[7:0];
      default:     win_in = arg_byte_i;
    endcase
  end

  // The oldest byte held is window byte 20-cnt_q (for cnt_q >= 1). It and the next one
  // held are Magic0 and Magic1, or the oldest is Magic0 if it is the only one:
  // magic_at[cnt_q], a mux on the count with the window's bits wired in reverse (no
  // subtraction in front of it). Nothing held is no mismatch; a count over 20 never occurs.
  logic [31:0] magic_at;
  logic        not_magic;
  always_comb begin
    magic_at    = '0;
    magic_at[0] = 1'b1;
    magic_at[1] = m0_q;
    for (int c = 2; c <= 20; c++) magic_at[c] = mm_q[20 - c];
  end
  assign not_magic = !magic_at[cnt_q];

  always_comb begin
    state_d    = state_q;
    post_d     = post_q;
    win_d      = win_q;
    rx_shift   = 1'b0;
    mm_d       = mm_q;
    m0_d       = m0_q;
    hbad_d     = hbad_q;
    cnt_d      = cnt_q;
    inflight_d = inflight_q;
    garbage_d  = garbage_q;
    k_d        = k_q;
    copy       = 1'b0;
    crc_op_o   = CrcHold;
    pos_clr_o  = 1'b0;
    pos_inc_o  = 1'b0;
    ev_ok_d    = ev_ok_q;
    ev_hv_d    = ev_hv_q;
    ev_code_d  = ev_code_q;
    ev_msg_d   = ev_msg_q;
    fifo_pop_o = 1'b0;
    buf_we_o   = 1'b0;

    if (fifo_valid_i) inflight_d = 1'b0;

    unique case (state_q)
      StHeader: begin
        if (not_magic) begin
          cnt_d     = cnt_q - 5'd1;  // drop the oldest byte
          garbage_d = 1'b1;
        end
        if (fifo_valid_i) begin
          rx_shift = 1'b1;
          mm_d  = {m0_q && fifo_data_i == Magic1, mm_q[18:1]};
          m0_d  = (fifo_data_i == Magic0);
          cnt_d = cnt_d + 5'd1;
        end
        if (!not_magic && garbage_q && cnt_q >= 5'd2 && !inflight_q) begin
          // The bytes before this magic were garbage: one error for all of them.
          state_d   = StEvent;
          post_d    = PostKeep;
          garbage_d = 1'b0;
          ev_ok_d   = 1'b0;
          ev_hv_d   = 1'b0;
          ev_code_d = ErrBadFrame;
          ev_msg_d  = MsgGarbage;
        end else if (!not_magic && cnt_q == WinBytes && !inflight_q) begin
          state_d = StHeaderCrc;
          k_d     = '0;
          crc_op_o = CrcInit;
          hbad_d  = 1'b0;
        end else if (!inflight_d && !fifo_empty_i &&
                     (cnt_q < WinBytes - 5'd1 || (cnt_q == WinBytes - 5'd1 && !fifo_valid_i))) begin
          // Room for one more byte, judged without this cycle's drop (cnt_d): the magic
          // search (a variable bit select) stays off the FIFO's read-enable path. A byte
          // dropped now is made up for by a pop a cycle later.
          fifo_pop_o = 1'b1;
          inflight_d = 1'b1;
        end
      end

      StHeaderCrc: begin
        crc_op_o = CrcStep;
        k_d      = k_q + 5'd1;
        rx_shift = (k_q != WinBytes);
        if (k_q == 5'd19 && !crc_ok) hbad_d = 1'b1;  // byte 19 ends the CRC field
        copy = (k_q == WinBytes);  // kept only for an intact header (ev_hdr_valid_o)
        if (k_q == WinBytes && hbad_q) begin
          state_d   = StEvent;
          post_d    = PostSkip1;
          ev_ok_d   = 1'b0;
          ev_hv_d   = 1'b0;
          ev_code_d = ErrBadFrame;
          ev_msg_d  = MsgBadHeaderCrc;
          crc_op_o  = CrcHold;
        end else if (k_q == WinBytes) begin
          // Intact header: the checks of FrameDecoder, in its order.
          crc_op_o  = CrcHold;
          post_d    = PostSkip2;
          ev_ok_d   = 1'b0;
          ev_hv_d   = 1'b1;
          ev_code_d = ErrBadFrame;
          ev_msg_d  = MsgReserved;
          pos_clr_o = 1'b1;
          if (hdr_version != Version) begin
            state_d   = StEvent;
            ev_code_d = ErrBadVersion;
            ev_msg_d  = MsgBadVersion;
          end else if (hdr_reserved != '0) begin
            state_d = StEvent;
          end else if (too_large) begin
            state_d   = StEvent;
            ev_code_d = ErrTooLarge;
            ev_msg_d  = MsgTooLarge;
          end else begin
            state_d = StPayload;
          end
        end
      end

      // The payload, none for an empty one: pos_i reaching the length (at most FrameBytes
      // here) ends it, a cycle before the first trailer byte can arrive.
      StPayload: begin
        if (pos_i == len_q) begin
          state_d   = StTrailer;
          pos_clr_o = 1'b1;
        end else if (fifo_valid_i) begin
          buf_we_o  = 1'b1;
          crc_op_o  = CrcStep;
          pos_inc_o = 1'b1;
        end
        if (state_d == StPayload && !inflight_d && !fifo_empty_i) begin
          fifo_pop_o = 1'b1;
          inflight_d = 1'b1;
        end
      end

      StTrailer: begin
        if (fifo_valid_i) begin
          crc_op_o = CrcStep;
          pos_inc_o = 1'b1;
          if (pos_i == LenW'(3)) begin
            state_d = StEvent;
            ev_hv_d = 1'b1;
            if (crc_ok) begin
              post_d  = PostClear;
              ev_ok_d = 1'b1;
            end else begin
              post_d    = PostSkip2;
              ev_ok_d   = 1'b0;
              ev_code_d = ErrBadFrame;
              ev_msg_d  = MsgBadCrc;
            end
          end
        end
        if (state_d == StTrailer && !inflight_d && !fifo_empty_i) begin
          fifo_pop_o = 1'b1;
          inflight_d = 1'b1;
        end
      end

      StEvent: begin
        if (ev_ready_i) begin
          state_d = StHeader;
          unique case (post_q)
            PostClear: cnt_d = '0;
            PostSkip1: cnt_d = cnt_q - 5'd1;
            PostSkip2: cnt_d = cnt_q - 5'd2;
            default: ;
          endcase
        end
      end

      default: state_d = StHeader;
    endcase

    // Every shift of the window is one mux per bit: the byte entering is the state's. The
    // executor's shifts and loads (only while it holds a good frame's event, which
    // ArgInGoodEvent_A checks, so not gated by the state here) leave bytes 0..3 (the type
    // in byte 3) as they are: those bytes' enable is the receiver's own shift alone.
    if (arg_we_i) win_d[159:32] = arg_i;
    if (rx_shift) win_d[31:0] = win_q[39:8];
    if (rx_shift || arg_shift_i) win_d[159:32] = {win_in, win_q[159:40]};
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= StHeader;
      post_q     <= PostKeep;
      win_q      <= '0;
      mm_q       <= '0;
      m0_q       <= 1'b0;
      hbad_q     <= 1'b0;
      cnt_q      <= '0;
      inflight_q <= 1'b0;
      garbage_q  <= 1'b0;
      k_q        <= '0;
      ev_ok_q    <= 1'b0;
      ev_hv_q    <= 1'b0;
      ev_code_q  <= ErrNone;
      ev_msg_q   <= MsgGarbage;
    end else begin
      state_q    <= state_d;
      post_q     <= post_d;
      win_q      <= win_d;
      mm_q       <= mm_d;
      m0_q       <= m0_d;
      hbad_q     <= hbad_d;
      cnt_q      <= cnt_d;
      inflight_q <= inflight_d;
      garbage_q  <= garbage_d;
      k_q        <= k_d;
      ev_ok_q    <= ev_ok_d;
      ev_hv_q    <= ev_hv_d;
      ev_code_q  <= ev_code_d;
      ev_msg_q   <= ev_msg_d;
    end
  end

  // The header fields' copies; the sender rotates the seq (seq_next_i) in the event.
  always_comb begin
    flags_d = copy ? {hdr_flags[15:2] != '0, hdr_flags[1:0]} : flags_q;
    len_d   = copy ? hdr_len[LenW-1:0] : len_q;
    seq_d   = copy ? hdr_seq : (seq_next_i ? {seq_q[7:0], seq_q[31:8]} : seq_q);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      flags_q <= '0;
      len_q   <= '0;
      seq_q   <= '0;
    end else begin
      flags_q <= flags_d;
      len_q   <= len_d;
      seq_q   <= seq_d;
    end
  end

  assign buf_wdata_o    = fifo_data_i;
  assign ev_valid_o     = (state_q == StEvent);
  assign ev_ok_o        = ev_ok_q;
  assign ev_code_o      = ev_code_q;
  assign ev_msg_o       = ev_msg_q;
  assign ev_hdr_valid_o = ev_hv_q;
  assign ev_type_o      = hdr_type;
  assign ev_flags_o     = flags_q;
  assign ev_len_o       = len_q;
  assign seq_byte_o     = seq_q[7:0];
  assign arg_o          = win_q[159:32];

`ifndef SYNTHESIS
  // A pop is issued only with room for its byte, so no received byte is ever dropped here.
  PopOnlyWithRoom_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      fifo_pop_o |-> (!inflight_q || fifo_valid_i) && !fifo_empty_i);
  // The window is the executor's only while it holds a good frame's event.
  ArgInGoodEvent_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      (arg_we_i || arg_shift_i) |-> state_q == StEvent && ev_ok_q);
`endif

endmodule
