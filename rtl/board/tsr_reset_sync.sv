// Reset synchronizer: asserts asynchronously, releases synchronously after Stages clocks,
// so every flip-flop behind it leaves reset in the same cycle (no recovery violation).
module tsr_reset_sync #(
  parameter int unsigned Stages = 2
) (
  input  logic clk_i,
  input  logic rst_ni,   // asynchronous, active low (button, PLL lock)
  output logic rst_no    // synchronized release, active low
);

  if (Stages < 2) begin : gen_bad_stages
    $error("tsr_reset_sync: Stages must be >= 2");
  end

  logic [Stages-1:0] sync_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) sync_q <= '0;
    else         sync_q <= {sync_q[Stages-2:0], 1'b1};
  end

  assign rst_no = sync_q[Stages-1];

endmodule
