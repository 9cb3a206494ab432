// UART bridge: speaks docs/protocol.md over a UART (8N1, ClkHz/Baud clocks per bit) and
// drives the engine's AXI4-Lite and AXI4-Stream ports. A bounded, in-order server:
//
//   uart_rx -> byte FIFO -> frame receiver --event--> executor --descriptor--> reply
//                               |                      |   |                    sender
//                               +---- frame buffer ----+   +--> AXI4-Lite,      |
//                                  (one port, FrameBytes)       AXI4-Stream     v
//                                                                            uart_tx
//
// The frame buffer holds one request payload, then (STREAM_READ) the reply payload; the
// receiver, executor and sender take turns on its single port. The byte FIFO holds what
// arrives while a request executes or its reply goes out (RxFifoBytes; a byte that finds
// it full is lost and the frame it belonged to fails its CRC).
module tsr_bridge #(
  parameter int unsigned InBytes      = 16,
  parameter int unsigned OutBytes     = 16,
  parameter int unsigned ClkHz        = 100_000_000,
  parameter int unsigned Baud         = 1_000_000,
  parameter int unsigned FrameBytes   = 4096,
  parameter int unsigned RxFifoBytes  = 512,
  parameter bit          FrameBufSpram = 1'b0,  // frame buffer in an iCE40 SPRAM (tsr_frame_buf)
  parameter int unsigned StallCycles  = 1 << 26,
  parameter int unsigned OutFifoBeats = 8
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic                  uart_rx_i,
  output logic                  uart_tx_o,
  // AXI4-Lite master.
  output logic [11:0]           m_axil_awaddr_o,
  output logic                  m_axil_awvalid_o,
  input  logic                  m_axil_awready_i,
  output logic [31:0]           m_axil_wdata_o,
  output logic [3:0]            m_axil_wstrb_o,
  output logic                  m_axil_wvalid_o,
  input  logic                  m_axil_wready_i,
  input  logic [1:0]            m_axil_bresp_i,
  input  logic                  m_axil_bvalid_i,
  output logic                  m_axil_bready_o,
  output logic [11:0]           m_axil_araddr_o,
  output logic                  m_axil_arvalid_o,
  input  logic                  m_axil_arready_i,
  input  logic [31:0]           m_axil_rdata_i,
  input  logic [1:0]            m_axil_rresp_i,
  input  logic                  m_axil_rvalid_i,
  output logic                  m_axil_rready_o,
  // AXI4-Stream master (to the engine's input) and slave (its results).
  output logic [InBytes*8-1:0]  m_axis_tdata_o,
  output logic                  m_axis_tvalid_o,
  input  logic                  m_axis_tready_i,
  output logic                  m_axis_tlast_o,
  input  logic [OutBytes*8-1:0] s_axis_tdata_i,
  input  logic                  s_axis_tvalid_i,
  output logic                  s_axis_tready_o,
  input  logic                  s_axis_tlast_i,
  // Engine reset (RESET request; combine with the board reset), status for the LEDs.
  output logic                  engine_rst_no,
  output logic                  error_o,        // pulse: an error reply, a UART framing
                                                // error or a byte lost to a full FIFO
  output logic                  rx_byte_o,      // pulse: a byte received
  output logic                  tx_byte_o       // pulse: a byte sent
);

  import tsr_bridge_pkg::*;

  localparam int unsigned AddrW = $clog2(FrameBytes);
  localparam int unsigned LenW  = AddrW + 1;

  logic [LenW-1:0] pos_q;  // the frame buffer's position counter (below)

  // ---- UART and receive FIFO ----------------------------------------------------------
  logic [7:0] rx_data, fifo_data, tx_data;
  logic       rx_valid, rx_frame_err, fifo_empty, fifo_pop, fifo_valid, fifo_overflow;
  logic       tx_valid, tx_ready;

  tsr_uart_rx #(.ClkHz(ClkHz), .Baud(Baud)) u_uart_rx (
    .clk_i, .rst_ni, .rx_i(uart_rx_i),
    .data_o(rx_data), .valid_o(rx_valid), .frame_err_o(rx_frame_err)
  );

  tsr_byte_fifo #(.Depth(RxFifoBytes)) u_rx_fifo (
    .clk_i, .rst_ni, .push_i(rx_valid), .data_i(rx_data),
    .pop_i(fifo_pop), .empty_o(fifo_empty), .data_o(fifo_data), .data_valid_o(fifo_valid),
    .overflow_o(fifo_overflow)
  );

  tsr_uart_tx #(.ClkHz(ClkHz), .Baud(Baud)) u_uart_tx (
    .clk_i, .rst_ni, .data_i(tx_data), .valid_i(tx_valid), .ready_o(tx_ready),
    .tx_o(uart_tx_o)
  );

  // ---- frame receiver -----------------------------------------------------------------
  logic             ev_valid, ev_ready, ev_ok, ev_hdr_valid;
  err_e             ev_code;
  msg_e             ev_msg;
  logic [7:0]       ev_type;
  logic [2:0]       ev_flags;
  logic [LenW-1:0]  ev_len;
  logic             rx_we;
  logic             rx_pos_clr, rx_pos_inc;
  logic [7:0]       rx_wdata;
  crc_op_e          rx_crc_op, tx_crc_op;
  logic [7:0]       rx_crc_byte, seq_byte;
  logic             seq_next;
  logic             arg_shift, arg_we;
  logic [7:0]       arg_byte;
  logic [127:0]     arg_q, arg_d;  // the executor's argument register: rx window bytes 4..19
  logic [31:0]      crc_q, crc_next;

  tsr_bridge_rx #(.FrameBytes(FrameBytes)) u_rx (
    .clk_i, .rst_ni,
    .fifo_empty_i(fifo_empty), .fifo_pop_o(fifo_pop), .fifo_data_i(fifo_data),
    .fifo_valid_i(fifo_valid),
    .buf_we_o(rx_we), .pos_i(pos_q), .pos_clr_o(rx_pos_clr),
    .pos_inc_o(rx_pos_inc), .buf_wdata_o(rx_wdata),
    .ev_valid_o(ev_valid), .ev_ready_i(ev_ready), .ev_ok_o(ev_ok), .ev_code_o(ev_code),
    .ev_msg_o(ev_msg), .ev_hdr_valid_o(ev_hdr_valid), .ev_type_o(ev_type),
    .ev_flags_o(ev_flags), .ev_len_o(ev_len),
    .seq_byte_o(seq_byte), .seq_next_i(seq_next),
    .arg_o(arg_q), .arg_shift_i(arg_shift), .arg_byte_i(arg_byte), .arg_we_i(arg_we),
    .arg_i(arg_d),
    .crc_op_o(rx_crc_op), .crc_byte_o(rx_crc_byte), .crc_next_i(crc_next)
  );

  // ---- executor -----------------------------------------------------------------------
  logic             ex_en, ex_we;
  logic             ex_pos_clr, ex_pos_inc;
  logic [7:0]       ex_wdata, buf_rdata;
  logic             tx_start, tx_busy, tx_tail_rom, exec_error;
  logic             tx_err;
  logic [7:0]       tx_fixed_byte;
  logic             tx_fixed_next;
  logic [3:0]       tx_fixed_len;
  msg_e             tx_msg;
  logic             tx_tail_buf;

  tsr_bridge_exec #(
    .InBytes(InBytes), .OutBytes(OutBytes), .FrameBytes(FrameBytes),
    .StallCycles(StallCycles), .OutFifoBeats(OutFifoBeats)
  ) u_exec (
    .clk_i, .rst_ni,
    .ev_valid_i(ev_valid), .ev_ready_o(ev_ready), .ev_ok_i(ev_ok), .ev_code_i(ev_code),
    .ev_msg_i(ev_msg), .ev_hdr_valid_i(ev_hdr_valid), .ev_type_i(ev_type),
    .ev_flags_i(ev_flags), .ev_len_i(ev_len),
    .arg_i(arg_q), .arg_shift_o(arg_shift), .arg_byte_o(arg_byte), .arg_we_o(arg_we),
    .arg_o(arg_d),
    .buf_en_o(ex_en), .buf_we_o(ex_we), .pos_i(pos_q[1:0]),
    .pos_clr_o(ex_pos_clr), .pos_inc_o(ex_pos_inc), .buf_wdata_o(ex_wdata),
    .buf_rdata_i(buf_rdata),
    .tx_start_o(tx_start), .tx_busy_i(tx_busy), .tx_err_o(tx_err),
    .tx_fixed_byte_o(tx_fixed_byte), .tx_fixed_next_i(tx_fixed_next),
    .tx_fixed_len_o(tx_fixed_len), .tx_tail_rom_o(tx_tail_rom),
    .tx_msg_o(tx_msg), .tx_tail_buf_o(tx_tail_buf),
    .m_axil_awaddr_o, .m_axil_awvalid_o, .m_axil_awready_i, .m_axil_wdata_o,
    .m_axil_wstrb_o, .m_axil_wvalid_o, .m_axil_wready_i, .m_axil_bresp_i, .m_axil_bvalid_i,
    .m_axil_bready_o, .m_axil_araddr_o, .m_axil_arvalid_o, .m_axil_arready_i,
    .m_axil_rdata_i, .m_axil_rresp_i, .m_axil_rvalid_i, .m_axil_rready_o,
    .m_axis_tdata_o, .m_axis_tvalid_o, .m_axis_tready_i, .m_axis_tlast_o,
    .s_axis_tdata_i, .s_axis_tvalid_i, .s_axis_tready_o, .s_axis_tlast_i,
    .engine_rst_no, .error_o(exec_error)
  );

  // ---- reply sender -------------------------------------------------------------------
  logic             tx_re;
  logic             tx_pos_clr, tx_pos_inc;

  tsr_bridge_tx #(.FrameBytes(FrameBytes)) u_tx (
    .clk_i, .rst_ni,
    .start_i(tx_start), .busy_o(tx_busy), .err_i(tx_err), .seq_valid_i(ev_hdr_valid),
    .req_type_i(ev_type), .seq_byte_i(seq_byte), .seq_next_o(seq_next),
    .fixed_byte_i(tx_fixed_byte), .fixed_next_o(tx_fixed_next),
    .fixed_len_i(tx_fixed_len), .tail_rom_i(tx_tail_rom),
    .msg_i(tx_msg), .tail_buf_i(tx_tail_buf),
    .buf_re_o(tx_re), .pos_i(pos_q), .pos_clr_o(tx_pos_clr),
    .pos_inc_o(tx_pos_inc), .buf_rdata_i(buf_rdata),
    .tx_data_o(tx_data), .tx_valid_o(tx_valid), .tx_ready_i(tx_ready),
    .crc_op_o(tx_crc_op), .crc_i(crc_q[7:0])
  );

  // ---- one CRC-32 register for both directions ----------------------------------------
  // The receiver runs it over a request's header, payload and CRC; the sender over the
  // reply, which goes out only while the receiver holds an event and reads nothing.
  crc_op_e     crc_op;
  logic [7:0]  crc_byte;
  assign crc_op   = crc_op_e'(rx_crc_op | tx_crc_op);  // the idle one asks CrcHold (0)
  assign crc_byte = tx_busy ? tx_data : rx_crc_byte;   // the sender's latched byte

  tsr_crc32 u_crc (.crc_i(crc_q), .byte_i(crc_byte), .crc_o(crc_next));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      crc_q <= '1;
    end else begin
      unique case (crc_op)
        CrcInit: crc_q <= '1;
        CrcStep: crc_q <= crc_next;
        default: ;
      endcase
    end
  end

  // ---- one position counter for the frame buffer ---------------------------------------
  // The receiver counts a request's payload (and CRC) bytes with it, the executor the
  // bytes it reads or collects, the sender a reply's bytes: they take turns like the
  // buffer's port (the receiver holds its event while the other two work). It addresses
  // the buffer, and a STREAM_READ leaves its reply's length in it.
  logic            pos_clr, pos_inc;
  assign pos_clr = rx_pos_clr || ex_pos_clr || tx_pos_clr;
  assign pos_inc = rx_pos_inc || ex_pos_inc || tx_pos_inc;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)      pos_q <= '0;
    else if (pos_clr) pos_q <= '0;
    else if (pos_inc) pos_q <= pos_q + 1'b1;
  end

  // ---- frame buffer: one port, the three take turns -----------------------------------
  tsr_frame_buf #(.Bytes(FrameBytes), .Spram(FrameBufSpram)) u_buf (
    .clk_i,
    .en_i(rx_we || ex_en || tx_re),
    .we_i(rx_we || ex_we),
    .addr_i(pos_q[AddrW-1:0]),
    .wdata_i(rx_we ? rx_wdata : ex_wdata),
    .rdata_o(buf_rdata)
  );

  assign error_o   = exec_error || rx_frame_err || fifo_overflow;
  assign rx_byte_o = rx_valid;
  assign tx_byte_o = tx_valid && tx_ready;

`ifndef SYNTHESIS
  // One user of the position counter at a time.
  PosOneUser_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      $onehot0({rx_pos_clr || rx_pos_inc, ex_pos_clr || ex_pos_inc, tx_pos_clr || tx_pos_inc}));
  // The receiver and the sender never run the shared CRC register at once.
  CrcOneUser_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      rx_crc_op == CrcHold || tx_crc_op == CrcHold);
  // The three users of the frame buffer's single port never collide.
  BufOnePort_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
      $onehot0({rx_we, ex_en, tx_re}));
`endif

endmodule
