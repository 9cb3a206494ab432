// Simulation model of the iCE40 SB_MAC16 DSP block in the configurations Tessera uses: a
// 16x16 multiply (signed or unsigned operands) with optional input registers (A_REG..
// D_REG), an optional register on the partial products (TOP_8x8_MULT_REG,
// BOT_8x8_MULT_REG and PIPELINE_16x16_MULT_REG1, all set or none) and on their sum
// (PIPELINE_16x16_MULT_REG2); out of it either that product (both OUTPUT_SELECTs 3) or
// {C, D} plus the product into the output registers (both 1, the low half's carry
// cascading into the high half). Other parameter values stop elaboration; the hold,
// reset, load, subtract and cascade inputs must be tied low. Never synthesized: the FPGA
// flow uses the vendor cell. tests/rtl/mac16_check.sh checks this model against Yosys's
// own cell model (cells_sim.v) on random operands, in every configuration the RTL uses.
module SB_MAC16 #(
  parameter bit       NEG_TRIGGER              = 1'b0,
  parameter bit       C_REG                    = 1'b0,
  parameter bit       A_REG                    = 1'b0,
  parameter bit       B_REG                    = 1'b0,
  parameter bit       D_REG                    = 1'b0,
  parameter bit       TOP_8x8_MULT_REG         = 1'b0,
  parameter bit       BOT_8x8_MULT_REG         = 1'b0,
  parameter bit       PIPELINE_16x16_MULT_REG1 = 1'b0,
  parameter bit       PIPELINE_16x16_MULT_REG2 = 1'b0,
  parameter bit [1:0] TOPOUTPUT_SELECT         = 2'd0,
  parameter bit [1:0] TOPADDSUB_LOWERINPUT     = 2'd0,
  parameter bit       TOPADDSUB_UPPERINPUT     = 1'b0,
  parameter bit [1:0] TOPADDSUB_CARRYSELECT    = 2'd0,
  parameter bit [1:0] BOTOUTPUT_SELECT         = 2'd0,
  parameter bit [1:0] BOTADDSUB_LOWERINPUT     = 2'd0,
  parameter bit       BOTADDSUB_UPPERINPUT     = 1'b0,
  parameter bit [1:0] BOTADDSUB_CARRYSELECT    = 2'd0,
  parameter bit       MODE_8x8                 = 1'b0,
  parameter bit       A_SIGNED                 = 1'b0,
  parameter bit       B_SIGNED                 = 1'b0
) (
  input  logic        CLK,
  input  logic        CE,
  input  logic [15:0] C,
  input  logic [15:0] A,
  input  logic [15:0] B,
  input  logic [15:0] D,
  input  logic        AHOLD, BHOLD, CHOLD, DHOLD,
  input  logic        IRSTTOP, IRSTBOT, ORSTTOP, ORSTBOT,
  input  logic        OLOADTOP, OLOADBOT, ADDSUBTOP, ADDSUBBOT,
  input  logic        OHOLDTOP, OHOLDBOT,
  input  logic        CI, ACCUMCI, SIGNEXTIN,
  output logic [31:0] O,
  output logic        CO, ACCUMCO, SIGNEXTOUT
);

  localparam bit ProductReg = PIPELINE_16x16_MULT_REG1;
  localparam bit Accumulate = (TOPOUTPUT_SELECT == 2'd1);
  if (NEG_TRIGGER || MODE_8x8 || TOP_8x8_MULT_REG != ProductReg ||
      BOT_8x8_MULT_REG != ProductReg || TOPOUTPUT_SELECT != BOTOUTPUT_SELECT ||
      !(TOPOUTPUT_SELECT inside {2'd1, 2'd3}) ||
      (Accumulate && (TOPADDSUB_LOWERINPUT != 2'd2 || !TOPADDSUB_UPPERINPUT ||
                      TOPADDSUB_CARRYSELECT != 2'd2 || BOTADDSUB_LOWERINPUT != 2'd2 ||
                      !BOTADDSUB_UPPERINPUT || BOTADDSUB_CARRYSELECT != 2'd0)))
  begin : gen_bad
    $error("SB_MAC16 model: a configuration Tessera does not use");
  end

  logic [15:0] a_q, b_q, c_q, d_q, a, b, c, d;
  logic [31:0] product, stage1_q, stage1, stage2_q, stage2, out_q;
  always_ff @(posedge CLK) begin
    if (CE) begin
      a_q      <= A;
      b_q      <= B;
      c_q      <= C;
      d_q      <= D;
      stage1_q <= product;
      stage2_q <= stage1;
      out_q    <= {c, d} + stage2;
    end
  end
  assign a       = A_REG ? a_q : A;
  assign b       = B_REG ? b_q : B;
  assign c       = C_REG ? c_q : C;
  assign d       = D_REG ? d_q : D;
  // Operands extended to 32 bits (sign or zero): the low 32 bits of their product are the
  // 16x16 product either way.
  logic [31:0] a_wide, b_wide;
  assign a_wide  = {{16{A_SIGNED && a[15]}}, a};
  assign b_wide  = {{16{B_SIGNED && b[15]}}, b};
  assign product = a_wide * b_wide;
  assign stage1  = ProductReg ? stage1_q : product;
  assign stage2  = PIPELINE_16x16_MULT_REG2 ? stage2_q : stage1;
  assign O          = Accumulate ? out_q : stage2;
  assign CO         = 1'b0;
  assign ACCUMCO    = 1'b0;
  assign SIGNEXTOUT = 1'b0;

`ifndef SYNTHESIS
  TiedLow_A: assert property (@(posedge CLK)
      !(AHOLD || BHOLD || CHOLD || DHOLD || IRSTTOP || IRSTBOT || ORSTTOP || ORSTBOT ||
        OLOADTOP || OLOADBOT || ADDSUBTOP || ADDSUBBOT || OHOLDTOP || OHOLDBOT ||
        CI || ACCUMCI || SIGNEXTIN))
    else $error("SB_MAC16 model: a control input the model does not implement is high");
`endif

endmodule
