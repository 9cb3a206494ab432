// The bridge's frame buffer: one single-port byte memory of Bytes (the request payload
// while a frame comes in and executes, then the reply payload), in the form Yosys maps
// to block RAM (iCE40 EBR, ECP5 DP16KD). A read (en_i && !we_i) returns its byte in
// rdata_o the next cycle, and rdata_o holds it until the next read.
//
// On the iCE40UP5K, Spram = 1 puts it in one SB_SPRAM256KA (16K x 16, up to 32 KiB)
// instead of Bytes/512 EBRs: synth_ice40 -spram does not map an 8-bit-wide memory there by
// itself. The byte lanes are the SPRAM's nibble write masks; a registered address bit
// picks the read byte. (Simulated with sim/board/SB_SPRAM256KA.sv.)
module tsr_frame_buf #(
  parameter int unsigned Bytes = 4096,
  parameter bit          Spram = 1'b0,
  localparam int unsigned AddrW = $clog2(Bytes)
) (
  input  logic             clk_i,
  input  logic             en_i,
  input  logic             we_i,
  input  logic [AddrW-1:0] addr_i,
  input  logic [7:0]       wdata_i,
  output logic [7:0]       rdata_o
);

  if (Spram) begin : gen_spram
    if (Bytes < 2 || Bytes > 32768) begin : gen_bad_bytes
      $error("tsr_frame_buf: one SPRAM holds 2 to 32768 bytes");
    end

    logic [15:0] dout;
    logic        hi_q;  // the last read was of the word's upper byte

    SB_SPRAM256KA u_spram (
      .ADDRESS   (14'(addr_i[AddrW-1:1])),
      .DATAIN    ({wdata_i, wdata_i}),
      .MASKWREN  (addr_i[0] ? 4'b1100 : 4'b0011),
      .WREN      (we_i),
      .CHIPSELECT(en_i),  // deselected, DATAOUT keeps the last read
      .CLOCK     (clk_i),
      .STANDBY   (1'b0),
      .SLEEP     (1'b0),
      .POWEROFF  (1'b1),
      .DATAOUT   (dout)
    );

    always_ff @(posedge clk_i) begin
      if (en_i && !we_i) hi_q <= addr_i[0];
    end

    assign rdata_o = hi_q ? dout[15:8] : dout[7:0];

  end else begin : gen_ebr
    logic [7:0] mem_q [Bytes];
    logic [7:0] rdata_q;

    always_ff @(posedge clk_i) begin
      if (en_i) begin
        if (we_i) mem_q[addr_i] <= wdata_i;
        else      rdata_q <= mem_q[addr_i];
      end
    end

    assign rdata_o = rdata_q;
  end

endmodule
