// One valid/ready channel of the board core's link between the UART bridge and the
// engine: a clock-domain crossing (tsr_cdc_slice) when the two run on clocks of their
// own (Cdc), else a register slice (tsr_slice) on the source side's clock and reset (the
// destination's are then the same; a flush is CTRL.CLEAR's, which the slice leaves to
// the tsr_clear_drop in front of it).
module tsr_link_slice #(
  parameter int unsigned Width = 8,
  parameter bit          Cdc   = 1'b0
) (
  input  logic             src_clk_i,
  input  logic             src_rst_ni,
  input  logic             src_flush_i,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [Width-1:0] in_data_i,
  input  logic             dst_clk_i,
  input  logic             dst_rst_ni,
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [Width-1:0] out_data_o
);

  if (Cdc) begin : gen_cdc
    tsr_cdc_slice #(.Width(Width)) u_slice (
      .src_clk_i, .src_rst_ni, .src_flush_i, .in_valid_i, .in_ready_o, .in_data_i,
      .dst_clk_i, .dst_rst_ni, .out_valid_o, .out_ready_i, .out_data_o
    );
  end else begin : gen_reg
    tsr_slice #(.Width(Width)) u_slice (
      .clk_i(src_clk_i), .rst_ni(src_rst_ni), .in_valid_i, .in_ready_o, .in_data_i,
      .out_valid_o, .out_ready_i, .out_data_o
    );
    logic unused_dst;
    assign unused_dst = ^{dst_clk_i, dst_rst_ni, src_flush_i};
  end

endmodule
