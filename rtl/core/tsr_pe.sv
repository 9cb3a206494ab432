// Weight-stationary processing element. Two weight registers: the one an activation
// names in its bank bit computes, the other is loaded for the next fold meanwhile (the
// shadow register). Activations move right, partial sums move down, one cycle a hop.
// The multiplier has registers on both sides (the activation register that also feeds
// the right neighbour, the selected weight, the product), so the bank select, the DSP
// block and the 32-bit add each have a cycle of their own at 100 MHz on ECP5. Hence
// psum_i belongs to the activation presented two cycles earlier: PE (r, c) sees its
// activation at t0 + r + c and the sum from above at t0 + r + c + 2, exactly when
// PE (r-1, c) delivers it. The weight is selected in the activation's own cycle, as
// before. Idle slots carry activation 0, so the PE needs no valid bit.
//
// LutMul = 1 builds the multiplier from logic instead of a DSP block, for arrays with more
// PEs than the FPGA has multipliers or whose DSP sites lie too far apart to route (see
// docs/architecture.md). Same latency: the multiplier-input register holds the four
// radix-4 Booth partial products, and the product register their sum.
//
// Mac16 = 1 (iCE40) instantiates the SB_MAC16 itself, with the product register and the
// 32-bit add inside the block: the same registers and latency, and about 48 logic cells
// a PE fewer than the product and sum in flip-flops and carry chains of the fabric (Yosys
// leaves them there: its register packing into SB_MAC16 is off, see scripts/fpga.sh).
module tsr_pe #(
  parameter bit LutMul = 1'b0,
  parameter bit Mac16  = 1'b0,  // iCE40 only; excludes LutMul
  parameter bit Late   = 1'b0,  // Mac16: psum_o a cycle later (the block's own registers)
  parameter bit ActIn  = 1'b0   // Mac16: the activation register inside the block (A_REG;
                                // a PE with no right neighbour: act_o is left unused)
) (
  input  logic        clk_i,
  input  logic [7:0]  act_i,        // signed int8 from the left neighbour
  input  logic        act_bank_i,   // weight register this activation uses
  input  logic [31:0] psum_i,       // from the PE above
  input  logic        wgt_we_i,
  input  logic        wgt_bank_i,
  input  logic [7:0]  wgt_i,
  input  logic        fault_stuck0_i,  // simulation fault injection: product forced to 0
  output logic [7:0]  act_o,
  output logic        act_bank_o,
  output logic [31:0] psum_o
);

  logic [7:0]  wgt0_q, wgt1_q;
  logic [7:0]  act_q;
  logic        act_bank_q;
  logic [7:0]  wgt_sel;
  logic [15:0] full_product, product;

  assign wgt_sel = act_bank_i ? wgt1_q : wgt0_q;
  assign product = fault_stuck0_i ? 16'd0 : full_product;

  if ((LutMul && Mac16) || ((Late || ActIn) && !Mac16)) begin : gen_bad_mul
    $error("tsr_pe: LutMul and Mac16 exclude each other; Late and ActIn need Mac16");
  end

  if (Mac16) begin : gen_mac16
    // A, B: the sign-extended activation (0 for a stuck-at-0 fault) and selected weight;
    // the product register (PIPELINE_16x16_MULT_REG2), then {C, D} + product into the
    // output registers (the carry from the low half cascades into the high half). Late
    // registers C, D and the partial products once more: the bottom PEs of the array take
    // a column's deskew delay that way (tsr_systolic_array).
    logic [7:0]  wgt_q;
    logic [15:0] mac_a;
    logic [2:0]  mac_flags;  // carry and sign outputs, unused
    always_ff @(posedge clk_i) wgt_q <= wgt_sel;
    if (ActIn) begin : gen_act_in
      assign mac_a = fault_stuck0_i ? 16'd0 : {{8{act_i[7]}}, act_i};
    end else begin : gen_act_q
      assign mac_a = fault_stuck0_i ? 16'd0 : {{8{act_q[7]}}, act_q};
    end
    assign full_product = '0;  // inside the block
    SB_MAC16 #(
      .A_SIGNED(1'b1), .B_SIGNED(1'b1), .A_REG(ActIn), .C_REG(Late), .D_REG(Late),
      .TOP_8x8_MULT_REG(Late), .BOT_8x8_MULT_REG(Late), .PIPELINE_16x16_MULT_REG1(Late),
      .PIPELINE_16x16_MULT_REG2(1'b1),
      .TOPOUTPUT_SELECT(2'd1), .TOPADDSUB_LOWERINPUT(2'd2), .TOPADDSUB_UPPERINPUT(1'b1),
      .TOPADDSUB_CARRYSELECT(2'd2),
      .BOTOUTPUT_SELECT(2'd1), .BOTADDSUB_LOWERINPUT(2'd2), .BOTADDSUB_UPPERINPUT(1'b1),
      .BOTADDSUB_CARRYSELECT(2'd0)
    ) u_mac (
      .CLK(clk_i), .CE(1'b1),
      .A(mac_a), .B({{8{wgt_q[7]}}, wgt_q}), .C(psum_i[31:16]), .D(psum_i[15:0]),
      .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
      .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
      .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
      .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
      .O(psum_o), .CO(mac_flags[0]), .ACCUMCO(mac_flags[1]), .SIGNEXTOUT(mac_flags[2])
    );
    logic unused_mac;
    assign unused_mac = ^{product, mac_flags};
  end else if (!LutMul) begin : gen_dsp_mul
    // Sign-extended operands, then a plain 16-bit multiply: its low 16 bits are the signed
    // product. Spelled out rather than $signed(a) * $signed(b) because signedness leaks
    // through any expression it sits in (an unsigned ?: operand silently makes it
    // unsigned), and because Verilator calls a helper for narrow signed multiplies but
    // inlines this.
    logic [7:0]  wgt_q;  // the weight selected for act_q
    logic [15:0] act_wide, wgt_wide;
    always_ff @(posedge clk_i) wgt_q <= wgt_sel;
    assign act_wide     = {{8{act_q[7]}}, act_q};
    assign wgt_wide     = {{8{wgt_q[7]}}, wgt_q};
    assign full_product = act_wide * wgt_wide;
  end else begin : gen_lut_mul
    // Radix-4 Booth: w = sum_j d_j 4^j with digits d_j = -2 w[2j+1] + w[2j] + w[2j-1] in
    // {-2..2}, so a*w is four partial products d_j*a. Digits 0..2 are kept as
    // (|d_j| a) XOR neg_j with the missing +neg_j placed in a zero bit below the next
    // partial product; digit 3 has no such bit and is negated exactly (a 10-bit adder in
    // this cycle). The next cycle adds the four as a two-level tree.
    logic [9:0] pp_d [4];   // partial products j = 0..3 (digit 3 exact)
    logic [2:0] neg_d;      // the +1 each of digits 0..2 still owes
    logic [9:0] pp_q [4];
    logic [2:0] neg_q;
    logic [9:0] act_x1, act_x2;
    logic [8:0] booth;      // wgt_sel with w[-1] = 0 below it
    assign act_x1 = {{2{act_i[7]}}, act_i};
    assign act_x2 = {act_i[7], act_i, 1'b0};
    assign booth  = {wgt_sel, 1'b0};
    always_comb begin
      for (int j = 0; j < 4; j++) begin
        logic lsb, mid, neg, one, two;
        logic [9:0] mag;
        lsb = booth[2*j];
        mid = booth[2*j+1];
        neg = booth[2*j+2];
        one = mid ^ lsb;
        two = (mid & lsb & !neg) | (!mid & !lsb & neg);
        mag = one ? act_x1 : (two ? act_x2 : 10'd0);
        if (j < 3) begin
          pp_d[j]  = mag ^ {10{neg}};
          neg_d[j] = neg;
        end else begin
          pp_d[j]  = neg ? 10'(~mag + 10'd1) : mag;
        end
      end
    end
    always_ff @(posedge clk_i) begin
      pp_q  <= pp_d;
      neg_q <= neg_d;
    end
    // Each term at its weight 4^j, with the previous digit's +1 in its free bit.
    logic [15:0] t0, t1, t2, t3;
    (* keep *) logic [15:0] sum01, sum23;  // two adders side by side, then one
    assign t0    = {{6{pp_q[0][9]}}, pp_q[0]};
    assign t1    = {{4{pp_q[1][9]}}, pp_q[1], 1'b0, neg_q[0]};
    assign t2    = {{2{pp_q[2][9]}}, pp_q[2], 1'b0, neg_q[1], 2'b00};
    assign t3    = {pp_q[3], 1'b0, neg_q[2], 4'b0000};
    assign sum01 = t0 + t1;
    assign sum23 = t2 + t3;
    assign full_product = sum01 + sum23;
  end

  always_ff @(posedge clk_i) begin
    if (wgt_we_i && !wgt_bank_i) wgt0_q <= wgt_i;
    if (wgt_we_i &&  wgt_bank_i) wgt1_q <= wgt_i;
    act_q      <= act_i;
    act_bank_q <= act_bank_i;
  end

  if (!Mac16) begin : gen_fabric_sum
    logic [15:0] product_q;
    logic [31:0] psum_q;
    always_ff @(posedge clk_i) begin
      product_q <= product;
      // Wrapping two's-complement accumulation, as the golden reference does.
      psum_q    <= psum_i + {{16{product_q[15]}}, product_q};
    end
    assign psum_o = psum_q;
  end

  assign act_o = act_q;

  // Every PE on an anti-diagonal holds the same bank bit (all rows share one, skewed), so
  // Yosys merges their bank registers: in a large array one flip-flop would then drive the
  // weight selects of a dozen PEs spread across the die. A LutMul PE (the large arrays')
  // keeps a bank register of its own: scripts/fpga.sh keeps every flip-flop whose signal is
  // marked keep.
  if (LutMul) begin : gen_bank_own
    (* keep *) logic bank_q;
    always_ff @(posedge clk_i) bank_q <= act_bank_i;
    assign act_bank_o = bank_q;
    logic unused_bank;
    assign unused_bank = act_bank_q;
  end else begin : gen_bank_shared
    assign act_bank_o = act_bank_q;
  end

endmodule
