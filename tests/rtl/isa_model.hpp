// Sequential reference model of the Tessera ISA (docs/isa.md, version 1.3): the ACT, WGT
// and PARAM scratchpads (and META and GBUF on an engine with the sparse feature), LOAD,
// GEMM, SPGEMM and SPGEMMA run one after another, validation with its error codes, input-packet
// (TLAST) and PARAM shift checks, BAD_META, the sticky error and CLEAR.
// Requantization and the command encoding come from libtessera (tessera/golden.hpp,
// tessera/isa.hpp), not from a copy.
//
// The model knows which scratchpad words hold defined data: words never loaded (or whose
// LOAD a CLEAR interrupted, see forget()) are unknown, and a GEMM that would read one
// throws ModelError, because its output is not defined by the program. An SPGEMM with
// BAD_META is defined only in shape (docs/isa.md: it completes, its results are
// undefined): the model gives its beats' count and TLAST, and says the lanes are not.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/isa.hpp"

namespace tessera::rtl_test {

struct ModelConfig {
  int rows = 4, cols = 4;
  int act_depth = 64, wgt_depth = 64, acc_depth = 16, param_depth = 16;
  int in_bytes = 16;
  int fifo_depth = 16;
  bool sparse = false;  // FEATURES bit 5: SPGEMM, LOAD META and GBUF
  bool sparse_a = false;  // FEATURES bit 6: SPGEMMA (A compressed)
  int gbuf_depth = 0, meta_depth = 0;  // 0 without the sparse feature
  int out_bytes() const { return 4 * cols; }
};

// One input-stream beat as the host presents it.
struct InBeat {
  std::vector<std::uint8_t> bytes;  // in_bytes
  bool last = false;
};
using Packet = std::vector<InBeat>;

// One result beat: Cols int32 lanes and TLAST.
struct OutBeat {
  std::vector<std::int32_t> lanes;
  bool last = false;
  bool operator==(const OutBeat&) const = default;
};

// The model was asked something the program leaves undefined (a testbench bug).
class ModelError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class IsaModel {
 public:
  explicit IsaModel(const ModelConfig& config);

  const ModelConfig& config() const { return config_; }

  // Decoded fields, as docs/isa.md lays them out.
  struct Load {
    unsigned target = 0;  // w0[10:8]: 0..7
    std::uint32_t dst = 0, count = 0;
  };
  // By opcode alone: an SPGEMM on an engine without the sparse feature is ILLEGAL_OP.
  // is_spgemm takes SPGEMMA too (the same fields, the operands' roles swapped).
  static bool is_load(const isa::CommandWords& w) { return (w[0] & 0xFF) == 0x01; }
  static bool is_gemm(const isa::CommandWords& w) { return (w[0] & 0xFF) == 0x02; }
  static bool is_spgemm_a(const isa::CommandWords& w) { return (w[0] & 0xFF) == 0x04; }
  static bool is_spgemm(const isa::CommandWords& w) {
    return (w[0] & 0xFF) == 0x03 || is_spgemm_a(w);
  }
  static Load decode_load(const isa::CommandWords& w);
  static isa::GemmCommand decode_gemm(const isa::CommandWords& w);
  static isa::SpgemmCommand decode_spgemm(const isa::CommandWords& w);

  // The error a command raises when it reaches the dispatcher (NONE: it is legal).
  // Where a command breaks several rules the code is the first it fails in the order
  // docs/isa.md gives: BAD_FIELD, SHAPE, ADDR_RANGE (LOAD: target, count, range; GEMM
  // and SPGEMM: clamp, shape, range).
  isa::ErrorCode validate(const isa::CommandWords& w) const;

  // Runs a (valid) LOAD on the packet the host sends for it: writes the words the packet
  // rules allow and returns NONE, STREAM or BAD_PARAM. Beats past the packet's TLAST are
  // not part of it.
  isa::ErrorCode load(const isa::CommandWords& w, const Packet& packet);
  // Output beats of a (valid) GEMM from the scratchpads as they are now.
  std::vector<OutBeat> gemm(const isa::CommandWords& w) const;
  // Whether a (valid) SPGEMM raises BAD_META: an entry's K index >= its K. Reads META
  // (throws ModelError where it is unknown: whether the error is raised is undefined).
  bool bad_meta(const isa::CommandWords& w) const;
  // Output beats of a (valid) SPGEMM without BAD_META, from the scratchpads as they are now.
  std::vector<OutBeat> spgemm(const isa::CommandWords& w) const;
  // The beats a (valid) GEMM or SPGEMM sends, with lanes of 0: where the values are
  // undefined (BAD_META), their count and TLAST still are.
  std::vector<OutBeat> result_shape(const isa::CommandWords& w) const;

