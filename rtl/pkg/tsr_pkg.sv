// Tessera package: the one source of truth for opcodes, command fields, error codes and
// the CSR map. sw/include/tessera/isa.hpp mirrors it (checked by tests/unit).
// Referenced as tsr_pkg::NAME: Yosys 0.23's frontend rejects `import tsr_pkg::*`.
package tsr_pkg;

  localparam logic [31:0] IdValue      = 32'h5453_5241;  // "TSRA"
  localparam logic [31:0] VersionValue = 32'h0001_0004;  // 1.4

  // Opcodes (w0[7:0]).
  localparam logic [7:0] OpLoad = 8'h01;
  localparam logic [7:0] OpGemm = 8'h02;
  localparam logic [7:0] OpSpgemm = 8'h03;  // sparse-gather GEMM (FEATURES bit 5)
  localparam logic [7:0] OpSpgemmA = 8'h04; // ... with A compressed (FEATURES bit 6)

  // LOAD targets (w0[10:8]).
  localparam logic [2:0] TgtAct   = 3'd0;
  localparam logic [2:0] TgtWgt   = 3'd1;
  localparam logic [2:0] TgtParam = 3'd2;
  localparam logic [2:0] TgtMeta  = 3'd3;  // sparse feature only
  localparam logic [2:0] TgtGbuf  = 3'd4;  // sparse feature only

  // Sticky error codes.
  localparam logic [7:0] ErrNone      = 8'd0;
  localparam logic [7:0] ErrIllegalOp = 8'd1;
  localparam logic [7:0] ErrAddrRange = 8'd2;
  localparam logic [7:0] ErrShape     = 8'd3;
  localparam logic [7:0] ErrBadField  = 8'd4;
  localparam logic [7:0] ErrStream    = 8'd5;  // input TLAST disagrees with a LOAD's count
  localparam logic [7:0] ErrOverflow  = 8'd6;  // CMD3 written while the command FIFO was full
  localparam logic [7:0] ErrBadParam  = 8'd7;  // PARAM shift outside [-31, 30]
  localparam logic [7:0] ErrBadMeta   = 8'd8;  // an SPGEMM entry's K index >= its K

  // FEATURES bits [7:0].
  localparam logic [7:0] FeatureBits = 8'b0001_1111;  // dense, requant, per-channel,
                                                       // hazard checks, TLAST checks;
                                                       // bits 5-7 by parameter (tsr_csr)
  localparam int unsigned FeatureSparse = 5;  // FEATURES bit: SPGEMM, META, GBUF
  localparam int unsigned FeatureSparseA = 6; // FEATURES bit: SPGEMMA (sparse, Rows = Cols)
  localparam int unsigned FeatureRoundSingle = 7;  // FEATURES bit: PARAM rounding flag
  // FEATURES bit 16: only PERF_CYCLES and PERF_LAST_OUT count; PERF_BUSY, PERF_STALL,
  // PERF_MACS, PERF_CMDS and PERF_DROPPED read 0 (set, unlike bits 0-7, by an engine
  // that lacks something, so that engines before it read as having every counter).
  localparam int unsigned FeaturePerfLite = 16;
  // Outstanding GEMMs whose PARAM words the store unit has yet to read (at most 3).
  localparam int unsigned ParamReaders = 4;

  localparam int unsigned CmdWidth = 128;

  // Address width of the load unit: the widest scratchpad it writes (0 for one that is
  // not there).
  function automatic int unsigned load_aw(input int unsigned act_aw, input int unsigned wgt_aw,
                                          input int unsigned param_aw,
                                          input int unsigned gbuf_aw,
                                          input int unsigned meta_aw);
    load_aw = act_aw;
    if (wgt_aw > load_aw)   load_aw = wgt_aw;
    if (param_aw > load_aw) load_aw = param_aw;
    if (gbuf_aw > load_aw)  load_aw = gbuf_aw;
    if (meta_aw > load_aw)  load_aw = meta_aw;
  endfunction

  // Store settings of a GEMM, carried from the dispatcher through the execute unit's job
  // word into the store unit and down its lane pipeline. Bit offsets of the fields:
  localparam int unsigned StoreCfgW  = 26;
  localparam int unsigned CfgHi      = 0;   // [7:0]   int8 clamp_hi
  localparam int unsigned CfgLo      = 8;   // [15:8]  int8 clamp_lo
  localparam int unsigned CfgZp      = 16;  // [23:16] int8 output zero point
  localparam int unsigned CfgPerChan = 24;  // per-channel multiplier and shift
  localparam int unsigned CfgRequant = 25;  // int8 output through requantization
  // Job word, execute unit -> store unit, one per column block, LSB first:
  //   store cfg [StoreCfgW], param_base [ParamAW], m_rows [AccAW+1], acc bank, cmd last.
  // Its width is JobFixedW + ParamAW + AccAW + 1 (the two widths are configuration).
  localparam int unsigned JobFixedW = StoreCfgW + 2;
  // A PARAM word on the stream is ParamBytes bytes: bias (0-3), multiplier (4-7), shift
  // (8, in [-31, 30]) and flags (9; bit 0: single rounding). The scratchpad keeps
  // ParamBits of it: bias[31:0], mult[63:32], then the shift byte with its redundant top
  // bit replaced by the rounding flag: shift[70:64] (7-bit signed), single[71].
  localparam int unsigned ParamBytes = 10;
  localparam int unsigned ParamBits  = 72;
  localparam int unsigned ParamSingle = 71;
  // Requantization lane (tsr_requant) timing, in cycles after the one its stage-1 inputs
  // are presented in: the result appears rq_latency cycles later; the zero point is read
  // rq_zp_at cycles later, the clamp rq_clamp_at cycles later. A Lean lane has three
  // stages fewer, all before the zero point; a Deep lane one more, after the clamp.
  function automatic int unsigned rq_latency(input bit lean, input bit deep = 1'b0);
    return lean ? 6 : deep ? 10 : 9;
  endfunction
  function automatic int unsigned rq_zp_at(input bit lean);
    return lean ? 4 : 7;
  endfunction
  function automatic int unsigned rq_clamp_at(input bit lean);
    return lean ? 5 : 8;
  endfunction

  // CSR byte addresses.
  localparam logic [11:0] CsrId            = 12'h000;
  localparam logic [11:0] CsrVersion       = 12'h004;
  localparam logic [11:0] CsrCfgArray      = 12'h008;
  localparam logic [11:0] CsrCfgActDepth   = 12'h00C;
  localparam logic [11:0] CsrCfgWgtDepth   = 12'h010;
  localparam logic [11:0] CsrCfgAccDepth   = 12'h014;
  localparam logic [11:0] CsrCfgParamDepth = 12'h018;
  localparam logic [11:0] CsrCfgStream     = 12'h01C;
  localparam logic [11:0] CsrFeatures      = 12'h020;
  localparam logic [11:0] CsrCtrl          = 12'h024;
  localparam logic [11:0] CsrStatus        = 12'h028;
  localparam logic [11:0] CsrErrCode       = 12'h02C;
  localparam logic [11:0] CsrErrCmd        = 12'h030;
  localparam logic [11:0] CsrCfgGbufDepth  = 12'h034;
  localparam logic [11:0] CsrCfgMetaDepth  = 12'h038;
  localparam logic [11:0] CsrCmd0          = 12'h040;
  localparam logic [11:0] CsrCmd1          = 12'h044;
  localparam logic [11:0] CsrCmd2          = 12'h048;
  localparam logic [11:0] CsrCmd3          = 12'h04C;
  localparam logic [11:0] CsrPerfCycles    = 12'h080;
  localparam logic [11:0] CsrPerfBusy      = 12'h084;
  localparam logic [11:0] CsrPerfStall     = 12'h088;
  localparam logic [11:0] CsrPerfMacsLo    = 12'h08C;
  localparam logic [11:0] CsrPerfMacsHi    = 12'h090;
  localparam logic [11:0] CsrPerfLastOut   = 12'h094;
  localparam logic [11:0] CsrPerfCmds      = 12'h098;
  localparam logic [11:0] CsrPerfDropped   = 12'h09C;

  // CTRL bits.
  localparam int unsigned CtrlClear     = 0;
  localparam int unsigned CtrlPerfClear = 1;

endpackage
