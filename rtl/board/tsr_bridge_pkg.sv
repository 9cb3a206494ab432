// Shared vocabulary of the UART bridge (docs/protocol.md): message types, error codes
// and the fixed ASCII messages of its error replies.
package tsr_bridge_pkg;

  // ---- framing ---------------------------------------------------------------------------
  localparam logic [7:0] Magic0  = 8'h54;  // 'T'
  localparam logic [7:0] Magic1  = 8'h53;  // 'S'
  localparam logic [7:0] Version = 8'd1;
  localparam logic [7:0] ReplyBit = 8'h80;
  localparam int unsigned FlagPosted = 0;
  localparam int unsigned FlagMore   = 1;
  // The CRC-32 register after a message followed by its CRC (little-endian): checking a
  // CRC is running it over the CRC field too and comparing with this constant.
  localparam logic [31:0] CrcResidue = 32'hDEBB_20E3;
  // The receiver and the sender share one CRC register (tsr_bridge): the receiver runs it
  // over a request, the sender over the reply, never both at once. Each asks for a step
  // with one of these (CrcHold when idle: the two requests are ORed).
  typedef enum logic [1:0] {CrcHold, CrcInit, CrcStep} crc_op_e;

  // Sending a CRC field while running the register over it: before byte k of the field
  // the register is the CRC shifted right by k bytes XOR a constant D_k, so byte k is
  // ~register[7:0] ^ D_k[7:0] (this function), and after the 4 bytes the register holds
  // CrcResidue. D_0 = 0, D_k+1 = (D_k >> 8) ^ table[0xFF ^ D_k[7:0]].
  function automatic logic [7:0] crc_field_xor(logic [1:0] k);
    logic [31:0] d = '0;
    for (int unsigned i = 0; i < 32'(k); i++) begin
      logic [31:0] t = {24'h0, 8'hFF ^ d[7:0]};
      for (int unsigned b = 0; b < 8; b++) t = t[0] ? ((t >> 1) ^ 32'hEDB8_8320) : (t >> 1);
      d = (d >> 8) ^ t;
    end
    return d[7:0];
  endfunction

  // ---- request types ---------------------------------------------------------------------
  localparam logic [7:0] TypeHello       = 8'h01;
  localparam logic [7:0] TypeCsrWrite    = 8'h02;
  localparam logic [7:0] TypeCsrRead     = 8'h03;
  localparam logic [7:0] TypeStreamWrite = 8'h04;
  localparam logic [7:0] TypeStreamRead  = 8'h05;
  localparam logic [7:0] TypeWaitIdle    = 8'h06;
  localparam logic [7:0] TypeReset       = 8'h07;
  localparam logic [7:0] TypeTraceStart  = 8'h08;
  localparam logic [7:0] TypeTraceStop   = 8'h09;
  localparam logic [7:0] TypeStats       = 8'h0A;
  localparam logic [7:0] TypePing        = 8'h0B;
  localparam logic [7:0] TypeWaitStatus  = 8'h0C;
  localparam logic [7:0] TypeLimits      = 8'h0D;
  localparam logic [7:0] TypeError       = 8'hFF;

  // ---- error codes -----------------------------------------------------------------------
  typedef enum logic [3:0] {
    ErrNone       = 4'd0,
    ErrBadFrame   = 4'd1,
    ErrBadVersion = 4'd2,
    ErrTooLarge   = 4'd3,
    ErrBadRequest = 4'd4,
    ErrTransport  = 4'd5,
    ErrEngine     = 4'd6,
    ErrInput      = 4'd7,
    ErrSkipped    = 4'd10
  } err_e;

  // ---- fixed messages (error replies, HELLO's server name) ----------------------------
  typedef enum logic [4:0] {
    MsgName,          // HELLO: the server name
    MsgGarbage,
    MsgBadHeaderCrc,
    MsgBadCrc,
    MsgBadVersion,
    MsgReserved,
    MsgTooLarge,
    MsgUnknownType,
    MsgBadFlags,
    MsgMoreFlag,
    MsgNotPostable,
    MsgPayloadSize,
    MsgReplyTooLarge,
    MsgSlverr,
    MsgPartialBeat,
    MsgEmptyEnd,
    MsgStall,
    MsgBudget,
    MsgSkipped,
    MsgNoTrace,
    MsgCount
  } msg_e;

  localparam int unsigned MsgChars = 32;  // characters per message, at most
  localparam int unsigned MsgSlots = 32;  // messages the ROM has room for
  typedef logic [MsgChars*8-1:0] msg_text_t;
  typedef logic [7:0] msg_rom_t [MsgSlots*MsgChars];
  typedef logic [5:0] msg_lens_t [MsgSlots];

  // The text of a message, right-aligned as a string literal is (last character in bits
  // 7:0, zero bytes above the first).
  function automatic msg_text_t msg_text(msg_e id);
    unique case (id)
      MsgName:          return "tessera-board";
      MsgGarbage:       return "garbage before a frame";
      MsgBadHeaderCrc:  return "bad header CRC";
      MsgBadCrc:        return "bad frame CRC";
      MsgBadVersion:    return "unsupported protocol version";
      MsgReserved:      return "reserved header bits set";
      MsgTooLarge:      return "payload over the frame buffer";
      MsgUnknownType:   return "unknown request type";
      MsgBadFlags:      return "unknown flag bits";
      MsgMoreFlag:      return "MORE is for STREAM_WRITE only";
      MsgNotPostable:   return "reply has data: not postable";
      MsgPayloadSize:   return "bad payload size";
      MsgReplyTooLarge: return "reply too large; split the read";
      MsgSlverr:        return "AXI4-Lite SLVERR";
      MsgPartialBeat:   return "not a whole number of beats";
      MsgEmptyEnd:      return "empty write ends a sent packet";
      MsgStall:         return "engine took no input";
      MsgBudget:        return "cycle budget exhausted";
      MsgSkipped:       return "an earlier posted request failed";
      MsgNoTrace:       return "no tracing on a board";
      default:          return '0;
    endcase
  endfunction

  function automatic logic [5:0] text_len(msg_text_t text);
    logic [5:0] len = '0;
    for (int unsigned i = 0; i < MsgChars; i++) begin
      if (text[8*i +: 8] != 8'h00) len = 6'(i + 1);
    end
    return len;
  endfunction

  // Elaboration-time tables: the ROM holds message id at [id*MsgChars +: MsgChars], first
  // character first.
  function automatic msg_rom_t msg_rom();
    msg_rom_t rom;
    for (int unsigned id = 0; id < MsgSlots; id++) begin
      msg_text_t  text = msg_text(msg_e'(id));
      logic [5:0] len  = text_len(text);
      for (int unsigned i = 0; i < MsgChars; i++) begin
        rom[id*MsgChars + i] = (i < 32'(len)) ? text[8*(32'(len) - 1 - i) +: 8] : 8'h00;
      end
    end
    return rom;
  endfunction

  function automatic msg_lens_t msg_lens();
    msg_lens_t lens;
    for (int unsigned id = 0; id < MsgSlots; id++) lens[id] = text_len(msg_text(msg_e'(id)));
    return lens;
  endfunction

endpackage