  // Scratchpad ranges the commands touch: [lo, hi) word ranges per target.
  struct Range {
    unsigned target;
    std::uint64_t lo, hi;
  };
  // The ranges a (decodable) GEMM or SPGEMM reads.
  std::vector<Range> reads(const isa::CommandWords& w) const;
  // Forgets what a range holds (a LOAD cut short by CLEAR wrote an unknown prefix).
  void forget(unsigned target, std::uint64_t lo, std::uint64_t hi);
  bool known(unsigned target, std::uint64_t lo, std::uint64_t hi) const;
  int depth(unsigned target) const;

  // ---- sequential program semantics: the sticky error and the command index ------------
  struct Outcome {
    bool dropped = false;
    isa::ErrorCode error = isa::ErrorCode::kNone;  // raised by this command
    std::vector<OutBeat> out;                      // a GEMM's or SPGEMM's result beats
    bool out_undefined = false;  // BAD_META: out gives the beats' count and TLAST only
  };
  // One command pushed into the FIFO, with its packet if it is a LOAD that will run.
  Outcome run(const isa::CommandWords& w, const Packet& packet = {});
  // A CMD3 write that found the FIFO full: the command is lost, OVERFLOW latched. The
  // lost command takes an index, as the RTL counts it (docs/isa.md leaves this open).
  void overflow();
  // CTRL.CLEAR: the error goes, ERR_CMD and the scratchpads stay.
  void clear();
  // Latches an error for the command with this index (unless one is latched already).
  void latch(isa::ErrorCode code, std::uint32_t index);
  // The index the next pushed command gets.
  std::uint32_t next_index() const { return next_index_; }
  std::uint32_t take_index() { return next_index_++; }

  bool error() const { return err_code_ != isa::ErrorCode::kNone; }
  isa::ErrorCode err_code() const { return err_code_; }
  std::uint32_t err_cmd() const { return err_cmd_; }
  std::uint64_t dropped() const { return dropped_; }

  // The word as the scratchpad holds it (rows, cols or 9 bytes); throws if unknown.
  const std::vector<std::uint8_t>& word(unsigned target, std::uint64_t addr) const;

 private:
  struct Pad {
    std::vector<std::vector<std::uint8_t>> words;
    std::vector<bool> known;
  };
  Pad& pad(unsigned target) { return pads_.at(target); }
  const Pad& pad(unsigned target) const { return pads_.at(target); }

  // Lane c of an output row: bias, then requantization and clamp (GEMM and SPGEMM alike).
  struct Epilogue {
    bool requant, per_channel;
    std::int8_t zero_point, clamp_lo, clamp_hi;
    std::uint16_t param_base;
    int param_stride = 0;  // PARAM words from one column block to the next (SPGEMMA: 0)
  };
  std::int32_t output_lane(const Epilogue& e, int nt, int c, std::uint32_t sum) const;
  // The result beats of a GEMM or SPGEMM: column block nt, then row m, lane c from
  // output_lane(lane_sum(nt, m, c)); TLAST on each block's last row.
  template <class LaneSum>
  std::vector<OutBeat> result_beats(const Epilogue& e, int nt_count, int m_rows,
                                    LaneSum lane_sum) const;

  static constexpr unsigned kTargets = 5;  // ACT, WGT, PARAM, META, GBUF

  ModelConfig config_;
  std::array<Pad, kTargets> pads_;
  isa::ErrorCode err_code_ = isa::ErrorCode::kNone;
  std::uint32_t err_cmd_ = 0;
  std::uint32_t next_index_ = 0;
  std::uint64_t dropped_ = 0;
};

// Encoding helpers on top of isa::encode.
isa::CommandWords load_words(unsigned target, std::uint32_t dst, std::uint32_t count);

std::string describe(const isa::CommandWords& w);

}  // namespace tessera::rtl_test
