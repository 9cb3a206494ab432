// Simulation model of the iCE40UP5K SB_SPRAM256KA (16K x 16 single-port RAM), as
// rtl/board/tsr_frame_buf.sv uses it: with CHIPSELECT high (and POWEROFF high, STANDBY and
// SLEEP low) a clock edge either writes the nibbles MASKWREN selects (WREN high) or reads
// ADDRESS into DATAOUT (WREN low); deselected, DATAOUT holds its value. A write leaves
// DATAOUT undefined on the chip: here it turns to garbage (the written word inverted), so
// a design that reads across its own writes fails in simulation too. Power-down states are
// not modelled beyond blanking DATAOUT. Never synthesized: the FPGA flow uses the vendor cell.
module SB_SPRAM256KA (
  input  logic [13:0] ADDRESS,
  input  logic [15:0] DATAIN,
  input  logic [3:0]  MASKWREN,
  input  logic        WREN,
  input  logic        CHIPSELECT,
  input  logic        CLOCK,
  input  logic        STANDBY,
  input  logic        SLEEP,
  input  logic        POWEROFF,  // active low
  output logic [15:0] DATAOUT
);

  logic [15:0] mem_q [16384];
  logic [15:0] dout_q;
  logic        on;

  assign on = POWEROFF && !SLEEP && !STANDBY;

  always_ff @(posedge CLOCK) begin
    if (!on) begin
      dout_q <= '0;
    end else if (CHIPSELECT) begin
      if (WREN) begin
        for (int n = 0; n < 4; n++) begin
          if (MASKWREN[n]) mem_q[ADDRESS][n*4 +: 4] <= DATAIN[n*4 +: 4];
        end
        dout_q <= ~DATAIN;
      end else begin
        dout_q <= mem_q[ADDRESS];
      end
    end
  end

  assign DATAOUT = dout_q;

endmodule
