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
module tsr_pe (
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
  logic [31:0] psum_q;
  logic [7:0]  wgt_sel;
  logic [7:0]  wgt_q;         // the weight selected for act_q
  logic [15:0] act_wide, wgt_wide, full_product, product, product_q;

  // Sign-extended operands, then a plain 16-bit multiply: its low 16 bits are the signed
  // product. Spelled out rather than $signed(a) * $signed(b) because signedness leaks
  // through any expression it sits in (an unsigned ?: operand silently makes it unsigned),
  // and because Verilator calls a helper for narrow signed multiplies but inlines this.
  assign wgt_sel      = act_bank_i ? wgt1_q : wgt0_q;
  assign act_wide     = {{8{act_q[7]}}, act_q};
  assign wgt_wide     = {{8{wgt_q[7]}}, wgt_q};
  assign full_product = act_wide * wgt_wide;
  assign product      = fault_stuck0_i ? 16'd0 : full_product;

  always_ff @(posedge clk_i) begin
    if (wgt_we_i && !wgt_bank_i) wgt0_q <= wgt_i;
    if (wgt_we_i &&  wgt_bank_i) wgt1_q <= wgt_i;
    act_q      <= act_i;
    act_bank_q <= act_bank_i;
    wgt_q      <= wgt_sel;
    product_q  <= product;
    // Wrapping two's-complement accumulation, as the golden reference does.
    psum_q     <= psum_i + {{16{product_q[15]}}, product_q};
  end

  assign act_o      = act_q;
  assign act_bank_o = act_bank_q;
  assign psum_o     = psum_q;

endmodule
