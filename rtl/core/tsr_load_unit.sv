// Load unit: copies one input packet of `count` AXI4-Stream beats into consecutive words
// of one scratchpad (docs/isa.md, "Input packets"). The low bytes of each beat form the
// word; the scratchpad ignores the rest. TLAST must mark the packet's last beat and no
// other; a PARAM word's shift must lie in [-31, 30]. The beat that breaks either rule is
// not written and raises err_o; the rest of its packet is accepted and discarded up to
// its TLAST, so the stream stays aligned with the commands.
// CTRL.CLEAR stops a LOAD at once; a packet in progress at that moment (beats of it
// accepted, or a beat presented) is then discarded up to its TLAST as well.
//
// WriteReg = 1 registers the scratchpad write (enable, address, data) here: the checks on
// the beat end at a register instead of at every block RAM of a wide scratchpad spread
// over the die. The write then lands a cycle after its beat, and everything that says
// what is written follows it: done_o, the window of words still to be written (it keeps
// the registered word), and cmd_ready_o (no new LOAD while a write is pending). So does
// err_o, so the beat's checks reach no register in the dispatcher either (an error shows
// a cycle later; docs/isa.md lets a command handed off meanwhile complete).
module tsr_load_unit #(
  parameter int unsigned InBytes  = 16,
  parameter int unsigned AddrW    = 8,
  parameter bit          WriteReg = 1'b0
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 clear_i,
  input  logic                 cmd_valid_i,
  output logic                 cmd_ready_o,
  input  logic [2:0]           target_i,
  input  logic [AddrW-1:0]     dst_i,
  input  logic [AddrW:0]       count_i,
  input  logic [InBytes*8-1:0] s_tdata_i,
  input  logic                 s_tvalid_i,
  output logic                 s_tready_o,
  input  logic                 s_tlast_i,
  output logic [4:0]           we_o,     // one-hot, bit tsr_pkg::Tgt*: ACT, WGT, PARAM,
                                         // META, GBUF
  output logic [AddrW-1:0]     waddr_o,
  output logic [InBytes*8-1:0] wdata_o,
  output logic                 done_o,   // the last beat of a LOAD was written
  // The words this LOAD has yet to write, [wr_lo_o, wr_hi_o) of target wr_target_o: the
  // execute unit starts no fold that reads them (read after write at fold granularity).
  output logic                 wr_active_o,
  output logic [2:0]           wr_target_o,
  output logic [AddrW:0]       wr_lo_o,
  output logic [AddrW:0]       wr_hi_o,
  output logic                 err_o,    // a beat broke the packet or PARAM rules
  output logic [7:0]           err_code_o,
  output logic                 busy_o,
  output logic                 stall_o
);

  if (InBytes < tsr_pkg::ParamBytes) begin : gen_bad_in_bytes
    $error("InBytes must hold a PARAM word (tsr_pkg::ParamBytes bytes)");
  end

  typedef enum logic [1:0] {StIdle, StLoad, StDiscard} state_e;
  state_e state_q, state_d;

  logic [2:0]       target_q;
  logic [AddrW-1:0] addr_q;
  logic [AddrW:0]   left_q;
  logic [AddrW:0]   end_q;    // dst + count: one past the LOAD's last word
  logic             in_packet_q;  // beats of a packet accepted, its TLAST not yet
  logic             beat, last_beat, bad_last, bad_shift, bad;
  logic signed [7:0] shift;

  assign s_tready_o = (state_q != StIdle);
  assign beat       = s_tvalid_i && s_tready_o;
  assign last_beat  = (left_q == {{AddrW{1'b0}}, 1'b1});
  assign shift      = s_tdata_i[71:64];
  assign bad_last   = (s_tlast_i != last_beat);
  assign bad_shift  = (target_q == tsr_pkg::TgtParam) && (shift < -8'sd31 || shift > 8'sd30);
  assign bad        = (state_q == StLoad) && beat && (bad_last || bad_shift);

  logic [4:0]           we;
  logic                 done;
  assign done        = (state_q == StLoad) && beat && !bad && last_beat && !clear_i;
  logic       err;
  logic [7:0] err_code;
  assign err         = bad && !clear_i;
  assign err_code    = bad_last ? tsr_pkg::ErrStream : tsr_pkg::ErrBadParam;
  assign wr_target_o = target_q;
  // Registered at the start (addr_q + left_q stays equal to it), so the execute unit's
  // read-after-write compare starts at a flip-flop, not behind an adder.
  assign wr_hi_o     = end_q;
  assign stall_o     = (state_q == StLoad) && !s_tvalid_i;

  always_comb begin
    we = '0;
    // The dispatcher hands over targets 0..4 only (others are BAD_FIELD).
    if ((state_q == StLoad) && beat && !bad && !clear_i) we[target_q] = 1'b1;
  end

  if (WriteReg) begin : gen_write_reg
    logic [4:0]           we_q;
    logic [AddrW-1:0]     waddr_q;
    logic [InBytes*8-1:0] wdata_q;
    logic                 done_q, err_q;
    logic [7:0]           err_code_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        we_q   <= '0;
        done_q <= 1'b0;
        err_q  <= 1'b0;
      end else begin
        we_q   <= we;
        done_q <= done;
        err_q  <= err;
      end
    end
    always_ff @(posedge clk_i) begin
      waddr_q    <= addr_q;
      wdata_q    <= s_tdata_i;
      err_code_q <= err_code;
    end
    assign err_o       = err_q;
    assign err_code_o  = err_code_q;
    assign we_o        = we_q;
    assign waddr_o     = waddr_q;
    assign wdata_o     = wdata_q;
    assign done_o      = done_q;
    assign cmd_ready_o = (state_q == StIdle) && (we_q == '0);
    assign busy_o      = (state_q != StIdle) || (we_q != '0);
    assign wr_active_o = (state_q == StLoad) || (we_q != '0);
    assign wr_lo_o     = {1'b0, (we_q != '0) ? waddr_q : addr_q};
  end else begin : gen_write_now
    assign we_o        = we;
    assign waddr_o     = addr_q;
    assign wdata_o     = s_tdata_i;
    assign done_o      = done;
    assign err_o       = err;
    assign err_code_o  = err_code;
    assign cmd_ready_o = (state_q == StIdle);
    assign busy_o      = (state_q != StIdle);
    assign wr_active_o = (state_q == StLoad);
    assign wr_lo_o     = {1'b0, addr_q};
  end

  // A packet is in progress after this cycle if a beat without TLAST went in, or none
  // went in and one was already in progress.
  logic in_packet_d;
  assign in_packet_d = beat ? !s_tlast_i : in_packet_q;

  always_comb begin
    state_d = state_q;
    if (clear_i) begin
      // Discard what was begun: accepted beats, or a beat the host presents right now.
      state_d = (in_packet_d || (!beat && s_tvalid_i)) ? StDiscard : StIdle;
    end else begin
      case (state_q)
        StIdle:    if (cmd_valid_i) state_d = StLoad;
        StLoad:    if (beat && (bad || last_beat)) state_d = s_tlast_i ? StIdle : StDiscard;
        StDiscard: if (beat && s_tlast_i) state_d = StIdle;
        default:   state_d = StIdle;
      endcase
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      target_q    <= '0;
      addr_q      <= '0;
      left_q      <= '0;
      end_q       <= '0;
      in_packet_q <= 1'b0;
    end else begin
      state_q     <= state_d;
      in_packet_q <= in_packet_d;
      if (!clear_i && state_q == StIdle && cmd_valid_i) begin
        target_q <= target_i;
        addr_q   <= dst_i;
        left_q   <= count_i;
        end_q    <= {1'b0, dst_i} + count_i;
      end else if (beat) begin
        addr_q <= addr_q + 1'b1;
        left_q <= left_q - 1'b1;
      end
    end
  end

`ifndef SYNTHESIS
  // ---- assertions and cover points -------------------------------------------------------
  CmdOnlyWhenIdle_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                      cmd_valid_i |-> cmd_ready_o)
    else $error("LOAD handed to a busy load unit");
  LegalTarget_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                  cmd_valid_i |-> target_i <= tsr_pkg::TgtGbuf);
  NoCountZero_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                  cmd_valid_i |-> count_i != '0);
  LeftNonZero_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                  state_q == StLoad |-> left_q != '0)
    else $error("load unit beat counter wrapped");
  EndKept_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                              state_q == StLoad |-> end_q == {1'b0, addr_q} + left_q)
    else $error("load unit window end lost its words");
  OneHotWrite_A: assert property (@(posedge clk_i) disable iff (!rst_ni) $onehot0(we_o));
  LegalState_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                 state_q inside {StIdle, StLoad, StDiscard});
  // The AXI4-Stream rules on the input side bind the host: checked here for the testbenches.
  InValidHeld_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                  s_tvalid_i && !s_tready_o |=> s_tvalid_i)
    else $error("input TVALID dropped without a handshake (host bug)");
  InDataStable_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
                                   s_tvalid_i && !s_tready_o |=> $stable(s_tdata_i) &&
                                                                 $stable(s_tlast_i))
    else $error("input TDATA/TLAST changed while held (host bug)");
  StreamEarly_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                 bad && bad_last && s_tlast_i);
  StreamLate_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                bad && bad_last && !s_tlast_i);
  BadParam_C: cover property (@(posedge clk_i) disable iff (!rst_ni) bad && !bad_last);
  ClearDiscards_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                   clear_i && state_d == StDiscard);
  ClearDuringLoad_C: cover property (@(posedge clk_i) disable iff (!rst_ni)
                                     clear_i && state_q == StLoad);
`endif

endmodule
