// One output lane of the store unit: acc + bias, then TFLite MultiplyByQuantizedMultiplier
// (left shift, gemmlowp SaturatingRoundingDoublingHighMul, RoundingDivideByPOT), the
// output zero point and the clamp. Fixed latency of 4 cycles, no stall: the store unit
// only issues what its output FIFO can take. Job-level settings (requant, zero point,
// clamp) are sampled in the last stage, from the store unit's sideband pipeline.
module tsr_requant (
  input  logic        clk_i,
  // Stage 1 inputs.
  input  logic [31:0] acc_i,
  input  logic [31:0] bias_i,
  input  logic [31:0] mult_i,
  input  logic [7:0]  shift_i,      // signed, -31..30; > 0 shifts left
  // Stage 4 inputs.
  input  logic        requant_i,
  input  logic [7:0]  zero_point_i,
  input  logic [7:0]  clamp_lo_i,
  input  logic [7:0]  clamp_hi_i,
  output logic [31:0] data_o        // raw int32, or the int8 result sign-extended
);

  // Stage 1: bias and left shift (both wrap, as the golden reference does).
  logic [31:0] biased;
  logic        shift_left;
  logic [4:0]  left_amount, right_amount;
  logic [31:0] s1_raw_q, s1_shifted_q, s1_mult_q;
  logic [4:0]  s1_right_q;

  assign biased       = acc_i + bias_i;
  assign shift_left   = !shift_i[7] && (shift_i != 8'd0);
  assign left_amount  = shift_left ? shift_i[4:0] : 5'd0;
  assign right_amount = shift_left ? 5'd0 : 5'((~shift_i) + 8'd1);

  always_ff @(posedge clk_i) begin
    s1_raw_q     <= biased;
    s1_shifted_q <= biased << left_amount;
    s1_mult_q    <= mult_i;
    s1_right_q   <= right_amount;
  end

  // Stage 2: the 32x32 product, registered on both sides.
  logic signed [63:0] product;  // both operands signed, so sign-extended to 64 bits
  logic [63:0] s2_product_q;
  logic        s2_overflow_q;
  logic [31:0] s2_raw_q;
  logic [4:0]  s2_right_q;

  assign product = $signed(s1_shifted_q) * $signed(s1_mult_q);

  always_ff @(posedge clk_i) begin
    s2_product_q  <= product;
    s2_overflow_q <= (s1_shifted_q == 32'h8000_0000) && (s1_mult_q == 32'h8000_0000);
    s2_raw_q      <= s1_raw_q;
    s2_right_q    <= s1_right_q;
  end

  // Stage 3: doubling high half with round-half-away-from-zero nudge; the division by
  // 2^31 truncates toward zero, so negative values are biased up before the shift.
  logic [63:0] nudged, toward_zero;
  logic [31:0] s3_high_q, s3_raw_q;
  logic [4:0]  s3_right_q;

  assign nudged      = s2_product_q + (s2_product_q[63] ? 64'hFFFF_FFFF_C000_0001
                                                        : 64'h0000_0000_4000_0000);
  assign toward_zero = nudged[63] ? nudged + 64'h0000_0000_7FFF_FFFF : nudged;

  always_ff @(posedge clk_i) begin
    s3_high_q  <= s2_overflow_q ? 32'h7FFF_FFFF : toward_zero[62:31];
    s3_raw_q   <= s2_raw_q;
    s3_right_q <= s2_right_q;
  end

  // Stage 4: rounding right shift, zero point, clamp.
  logic [31:0] mask, remainder, threshold, shifted, rounded, with_zp;
  logic [31:0] lo, hi;
  logic [31:0] s4_data_q;

  assign mask      = (32'd1 << s3_right_q) - 32'd1;
  assign remainder = s3_high_q & mask;
  assign threshold = (mask >> 1) + {31'd0, s3_high_q[31]};
  assign shifted   = $signed(s3_high_q) >>> s3_right_q;
  assign rounded   = shifted + {31'd0, (remainder > threshold)};
  assign with_zp   = rounded + {{24{zero_point_i[7]}}, zero_point_i};
  assign lo        = {{24{clamp_lo_i[7]}}, clamp_lo_i};
  assign hi        = {{24{clamp_hi_i[7]}}, clamp_hi_i};

  always_ff @(posedge clk_i) begin
    if (!requant_i)                              s4_data_q <= s3_raw_q;
    else if ($signed(with_zp) < $signed(lo))     s4_data_q <= lo;
    else if ($signed(with_zp) > $signed(hi))     s4_data_q <= hi;
    else                                         s4_data_q <= with_zp;
  end

  assign data_o = s4_data_q;

  // Only bits [62:31] of the rounded product form the result (it fits in 32 bits).
  logic unused_product_bits;
  assign unused_product_bits = ^{toward_zero[63], toward_zero[30:0]};

endmodule
