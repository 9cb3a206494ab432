// Reply sender of the UART bridge: builds one reply frame (docs/protocol.md) from a
// descriptor and shifts it out to the UART transmitter, computing the header CRC and the
// frame CRC on the fly. The payload is up to 8 fixed bytes (presented one at a time in
// fixed_byte_i, the next after each fixed_next_o) followed by a tail: one of the fixed
// ASCII messages from the message ROM, or (tail_buf_i) the frame buffer's first pos_i
// bytes at start_i (STREAM_READ's beats), or none. The descriptor is read where it is, not copied: it must
// stay unchanged from start_i until busy_o falls (the executor holds it that long).
//
// The reply's type and seq are the request's (the frame receiver's copies): the seq is
// presented a byte at a time in seq_byte_i, rotated by one byte (seq_next_o) for each of
// the 20 header bytes, so header bytes 8..11 find seq bytes 0..3 there. No byte mux.
module tsr_bridge_tx
  import tsr_bridge_pkg::*;
#(
  parameter int unsigned FrameBytes = 4096,
  localparam int unsigned AddrW = $clog2(FrameBytes),
  localparam int unsigned LenW  = AddrW + 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             start_i,        // takes the descriptor when !busy_o
  output logic             busy_o,
  input  logic             err_i,          // an ERROR reply (else the request's type | 0x80)
  input  logic             seq_valid_i,    // the request's seq (else zero)
  input  logic [7:0]       req_type_i,     // the request's type
  input  logic [7:0]       seq_byte_i,     // the request's seq, rotated
  output logic             seq_next_o,     // rotate the seq by one byte
  input  logic [7:0]       fixed_byte_i,   // the next fixed byte (byte pos_i)
  output logic             fixed_next_o,   // fixed_byte_i taken: present the next
  input  logic [3:0]       fixed_len_i,    // 0..8
  input  logic             tail_rom_i,     // tail: message msg_i
  input  msg_e             msg_i,
  input  logic             tail_buf_i,     // tail: the frame buffer's first pos_i bytes
  // Frame buffer read port (registered read), at the shared position counter (tsr_bridge):
  // pos_i counts the bytes of each part from 0, so a tail byte's address is pos_i.
  input  logic [LenW-1:0]  pos_i,
  output logic             pos_clr_o,
  output logic             pos_inc_o,
  output logic             buf_re_o,
  input  logic [7:0]       buf_rdata_i,
  // UART transmitter.
  output logic [7:0]       tx_data_o,
  output logic             tx_valid_o,
  input  logic             tx_ready_i,
  // The shared CRC register (tsr_bridge), stepped over tx_data_o, and its low byte.
  output crc_op_e          crc_op_o,
  input  logic [7:0]       crc_i
);

  typedef enum logic [1:0] {StIdle, StFetch, StLatch, StSend} state_e;
  // The payload in two parts, each counted from 0: its fixed bytes, then its tail (whose
  // position is then the ROM / frame buffer address as it is, no subtraction). A part ends
  // where pos_i reaches its length: no count of the bytes left.
  typedef enum logic [1:0] {PartHeader, PartFixed, PartTail, PartTrailer} part_e;

  localparam msg_rom_t  Rom  = msg_rom();
  localparam msg_lens_t Lens = msg_lens();

  state_e           state_q, state_d;
  part_e            part_q, part_d;
  logic [LenW-1:0]  tail_q, tail_d;   // the tail's length (pos_i's at start for a buffer)
  logic [LenW-1:0]  len;               // the payload's length
  logic [7:0]       header_byte;       // the header byte at pos_i (below 16)
  logic [7:0]       byte_out, byte_q, rom_byte_q;  // byte_q: byte_out latched for StSend
  logic             rom_re;
  logic             fixed_last;        // the last of the fixed bytes (4 or 8 of them)

  // The byte is latched a cycle before it is sent (byte_q): the frame buffer's block-RAM
  // output and the CRC's XOR tree then do not share a cycle.
  assign len = LenW'(fixed_len_i) + tail_q;

  always_comb begin
    unique case (pos_i[3:0])
      4'd0:    header_byte = Magic0;
      4'd1:    header_byte = Magic1;
      4'd2:    header_byte = Version;
      4'd3:    header_byte = err_i ? TypeError : (req_type_i | ReplyBit);
      4'd8, 4'd9, 4'd10, 4'd11: header_byte = seq_valid_i ? seq_byte_i : 8'h00;
      4'd12:   header_byte = len[7:0];
      4'd13:   header_byte = 8'(len[LenW-1:8]);
      default: header_byte = 8'h00;  // flags, reserved, the length's upper bytes
    endcase
  end
  assign fixed_last = (pos_i[1:0] == 2'd3) && (pos_i[2] == fixed_len_i[3]);
  logic unused_fixed_len;  // 0, 4 or 8
  assign unused_fixed_len = ^{fixed_len_i[2], fixed_len_i[1:0]};

  always_ff @(posedge clk_i) begin
    if (state_q == StLatch) byte_q <= byte_out;
    if (rom_re) rom_byte_q <= Rom[{msg_i, pos_i[4:0]}];
  end

  // The header's CRC field and the trailer are ~CRC, little-endian: the register runs over
  // every byte sent, these too, so byte k of either is ~crc_i ^ crc_field_xor(k)
  // (tsr_bridge_pkg), and after the header the register holds the residue.
  logic [7:0] crc_byte;
  always_comb begin
    unique case (pos_i[1:0])
      2'd0:    crc_byte = ~crc_i ^ crc_field_xor(2'd0);
      2'd1:    crc_byte = ~crc_i ^ crc_field_xor(2'd1);
      2'd2:    crc_byte = ~crc_i ^ crc_field_xor(2'd2);
      default: crc_byte = ~crc_i ^ crc_field_xor(2'd3);
    endcase
  end

  // The byte at the current position (valid in StLatch, sent from byte_q in StSend).
  always_comb begin
    byte_out = 8'h00;
    unique case (part_q)
      PartHeader:  byte_out = (pos_i < LenW'(16)) ? header_byte : crc_byte;
      PartFixed:   byte_out = fixed_byte_i;
      PartTail:    byte_out = tail_rom_i ? rom_byte_q : buf_rdata_i;
      PartTrailer: byte_out = crc_byte;
      default: ;
    endcase
  end

  always_comb begin
    state_d     = state_q;
    part_d      = part_q;
    tail_d      = tail_q;
    pos_clr_o   = 1'b0;
    pos_inc_o   = 1'b0;
    crc_op_o    = CrcHold;
    rom_re      = 1'b0;
    buf_re_o    = 1'b0;
    tx_valid_o  = 1'b0;

    unique case (state_q)
      StIdle: if (start_i) begin
        tail_d   = tail_rom_i ? LenW'(Lens[msg_i]) : (tail_buf_i ? pos_i : '0);
        crc_op_o = CrcInit;
        part_d  = PartHeader;
        pos_clr_o = 1'b1;
        state_d = StFetch;
      end
      StFetch: begin
        // One cycle for the ROM or the frame buffer to present a tail byte; past the tail's
        // end (at once for an empty one), a cycle to move on to the trailer.
        if (part_q == PartTail && pos_i == tail_q) begin
          pos_clr_o = 1'b1;
          part_d    = PartTrailer;
        end else begin
          rom_re   = (part_q == PartTail) && tail_rom_i;
          buf_re_o = (part_q == PartTail) && !tail_rom_i;
          state_d  = StLatch;
        end
      end
      StLatch: state_d = StSend;
      StSend: begin
        tx_valid_o = 1'b1;
        if (tx_ready_i) begin
          crc_op_o  = CrcStep;
          pos_inc_o = 1'b1;
          state_d = StFetch;
          unique case (part_q)
            PartHeader: if (pos_i == LenW'(19)) begin
              pos_clr_o = 1'b1;
              part_d = (fixed_len_i != '0) ? PartFixed : PartTail;
            end
            PartFixed: if (fixed_last) begin
              pos_clr_o = 1'b1;
              part_d = PartTail;
            end
            PartTrailer: if (pos_i == LenW'(3)) state_d = StIdle;
            default: ;
          endcase
        end
      end
      default: state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      part_q      <= PartHeader;
      tail_q      <= '0;
    end else begin
      state_q     <= state_d;
      part_q      <= part_d;
      tail_q      <= tail_d;
    end
  end

  assign fixed_next_o = (state_q == StLatch) && (part_q == PartFixed);
  assign seq_next_o   = (state_q == StLatch) && (part_q == PartHeader);
  assign busy_o       = (state_q != StIdle);
  assign tx_data_o    = byte_q;

endmodule
