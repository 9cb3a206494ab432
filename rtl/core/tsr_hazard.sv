// Hazard checks: the dispatcher's address-range scoreboard (docs/isa.md, "Ordering").
// It remembers what the work already handed out reads or writes, and tells the
// dispatcher whether the command at the FIFO head would overlap it:
//   - the LOAD in progress writes [ld_lo, ld_hi) of one scratchpad until the load unit
//     is free again;
//   - the GEMMs in the execute unit (up to two: one issuing, one preloading behind it)
//     read their ACT and WGT ranges until their last row is issued (exec_done_i, in order);
//   - every dispatched GEMM reads its PARAM range until the store unit has copied the
//     parameters of its last column block (param_release_i, one pulse a GEMM, in order);
//   - the SPGEMM in the sparse unit reads its GBUF, WGT and META ranges until it has read
//     its last entry (sp_done_i); its PARAM range is tracked like a GEMM's.
// An SPGEMM at the head waits for a LOAD in progress that overlaps any of its ranges, for
// the execute unit to empty and for the sparse unit's previous SPGEMM; a GEMM waits for
// the sparse unit's SPGEMM (the two datapaths take turns, so store jobs stay in order).
// A GEMM at the head waits on a PARAM LOAD in progress that overlaps its parameters
// (read after write; ACT and WGT reads wait fold by fold in the execute unit, on the
// words the LOAD has yet to write); a LOAD waits on the GEMMs that still read its target
// (write after read). Ranges are [lo, hi): hi is
// one past the last word. Range inputs of a command that fails validation are don't-care
// (the dispatcher drops it without asking).
// Coarse (small boards): no range is kept or compared, so a command waits on whatever
// might overlap it: a LOAD ACT or WGT for the execute unit to empty, a LOAD PARAM for
// every tracked PARAM reader's release, a LOAD WGT, META or GBUF for the SPGEMM in the
// sparse unit, a GEMM for a PARAM LOAD in progress, an SPGEMM for the LOAD in progress
// (unless it writes ACT). The same order, with less overlap.
module tsr_hazard #(
  parameter int unsigned ActAW   = 6,
  parameter int unsigned WgtAW   = 6,
  parameter int unsigned ParamAW = 4,
  parameter int unsigned LoadAW  = 6,
  parameter int unsigned GbufAW  = 6,
  parameter int unsigned MetaAW  = 6,
  parameter int unsigned Readers = tsr_pkg::ParamReaders,  // PARAM ranges tracked
  parameter bit          Coarse  = 1'b0,  // every range overlaps every other
  localparam int unsigned LevelW = $clog2(Readers + 1)
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               clear_i,
  // The command at the FIFO head: a valid LOAD or GEMM (for the checks), its ranges.
  input  logic               ld_head_i,
  input  logic               gemm_head_i,
  input  logic               sp_head_i,
  input  logic [2:0]         ld_target_i,
  input  logic [LoadAW:0]    ld_lo_i,
  input  logic [LoadAW:0]    ld_hi_i,
  input  logic [ActAW:0]     act_lo_i,
  input  logic [ActAW:0]     act_hi_i,
  input  logic [WgtAW:0]     wgt_lo_i,
  input  logic [WgtAW:0]     wgt_hi_i,
  input  logic [ParamAW:0]   param_lo_i,
  input  logic [ParamAW:0]   param_hi_i,
  input  logic [GbufAW:0]    gbuf_lo_i,      // an SPGEMM's ranges
  input  logic [GbufAW:0]    gbuf_hi_i,
  input  logic [WgtAW:0]     sp_wgt_lo_i,
  input  logic [WgtAW:0]     sp_wgt_hi_i,
  input  logic [MetaAW:0]    meta_lo_i,
  input  logic [MetaAW:0]    meta_hi_i,
  output logic               ld_hazard_o,    // the head, as a LOAD, must wait
  output logic               gemm_hazard_o,  // the head, as a GEMM, must wait
  output logic               sp_hazard_o,    // the head, as an SPGEMM, must wait
  output logic               sp_held_o,      // an SPGEMM is still reading (its META unchecked)
  output logic               readers_full_o, // no room to track another GEMM's PARAM range
  // Hand-offs this cycle (the head's ranges above are what was handed off).
  input  logic               ld_go_i,
  input  logic               gemm_go_i,
  input  logic               sp_go_i,
  // Releases.
  input  logic               load_free_i,     // the load unit is idle
  input  logic               exec_done_i,     // the oldest GEMM in the execute unit is done
  input  logic               sp_done_i,       // the SPGEMM in the sparse unit read its last word
  input  logic               param_release_i  // the oldest tracked GEMM's PARAM reads are done
);

  if (Readers < 3 || (1 << $clog2(Readers)) != Readers) begin : gen_bad_readers
    $error("Readers must be a power of two >= 3: up to 4 GEMMs read PARAM at once");
  end

  localparam int unsigned W = LoadAW + 2;  // common width for comparisons

  function automatic logic overlaps(input logic [W-1:0] a_lo, input logic [W-1:0] a_hi,
                                    input logic [W-1:0] b_lo, input logic [W-1:0] b_hi);
    overlaps = (a_lo < b_hi) && (b_lo < a_hi);
    if (Coarse) overlaps = 1'b1;  // the range registers then drive nothing and go
  endfunction

  // ---- the LOAD in progress ------------------------------------------------------------
  logic              ld_valid_q;
  logic [2:0]        ld_target_q;
  logic [LoadAW:0]   ld_lo_q, ld_hi_q;

  // ---- the GEMMs in the execute unit, the older in slot 0 ------------------------------
  logic [1:0]        ex_valid_q;
  logic [ActAW:0]    ex_act_lo_q [0:1];
  logic [ActAW:0]    ex_act_hi_q [0:1];
  logic [WgtAW:0]    ex_wgt_lo_q [0:1];
  logic [WgtAW:0]    ex_wgt_hi_q [0:1];

  // ---- the SPGEMM in the sparse unit ----------------------------------------------------
  logic              sp_valid_q;
  logic [GbufAW:0]   sp_gbuf_lo_q, sp_gbuf_hi_q;
  logic [WgtAW:0]    sp_wgt_lo_q, sp_wgt_hi_q;
  logic [MetaAW:0]   sp_meta_lo_q, sp_meta_hi_q;

  // ---- PARAM readers: a FIFO of ranges, oldest at rd_ptr --------------------------------
  localparam int unsigned PtrW = $clog2(Readers);
  logic [ParamAW:0]  pr_lo_q [0:Readers-1];
  logic [ParamAW:0]  pr_hi_q [0:Readers-1];
  logic [Readers-1:0] pr_valid_q;
  logic [PtrW-1:0]   pr_wr_q, pr_rd_q;
  logic [LevelW-1:0] pr_level_q;

  // A unit is busy only with the last command handed to it: it turns busy the cycle
  // after the hand-off, when the dispatcher looks at the next head.
  logic ld_live;
  assign ld_live = ld_valid_q && !load_free_i;

  // Head as a GEMM: read after write against a PARAM LOAD in progress. (The store unit
  // reads PARAM long after the hand-off; it cannot wait word by word.)
  assign gemm_hazard_o = sp_valid_q ||
                         (ld_live && (ld_target_q == tsr_pkg::TgtParam) &&
                          overlaps(W'(ld_lo_q), W'(ld_hi_q), W'(param_lo_i), W'(param_hi_i)));

  // Head as an SPGEMM: read after write against the LOAD in progress, whatever it writes.
  logic sp_raw;
  always_comb begin
    sp_raw = 1'b0;
    case (ld_target_q)
      tsr_pkg::TgtWgt:   sp_raw = overlaps(W'(ld_lo_q), W'(ld_hi_q), W'(sp_wgt_lo_i),
                                           W'(sp_wgt_hi_i));
      tsr_pkg::TgtParam: sp_raw = overlaps(W'(ld_lo_q), W'(ld_hi_q), W'(param_lo_i),
                                           W'(param_hi_i));
      tsr_pkg::TgtMeta:  sp_raw = overlaps(W'(ld_lo_q), W'(ld_hi_q), W'(meta_lo_i),
                                           W'(meta_hi_i));
      tsr_pkg::TgtGbuf:  sp_raw = overlaps(W'(ld_lo_q), W'(ld_hi_q), W'(gbuf_lo_i),
                                           W'(gbuf_hi_i));
      default:           sp_raw = 1'b0;
    endcase
  end
  assign sp_hazard_o = (ld_live && sp_raw) || (ex_valid_q != 2'b00) || sp_valid_q;
  assign sp_held_o   = sp_valid_q;

  // Head as a LOAD: write after read against the executing GEMM and the PARAM readers.
  logic [Readers-1:0] pr_hit;
  for (genvar i = 0; i < Readers; i++) begin : gen_pr_hit
    assign pr_hit[i] = pr_valid_q[i] && overlaps(W'(ld_lo_i), W'(ld_hi_i), W'(pr_lo_q[i]),
                                                 W'(pr_hi_q[i]));
  end
  logic [1:0] ex_act_hit, ex_wgt_hit;
  for (genvar i = 0; i < 2; i++) begin : gen_ex_hit
    assign ex_act_hit[i] = ex_valid_q[i] && overlaps(W'(ld_lo_i), W'(ld_hi_i),
                                                     W'(ex_act_lo_q[i]), W'(ex_act_hi_q[i]));
    assign ex_wgt_hit[i] = ex_valid_q[i] && overlaps(W'(ld_lo_i), W'(ld_hi_i),
                                                     W'(ex_wgt_lo_q[i]), W'(ex_wgt_hi_q[i]));
  end
  logic sp_wgt_hit, sp_meta_hit, sp_gbuf_hit;
  assign sp_wgt_hit  = sp_valid_q && overlaps(W'(ld_lo_i), W'(ld_hi_i), W'(sp_wgt_lo_q),
                                              W'(sp_wgt_hi_q));
  assign sp_meta_hit = sp_valid_q && overlaps(W'(ld_lo_i), W'(ld_hi_i), W'(sp_meta_lo_q),
                                              W'(sp_meta_hi_q));
  assign sp_gbuf_hit = sp_valid_q && overlaps(W'(ld_lo_i), W'(ld_hi_i), W'(sp_gbuf_lo_q),
                                              W'(sp_gbuf_hi_q));
  always_comb begin
    ld_hazard_o = 1'b0;
    case (ld_target_i)
      tsr_pkg::TgtAct:   ld_hazard_o = |ex_act_hit;
      tsr_pkg::TgtWgt:   ld_hazard_o = |ex_wgt_hit || sp_wgt_hit;
      tsr_pkg::TgtParam: ld_hazard_o = |pr_hit;
      tsr_pkg::TgtMeta:  ld_hazard_o = sp_meta_hit;
      tsr_pkg::TgtGbuf:  ld_hazard_o = sp_gbuf_hit;
      default:           ld_hazard_o = 1'b0;
    endcase
  end

  assign readers_full_o = (pr_level_q == LevelW'(Readers));

  // Where a GEMM handed off now goes: behind the ones that stay this cycle.
  logic ex_slot;
  assign ex_slot = exec_done_i ? ex_valid_q[1] : ex_valid_q[0];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ld_valid_q  <= 1'b0;
      ld_target_q <= '0;
      ld_lo_q     <= '0;
      ld_hi_q     <= '0;
      ex_valid_q  <= '0;
      for (int i = 0; i < 2; i++) begin
        ex_act_lo_q[i] <= '0;
        ex_act_hi_q[i] <= '0;
        ex_wgt_lo_q[i] <= '0;
        ex_wgt_hi_q[i] <= '0;
      end
      pr_valid_q  <= '0;
      pr_wr_q     <= '0;
      pr_rd_q     <= '0;
      pr_level_q  <= '0;
      sp_valid_q  <= 1'b0;
      sp_gbuf_lo_q <= '0;
      sp_gbuf_hi_q <= '0;
      sp_wgt_lo_q  <= '0;
      sp_wgt_hi_q  <= '0;
      sp_meta_lo_q <= '0;
      sp_meta_hi_q <= '0;
    end else if (clear_i) begin
      ld_valid_q <= 1'b0;
      ex_valid_q <= '0;
      sp_valid_q <= 1'b0;
      pr_valid_q <= '0;
      pr_wr_q    <= '0;
      pr_rd_q    <= '0;
      pr_level_q <= '0;
    end else begin
      if (ld_go_i) begin
        ld_valid_q  <= 1'b1;
        ld_target_q <= ld_target_i;
        ld_lo_q     <= ld_lo_i;
        ld_hi_q     <= ld_hi_i;
      end
      // The oldest leaves (slot 1 moves down); a new one goes behind what stays.
      if (exec_done_i) begin
        ex_valid_q     <= {1'b0, ex_valid_q[1]};
        ex_act_lo_q[0] <= ex_act_lo_q[1];
        ex_act_hi_q[0] <= ex_act_hi_q[1];
        ex_wgt_lo_q[0] <= ex_wgt_lo_q[1];
        ex_wgt_hi_q[0] <= ex_wgt_hi_q[1];
      end
      if (gemm_go_i) begin
        ex_valid_q[ex_slot]  <= 1'b1;
        ex_act_lo_q[ex_slot] <= act_lo_i;
        ex_act_hi_q[ex_slot] <= act_hi_i;
        ex_wgt_lo_q[ex_slot] <= wgt_lo_i;
        ex_wgt_hi_q[ex_slot] <= wgt_hi_i;
      end
      if (sp_done_i) sp_valid_q <= 1'b0;
      if (sp_go_i) begin
        sp_valid_q   <= 1'b1;
        sp_gbuf_lo_q <= gbuf_lo_i;
        sp_gbuf_hi_q <= gbuf_hi_i;
        sp_wgt_lo_q  <= sp_wgt_lo_i;
        sp_wgt_hi_q  <= sp_wgt_hi_i;
        sp_meta_lo_q <= meta_lo_i;
        sp_meta_hi_q <= meta_hi_i;
      end
      if (gemm_go_i || sp_go_i) begin
        pr_lo_q[pr_wr_q]    <= param_lo_i;
        pr_hi_q[pr_wr_q]    <= param_hi_i;
        pr_valid_q[pr_wr_q] <= 1'b1;
        pr_wr_q             <= pr_wr_q + 1'b1;
      end
      if (param_release_i) begin
        pr_valid_q[pr_rd_q] <= 1'b0;
        pr_rd_q             <= pr_rd_q + 1'b1;
      end
      pr_level_q <= pr_level_q + LevelW'(gemm_go_i || sp_go_i) - LevelW'(param_release_i);
    end
  end

`ifndef SYNTHESIS
  // ---- assertions ----------------------------------------------------------------------
  PrNoOverflow_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                   gemm_go_i || sp_go_i |->
                                   (pr_level_q < LevelW'(Readers)) || param_release_i)
    else $error("PARAM reader tracker overflow");
  PrNoUnderflow_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                    param_release_i |-> pr_level_q != '0)
    else $error("PARAM reader release with nothing tracked");
  // A GEMM pending in the execute unit, one executing (waiting for an accumulator bank)
  // and two holding the banks until the store unit has read their PARAM words: never
  // more than four, the tracker's size (readers_full_o holds the fifth back).
  PrLevelBound_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   pr_level_q <= LevelW'(Readers));
  NoLoadOverLoad_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     ld_go_i |-> load_free_i && ld_head_i);
  NoGemmOverGemm_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     gemm_go_i |-> gemm_head_i &&
                                                   (!ex_valid_q[1] || exec_done_i))
    else $error("a third GEMM handed to the execute unit");
  SpGrantSafe_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                  sp_go_i |-> sp_head_i && !sp_hazard_o && !readers_full_o);
  SpDoneOnlyTracked_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                        sp_done_i |-> sp_valid_q);
  OneDatapath_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                  !(sp_valid_q && ex_valid_q != 2'b00))
    else $error("a GEMM and an SPGEMM in their units at once");
  SpWaitsOnLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                   sp_head_i && ld_live && sp_raw);
  LoadWaitsOnSp_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                   ld_head_i && (sp_wgt_hit || sp_meta_hit || sp_gbuf_hit));
  ExDoneOnlyTracked_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                        exec_done_i |-> ex_valid_q[0]);
  ExInOrder_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                ex_valid_q[1] |-> ex_valid_q[0]);
  LoadGrantSafe_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                    ld_go_i |-> !ld_hazard_o);
  GemmGrantSafe_A: assert property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                    gemm_go_i |-> !gemm_hazard_o && !readers_full_o);
  ReadersThree_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                  pr_level_q == LevelW'(3));
  ReadersFull_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                 pr_level_q == LevelW'(Readers));
  LoadWaitsOnGemm_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     ld_head_i && ld_hazard_o && ld_target_i != tsr_pkg::TgtParam);
  LoadWaitsOnParam_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                      ld_head_i && ld_hazard_o && ld_target_i == tsr_pkg::TgtParam);
  GemmWaitsOnLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni || clear_i)
                                     gemm_head_i && gemm_hazard_o);
`endif

endmodule
