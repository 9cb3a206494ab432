// UART transmitter, 8N1, ClkHz/Baud clocks per bit (rounded to the nearest clock).
// Takes a byte when valid_i && ready_o; the line idles high. The output is registered.
module tsr_uart_tx #(
  parameter int unsigned ClkHz = 100_000_000,
  parameter int unsigned Baud  = 1_000_000,
  localparam int unsigned ClksPerBit = (ClkHz + Baud / 2) / Baud,
  localparam int unsigned CntW = $clog2(ClksPerBit + 1)
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic [7:0] data_i,
  input  logic       valid_i,
  output logic       ready_o,
  output logic       tx_o
);

  if (ClksPerBit < 4) begin : gen_bad_baud
    $error("tsr_uart_tx: ClkHz/Baud must be >= 4 clocks per bit");
  end

  localparam logic [CntW-1:0] FullBit = CntW'(ClksPerBit - 1);

  // {idle, stop, data[7:0], start} shifted out LSB first; bits_q counts what is left. The
  // idle bit is driven for no time: reaching it ends the stop bit's full period.
  logic [10:0]     shift_q, shift_d;
  logic [3:0]      bits_q, bits_d;
  logic [CntW-1:0] cnt_q, cnt_d;
  logic            tx_q, tx_d;

  assign ready_o = (bits_q == '0);

  always_comb begin
    shift_d = shift_q;
    bits_d  = bits_q;
    cnt_d   = cnt_q;
    tx_d    = tx_q;
    if (bits_q == '0) begin
      tx_d = 1'b1;
      if (valid_i) begin
        shift_d = {2'b11, data_i, 1'b0};
        bits_d  = 4'd11;
        cnt_d   = '0;
      end
    end else if (cnt_q != '0) begin
      cnt_d = cnt_q - 1'b1;
    end else begin
      // Start of the next bit period: drive it and count a full bit.
      tx_d    = shift_q[0];
      shift_d = {1'b1, shift_q[10:1]};
      cnt_d   = FullBit;
      bits_d  = bits_q - 1'b1;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      shift_q <= '1;
      bits_q  <= '0;
      cnt_q   <= '0;
      tx_q    <= 1'b1;
    end else begin
      shift_q <= shift_d;
      bits_q  <= bits_d;
      cnt_q   <= cnt_d;
      tx_q    <= tx_d;
    end
  end

  assign tx_o = tx_q;

endmodule
