// Formal-only harness for the dependency mechanism: rtl/core/tsr_dispatch.sv with its
// tsr_hazard scoreboard (read by SymbiYosys, never synthesized). The parameters default
// to the 4x4 synthesis configuration; tsr_dispatch.sby also proves the 16x16 sim one.
//
// The command at the FIFO head (cmd_valid_i, cmd_i: any 128 bits), CLEAR, pushes, unit
// errors and overflow are free inputs. The units are abstract: a unit handed a command
// is busy from the next cycle until the solver lets it finish (or a CLEAR stops it), and
// the store unit releases a GEMM's PARAM range when the solver chooses, in grant order,
// but only while some GEMM is still tracked (the environment assumption).
//
// Every range below is computed here from the fields the dispatcher hands to the units
// (load_dst_o/load_count_o, gemm_*_o), not from tsr_hazard's own ranges, so a wrong range
// in the scoreboard is caught too. Proved (k-induction):
//   - a LOAD is never granted over a range still read: LOAD PARAM never overlaps the PARAM
//     range of any GEMM not yet released (one GEMM, chosen freely by the solver, is
//     tracked from grant to release); LOAD ACT/WGT never overlaps the ACT/WGT range of
//     either GEMM in the execute unit (it holds up to two: one issuing, one preloading
//     behind it; they finish in order);
//   - a GEMM is never granted while a PARAM LOAD in progress writes any of its PARAM
//     words (ACT and WGT reads wait fold by fold inside the execute unit, outside this
//     proof; the command-stream testbench checks them);
//   - the PARAM reader tracker never overflows or underflows: its level always equals
//     the GEMMs granted and not released, at most Readers (4), and a GEMM is not granted
//     while it is full;
//   - one hand-off a cycle (drop, LOAD or GEMM), and a pop only of a valid head;
//   - validation: the dispatcher copies the FIFO head into a register and validates it
//     over a few cycles without multipliers; its verdict equals a reference check of the
//     command taken from the FIFO (computed here with plain multiplies: the error code
//     and its priority); a granted LOAD or GEMM reaches its unit with every field intact
//     and every range inside its scratchpad (M in 1..AccDepth, kt and nt >= 1,
//     count >= 1); a bad command is dropped once judged, and every command while the
//     error is set the cycle it is at the head.
module tsr_dispatch_props #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned ActDepth   = 64,
  parameter int unsigned WgtDepth   = 64,
  parameter int unsigned AccDepth   = 16,
  parameter int unsigned ParamDepth = 16,
  localparam int unsigned ActAW   = $clog2(ActDepth),
  localparam int unsigned WgtAW   = $clog2(WgtDepth),
  localparam int unsigned AccAW   = $clog2(AccDepth),
  localparam int unsigned ParamAW = $clog2(ParamDepth),
  localparam int unsigned LoadAW  = (ActAW > WgtAW) ? ((ActAW > ParamAW) ? ActAW : ParamAW)
                                                    : ((WgtAW > ParamAW) ? WgtAW : ParamAW),
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
  input logic         overflow_i,
  input logic         param_release_i,
  input logic         load_finish_i,   // free: the load unit finishes its LOAD this cycle
  input logic         exec_ready_i,    // free: the execute unit takes a GEMM (if it holds < 2)
  input logic         exec_finish_i,   // free: the execute unit finishes its older GEMM
  input logic         track_i          // free: track the GEMM granted this cycle
);

  // ---- the dispatcher --------------------------------------------------------------------
  logic               cmd_pop, load_valid, load_ready, gemm_valid, gemm_ready;
  logic [1:0]         load_target;
  logic [LoadAW-1:0]  load_dst;
  logic [LoadAW:0]    load_count;
  logic [ActAW-1:0]   act_base;
  logic [WgtAW-1:0]   wgt_base;
  logic [ParamAW-1:0] param_base;
  logic [AccAW:0]     m_rows;
  logic [7:0]         kt, nt;
  logic [15:0]        folds;  // kt * nt: checked by simulation (the fold count of every GEMM)
  logic [25:0]        store_cfg;
  logic               error, dropped, busy;
  logic [7:0]         err_code;
  logic [31:0]        err_cmd;

  tsr_dispatch #(
    .Rows(Rows), .Cols(Cols), .ActDepth(ActDepth), .WgtDepth(WgtDepth),
    .AccDepth(AccDepth), .ParamDepth(ParamDepth)
  ) u_dut (
    .clk_i, .rst_ni, .clear_i, .cmd_push_i, .cmd_valid_i, .cmd_i, .cmd_pop_o(cmd_pop),
    .load_valid_o(load_valid), .load_ready_i(load_ready), .load_target_o(load_target),
    .load_dst_o(load_dst), .load_count_o(load_count),
    .gemm_valid_o(gemm_valid), .gemm_ready_i(gemm_ready),
    .gemm_act_base_o(act_base), .gemm_wgt_base_o(wgt_base), .gemm_param_base_o(param_base),
    .gemm_m_rows_o(m_rows), .gemm_kt_count_o(kt), .gemm_nt_count_o(nt), .gemm_folds_o(folds),
    .gemm_store_cfg_o(store_cfg), .param_release_i, .gemm_cmd_done_i(exec_finish_i),
    .err_req_i, .err_req_code_i, .overflow_i,
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
  logic [31:0] h0, h1, h2, h3;
  assign {h3, h2, h1, h0} = u_dut.head_q;
  addr_t r_ld_depth, r_act_end, r_wgt_end, r_par_end;
  logic  r_bad_field, r_bad_shape, r_base_range;
  logic [7:0] ref_check;
  assign r_ld_depth = (h0[9:8] == tsr_pkg::TgtAct) ? addr_t'(ActDepth)
                    : (h0[9:8] == tsr_pkg::TgtWgt) ? addr_t'(WgtDepth) : addr_t'(ParamDepth);
  assign r_act_end  = addr_t'(u_dut.s2_act_end_q);
  assign r_wgt_end  = addr_t'(u_dut.s3_wgt_end_q);
  assign r_par_end  = addr_t'(u_dut.s2_par_end_q);
  assign r_bad_field = (h0[7:0] == tsr_pkg::OpLoad) ? (h0[9:8] == 2'd3)
                     : (h0[8] && $signed(h3[23:16]) > $signed(h3[31:24]));
  assign r_bad_shape = (h0[7:0] == tsr_pkg::OpLoad) ? (h2 == 32'd0)
                     : (h2[31:16] == '0 || h3[7:0] == '0 || h3[15:8] == '0 ||
                        32'(h2[31:16]) > AccDepth);
  assign r_base_range = 32'(h1[15:0]) >= ActDepth || 32'(h1[31:16]) >= WgtDepth ||
                        32'(h2[15:0]) >= ParamDepth;
  always_comb begin
    ref_check = tsr_pkg::ErrNone;
    if (h0[7:0] != tsr_pkg::OpLoad && h0[7:0] != tsr_pkg::OpGemm) begin
      ref_check = tsr_pkg::ErrIllegalOp;
    end else if (r_bad_field) begin
      ref_check = tsr_pkg::ErrBadField;
    end else if (r_bad_shape) begin
      ref_check = tsr_pkg::ErrShape;
    end else if (h0[7:0] == tsr_pkg::OpLoad) begin
      if ({1'b0, h1} + {1'b0, h2} > {1'b0, r_ld_depth}) ref_check = tsr_pkg::ErrAddrRange;
    end else if (r_base_range ||
                 r_act_end > addr_t'(ActDepth) || r_wgt_end > addr_t'(WgtDepth) ||
                 r_par_end > addr_t'(ParamDepth)) begin
      ref_check = tsr_pkg::ErrAddrRange;
    end
  end

  // A LOAD's range from the dispatcher's outputs; a GEMM's base from the command it took
  // (the properties below check that every field reaches the unit intact), its end as
  // the dispatcher computed it.
  addr_t ld_lo, ld_hi, g_act_lo, g_act_hi, g_wgt_lo, g_wgt_hi, g_par_lo, g_par_hi;
  assign ld_lo    = addr_t'(load_dst);
  assign ld_hi    = addr_t'(load_dst) + addr_t'(load_count);
  assign g_act_lo = addr_t'(h1[15:0]);
  assign g_act_hi = r_act_end;
  assign g_wgt_lo = addr_t'(h1[31:16]);
  assign g_wgt_hi = r_wgt_end;
  assign g_par_lo = addr_t'(h2[15:0]);
  assign g_par_hi = r_par_end;

  // ---- abstract units --------------------------------------------------------------------
  // Load unit: busy with the LOAD it was handed until it finishes.
  logic       ld_busy_q;
  logic [1:0] ld_tgt_q;
  addr_t      ld_lo_q, ld_hi_q;
  // Execute unit: holds up to two GEMMs (the older in slot 0), each reading its ACT and
  // WGT ranges until it finishes issuing; they finish in order.
  logic [1:0] ex_cnt_q;
  addr_t      ex_act_lo_q [0:1];
  addr_t      ex_act_hi_q [0:1];
  addr_t      ex_wgt_lo_q [0:1];
  addr_t      ex_wgt_hi_q [0:1];
  // PARAM readers: GEMMs granted and not yet released.
  logic [2:0] readers_q;

  assign load_ready = !ld_busy_q;
  assign gemm_ready = exec_ready_i && ex_cnt_q < 2'd2;
  // Environment: only a GEMM the unit holds can finish.
  always_comb if (rst_ni) assume (!exec_finish_i || ex_cnt_q != '0);

  always_ff @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      ld_busy_q <= 1'b0;
      ex_cnt_q  <= '0;
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
      readers_q <= readers_q + 3'(gemm_valid) - 3'(param_release_i);
    end
  end

  // Environment: the store unit releases only GEMMs that are tracked.
  always_comb if (rst_ni) assume (!param_release_i || readers_q != '0);

  // One GEMM's PARAM range, from its grant until its release (releases come in grant
  // order: it goes with the release that finds no older GEMM ahead of it).
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
    end else if (track_i && gemm_valid) begin
      trk_q       <= 1'b1;
      trk_lo_q    <= g_par_lo;
      trk_hi_q    <= g_par_hi;
      trk_ahead_q <= readers_q - 3'(param_release_i);
    end
  end

  // ---- properties ------------------------------------------------------------------------
  localparam int unsigned PtrW = $clog2(Readers);
  always_comb begin
    if (rst_ni) begin
      // One hand-off a cycle, only of a held head; the FIFO is read only when there is a
      // head to read and the head register is empty or being vacated.
      assert ($countones({dropped, load_valid, gemm_valid}) <= 1);
      if (dropped || load_valid || gemm_valid) assert (u_dut.head_valid_q);
      if (cmd_pop) assert (cmd_valid_i);
      if (cmd_valid_i && (!u_dut.head_valid_q || dropped || load_valid || gemm_valid))
        assert (cmd_pop);

      // Validation: a granted command is exactly the command at the head (no field cut
      // short on the way to the unit) and every range it touches lies in its scratchpad.
      if (load_valid) begin
        assert (load_target != 2'd3 && load_target == head_q[9:8]);
        assert (32'(load_dst) == head_q[63:32] && 32'(load_count) == head_q[95:64]);
        assert (load_count != '0);
        case (load_target)
          tsr_pkg::TgtAct: assert (ld_hi <= addr_t'(ActDepth));
          tsr_pkg::TgtWgt: assert (ld_hi <= addr_t'(WgtDepth));
          default:         assert (ld_hi <= addr_t'(ParamDepth));
        endcase
      end
      if (gemm_valid) begin
        assert (16'(act_base) == head_q[47:32] && 16'(wgt_base) == head_q[63:48] &&
                16'(param_base) == head_q[79:64] && 16'(m_rows) == head_q[95:80] &&
                kt == head_q[103:96] && nt == head_q[111:104]);
        assert (store_cfg[tsr_pkg::CfgRequant] == head_q[8] &&
                store_cfg[tsr_pkg::CfgPerChan] == head_q[9] &&
                store_cfg[tsr_pkg::CfgZp +: 8] == head_q[23:16] &&
                store_cfg[tsr_pkg::CfgLo +: 8] == head_q[119:112] &&
                store_cfg[tsr_pkg::CfgHi +: 8] == head_q[127:120]);
        assert (m_rows != '0 && 32'(m_rows) <= AccDepth && kt != '0 && nt != '0);
        assert (g_act_hi <= addr_t'(ActDepth) && g_wgt_hi <= addr_t'(WgtDepth) &&
                g_par_hi <= addr_t'(ParamDepth));
      end
      // Any command at the head while the error is set is dropped at once, and a bad
      // command as soon as it is judged and the load unit is idle (a packet error of the
      // LOAD in progress comes first in program order): the FIFO always drains, nothing
      // bad is granted, nothing until CLEAR. The verdict is the reference one.
      if (u_dut.head_valid_q) assert (head_q == u_dut.head_q);
      if (u_dut.head_valid_q && u_dut.error_q) assert (dropped);
      if (u_dut.checked) assert (u_dut.check_q == ref_check);
      if (u_dut.checked && ref_check != tsr_pkg::ErrNone && !ld_busy_q) assert (dropped);
      if (dropped && !u_dut.error_q)
        assert (u_dut.checked && ref_check != tsr_pkg::ErrNone);
      if (ref_check != tsr_pkg::ErrNone) assert (!load_valid && !gemm_valid);
      if (u_dut.error_q) assert (!load_valid && !gemm_valid);
      if (cmd_pop) assert (!u_dut.head_valid_q || dropped || load_valid || gemm_valid);

      // Inductive strengthening: each validation stage computed once, from this head.
      if (u_dut.head_valid_q && u_dut.phase_q >= 3'd1) begin
        assert (u_dut.s1_ld_end_q == {1'b0, h1} + {1'b0, h2});
        assert (u_dut.s1_ld_depth_q == {1'b0, r_ld_depth});
        assert (u_dut.s1_bad_field_q == r_bad_field && u_dut.s1_bad_shape_q == r_bad_shape);
        assert (u_dut.s1_base_range_q == r_base_range);
      end
      // A region's end lies at or past its base (so an end inside the scratchpad puts
      // the base there too).
      if (u_dut.head_valid_q && u_dut.phase_q >= 3'd2) begin
        assert (u_dut.s2_ld_range_q == (u_dut.s1_ld_end_q > u_dut.s1_ld_depth_q));
        assert (r_act_end >= addr_t'(h1[15:0]) && r_par_end >= addr_t'(h2[15:0]));
      end
      if (u_dut.head_valid_q && u_dut.phase_q >= 3'd3) begin
        assert (u_dut.s3_act_range_q == (r_act_end > addr_t'(ActDepth)) &&
                u_dut.s3_par_range_q == (r_par_end > addr_t'(ParamDepth)));
        assert (r_wgt_end >= addr_t'(h1[31:16]));
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
      end

      // GEMM grants: read after write against a PARAM LOAD in progress. (ACT and WGT
      // reads wait fold by fold in the execute unit, outside this proof; the command-stream
      // testbench's scoreboard checks them.)
      if (gemm_valid && ld_busy_q && ld_tgt_q == tsr_pkg::TgtParam)
        assert (!overlap(ld_lo_q, ld_hi_q, g_par_lo, g_par_hi));

      // PARAM reader tracker: exact, bounded, never granted past full.
      assert (readers_q <= 3'(Readers));
      assert (u_dut.u_hazard.pr_level_q == readers_q);
      if (gemm_valid) assert (readers_q < 3'(Readers));

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
    end
  end

  // ---- covers: the waits happen and the tracker fills --------------------------------
  always_comb begin
    if (rst_ni && !clear_i) begin
      cover (readers_q == 3'(Readers));
      cover (u_dut.checked && !dropped && u_dut.is_load && !load_valid && load_ready &&
             head_q[9:8] == tsr_pkg::TgtParam);             // LOAD PARAM waits on a reader
      cover (u_dut.checked && !dropped && u_dut.is_load && !load_valid && load_ready &&
             head_q[9:8] == tsr_pkg::TgtWgt);               // LOAD WGT waits on the GEMM
      cover (u_dut.checked && !dropped && u_dut.is_gemm && !gemm_valid && gemm_ready &&
             readers_q < 3'(Readers));                      // GEMM waits on the LOAD
      cover (dropped && !u_dut.error_q && ref_check == tsr_pkg::ErrAddrRange &&
             head_q[7:0] == tsr_pkg::OpGemm);               // a GEMM past WGT/ACT/PARAM
      cover (load_valid && ex_cnt_q == 2'd2 && load_target == tsr_pkg::TgtWgt);  // overlap-free
      cover (gemm_valid && ld_busy_q);                                   // runs alongside
    end
  end

endmodule
