// One output lane of the store unit: acc + bias, then TFLite MultiplyByQuantizedMultiplier
// in either of its rounding modes, the output zero point and the clamp. Double rounding
// (gemmlowp, TFLite Micro): left shift, SaturatingRoundingDoublingHighMul, then
// RoundingDivideByPOT. Single rounding (TFLITE_SINGLE_ROUNDING): the exact 64-bit
// product shifted right by 31 - shift, rounding half up once. Fixed latency of
// tsr_pkg::rq_latency(Lean, Deep) cycles (9; 6 when Lean, 10 when Deep), no stall: the
// store unit only issues what its output FIFO can take. Job-level settings are read
// where they are used: requant with the stage-1 inputs, the zero point
// tsr_pkg::rq_zp_at(Lean) (7, 4) cycles after them, the clamp tsr_pkg::rq_clamp_at(Lean)
// (8, 5) cycles after them (the store unit keeps them per job).
//
// Without requantization the raw int32 (acc + bias) takes the multiplier path too, as
// an exact product by one shifted by nothing: one flag travels down the stages instead
// of the 32-bit value (on an iCE40 a flip-flop that only copies another costs a logic
// cell of its own). RoundSingle = 0 builds the double rounding alone (FEATURES bit 7
// clear, the PARAM flag ignored): the 64-bit single-rounding shifter and its muxes go.
//
// Pipelined for an FPGA clock of 100 MHz and more, one short step a stage: the 32x32
// multiply is four unsigned 16x16 products (one DSP block each: MULT18X18D, SB_MAC16),
// registered on both sides, then summed over two stages; the rounding needs no
// 64-bit adder chain (see stage 5). Lean (for a slow clock: the iCEBreaker's 24 MHz) drops
// three of those registers: stage 1's (the bias add feeds the left shift directly), the
// products' (the DSP blocks feed stage 4's adders) and stage 5's (its adds feed stage 6's):
// 6 stages and about 200 flip-flops fewer, most of them cells of their own on an iCE40.
// Deep (for a slow FPGA at 100 MHz: the ULX3S's -6 ECP5) registers the clamp's compares
// and selects in a stage of its own (latency 10).
module tsr_requant #(
  parameter bit RoundSingle = 1'b1,  // single rounding (PARAM flags bit 0, FEATURES bit 7)
  parameter bit Lean        = 1'b0,  // stages 1, 3 and 5 unregistered: latency 6
  parameter bit Deep        = 1'b0,  // the clamp in two stages, latency 10 (not with Lean)
  parameter bit Mac16       = 1'b0   // Lean on iCE40: the low product registered in its
                                     // SB_MAC16 (the stage-4 register of its low bits)
) (
  input  logic        clk_i,
  // Stage 1 inputs.
  input  logic        requant_i,    // 0: the raw int32 acc + bias, no zero point, no clamp
  input  logic [31:0] acc_i,
  input  logic [31:0] bias_i,
  input  logic [31:0] mult_i,
  input  logic [7:0]  shift_i,      // [6:0] signed, -31..30, > 0 shifts left;
                                    // [7] single rounding (ignored if !RoundSingle)
  // Read tsr_pkg::rq_zp_at(Lean) cycles after the stage-1 inputs (by stage 8).
  input  logic [7:0]  zero_point_i,
  // Read tsr_pkg::rq_clamp_at(Lean) cycles after the stage-1 inputs (by stage 9).
  input  logic [7:0]  clamp_lo_i,
  input  logic [7:0]  clamp_hi_i,
  output logic [31:0] data_o        // raw int32, or the int8 result sign-extended
);

  // The right shift amount: 0..62 with single rounding, else 0..31.
  localparam int unsigned RightW = RoundSingle ? 6 : 5;

  if (Deep && Lean) begin : gen_deep_lean
    $error("tsr_requant: Deep registers what Lean leaves out; choose one");
  end

  // Stage 1: bias (wraps, as the golden reference does). A raw value is multiplied by
  // one and kept exact: single rounding's path with a right shift of 0.
  logic [31:0] s1_raw, s1_mult;
  logic [7:0]  s1_shift;
  logic        s1_bypass;
  if (Lean) begin : gen_s1_wire
    assign s1_raw    = acc_i + bias_i;
    assign s1_mult   = requant_i ? mult_i : 32'd1;
    assign s1_shift  = shift_i;
    assign s1_bypass = !requant_i;
  end else begin : gen_s1_reg
    always_ff @(posedge clk_i) begin
      s1_raw    <= acc_i + bias_i;
      s1_mult   <= requant_i ? mult_i : 32'd1;
      s1_shift  <= shift_i;
      s1_bypass <= !requant_i;
    end
  end

  // Stage 2: double rounding's left shift (wraps). The right shift waits for stage 7,
  // by r = -shift (double, 0..31) or by 31 - shift (single, 1..62); 0 for a raw value.
  // From here on `exact` (single rounding or raw) keeps the 64-bit product unrounded.
  // Deep works the amounts out in stage 1, from its inputs, so the left shift's selects
  // come from registers.
  typedef struct packed {
    logic [4:0]        left;
    logic [RightW-1:0] right;
    logic              exact;
  } amounts_t;
  function automatic amounts_t shift_amounts(input logic [7:0] shift_field, input logic bypass);
    logic       single, shift_left;
    logic [6:0] shift;
    single     = RoundSingle && shift_field[7];
    shift      = shift_field[6:0];
    shift_left = !shift[6] && (shift != 7'd0);
    shift_amounts.left  = (shift_left && !single && !bypass) ? shift[4:0] : 5'd0;
    shift_amounts.right = bypass ? '0
                        : single     ? RightW'(7'd31 - shift)
                        : shift_left ? '0 : RightW'((~shift) + 7'd1);
    shift_amounts.exact = single || bypass;
  endfunction
  amounts_t    amounts;
  logic [31:0] s2_a_q, s2_b_q;
  logic [RightW-1:0] s2_right_q;
  logic        s2_exact_q, s2_bypass_q;
  if (Deep) begin : gen_amounts_reg
    always_ff @(posedge clk_i) amounts <= shift_amounts(shift_i, !requant_i);
    logic unused_shift;
    assign unused_shift = ^s1_shift;
  end else begin : gen_amounts_now
    assign amounts = shift_amounts(s1_shift, s1_bypass);
  end
  always_ff @(posedge clk_i) begin
    s2_a_q      <= s1_raw << amounts.left;
    s2_b_q      <= s1_mult;
    s2_right_q  <= amounts.right;
    s2_exact_q  <= amounts.exact;
    s2_bypass_q <= s1_bypass;
  end

  // Stage 3: four unsigned 16x16 partial products of the operands' bit patterns, and the
  // correction that makes their sum the signed product: with A, B the unsigned readings
  // of a, b, a*b = A*B - 2^32 * (a<0 ? B : 0) - 2^32 * (b<0 ? A : 0)  (mod 2^64).
  logic [31:0] s3_ll, s3_lh, s3_hl, s3_hh, s3_corr;
  logic        s3_overflow, s3_exact, s3_bypass;
  logic [RightW-1:0] s3_right;
  if (Lean) begin : gen_s3_wire
    assign s3_ll       = s2_a_q[15:0]  * s2_b_q[15:0];
    assign s3_lh       = s2_a_q[15:0]  * s2_b_q[31:16];
    assign s3_hl       = s2_a_q[31:16] * s2_b_q[15:0];
    assign s3_hh       = s2_a_q[31:16] * s2_b_q[31:16];
    assign s3_corr     = (s2_a_q[31] ? s2_b_q : 32'd0) + (s2_b_q[31] ? s2_a_q : 32'd0);
    assign s3_overflow = (s2_a_q == 32'h8000_0000) && (s2_b_q == 32'h8000_0000);
    assign s3_right    = s2_right_q;
    assign s3_exact    = s2_exact_q;
    assign s3_bypass   = s2_bypass_q;
  end else begin : gen_s3_reg
    always_ff @(posedge clk_i) begin
      s3_ll       <= s2_a_q[15:0]  * s2_b_q[15:0];
      s3_lh       <= s2_a_q[15:0]  * s2_b_q[31:16];
      s3_hl       <= s2_a_q[31:16] * s2_b_q[15:0];
      s3_hh       <= s2_a_q[31:16] * s2_b_q[31:16];
      s3_corr     <= (s2_a_q[31] ? s2_b_q : 32'd0) + (s2_b_q[31] ? s2_a_q : 32'd0);
      s3_overflow <= (s2_a_q == 32'h8000_0000) && (s2_b_q == 32'h8000_0000);
      s3_right    <= s2_right_q;
      s3_exact    <= s2_exact_q;
      s3_bypass   <= s2_bypass_q;
    end
  end

  // Stage 4: the middle terms, the low term with double rounding's constant 2^30 (stage
  // 6), the high term corrected for the signs. Single rounding keeps the product exact.
  logic [32:0] s4_mid_q, s4_lo;
  logic [31:0] s4_hi_q;
  logic        s4_overflow_q, s4_exact_q, s4_bypass_q;
  logic [RightW-1:0] s4_right_q;
  if (Mac16 && Lean) begin : gen_lo_mac
    // The low product in its SB_MAC16's product register; the constant added after it.
    logic [31:0] ll_q;
    logic [2:0]  mac_flags;  // carry and sign outputs, unused
    SB_MAC16 #(
      .PIPELINE_16x16_MULT_REG2(1'b1), .TOPOUTPUT_SELECT(2'd3), .BOTOUTPUT_SELECT(2'd3)
    ) u_ll (
      .CLK(clk_i), .CE(1'b1), .A(s2_a_q[15:0]), .B(s2_b_q[15:0]), .C(16'd0), .D(16'd0),
      .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
      .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
      .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
      .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
      .O(ll_q), .CO(mac_flags[0]), .ACCUMCO(mac_flags[1]), .SIGNEXTOUT(mac_flags[2])
    );
    assign s4_lo = {1'b0, ll_q} + (s4_exact_q ? 33'd0 : 33'h0_4000_0000);
    logic unused_ll;
    assign unused_ll = ^{s3_ll, mac_flags};
  end else begin : gen_lo_reg
    logic [32:0] s4_lo_q;
    always_ff @(posedge clk_i) begin
      s4_lo_q <= {1'b0, s3_ll} + (s3_exact ? 33'd0 : 33'h0_4000_0000);
    end
    assign s4_lo = s4_lo_q;
  end
  always_ff @(posedge clk_i) begin
    s4_mid_q      <= {1'b0, s3_lh} + {1'b0, s3_hl};
    s4_hi_q       <= s3_hh - s3_corr;
    s4_overflow_q <= s3_overflow;
    s4_right_q    <= s3_right;
    s4_exact_q    <= s3_exact;
    s4_bypass_q   <= s3_bypass;
  end

  // Stage 5: p (+ 2^30) = hi*2^32 + mid*2^16 + lo, in two 32-bit halves: the low half
  // with its carry, the high half without it yet.
  logic [32:0] s5_low;
  logic [31:0] s5_high;
  logic        s5_overflow, s5_exact, s5_bypass;
  logic [RightW-1:0] s5_right;
  if (Lean) begin : gen_s5_wire
    assign s5_low      = {1'b0, s4_lo[31:0]} + {1'b0, s4_mid_q[15:0], 16'd0};
    assign s5_high     = s4_hi_q + 32'(s4_mid_q[32:16]) + 32'(s4_lo[32]);
    assign s5_overflow = s4_overflow_q;
    assign s5_right    = s4_right_q;
    assign s5_exact    = s4_exact_q;
    assign s5_bypass   = s4_bypass_q;
  end else begin : gen_s5_reg
    always_ff @(posedge clk_i) begin
      s5_low      <= {1'b0, s4_lo[31:0]} + {1'b0, s4_mid_q[15:0], 16'd0};
      s5_high     <= s4_hi_q + 32'(s4_mid_q[32:16]) + 32'(s4_lo[32]);
      s5_overflow <= s4_overflow_q;
      s5_right    <= s4_right_q;
      s5_exact    <= s4_exact_q;
      s5_bypass   <= s4_bypass_q;
    end
  end

  // Stage 6: the 64-bit value stage 7 shifts right. Double rounding: gemmlowp's doubling
  // high half. Its nudge (2^30, or 1 - 2^30 for a negative product p) and the division
  // by 2^31 that truncates toward zero come to floor((p + 2^30) / 2^31) for either sign:
  // for p < 0 the nudged value is negative, and truncating it toward zero adds 2^31 - 1
  // before the floor. So it is bits [62:31] of p + 2^30, saturated for the one
  // overflowing product (-2^31 * -2^31), sign-extended. Single rounding and raw: p
  // (for a raw value, p fits in its low half). Without single rounding the value is 32
  // bits wide, and so is stage 7's shifter.
  localparam int unsigned ValueW = RoundSingle ? 64 : 32;
  logic [31:0]        high_sum, high_half;
  logic [63:0]        product;
  logic [ValueW-1:0]  s6_value_q;
  logic [RightW-1:0] s6_right_q;
  logic               s6_exact_q, s6_bypass_q;
  assign high_sum  = s5_high + 32'(s5_low[32]);
  assign high_half = s5_overflow ? 32'h7FFF_FFFF : {high_sum[30:0], s5_low[31]};
  assign product   = {high_sum, s5_low[31:0]};
  if (!RoundSingle) begin : gen_unused_high
    logic unused_high;
    assign unused_high = ^product[63:32];  // a raw value's product fits its low half
  end
  always_ff @(posedge clk_i) begin
    s6_value_q  <= s5_exact ? ValueW'(product) : ValueW'($signed(high_half));
    s6_right_q  <= s5_right;
    s6_exact_q  <= s5_exact;
    s6_bypass_q <= s5_bypass;
  end

  // Stage 7: x >> r (arithmetic, x = s6_value_q, r = s6_right_q) and the rounding
  // increment, added in stage 8. Single rounding, (x + 2^(r-1)) >> r: bit r-1 of x.
  // RoundingDivideByPOT (double, r <= 31): one when the remainder exceeds (2^r - 1) / 2
  // rounded down, plus one more for a negative x. For r >= 1 that is: bit r-1 set, and
  // for a negative x some bit below it set too (ties round away from zero); for r = 0
  // never. No adder or comparator on the path.
  // Deep works r - 1 and the mask of the bits below it out in stage 6, from stage 5's r.
  function automatic logic [30:0] below_mask(input logic [RightW-1:0] r);
    for (int i = 0; i < 31; i++) below_mask[i] = (RightW'(i + 1) < r);
  endfunction
  logic [30:0] below_half;   // bits below r-1
  logic [RightW-1:0] half_at;  // r - 1
  logic        right_any;      // r != 0
  logic        half_bit, any_below, round_up;
  logic [31:0] s7_shifted_q;
  logic        s7_round_q, s7_bypass_q;
  if (Deep) begin : gen_round_reg
    always_ff @(posedge clk_i) begin
      below_half <= below_mask(s5_right);
      half_at    <= s5_right - 1'b1;
      right_any  <= (s5_right != '0);
    end
  end else begin : gen_round_now
    assign below_half = below_mask(s6_right_q);
    assign half_at    = s6_right_q - 1'b1;
    assign right_any  = (s6_right_q != '0);
  end
  assign half_bit  = right_any && s6_value_q[half_at];
  assign any_below = |(s6_value_q[30:0] & below_half);
  assign round_up  = half_bit && (s6_exact_q || !s6_value_q[ValueW-1] || any_below);
  always_ff @(posedge clk_i) begin
    s7_shifted_q <= 32'($signed(s6_value_q) >>> s6_right_q);
    s7_round_q   <= round_up;
    s7_bypass_q  <= s6_bypass_q;
  end

  // Stage 8: rounding and the zero point (wrapping 32-bit add); a raw value has neither.
  logic [31:0] s8_value_q;
  logic        s8_bypass_q;
  always_ff @(posedge clk_i) begin
    s8_value_q  <= s7_shifted_q + (s7_bypass_q ? 32'd0 : {{24{zero_point_i[7]}}, zero_point_i})
                   + 32'(s7_round_q);
    s8_bypass_q <= s7_bypass_q;
  end

  // Stage 9: the clamp, or the raw int32 (acc + bias) without requantization. The clamp's
  // bounds are int8, so a value outside int8 is below lo (negative) or above hi
  // (positive) whatever they are, and one inside compares in 8 bits.
  logic        fits8, below, above;
  logic [7:0]  v8, clamped;
  logic [31:0] s9_data_q;
  assign fits8   = (s8_value_q[31:7] == '0) || (s8_value_q[31:7] == '1);
  assign v8      = s8_value_q[7:0];
  assign below   = fits8 ? ($signed(v8) < $signed(clamp_lo_i)) : s8_value_q[31];
  assign above   = fits8 ? ($signed(v8) > $signed(clamp_hi_i)) : !s8_value_q[31];
  assign clamped = below ? clamp_lo_i : (above ? clamp_hi_i : v8);
  always_ff @(posedge clk_i) begin
    s9_data_q <= s8_bypass_q ? s8_value_q : {{24{clamped[7]}}, clamped};
  end

  // Deep: stage 9 registers the compares' verdicts with the value and the bounds, and
  // stage 10 selects (s9_data_q is then left unused).
  if (Deep) begin : gen_clamp_reg
    logic [31:0] s9_value_q, s10_data_q;
    logic [7:0]  s9_lo_q, s9_hi_q, s9_clamped;
    logic        s9_below_q, s9_above_q, s9_bypass_q;
    always_ff @(posedge clk_i) begin
      s9_value_q  <= s8_value_q;
      s9_lo_q     <= clamp_lo_i;
      s9_hi_q     <= clamp_hi_i;
      s9_below_q  <= below;
      s9_above_q  <= above;
      s9_bypass_q <= s8_bypass_q;
    end
    assign s9_clamped = s9_below_q ? s9_lo_q : (s9_above_q ? s9_hi_q : s9_value_q[7:0]);
    always_ff @(posedge clk_i) begin
      s10_data_q <= s9_bypass_q ? s9_value_q : {{24{s9_clamped[7]}}, s9_clamped};
    end
    assign data_o = s10_data_q;
    logic unused_s9;
    assign unused_s9 = ^s9_data_q;
  end else begin : gen_clamp_wire
    assign data_o = s9_data_q;
  end

endmodule
