// tests/rtl/mac16_check.sh: Tessera's SB_MAC16 model (sim/board/SB_MAC16.sv) and Yosys's
// cell model (cells_sim.v, renamed SB_MAC16_REF) side by side, in each configuration the
// RTL instantiates, on the same random operands: A and B any 16-bit values, {C, D} any
// partial sum, with sums near the 32-bit wrap. Every output must agree every cycle.

// One configuration: both models, and a mismatch count.
module mac16_pair #(
  parameter bit       Signed     = 1'b1,
  parameter bit       AReg       = 1'b0,  // A_REG
  parameter bit       InReg      = 1'b0,  // C_REG, D_REG
  parameter bit       ProductReg = 1'b0,  // the partial products' registers
  parameter bit [1:0] OutSelect  = 2'd1   // 1: {C, D} + product, registered; 3: the product
) (
  input  logic        clk,
  input  logic        check,
  input  logic [15:0] a, b, c, d,
  output int          errors
);
  logic [31:0] o_model, o_ref;
  localparam bit Acc = (OutSelect == 2'd1);
  SB_MAC16 #(.A_SIGNED(Signed), .B_SIGNED(Signed), .A_REG(AReg), .C_REG(InReg), .D_REG(InReg),
    .TOP_8x8_MULT_REG(ProductReg), .BOT_8x8_MULT_REG(ProductReg),
    .PIPELINE_16x16_MULT_REG1(ProductReg), .PIPELINE_16x16_MULT_REG2(1'b1),
    .TOPOUTPUT_SELECT(OutSelect), .BOTOUTPUT_SELECT(OutSelect),
    .TOPADDSUB_LOWERINPUT(Acc ? 2'd2 : 2'd0), .TOPADDSUB_UPPERINPUT(Acc),
    .TOPADDSUB_CARRYSELECT(Acc ? 2'd2 : 2'd0),
    .BOTADDSUB_LOWERINPUT(Acc ? 2'd2 : 2'd0), .BOTADDSUB_UPPERINPUT(Acc),
    .BOTADDSUB_CARRYSELECT(2'd0)) u_model (
    .CLK(clk), .CE(1'b1), .A(a), .B(b), .C(c), .D(d),
    .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0), .IRSTTOP(1'b0), .IRSTBOT(1'b0),
    .ORSTTOP(1'b0), .ORSTBOT(1'b0), .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0),
    .ADDSUBBOT(1'b0), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0),
    .SIGNEXTIN(1'b0), .O(o_model), .CO(), .ACCUMCO(), .SIGNEXTOUT());
  SB_MAC16_REF #(.A_SIGNED(Signed), .B_SIGNED(Signed), .A_REG(AReg), .C_REG(InReg), .D_REG(InReg),
    .TOP_8x8_MULT_REG(ProductReg), .BOT_8x8_MULT_REG(ProductReg),
    .PIPELINE_16x16_MULT_REG1(ProductReg), .PIPELINE_16x16_MULT_REG2(1'b1),
    .TOPOUTPUT_SELECT(OutSelect), .BOTOUTPUT_SELECT(OutSelect),
    .TOPADDSUB_LOWERINPUT(Acc ? 2'd2 : 2'd0), .TOPADDSUB_UPPERINPUT(Acc),
    .TOPADDSUB_CARRYSELECT(Acc ? 2'd2 : 2'd0),
    .BOTADDSUB_LOWERINPUT(Acc ? 2'd2 : 2'd0), .BOTADDSUB_UPPERINPUT(Acc),
    .BOTADDSUB_CARRYSELECT(2'd0)) u_ref (
    .CLK(clk), .CE(1'b1), .A(a), .B(b), .C(c), .D(d),
    .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0), .IRSTTOP(1'b0), .IRSTBOT(1'b0),
    .ORSTTOP(1'b0), .ORSTBOT(1'b0), .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0),
    .ADDSUBBOT(1'b0), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0),
    .SIGNEXTIN(1'b0), .O(o_ref), .CO(), .ACCUMCO(), .SIGNEXTOUT());
  initial errors = 0;
  always @(negedge clk) begin
    if (check && o_model !== o_ref) begin
      errors <= errors + 1;
      if (errors < 4) $display("%m: model %h, Yosys cell model %h", o_model, o_ref);
    end
  end
endmodule

module mac16_tb;
  logic clk = 1'b0, check = 1'b0;
  logic [15:0] a, b, c, d;
  int e_pe, e_late, e_mul, e_edge;
  // tsr_pe Mac16; tsr_pe Mac16 with Late (inputs and products registered once more);
  // tsr_requant's registered unsigned product.
  mac16_pair #(.Signed(1'b1)) u_pe (.clk, .check, .a, .b, .c, .d, .errors(e_pe));
  mac16_pair #(.Signed(1'b1), .InReg(1'b1), .ProductReg(1'b1)) u_late (
    .clk, .check, .a, .b, .c, .d, .errors(e_late));
  mac16_pair #(.Signed(1'b0), .OutSelect(2'd3)) u_mul (
    .clk, .check, .a, .b, .c, .d, .errors(e_mul));
  // tsr_pe Mac16 with ActIn (the last column's activation register in the block).
  mac16_pair #(.Signed(1'b1), .AReg(1'b1)) u_edge (
    .clk, .check, .a, .b, .c, .d, .errors(e_edge));
  initial begin
    a = 0; b = 0; c = 0; d = 0;
    for (int i = 0; i < 200000; i++) begin
      a = 16'($urandom);
      b = 16'($urandom);
      if (i % 7 == 0) a = 16'($signed(8'($urandom)));
      if (i % 3 == 0) b = 16'($signed(8'($urandom)));
      {c, d} = $urandom;
      if (i % 5 == 0) {c, d} = 32'hFFFF_FF00 + 32'($urandom % 512);
      check = (i > 4);
      #1 clk = 1'b1;
      #1 clk = 1'b0;
    end
    #1;
    $display("mac16: %0d mismatches in 200000 cycles (accumulate %0d, late %0d, product %0d, %s",
             e_pe + e_late + e_mul + e_edge, e_pe, e_late, e_mul,
             $sformatf("activation register %0d)", e_edge));
    $finish;
  end
endmodule
