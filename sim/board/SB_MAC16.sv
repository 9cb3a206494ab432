// Simulation model of the iCE40 SB_MAC16 DSP block in the one configuration Tessera uses
// (tsr_pe Mac16): a signed 16x16 multiply into the 32-bit pipeline register
// (PIPELINE_16x16_MULT_REG2), then {C, D} plus that product into the output registers,
// the low half's carry cascading into the high half. Other parameter values stop
// elaboration; the hold, reset, load, subtract and cascade inputs must be tied low. Never
// synthesized: the FPGA flow uses the vendor cell. tests/fpga/mac16_equiv.sh checks this
// model against Yosys's own cell model (cells_sim.v) on random operands.
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

  if (NEG_TRIGGER || C_REG || A_REG || B_REG || D_REG || TOP_8x8_MULT_REG ||
      BOT_8x8_MULT_REG || PIPELINE_16x16_MULT_REG1 || !PIPELINE_16x16_MULT_REG2 ||
      TOPOUTPUT_SELECT != 2'd1 || TOPADDSUB_LOWERINPUT != 2'd2 || !TOPADDSUB_UPPERINPUT ||
      TOPADDSUB_CARRYSELECT != 2'd2 || BOTOUTPUT_SELECT != 2'd1 ||
      BOTADDSUB_LOWERINPUT != 2'd2 || !BOTADDSUB_UPPERINPUT ||
      BOTADDSUB_CARRYSELECT != 2'd0 || MODE_8x8 || !A_SIGNED || !B_SIGNED) begin : gen_bad
    $error("SB_MAC16 model: only the multiply-accumulate configuration of tsr_pe is modelled");
  end

  logic [31:0] product_q, out_q;
  logic [31:0] product;
  assign product = 32'($signed(A) * $signed(B));
  always_ff @(posedge CLK) begin
    if (CE) begin
      product_q <= product;
      out_q     <= {C, D} + product_q;
    end
  end
  assign O          = out_q;
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
