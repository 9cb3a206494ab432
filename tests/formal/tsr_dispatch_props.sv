// Formal-only harness for the dependency mechanism: rtl/core/tsr_dispatch.sv with its
// tsr_hazard scoreboard (read by SymbiYosys, never synthesized). The parameters default
// to the 4x4 synthesis configuration; tsr_dispatch.sby also proves the 16x16 sim one and
// a 4x4 one with the sparse path (Sparse = 1: SPGEMM, LOAD META and GBUF).
//
// The command at the FIFO head (cmd_valid_i, cmd_i: any 128 bits), CLEAR, pushes, unit
// errors and overflow are free inputs. The units are abstract: a unit handed a command
// is busy from the next cycle until the solver lets it finish (or a CLEAR stops it), and
// the store unit releases a GEMM's or SPGEMM's PARAM range when the solver chooses, in
// grant order, but only while one is still tracked (the environment assumption). The
// sparse unit reads an SPGEMM's GBUF, WGT and META words until the solver lets it finish
// (sp_reads_done_i); whether it takes a new SPGEMM is the solver's choice too, so "at
// most one SPGEMM" is proved, not assumed.
//
// Every range below is computed here from the fields the dispatcher hands to the units
// (load_dst_o/load_count_o, gemm_*_o, sp_*_o), not from tsr_hazard's own ranges, so a
// wrong range in the scoreboard is caught too. Proved (k-induction):
//   - a LOAD is never granted over a range still read: LOAD PARAM never overlaps the PARAM
//     range of any GEMM or SPGEMM not yet released (one, chosen freely by the solver, is
//     tracked from grant to release); LOAD ACT/WGT never overlaps the ACT/WGT range of
//     either GEMM in the execute unit (it holds up to two: one issuing, one preloading
//     behind it; they finish in order); LOAD WGT/META/GBUF never overlaps the matching
//     range of the SPGEMM in the sparse unit;
//   - a GEMM is never granted while a PARAM LOAD in progress writes any of its PARAM
//     words (ACT and WGT reads wait fold by fold inside the execute unit, outside this
//     proof; the command-stream testbench checks them), nor while the sparse unit holds
//     an SPGEMM; an SPGEMM is never granted while the LOAD in progress writes any of its
//     GBUF, WGT, META or PARAM words, while the execute unit holds a GEMM, or while the
//     sparse unit holds an SPGEMM;
//   - the PARAM reader tracker never overflows or underflows: its level always equals
//     the GEMMs and SPGEMMs granted and not released, at most Readers (4), and neither is
//     granted while it is full;
//   - one hand-off a cycle (drop, LOAD, GEMM or SPGEMM), and a pop only of a valid head;
//   - validation: the dispatcher copies the FIFO head into a register and validates it
//     over a few cycles without multipliers; its verdict equals a reference check of the
//     command taken from the FIFO (computed here with plain multiplies: the error code
//     and its priority; opcode 0x03 and LOAD targets 3-4 are illegal without Sparse); a
//     granted LOAD, GEMM or SPGEMM reaches its unit with every field intact and every
//     range inside its scratchpad (M in 1..AccDepth, kt and nt >= 1, count >= 1; an
//     SPGEMM's M in 1..Rows); a bad command is dropped once judged, and every command
//     while the error is set the cycle it is at the head;
//   - a unit's error latches with the index of the command that raised it: a packet
//     error with the LOAD's, BAD_META with the SPGEMM's, the earlier of the two when both
//     come in one cycle.
module tsr_dispatch_props #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned ActDepth   = 64,
  parameter int unsigned WgtDepth   = 64,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  parameter bit          Sparse     = 1'b0,
  parameter int unsigned GbufDepth  = 2,
  parameter int unsigned MetaDepth  = 2,
  parameter bit          Coarse     = 1'b0,  // tsr_hazard without ranges (the same rules)
  localparam int unsigned ActAW   = $clog2(ActDepth),
  localparam int unsigned WgtAW   = $clog2(WgtDepth),
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned GbufAW  = $clog2(GbufDepth),
  localparam int unsigned MetaAW  = $clog2(MetaDepth),
  localparam int unsigned LoadAW  = tsr_pkg::load_aw(ActAW, WgtAW, ParamAW, GbufAW, MetaAW),
  localparam int unsigned Readers = tsr_pkg::ParamReaders
) (
  input logic         clk_i,
  input logic         rst_ni,
  input logic         clear_i,
  input logic         cmd_push_i,
  input logic         cmd_valid_i,
  input logic [127:0] cmd_i,
  input logic         err_req_i,
  input logic [7:0]   err_req_code_i,
  input logic         sp_err_i,
  input logic         overflow_i,
  input logic         param_release_i,
  input logic         load_finish_i,   // free: the load unit finishes its LOAD this cycle
  input logic         exec_ready_i,    // free: the execute unit takes a GEMM (if it holds < 2)
  input logic         exec_finish_i,   // free: the execute unit finishes its older GEMM
  input logic         sp_ready_i,      // free: the sparse unit takes an SPGEMM
  input logic         sp_finish_i,     // free: the sparse unit reads its SPGEMM's last word
  input logic         track_i          // free: track the GEMM or SPGEMM granted this cycle
);

  // ---- the dispatcher --------------------------------------------------------------------
  logic               cmd_pop, load_valid, load_ready, gemm_valid, gemm_ready, sp_valid;
  logic [2:0]         load_target;
  logic [LoadAW-1:0]  load_dst;
  logic [LoadAW:0]    load_count;
  logic [ActAW-1:0]   act_base;
  logic [WgtAW-1:0]   wgt_base;
  logic [ParamAW-1:0] param_base;
  logic [AccAW:0]     m_rows;
  logic [7:0]         kt, nt;
  logic [15:0]        folds;  // kt * nt: checked by simulation (the fold count of every GEMM)
  logic [25:0]        store_cfg;
  logic [GbufAW-1:0]  sp_gbuf_base;
  logic [WgtAW-1:0]   sp_wgt_base;
  logic [MetaAW-1:0]  sp_meta_base;
  logic [6:0]         sp_m_rows;
  logic [7:0]         sp_k_last, sp_len_last, sp_nt;
  logic               sp_trans;
  logic               error, dropped, busy;
  logic [7:0]         err_code;
  logic [31:0]        err_cmd;

  tsr_dispatch #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth), .Sparse(Sparse),
    .GbufDepth(GbufDepth), .MetaDepth(MetaDepth), .Coarse(Coarse)
  ) u_dut (
    .clk_i, .rst_ni, .clear_i, .cmd_push_i, .cmd_valid_i, .cmd_i, .cmd_pop_o(cmd_pop),
    .load_valid_o(load_valid), .load_ready_i(load_ready), .load_target_o(load_target),
    .load_dst_o(load_dst), .load_count_o(load_count),
    .gemm_valid_o(gemm_valid), .gemm_ready_i(gemm_ready),
    .gemm_act_base_o(act_base), .gemm_wgt_base_o(wgt_base), .gemm_param_base_o(param_base),
    .gemm_m_rows_o(m_rows), .gemm_kt_count_o(kt), .gemm_nt_count_o(nt), .gemm_folds_o(folds),
    .gemm_store_cfg_o(store_cfg),
    .sp_valid_o(sp_valid), .sp_ready_i, .sp_gbuf_base_o(sp_gbuf_base),
    .sp_wgt_base_o(sp_wgt_base), .sp_meta_base_o(sp_meta_base), .sp_m_rows_o(sp_m_rows),
    .sp_k_last_o(sp_k_last), .sp_len_last_o(sp_len_last), .sp_nt_count_o(sp_nt),
    .sp_trans_o(sp_trans),
    .param_release_i, .gemm_cmd_done_i(exec_finish_i), .sp_reads_done_i(sp_finish_i),
    .err_req_i, .err_req_code_i, .sp_err_i, .overflow_i,
    .error_o(error), .err_code_o(err_code), .err_cmd_o(err_cmd), .dropped_o(dropped),
    .busy_o(busy)
  );

  // ---- reset in the first cycle only ---------------------------------------------------
  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb begin
    if (init_q) assume (!rst_ni);
    else        assume (rst_ni);
  end

  // ---- ranges of what was handed off ---------------------------------------------------
  typedef logic [31:0] addr_t;  // wide enough that no end below wraps
  function automatic logic overlap(addr_t a_lo, addr_t a_hi, addr_t b_lo, addr_t b_hi);
    return a_lo < b_hi && b_lo < a_hi;
  endfunction

  // ---- the command the dispatcher took from the FIFO, and its verdict -----------------
  logic [127:0] head_q;
  always_ff @(posedge clk_i) if (cmd_pop) head_q <= cmd_i;

  // The verdict is checked against the command's fields, except the region ends of a
  // GEMM: those are the dispatcher's own (shift-and-add products, computed once and
  // held). An SMT solver relates neither a multiplier to a shift-and-add form nor one
  // held product to a recomputation of it in any useful time; the command-stream
  // testbench checks the ends against the ISA model's plain products, this proof that
  // they are what is judged, handed to the scoreboard and never exceeded by a grant.
  // An SPGEMM's products are small (nt * len: 8 x 9 bits; nt * Cols, a constant
  // multiple, folds to a shift): its ends are computed here, with plain multiplies.
  logic [31:0] h0, h1, h2, h3;
  assign {h3, h2, h1, h0} = u_dut.head;
  logic  r_is_load, r_is_gemm, r_is_sp, r_is_spa;
  assign r_is_load = (h0[7:0] == tsr_pkg::OpLoad);
  assign r_is_gemm = (h0[7:0] == tsr_pkg::OpGemm);
  // SPGEMMA: SPGEMM's fields and checks on a square array, one column block of PARAM.
  assign r_is_spa  = Sparse && Rows == Cols && (h0[7:0] == tsr_pkg::OpSpgemmA);
  assign r_is_sp   = (Sparse && (h0[7:0] == tsr_pkg::OpSpgemm)) || r_is_spa;
  addr_t r_ld_depth, r_act_end, r_wgt_end, r_par_end;
  logic  r_bad_field, r_bad_shape, r_base_range;
  logic [7:0] ref_check;
  always_comb begin
    case (h0[10:8])
      tsr_pkg::TgtAct:  r_ld_depth = addr_t'(ActDepth);
      tsr_pkg::TgtWgt:  r_ld_depth = addr_t'(WgtDepth);
      tsr_pkg::TgtMeta: r_ld_depth = addr_t'(MetaDepth);
      tsr_pkg::TgtGbuf: r_ld_depth = addr_t'(GbufDepth);
      default:          r_ld_depth = addr_t'(ParamDepth);
    endcase
  end
  assign r_act_end  = addr_t'(u_dut.s2_act_end_q);
  assign r_wgt_end  = addr_t'(u_dut.s3_wgt_end_q);
  assign r_par_end  = addr_t'(u_dut.s2_par_end_q);
  // SPGEMM fields (docs/isa.md): nt w3[7:0], len-1 w3[15:8], M-1 w0[15:10], K-1 w0[31:24].
  logic [7:0]  r_sp_nt;
  logic [8:0]  r_sp_len, r_sp_k;
  logic [6:0]  r_sp_m;
  logic [16:0] r_sp_kn;
  addr_t       r_sp_gbuf_end, r_sp_wgt_end, r_sp_meta_end, r_sp_par_end;
  logic        r_sp_range;
  assign r_sp_nt       = h3[7:0];
  assign r_sp_len      = {1'b0, h3[15:8]} + 9'd1;
  assign r_sp_k        = {1'b0, h0[31:24]} + 9'd1;
  assign r_sp_m        = {1'b0, h0[15:10]} + 7'd1;
  // nt * len = nt[3:0] * len + (nt[7:4] * len << 4): two plain 4 x 9-bit multiplies, in
  // the cycle the dispatcher's stage 1 takes its partial products (phase 0), held with
  // them. Measured (Yices, this 2-core machine): one 8 x 9-bit multiply held the same way
  // takes ~75 s to match to the sum of the partial products, a product recomputed from
  // the head in every step of the induction ~8 min (each step's copy must be matched to
  // the one before); the two nibble products, ~10 s.
  logic [16:0] r_sp_kn_lo_q, r_sp_kn_hi_q;
  always_ff @(posedge clk_i) begin
    if (u_dut.phase_q == 3'd0) begin
      r_sp_kn_lo_q <= 17'(r_sp_nt[3:0]) * 17'(r_sp_len);
      r_sp_kn_hi_q <= 17'(r_sp_nt[7:4]) * 17'(r_sp_len);
    end
  end
  assign r_sp_kn       = r_sp_kn_lo_q + (r_sp_kn_hi_q << 4);
  assign r_sp_gbuf_end = addr_t'(h1[15:0]) + addr_t'(r_sp_k);
  assign r_sp_wgt_end  = addr_t'(h1[31:16]) + addr_t'(r_sp_kn);
  assign r_sp_meta_end = addr_t'(h2[31:16]) + addr_t'(r_sp_kn);
  assign r_sp_par_end  = addr_t'(h2[15:0]) + (r_is_spa ? addr_t'(1) : addr_t'(r_sp_nt)) *
                                            addr_t'(Cols);
  assign r_sp_range    = r_sp_gbuf_end > addr_t'(GbufDepth) ||
                         r_sp_wgt_end > addr_t'(WgtDepth) ||
                         r_sp_meta_end > addr_t'(MetaDepth) ||
                         r_sp_par_end > addr_t'(ParamDepth);
  assign r_bad_field = r_is_load ? (h0[10:8] > (Sparse ? tsr_pkg::TgtGbuf : tsr_pkg::TgtParam))
                     : (h0[8] && $signed(h3[23:16]) > $signed(h3[31:24]));
  assign r_bad_shape = r_is_load ? (h2 == 32'd0)
                     : r_is_sp   ? (r_sp_nt == '0 || 32'(r_sp_m) > Rows)
                     : (h2[31:16] == '0 || h3[7:0] == '0 || h3[15:8] == '0 ||
                        32'(h2[31:16]) > AccDepth);
  assign r_base_range = 32'(h1[15:0]) >= ActDepth || 32'(h1[31:16]) >= WgtDepth ||
                        32'(h2[15:0]) >= ParamDepth;
  always_comb begin
    ref_check = tsr_pkg::ErrNone;
    if (!r_is_load && !r_is_gemm && !r_is_sp) begin
      ref_check = tsr_pkg::ErrIllegalOp;
    end else if (r_bad_field) begin
      ref_check = tsr_pkg::ErrBadField;
    end else if (r_bad_shape) begin
      ref_check = tsr_pkg::ErrShape;
    end else if (r_is_load) begin
      if ({1'b0, h1} + {1'b0, h2} > {1'b0, r_ld_depth}) ref_check = tsr_pkg::ErrAddrRange;
    end else if (r_is_sp) begin
      if (r_sp_range) ref_check = tsr_pkg::ErrAddrRange;
    end else if (r_base_range ||
                 r_act_end > addr_t'(ActDepth) || r_wgt_end > addr_t'(WgtDepth) ||
                 r_par_end > addr_t'(ParamDepth)) begin
      ref_check = tsr_pkg::ErrAddrRange;
    end
  end

  // A LOAD's range from the dispatcher's outputs; a GEMM's base from the command it took
  // (the properties below check that every field reaches the unit intact), its end as
  // the dispatcher computed it; an SPGEMM's bases and ends from the fields handed to the
  // sparse unit (param_base and the store settings travel on the GEMM ports, as in
  // tsr_top), its nt * len from the head's fields (the same ones, checked intact below:
  // one product term, where a second one of the handed-out copies would cost minutes).
  addr_t ld_lo, ld_hi, g_act_lo, g_act_hi, g_wgt_lo, g_wgt_hi, g_par_lo, g_par_hi;
  assign ld_lo    = addr_t'(load_dst);
  assign ld_hi    = addr_t'(load_dst) + addr_t'(load_count);
  assign g_act_lo = addr_t'(h1[15:0]);
  assign g_act_hi = r_act_end;
  assign g_wgt_lo = addr_t'(h1[31:16]);
  assign g_wgt_hi = r_wgt_end;
  assign g_par_lo = addr_t'(h2[15:0]);
  assign g_par_hi = r_par_end;
  addr_t s_kn, s_gbuf_lo, s_gbuf_hi, s_wgt_lo, s_wgt_hi, s_meta_lo, s_meta_hi;
  addr_t s_par_lo, s_par_hi;
  assign s_kn      = addr_t'(r_sp_kn);
  assign s_gbuf_lo = addr_t'(sp_gbuf_base);
  assign s_gbuf_hi = addr_t'(sp_gbuf_base) + addr_t'(sp_k_last) + addr_t'(1);
  assign s_wgt_lo  = addr_t'(sp_wgt_base);
  assign s_wgt_hi  = addr_t'(sp_wgt_base) + s_kn;
  assign s_meta_lo = addr_t'(sp_meta_base);
  assign s_meta_hi = addr_t'(sp_meta_base) + s_kn;
  assign s_par_lo  = addr_t'(param_base);
  assign s_par_hi  = addr_t'(param_base) + (sp_trans ? addr_t'(1) : addr_t'(sp_nt)) *
                                           addr_t'(Cols);

  // ---- abstract units --------------------------------------------------------------------
  // Load unit: busy with the LOAD it was handed until it finishes.
  logic       ld_busy_q;
  logic [2:0] ld_tgt_q;
  addr_t      ld_lo_q, ld_hi_q;
  // Execute unit: holds up to two GEMMs (the older in slot 0), each reading its ACT and
  // WGT ranges until it finishes issuing; they finish in order.
  logic [1:0] ex_cnt_q;
  addr_t      ex_act_lo_q [0:1];
  addr_t      ex_act_hi_q [0:1];
  addr_t      ex_wgt_lo_q [0:1];
  addr_t      ex_wgt_hi_q [0:1];
  // Sparse unit: reads the GBUF, WGT and META ranges of the SPGEMM it was handed until
  // it reads the last word.
  logic       sp_busy_q;
  addr_t      sp_gbuf_lo_q, sp_gbuf_hi_q, sp_wgt_lo_q, sp_wgt_hi_q, sp_meta_lo_q, sp_meta_hi_q;
  // PARAM readers: GEMMs and SPGEMMs granted and not yet released.
  logic [2:0] readers_q;

  assign load_ready = !ld_busy_q;
  assign gemm_ready = exec_ready_i && ex_cnt_q < 2'd2;
  // Environment: only a GEMM the unit holds can finish, only a held SPGEMM read its last
  // word.
  always_comb if (rst_ni) assume (!exec_finish_i || ex_cnt_q != '0);
  always_comb if (rst_ni) assume (!sp_finish_i || sp_busy_q);

  always_ff @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      ld_busy_q <= 1'b0;
      ex_cnt_q  <= '0;
      sp_busy_q <= 1'b0;
      readers_q <= '0;
    end else begin
      if (load_valid) begin
        ld_busy_q <= 1'b1;
        ld_tgt_q  <= load_target;
        ld_lo_q   <= ld_lo;
        ld_hi_q   <= ld_hi;
      end else if (load_finish_i) begin
        ld_busy_q <= 1'b0;
      end
      if (exec_finish_i) begin
        ex_act_lo_q[0] <= ex_act_lo_q[1];
        ex_act_hi_q[0] <= ex_act_hi_q[1];
        ex_wgt_lo_q[0] <= ex_wgt_lo_q[1];
        ex_wgt_hi_q[0] <= ex_wgt_hi_q[1];
      end
      if (gemm_valid) begin
        ex_act_lo_q[ex_cnt_q - 2'(exec_finish_i)] <= g_act_lo;
        ex_act_hi_q[ex_cnt_q - 2'(exec_finish_i)] <= g_act_hi;
        ex_wgt_lo_q[ex_cnt_q - 2'(exec_finish_i)] <= g_wgt_lo;
        ex_wgt_hi_q[ex_cnt_q - 2'(exec_finish_i)] <= g_wgt_hi;
      end
      ex_cnt_q <= ex_cnt_q + 2'(gemm_valid) - 2'(exec_finish_i);
      if (sp_valid) begin
        sp_busy_q    <= 1'b1;
        sp_gbuf_lo_q <= s_gbuf_lo;
        sp_gbuf_hi_q <= s_gbuf_hi;
        sp_wgt_lo_q  <= s_wgt_lo;
        sp_wgt_hi_q  <= s_wgt_hi;
        sp_meta_lo_q <= s_meta_lo;
        sp_meta_hi_q <= s_meta_hi;
      end else if (sp_finish_i) begin
        sp_busy_q <= 1'b0;
      end
      readers_q <= readers_q + 3'(gemm_valid || sp_valid) - 3'(param_release_i);
    end
  end

  // Environment: the store unit releases only GEMMs and SPGEMMs that are tracked.
  always_comb if (rst_ni) assume (!param_release_i || readers_q != '0);

  // One PARAM range (a GEMM's or an SPGEMM's), from its grant until its release (releases
  // come in grant order: it goes with the release that finds no older one ahead of it).
  logic       trk_q;
  addr_t      trk_lo_q, trk_hi_q;
  logic [2:0] trk_ahead_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      trk_q <= 1'b0;
    end else if (trk_q) begin
      if (param_release_i) begin
        if (trk_ahead_q == '0) trk_q       <= 1'b0;
        else                   trk_ahead_q <= trk_ahead_q - 1'b1;
      end
    end else if (track_i && (gemm_valid || sp_valid)) begin
      trk_q       <= 1'b1;
      trk_lo_q    <= sp_valid ? s_par_lo : g_par_lo;
      trk_hi_q    <= sp_valid ? s_par_hi : g_par_hi;
      trk_ahead_q <= readers_q - 3'(param_release_i);
    end
  end

  // Errors from the units: the index each was handed with (the dispatcher's command
  // count when it left the head), and the error and index the next cycle must show.
  logic        ld_seen_q, sp_seen_q;  // a LOAD / an SPGEMM granted since reset
  logic [31:0] ld_idx_q, sp_idx_q;
  logic        exp_q;
  logic [7:0]  exp_code_q;
  logic [31:0] exp_cmd_q;
  logic        ld_err_first;
  assign ld_err_first = err_req_i && (!sp_err_i || ld_idx_q < sp_idx_q);
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      ld_seen_q <= 1'b0;
      sp_seen_q <= 1'b0;
      exp_q     <= 1'b0;
    end else begin
      exp_q <= 1'b0;
      if (!clear_i) begin
        if (load_valid) begin
          ld_seen_q <= 1'b1;
          ld_idx_q  <= u_dut.cmd_index_q;
        end
        if (sp_valid) begin
          sp_seen_q <= 1'b1;
          sp_idx_q  <= u_dut.cmd_index_q;
        end
        // Only when the index of every unit reporting is known (a LOAD / an SPGEMM was
        // granted since reset); an overflow outranks both, and a set error holds.
        if (!u_dut.error_q && !overflow_i && (err_req_i || sp_err_i) &&
            (!err_req_i || ld_seen_q) && (!sp_err_i || sp_seen_q)) begin
          exp_q      <= 1'b1;
          exp_code_q <= ld_err_first ? err_req_code_i : tsr_pkg::ErrBadMeta;
          exp_cmd_q  <= ld_err_first ? ld_idx_q : sp_idx_q;
        end
      end
    end
  end

  // ---- properties ------------------------------------------------------------------------
  localparam int unsigned PtrW = $clog2(Readers);
  always_comb begin
    if (rst_ni) begin
      // One hand-off a cycle, only of a held head; the FIFO is read only when there is a
      // head to read and the head register is empty or being vacated.
      assert ($countones({dropped, load_valid, gemm_valid, sp_valid}) <= 1);
      if (dropped || load_valid || gemm_valid || sp_valid) assert (u_dut.head_valid);
      if (cmd_pop) assert (cmd_valid_i);
      if (cmd_valid_i &&
          (!u_dut.head_valid || dropped || load_valid || gemm_valid || sp_valid))
        assert (cmd_pop);

      // Validation: a granted command is exactly the command at the head (no field cut
      // short on the way to the unit) and every range it touches lies in its scratchpad.
      if (load_valid) begin
        assert (load_target <= (Sparse ? tsr_pkg::TgtGbuf : tsr_pkg::TgtParam) &&
                load_target == head_q[10:8]);
        assert (32'(load_dst) == head_q[63:32] && 32'(load_count) == head_q[95:64]);
        assert (load_count != '0);
        case (load_target)
          tsr_pkg::TgtAct:  assert (ld_hi <= addr_t'(ActDepth));
          tsr_pkg::TgtWgt:  assert (ld_hi <= addr_t'(WgtDepth));
          tsr_pkg::TgtMeta: assert (ld_hi <= addr_t'(MetaDepth));
          tsr_pkg::TgtGbuf: assert (ld_hi <= addr_t'(GbufDepth));
          default:          assert (ld_hi <= addr_t'(ParamDepth));
        endcase
      end
      if (gemm_valid || sp_valid) begin
        assert (store_cfg[tsr_pkg::CfgRequant] == head_q[8] &&
                store_cfg[tsr_pkg::CfgPerChan] == head_q[9] &&
                store_cfg[tsr_pkg::CfgZp +: 8] == head_q[23:16] &&
                store_cfg[tsr_pkg::CfgLo +: 8] == head_q[119:112] &&
                store_cfg[tsr_pkg::CfgHi +: 8] == head_q[127:120]);
        assert (16'(param_base) == head_q[79:64]);
      end
      if (gemm_valid) begin
        assert (16'(act_base) == head_q[47:32] && 16'(wgt_base) == head_q[63:48] &&
                16'(m_rows) == head_q[95:80] &&
                kt == head_q[103:96] && nt == head_q[111:104]);
        assert (m_rows != '0 && 32'(m_rows) <= AccDepth && kt != '0 && nt != '0);
        assert (g_act_hi <= addr_t'(ActDepth) && g_wgt_hi <= addr_t'(WgtDepth) &&
                g_par_hi <= addr_t'(ParamDepth));
      end
      if (sp_valid) begin
        assert (16'(sp_gbuf_base) == head_q[47:32] && 16'(sp_wgt_base) == head_q[63:48] &&
                16'(sp_meta_base) == head_q[95:80] && sp_m_rows == 7'(head_q[15:10]) + 7'd1 &&
                sp_k_last == head_q[31:24] && sp_len_last == head_q[111:104] &&
                sp_nt == head_q[103:96] &&
                sp_trans == (head_q[7:0] == tsr_pkg::OpSpgemmA));
        assert (sp_m_rows != '0 && 32'(sp_m_rows) <= Rows && sp_nt != '0);
        assert (s_gbuf_hi <= addr_t'(GbufDepth) && s_wgt_hi <= addr_t'(WgtDepth) &&
                s_meta_hi <= addr_t'(MetaDepth) && s_par_hi <= addr_t'(ParamDepth));
      end
      // Any command at the head while the error is set is dropped at once, and a bad
      // command as soon as it is judged, the load unit is idle and the sparse unit has read
      // (checked) all of its SPGEMM (a packet or BAD_META error of the command in progress
      // comes first in program order): the FIFO always drains, nothing bad is granted,
      // nothing until CLEAR. The verdict is the reference one.
      if (u_dut.head_valid) assert (head_q == u_dut.head);
      if (u_dut.head_valid && u_dut.error_q) assert (dropped);
      if (u_dut.checked) assert (u_dut.check_q == ref_check);
      if (u_dut.checked && ref_check != tsr_pkg::ErrNone && !ld_busy_q && !sp_busy_q)
        assert (dropped);
      // ... and never while that SPGEMM still reads.
      if (sp_busy_q && !u_dut.error_q) assert (!dropped);
      if (dropped && !u_dut.error_q)
        assert (u_dut.checked && ref_check != tsr_pkg::ErrNone);
      if (ref_check != tsr_pkg::ErrNone) assert (!load_valid && !gemm_valid && !sp_valid);
      if (u_dut.error_q) assert (!load_valid && !gemm_valid && !sp_valid);
      if (cmd_pop)
        assert (!u_dut.head_valid || dropped || load_valid || gemm_valid || sp_valid);

      // Inductive strengthening: each validation stage computed once, from this head.
      if (u_dut.head_valid && u_dut.phase_q >= 3'd1) begin
        // A LOAD's end in LoadAW + 2 bits, a dst or count past 2^(LoadAW+1) apart.
        assert (u_dut.s1_ld_end_q == (LoadAW+2)'(h1[LoadAW:0]) + (LoadAW+2)'(h2[LoadAW:0]));
        assert (u_dut.s1_ld_big_q == ((h1 >> (LoadAW + 1)) != '0 || (h2 >> (LoadAW + 1)) != '0));
        if (r_is_load && !r_bad_field) assert (u_dut.s1_ld_depth_q == (LoadAW+2)'(r_ld_depth));
        assert (u_dut.s1_bad_field_q == r_bad_field && u_dut.s1_bad_shape_q == r_bad_shape);
        assert (u_dut.s1_base_range_q == r_base_range);
        assert (u_dut.s1_par_base_q == (32'(h2[15:0]) >= ParamDepth));
        if (r_is_sp) begin
          assert (addr_t'(u_dut.s1_gbuf_end_q) == r_sp_gbuf_end);
          assert (addr_t'(u_dut.s1_sp_lo_q) == addr_t'(r_sp_kn_lo_q) &&
                  addr_t'(u_dut.s1_sp_hi_q) == addr_t'(r_sp_kn_hi_q) << 4);
          assert ((r_sp_kn == '0) == (r_sp_nt == '0));  // len >= 1
        end
      end
      // A region's end lies at or past its base when the base is inside its scratchpad
      // (the ends add the base's low bits; a base past it is an error of its own).
      if (u_dut.head_valid && u_dut.phase_q >= 3'd2) begin
        assert (u_dut.s2_ld_range_q ==
                (u_dut.s1_ld_big_q || u_dut.s1_ld_end_q > u_dut.s1_ld_depth_q));
        if (32'(h1[15:0]) < ActDepth) assert (r_act_end >= addr_t'(h1[15:0]));
        if (32'(h2[15:0]) < ParamDepth) assert (r_par_end >= addr_t'(h2[15:0]));
        if (r_is_sp) begin
          assert (addr_t'(u_dut.s2_sp_kn_q) == addr_t'(r_sp_kn));
          assert (u_dut.s2_gbuf_range_q == (r_sp_gbuf_end > addr_t'(GbufDepth)));
          if (32'(h2[15:0]) < ParamDepth) assert (r_par_end == r_sp_par_end);
        end
      end
      if (u_dut.head_valid && u_dut.phase_q >= 3'd3) begin
        assert (u_dut.s3_act_range_q == (r_act_end > addr_t'(ActDepth)) &&
                u_dut.s3_par_range_q == (32'(h2[15:0]) >= ParamDepth ||
                                         r_par_end > addr_t'(ParamDepth)));
        if (32'(h1[31:16]) < WgtDepth) assert (r_wgt_end >= addr_t'(h1[31:16]));
        if (r_is_sp)
          assert (addr_t'(u_dut.s3_sp_wgt_end_q) == r_sp_wgt_end &&
                  addr_t'(u_dut.s3_meta_end_q) == r_sp_meta_end);
      end
      assert (u_dut.phase_q <= 3'd4);

      // LOAD grants: write after read.
      if (load_valid) begin
        if (load_target == tsr_pkg::TgtParam && trk_q)
          assert (!overlap(ld_lo, ld_hi, trk_lo_q, trk_hi_q));
        for (int i = 0; i < 2; i++) begin
          if (load_target == tsr_pkg::TgtAct && 2'(i) < ex_cnt_q)
            assert (!overlap(ld_lo, ld_hi, ex_act_lo_q[i], ex_act_hi_q[i]));
          if (load_target == tsr_pkg::TgtWgt && 2'(i) < ex_cnt_q)
            assert (!overlap(ld_lo, ld_hi, ex_wgt_lo_q[i], ex_wgt_hi_q[i]));
        end
        if (sp_busy_q) begin
          if (load_target == tsr_pkg::TgtWgt)
            assert (!overlap(ld_lo, ld_hi, sp_wgt_lo_q, sp_wgt_hi_q));
          if (load_target == tsr_pkg::TgtMeta)
            assert (!overlap(ld_lo, ld_hi, sp_meta_lo_q, sp_meta_hi_q));
          if (load_target == tsr_pkg::TgtGbuf)
            assert (!overlap(ld_lo, ld_hi, sp_gbuf_lo_q, sp_gbuf_hi_q));
        end
      end

      // GEMM grants: read after write against a PARAM LOAD in progress. (ACT and WGT
      // reads wait fold by fold in the execute unit, outside this proof; the command-stream
      // testbench's scoreboard checks them.) The datapaths take turns: no GEMM while the
      // sparse unit holds an SPGEMM.
      if (gemm_valid && ld_busy_q && ld_tgt_q == tsr_pkg::TgtParam)
        assert (!overlap(ld_lo_q, ld_hi_q, g_par_lo, g_par_hi));
      if (gemm_valid) assert (!sp_busy_q);

      // SPGEMM grants: read after write against the LOAD in progress, whatever it writes;
      // the execute unit and the sparse unit are empty.
      if (sp_valid) begin
        assert (ex_cnt_q == '0 && !sp_busy_q);
        if (ld_busy_q) begin
          case (ld_tgt_q)
            tsr_pkg::TgtWgt:   assert (!overlap(ld_lo_q, ld_hi_q, s_wgt_lo, s_wgt_hi));
            tsr_pkg::TgtMeta:  assert (!overlap(ld_lo_q, ld_hi_q, s_meta_lo, s_meta_hi));
            tsr_pkg::TgtGbuf:  assert (!overlap(ld_lo_q, ld_hi_q, s_gbuf_lo, s_gbuf_hi));
            tsr_pkg::TgtParam: assert (!overlap(ld_lo_q, ld_hi_q, s_par_lo, s_par_hi));
            default: ;
          endcase
        end
      end

      // PARAM reader tracker: exact, bounded, never granted past full.
      assert (readers_q <= 3'(Readers));
      assert (u_dut.u_hazard.pr_level_q == readers_q);
      if (gemm_valid || sp_valid) assert (readers_q < 3'(Readers));

      // Unit errors latch with their command's index, the earlier one first.
      if (exp_q)
        assert (u_dut.error_q && err_code == exp_code_q && err_cmd == exp_cmd_q);

      // Inductive strengthening: the scoreboard holds what the units hold.
      if (ld_busy_q)
        assert (u_dut.u_hazard.ld_valid_q && u_dut.u_hazard.ld_target_q == ld_tgt_q &&
                addr_t'(u_dut.u_hazard.ld_lo_q) == ld_lo_q &&
                addr_t'(u_dut.u_hazard.ld_hi_q) == ld_hi_q);
      assert (ex_cnt_q <= 2'd2);
      for (int i = 0; i < 2; i++) begin
        assert (u_dut.u_hazard.ex_valid_q[i] == (2'(i) < ex_cnt_q));
        if (2'(i) < ex_cnt_q)
          assert (addr_t'(u_dut.u_hazard.ex_act_lo_q[i]) == ex_act_lo_q[i] &&
                  addr_t'(u_dut.u_hazard.ex_act_hi_q[i]) == ex_act_hi_q[i] &&
                  addr_t'(u_dut.u_hazard.ex_wgt_lo_q[i]) == ex_wgt_lo_q[i] &&
                  addr_t'(u_dut.u_hazard.ex_wgt_hi_q[i]) == ex_wgt_hi_q[i]);
      end
      assert (u_dut.u_hazard.sp_valid_q == sp_busy_q);
      if (sp_busy_q)
        assert (addr_t'(u_dut.u_hazard.sp_gbuf_lo_q) == sp_gbuf_lo_q &&
                addr_t'(u_dut.u_hazard.sp_gbuf_hi_q) == sp_gbuf_hi_q &&
                addr_t'(u_dut.u_hazard.sp_wgt_lo_q) == sp_wgt_lo_q &&
                addr_t'(u_dut.u_hazard.sp_wgt_hi_q) == sp_wgt_hi_q &&
                addr_t'(u_dut.u_hazard.sp_meta_lo_q) == sp_meta_lo_q &&
                addr_t'(u_dut.u_hazard.sp_meta_hi_q) == sp_meta_hi_q);
      assert (u_dut.u_hazard.pr_wr_q == PtrW'(u_dut.u_hazard.pr_rd_q + readers_q));
      for (int i = 0; i < Readers; i++)
        assert (u_dut.u_hazard.pr_valid_q[i] ==
                (3'(PtrW'(i - u_dut.u_hazard.pr_rd_q)) < readers_q));
      if (trk_q) begin
        assert (trk_ahead_q < readers_q);
        assert (addr_t'(u_dut.u_hazard.pr_lo_q[PtrW'(u_dut.u_hazard.pr_rd_q + trk_ahead_q)])
                == trk_lo_q);
        assert (addr_t'(u_dut.u_hazard.pr_hi_q[PtrW'(u_dut.u_hazard.pr_rd_q + trk_ahead_q)])
                == trk_hi_q);
      end
      if (ld_seen_q) assert (u_dut.load_index_q == ld_idx_q);
      if (sp_seen_q) assert (u_dut.sp_index_q == sp_idx_q);
    end
  end

  // ---- covers: the waits happen and the tracker fills --------------------------------
  if (!Sparse) begin : gen_cover_dense
    always_comb begin
      if (rst_ni && !clear_i) begin
        cover (readers_q == 3'(Readers));
        cover (u_dut.checked && !dropped && u_dut.is_load && !load_valid && load_ready &&
               head_q[10:8] == tsr_pkg::TgtParam);           // LOAD PARAM waits on a reader
        cover (u_dut.checked && !dropped && u_dut.is_load && !load_valid && load_ready &&
               head_q[10:8] == tsr_pkg::TgtWgt);             // LOAD WGT waits on the GEMM
        cover (u_dut.checked && !dropped && u_dut.is_gemm && !gemm_valid && gemm_ready &&
               readers_q < 3'(Readers));                      // GEMM waits on the LOAD
        cover (dropped && !u_dut.error_q && ref_check == tsr_pkg::ErrAddrRange &&
               head_q[7:0] == tsr_pkg::OpGemm);               // a GEMM past WGT/ACT/PARAM
        cover (load_valid && ex_cnt_q == 2'd2 && load_target == tsr_pkg::TgtWgt);  // overlap-free
        cover (gemm_valid && ld_busy_q);                                   // runs alongside
      end
    end
  end else begin : gen_cover_sparse
    always_comb begin
      if (rst_ni && !clear_i) begin
        cover (sp_valid && ld_busy_q && ld_tgt_q == tsr_pkg::TgtGbuf);  // runs alongside
        cover (u_dut.checked && !dropped && u_dut.is_sp && !sp_valid && sp_ready_i &&
               !sp_busy_q && ex_cnt_q == '0 && readers_q < 3'(Readers));  // waits on the LOAD
        cover (u_dut.checked && !dropped && u_dut.is_load && !load_valid && load_ready &&
               head_q[10:8] == tsr_pkg::TgtGbuf);            // LOAD GBUF waits on the SPGEMM
        cover (u_dut.checked && !dropped && u_dut.is_load && !load_valid && load_ready &&
               head_q[10:8] == tsr_pkg::TgtMeta);            // LOAD META waits on the SPGEMM
        cover (u_dut.checked && !dropped && u_dut.is_gemm && !gemm_valid && gemm_ready &&
               sp_busy_q && !ld_busy_q);                      // GEMM waits on the SPGEMM
        cover (load_valid && sp_busy_q && load_target == tsr_pkg::TgtWgt);  // overlap-free
        cover (dropped && !u_dut.error_q && ref_check == tsr_pkg::ErrAddrRange &&
               head_q[7:0] == tsr_pkg::OpSpgemm);             // an SPGEMM past a scratchpad
        cover (exp_q && exp_code_q == tsr_pkg::ErrBadMeta);   // BAD_META latched
        cover (sp_valid && sp_trans && sp_nt > 8'd1);          // SPGEMMA, row blocks
        cover (dropped && !u_dut.error_q && ref_check == tsr_pkg::ErrAddrRange &&
               head_q[7:0] == tsr_pkg::OpSpgemmA);            // its PARAM block past the end
      end
    end
  end

endmodule
