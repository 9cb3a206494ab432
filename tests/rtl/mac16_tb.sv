// tests/rtl/mac16_check.sh: Tessera's SB_MAC16 model (sim/board/SB_MAC16.sv) and Yosys's
// cell model (cells_sim.v, renamed SB_MAC16_REF) side by side in tsr_pe's configuration,
// on random operands: A and B any 16-bit values (the PE's are sign-extended int8), {C, D}
// any partial sum, with sums near the 32-bit wrap. Both outputs must agree every cycle.
module mac16_tb;
  logic clk = 1'b0;
  logic [15:0] a, b, c, d;
  logic [31:0] o_model, o_ref;
  SB_MAC16 #(.A_SIGNED(1'b1), .B_SIGNED(1'b1), .PIPELINE_16x16_MULT_REG2(1'b1),
    .TOPOUTPUT_SELECT(2'd1), .TOPADDSUB_LOWERINPUT(2'd2), .TOPADDSUB_UPPERINPUT(1'b1),
    .TOPADDSUB_CARRYSELECT(2'd2), .BOTOUTPUT_SELECT(2'd1), .BOTADDSUB_LOWERINPUT(2'd2),
    .BOTADDSUB_UPPERINPUT(1'b1), .BOTADDSUB_CARRYSELECT(2'd0)) u_model (
    .CLK(clk), .CE(1'b1), .A(a), .B(b), .C(c), .D(d),
    .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0), .IRSTTOP(1'b0), .IRSTBOT(1'b0),
    .ORSTTOP(1'b0), .ORSTBOT(1'b0), .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0),
    .ADDSUBBOT(1'b0), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0),
    .SIGNEXTIN(1'b0), .O(o_model), .CO(), .ACCUMCO(), .SIGNEXTOUT());
  SB_MAC16_REF #(.A_SIGNED(1'b1), .B_SIGNED(1'b1), .PIPELINE_16x16_MULT_REG2(1'b1),
    .TOPOUTPUT_SELECT(2'd1), .TOPADDSUB_LOWERINPUT(2'd2), .TOPADDSUB_UPPERINPUT(1'b1),
    .TOPADDSUB_CARRYSELECT(2'd2), .BOTOUTPUT_SELECT(2'd1), .BOTADDSUB_LOWERINPUT(2'd2),
    .BOTADDSUB_UPPERINPUT(1'b1), .BOTADDSUB_CARRYSELECT(2'd0)) u_ref (
    .CLK(clk), .CE(1'b1), .A(a), .B(b), .C(c), .D(d),
    .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0), .IRSTTOP(1'b0), .IRSTBOT(1'b0),
    .ORSTTOP(1'b0), .ORSTBOT(1'b0), .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0),
    .ADDSUBBOT(1'b0), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0),
    .SIGNEXTIN(1'b0), .O(o_ref), .CO(), .ACCUMCO(), .SIGNEXTOUT());
  int errors = 0;
  initial begin
    a = 0; b = 0; c = 0; d = 0;
    for (int i = 0; i < 200000; i++) begin
      a = {{8{i[3]}}, 8'($urandom)}; b = 16'($signed(8'($urandom)));
      if (i % 7 == 0) a = 16'($signed(8'($urandom)));
      {c, d} = $urandom;
      if (i % 5 == 0) {c, d} = 32'hFFFF_FF00 + 32'($urandom % 512);
      #1 clk = 1'b1; #1 clk = 1'b0;
      if (i > 2 && o_model !== o_ref) begin
        errors++;
        if (errors < 5) $display("cycle %0d: model %h, Yosys cell model %h", i, o_model, o_ref);
      end
    end
    $display("mac16: %0d mismatches in 200000 cycles", errors);
    $finish;
  end
endmodule
