// Rows x Cols weight-stationary systolic array. Row r holds K index kt*Rows+r, column c
// output channel nt*Cols+c. Inputs arrive already skewed (row r one cycle after row
// r-1); column sums leave unskewed from the bottom edge, column c Rows + 2 + c cycles
// after row 0's activation entered (tsr_pe registers its multiplier's inputs and product).
// The last LutMulCols columns build their multipliers from logic (tsr_pe LutMul), the
// others use DSP blocks, instantiated as iCE40 SB_MAC16s with their adders when Mac16 is
// set (tsr_pe Mac16); the timing is the same. The bottom PEs of the first LateCols columns
// (SB_MAC16s) deliver their sums a cycle later, taking a cycle of those columns' deskew
// delay into the block's own registers (tsr_pe Late; tsr_delay_lanes Trim).
module tsr_systolic_array #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned LutMulCols = 0,
  parameter bit          Mac16      = 1'b0,
  parameter int unsigned LateCols   = 0
) (
  input  logic                 clk_i,
  input  logic [Rows*8-1:0]    act_i,        // row r: bits [8r +: 8]
  input  logic [Rows-1:0]      act_bank_i,
  input  logic [Rows-1:0]      wgt_we_i,     // row r takes wgt_row_i this cycle
  input  logic                 wgt_bank_i,
  input  logic [Cols*8-1:0]    wgt_row_i,
  input  logic [Rows*Cols-1:0] fault_stuck0_i,  // PE (r, c) at bit r*Cols+c
  output logic [Cols*32-1:0]   psum_o        // column c: bits [32c +: 32]
);

  // Wires between neighbours, one array element per hop: horizontal (Rows x Cols+1) and
  // vertical (Rows+1 x Cols), indexed only by constants. Not flat vectors: Verilator
  // copies a whole wide vector for every slice written, which made the model 15x slower.
  logic [7:0]  act_h  [0:Rows*(Cols+1)-1];
  logic        bank_h [0:Rows*(Cols+1)-1];
  logic [31:0] psum_v [0:(Rows+1)*Cols-1];

  logic [Rows*9-1:0] right_edge;  // activations leaving the last column go nowhere
  for (genvar r = 0; r < Rows; r++) begin : gen_row_edge
    assign act_h[r*(Cols+1)]  = act_i[r*8 +: 8];
    assign bank_h[r*(Cols+1)] = act_bank_i[r];
    assign right_edge[r*9 +: 9] = {bank_h[r*(Cols+1)+Cols], act_h[r*(Cols+1)+Cols]};
  end
  logic unused_right_edge;
  assign unused_right_edge = ^right_edge;

  for (genvar c = 0; c < Cols; c++) begin : gen_col_edge
    assign psum_v[c]          = 32'd0;
    assign psum_o[c*32 +: 32] = psum_v[Rows*Cols+c];
  end

  for (genvar r = 0; r < Rows; r++) begin : gen_row
    for (genvar c = 0; c < Cols; c++) begin : gen_col
      tsr_pe #(
        .LutMul(c >= Cols - LutMulCols), .Mac16(Mac16 && c < Cols - LutMulCols),
        .Late(r == Rows - 1 && c < LateCols),
        .ActIn(Mac16 && LutMulCols == 0 && c == Cols - 1)
      ) u_pe (
        .clk_i,
        .act_i         (act_h[r*(Cols+1)+c]),
        .act_bank_i    (bank_h[r*(Cols+1)+c]),
        .psum_i        (psum_v[r*Cols+c]),
        .wgt_we_i      (wgt_we_i[r]),
        .wgt_bank_i,
        .wgt_i         (wgt_row_i[c*8 +: 8]),
        .fault_stuck0_i(fault_stuck0_i[r*Cols+c]),
        .act_o         (act_h[r*(Cols+1)+c+1]),
        .act_bank_o    (bank_h[r*(Cols+1)+c+1]),
        .psum_o        (psum_v[(r+1)*Cols+c])
      );
    end
  end

endmodule
