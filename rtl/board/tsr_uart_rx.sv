// UART receiver, 8N1, ClkHz/Baud clocks per bit (rounded to the nearest clock). The line
// goes through a two-flip-flop synchronizer; a start bit must still be low half a bit in
// (else it was a glitch), then each bit is sampled in its middle. A stop bit that reads
// low is a framing error: the byte is dropped, frame_err_o pulses, and the receiver waits
// for the line to go high (a break) before it looks for the next start bit.
module tsr_uart_rx #(
  parameter int unsigned ClkHz = 100_000_000,
  parameter int unsigned Baud  = 1_000_000,
  localparam int unsigned ClksPerBit = (ClkHz + Baud / 2) / Baud,
  localparam int unsigned CntW = $clog2(ClksPerBit + 1)
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       rx_i,         // asynchronous, idle high
  output logic [7:0] data_o,
  output logic       valid_o,      // one cycle per received byte
  output logic       frame_err_o   // one cycle per byte with a bad stop bit
);

  if (ClksPerBit < 4) begin : gen_bad_baud
    $error("tsr_uart_rx: ClkHz/Baud must be >= 4 clocks per bit");
  end

  typedef enum logic [2:0] {RxIdle, RxStart, RxData, RxStop, RxBreak} rx_state_e;

  localparam logic [CntW-1:0] FullBit = CntW'(ClksPerBit - 1);
  localparam logic [CntW-1:0] HalfBit = CntW'(ClksPerBit / 2 - 1);

  logic [1:0]      sync_q;
  rx_state_e       state_q, state_d;
  logic [CntW-1:0] cnt_q, cnt_d;
  logic [2:0]      bit_q, bit_d;
  logic [7:0]      shift_q, shift_d;
  logic            valid_q, valid_d, err_q, err_d;
  logic            rx;

  assign rx = sync_q[1];

  always_comb begin
    state_d = state_q;
    cnt_d   = cnt_q;
    bit_d   = bit_q;
    shift_d = shift_q;
    valid_d = 1'b0;
    err_d   = 1'b0;
    unique case (state_q)
      RxIdle: if (!rx) begin
        state_d = RxStart;
        cnt_d   = HalfBit;
      end
      RxStart: begin
        if (cnt_q != '0) cnt_d = cnt_q - 1'b1;
        else if (rx) state_d = RxIdle;  // a glitch, not a start bit
        else begin
          state_d = RxData;
          cnt_d   = FullBit;
          bit_d   = '0;
        end
      end
      RxData: begin
        if (cnt_q != '0) cnt_d = cnt_q - 1'b1;
        else begin
          shift_d = {rx, shift_q[7:1]};  // LSB first
          cnt_d   = FullBit;
          bit_d   = bit_q + 1'b1;
          if (bit_q == 3'd7) state_d = RxStop;
        end
      end
      RxStop: begin
        if (cnt_q != '0) cnt_d = cnt_q - 1'b1;
        else if (rx) begin
          valid_d = 1'b1;
          state_d = RxIdle;
        end else begin
          err_d   = 1'b1;
          state_d = RxBreak;
        end
      end
      RxBreak: if (rx) state_d = RxIdle;
      default: state_d = RxIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sync_q  <= 2'b11;
      state_q <= RxIdle;
      cnt_q   <= '0;
      bit_q   <= '0;
      shift_q <= '0;
      valid_q <= 1'b0;
      err_q   <= 1'b0;
    end else begin
      sync_q  <= {sync_q[0], rx_i};
      state_q <= state_d;
      cnt_q   <= cnt_d;
      bit_q   <= bit_d;
      shift_q <= shift_d;
      valid_q <= valid_d;
      err_q   <= err_d;
    end
  end

  assign data_o      = shift_q;
  assign valid_o     = valid_q;
  assign frame_err_o = err_q;

endmodule
