// Load unit: copies `count` AXI4-Stream beats into consecutive words of one scratchpad.
// The low bytes of each beat form the word; the scratchpad ignores the rest.
module tsr_load_unit #(
  parameter int unsigned InBytes = 16,
  parameter int unsigned AddrW   = 8
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 clear_i,
  input  logic                 cmd_valid_i,
  output logic                 cmd_ready_o,
  input  logic [1:0]           target_i,
  input  logic [AddrW-1:0]     dst_i,
  input  logic [AddrW:0]       count_i,
  input  logic [InBytes*8-1:0] s_tdata_i,
  input  logic                 s_tvalid_i,
  output logic                 s_tready_o,
  output logic [2:0]           we_o,     // one-hot: ACT, WGT, PARAM (tsr_pkg::Tgt*)
  output logic [AddrW-1:0]     waddr_o,
  output logic [InBytes*8-1:0] wdata_o,
  output logic                 done_o,   // the last beat of a LOAD was written
  output logic                 busy_o,
  output logic                 stall_o
);

  logic             active_q;
  logic [1:0]       target_q;
  logic [AddrW-1:0] addr_q;
  logic [AddrW:0]   left_q;
  logic             beat;

  assign cmd_ready_o = !active_q;
  assign s_tready_o  = active_q;
  assign beat        = active_q && s_tvalid_i;
  assign waddr_o     = addr_q;
  assign wdata_o     = s_tdata_i;
  assign done_o      = beat && (left_q == {{AddrW{1'b0}}, 1'b1});
  assign busy_o      = active_q;
  assign stall_o     = active_q && !s_tvalid_i;

  always_comb begin
    we_o = 3'b000;
    if (beat) begin
      case (target_q)
        tsr_pkg::TgtAct:   we_o = 3'b001;
        tsr_pkg::TgtWgt:   we_o = 3'b010;
        tsr_pkg::TgtParam: we_o = 3'b100;
        default:           we_o = 3'b000;
      endcase
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q <= 1'b0;
      target_q <= '0;
      addr_q   <= '0;
      left_q   <= '0;
    end else if (clear_i) begin
      active_q <= 1'b0;
    end else if (cmd_valid_i && !active_q) begin
      active_q <= 1'b1;
      target_q <= target_i;
      addr_q   <= dst_i;
      left_q   <= count_i;
    end else if (beat) begin
      addr_q <= addr_q + 1'b1;
      left_q <= left_q - 1'b1;
      if (done_o) active_q <= 1'b0;
    end
  end

endmodule
