// Sparse-gather MAC lane: lane (r, c) of tsr_sparse_unit computes output row r of
// channel c for one column block at a time (output stationary). Each cycle it takes the
// activation its column gathered (A[r, index]) and the column's weight value, multiplies
// them with registers on both sides of the multiplier, and adds the product to its sum;
// the first entry of a block restarts the sum. When the block's last entry lands, the
// sum is captured into the hand-off register, which then shifts one lane a cycle towards
// the accumulator (up the column, or for SPGEMMA along the row: the unit picks cap_i)
// while the next block accumulates.
module tsr_sparse_lane (
  input  logic        clk_i,
  input  logic [7:0]  act_i,      // signed int8, gathered by this lane's column
  input  logic [7:0]  wgt_i,      // signed int8, the column's weight value
  // Control from tsr_sparse_unit's pipeline: an entry's operands arrive (in_en_i), its
  // product is formed a cycle later (mul_en_i) and added a cycle after that (acc_en_i).
  // Idle lanes hold still (no toggling, and no work for the simulator).
  input  logic        in_en_i,
  input  logic        mul_en_i,
  input  logic        acc_en_i,   // a valid entry
  input  logic        first_i,    // its block's first entry: the sum restarts
  input  logic        cap_en_i,   // its block's last entry: capture the sum
  input  logic        shift_en_i, // hand-off registers move one lane
  input  logic [31:0] cap_i,      // hand-off register of the next lane (below or right)
  output logic [31:0] cap_o
);

  logic [7:0]  act_q, wgt_q;
  logic [15:0] product_q;
  logic [31:0] sum_q, cap_q;
  logic [31:0] sum_next;

  // Sign-extended 16-bit multiply, as tsr_pe does: the low 16 bits are the signed product.
  logic [15:0] act_wide, wgt_wide;
  assign act_wide = {{8{act_q[7]}}, act_q};
  assign wgt_wide = {{8{wgt_q[7]}}, wgt_q};
  // Wrapping two's-complement accumulation, as the golden reference does.
  assign sum_next = (first_i ? 32'd0 : sum_q) + {{16{product_q[15]}}, product_q};

  always_ff @(posedge clk_i) begin
    if (in_en_i) begin
      act_q <= act_i;
      wgt_q <= wgt_i;
    end
    if (mul_en_i) product_q <= act_wide * wgt_wide;
    if (acc_en_i) sum_q <= sum_next;
    if (acc_en_i && cap_en_i) cap_q <= sum_next;
    else if (shift_en_i)      cap_q <= cap_i;
  end

  assign cap_o = cap_q;

endmodule
