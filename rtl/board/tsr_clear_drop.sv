// In front of a link that holds result beats (the board core's LinkRegs slice or SplitClk
// crossing): CTRL.CLEAR makes the result beat the engine presents in its acting cycle
// stale, and every beat behind it (docs/isa.md). The bridge drops the one stale beat it
// then finds presented; the link may already hold one, so if the link cannot take the
// engine's beat in that cycle, this takes it itself, a cycle later, and drops it.
module tsr_clear_drop (
  input  logic clk_i,
  input  logic rst_ni,
  input  logic clear_i,    // CTRL.CLEAR's acting cycle
  // From the engine.
  input  logic s_valid_i,
  output logic s_ready_o,
  // To the link.
  output logic m_valid_o,
  input  logic m_ready_i
);

  logic drop_q;  // the engine's stale beat is still presented: take it, unpassed

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)        drop_q <= 1'b0;
    else if (clear_i)   drop_q <= s_valid_i && !m_ready_i;
    else if (s_valid_i) drop_q <= 1'b0;  // taken: s_ready_o is high
  end

  assign m_valid_o = s_valid_i && !drop_q;
  assign s_ready_o = drop_q || m_ready_i;

`ifndef SYNTHESIS
  // The stale beat stays presented until the drop takes it (AXI4-Stream), so the drop
  // never swallows a later, fresh one.
  StaleHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni) drop_q |-> s_valid_i)
    else $error("tsr_clear_drop: the engine withdrew the stale beat that was to be dropped");
`endif

endmodule
