// One byte of the IEEE 802.3 / zlib CRC-32 (reflected polynomial 0xEDB88320), the CRC of
// docs/protocol.md's frames: crc_o is the running register after byte_i. Start from
// 0xFFFFFFFF and invert the final register (crc32("123456789") == 0xCBF43926).
// Combinational: eight unrolled shift steps, about 3 LUT levels on either FPGA family.
module tsr_crc32 (
  input  logic [31:0] crc_i,
  input  logic [7:0]  byte_i,
  output logic [31:0] crc_o
);

  localparam logic [31:0] Poly = 32'hEDB8_8320;

  always_comb begin
    crc_o = crc_i ^ {24'h0, byte_i};
    for (int unsigned b = 0; b < 8; b++) begin
      crc_o = crc_o[0] ? ((crc_o >> 1) ^ Poly) : (crc_o >> 1);
    end
  end

endmodule
