// A valid/ready channel from one clock domain to another, one word at a time: the source
// registers the word and toggles its request; the destination sees the request through
// two synchronizer flip-flops, offers the word, and toggles its acknowledge when it is
// taken, which returns to the source through two more. The word is held, unchanged, from
// before the request leaves until after the acknowledge comes back, so it crosses as
// bundled data: no bit of it is sampled while it changes. A word takes about two cycles
// of each clock to cross, and the next one is taken once the acknowledge is back (a few
// cycles of each clock a word: for a link as slow as a UART bridge's, not a data path).
//
// src_flush_i drops every word the source took before it (or in its cycle): each word
// carries the source's epoch, which the flush flips; the destination discards, unseen, a
// word of an older epoch than the one it has synchronized (one it already presents is
// withdrawn then), and the source takes no new word until the destination has the new
// epoch, so no word of it is taken for an old one.
//
// Each side has its own asynchronous reset; both must be asserted together (the
// destination's may end later). A side left in reset ignores the other; a request made
// while the destination is still in reset is seen when it leaves it.
module tsr_cdc_slice #(
  parameter int unsigned Width = 8
) (
  // Source domain.
  input  logic             src_clk_i,
  input  logic             src_rst_ni,
  input  logic             src_flush_i,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [Width-1:0] in_data_i,
  // Destination domain.
  input  logic             dst_clk_i,
  input  logic             dst_rst_ni,
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [Width-1:0] out_data_o
);

  logic             req_q, ack_q;          // toggles: source's request, destination's ack
  logic [1:0]       req_sync_q, ack_sync_q;
  logic             epoch_q, word_epoch_q;  // the source's epoch; the word's
  logic [1:0]       epoch_sync_q, epoch_back_q;
  logic [Width-1:0] data_q;

  // ---- source ---------------------------------------------------------------------------
  // The last word's acknowledge is back, and the destination has the current epoch.
  assign in_ready_o = (req_q == ack_sync_q[1]) && (epoch_q == epoch_back_q[1]);

  always_ff @(posedge src_clk_i or negedge src_rst_ni) begin
    if (!src_rst_ni) begin
      req_q        <= 1'b0;
      ack_sync_q   <= '0;
      epoch_q      <= 1'b0;
      epoch_back_q <= '0;
    end else begin
      ack_sync_q   <= {ack_sync_q[0], ack_q};
      epoch_back_q <= {epoch_back_q[0], epoch_sync_q[1]};
      if (in_valid_i && in_ready_o) req_q <= !req_q;
      if (src_flush_i) epoch_q <= !epoch_q;
    end
  end

  always_ff @(posedge src_clk_i) begin
    if (in_valid_i && in_ready_o) begin
      data_q       <= in_data_i;
      word_epoch_q <= epoch_q;
    end
  end

  // ---- destination ----------------------------------------------------------------------
  logic pending, stale;
  assign pending     = (req_sync_q[1] != ack_q);
  assign stale       = (word_epoch_q != epoch_sync_q[1]);
  assign out_valid_o = pending && !stale;
  assign out_data_o  = data_q;

  always_ff @(posedge dst_clk_i or negedge dst_rst_ni) begin
    if (!dst_rst_ni) begin
      ack_q        <= 1'b0;
      req_sync_q   <= '0;
      epoch_sync_q <= '0;
    end else begin
      req_sync_q   <= {req_sync_q[0], req_q};
      epoch_sync_q <= {epoch_sync_q[0], epoch_q};
      if (pending && (stale || out_ready_i)) ack_q <= !ack_q;  // taken, or discarded
    end
  end

endmodule
