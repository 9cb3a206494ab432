// Per-lane delay lines for the array edges. Lane i is delayed by i cycles (skew), or by
// Lanes-1-i cycles with Reverse set (deskew), so a wavefront enters or leaves aligned. The
// first Trim lanes are a cycle shorter (deskew behind array columns that delay their sums
// themselves).
module tsr_delay_lanes #(
  parameter int unsigned Lanes   = 4,
  parameter int unsigned Width   = 8,
  parameter bit          Reverse = 1'b0,
  parameter int unsigned Trim    = 0
) (
  input  logic                   clk_i,
  input  logic [Lanes*Width-1:0] data_i,
  output logic [Lanes*Width-1:0] data_o
);

  logic unused_clk;  // every lane trimmed to a wire leaves the clock unused
  assign unused_clk = clk_i;

  for (genvar lane = 0; lane < Lanes; lane++) begin : gen_lane
    localparam int unsigned Full  = Reverse ? (Lanes - 1 - lane) : lane;
    localparam int unsigned Delay = (lane < Trim) ? Full - 1 : Full;
    if (lane < Trim && Full == 0) begin : gen_bad_trim
      $error("tsr_delay_lanes: lane %0d has no delay to trim", lane);
    end
    if (Delay == 0) begin : gen_wire
      assign data_o[lane*Width +: Width] = data_i[lane*Width +: Width];
    end else if (Delay == 1) begin : gen_reg
      logic [Width-1:0] stage_q;
      always_ff @(posedge clk_i) stage_q <= data_i[lane*Width +: Width];
      assign data_o[lane*Width +: Width] = stage_q;
    end else begin : gen_shift
      // An array of stages rather than one wide vector: cheaper for Verilator to shift.
      logic [Width-1:0] stages_q [0:Delay-1];
      always_ff @(posedge clk_i) begin
        stages_q[0] <= data_i[lane*Width +: Width];
        for (int s = 1; s < Delay; s++) stages_q[s] <= stages_q[s-1];
      end
      assign data_o[lane*Width +: Width] = stages_q[Delay-1];
    end
  end

endmodule
