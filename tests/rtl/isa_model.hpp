// Sequential reference model of the Tessera ISA (docs/isa.md, version 1.1): the ACT, WGT
// and PARAM scratchpads, LOAD and GEMM run one after another, validation with its error
// codes, input-packet (TLAST) and PARAM shift checks, the sticky error and CLEAR.
// Requantization and the command encoding come from libtessera (tessera/golden.hpp,
// tessera/isa.hpp), not from a copy.
//
// The model knows which scratchpad words hold defined data: words never loaded (or whose
// LOAD a CLEAR interrupted, see forget()) are unknown, and a GEMM that would read one
// throws ModelError, because its output is not defined by the program.
#pragma once

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
    unsigned target = 0;
    std::uint32_t dst = 0, count = 0;
  };
  static bool is_load(const isa::CommandWords& w) { return (w[0] & 0xFF) == 0x01; }
  static bool is_gemm(const isa::CommandWords& w) { return (w[0] & 0xFF) == 0x02; }
  static Load decode_load(const isa::CommandWords& w);
  static isa::GemmCommand decode_gemm(const isa::CommandWords& w);

  // The error a command raises when it reaches the dispatcher (NONE: it is legal).
  // Where a command breaks several rules the code is the dispatcher's first check
  // (LOAD: target, count, range; GEMM: clamp, shape, range); docs/isa.md names no order.
  isa::ErrorCode validate(const isa::CommandWords& w) const;

  // Runs a (valid) LOAD on the packet the host sends for it: writes the words the packet
  // rules allow and returns NONE, STREAM or BAD_PARAM. Beats past the packet's TLAST are
  // not part of it.
  isa::ErrorCode load(const isa::CommandWords& w, const Packet& packet);
  // Output beats of a (valid) GEMM from the scratchpads as they are now.
  std::vector<OutBeat> gemm(const isa::CommandWords& w) const;

  // Scratchpad ranges the commands touch: [lo, hi) word ranges per target.
  struct Range {
    unsigned target;
    std::uint64_t lo, hi;
  };
  std::vector<Range> reads(const isa::CommandWords& gemm_words) const;
  // Forgets what a range holds (a LOAD cut short by CLEAR wrote an unknown prefix).
  void forget(unsigned target, std::uint64_t lo, std::uint64_t hi);
  bool known(unsigned target, std::uint64_t lo, std::uint64_t hi) const;
  int depth(unsigned target) const;

  // ---- sequential program semantics: the sticky error and the command index ------------
  struct Outcome {
    bool dropped = false;
    isa::ErrorCode error = isa::ErrorCode::kNone;  // raised by this command
    std::vector<OutBeat> out;                      // a GEMM's result beats
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
  Pad& pad(unsigned target) { return pads_[target]; }
  const Pad& pad(unsigned target) const { return pads_[target]; }

  ModelConfig config_;
  Pad pads_[3];
  isa::ErrorCode err_code_ = isa::ErrorCode::kNone;
  std::uint32_t err_cmd_ = 0;
  std::uint32_t next_index_ = 0;
  std::uint64_t dropped_ = 0;
};

// Encoding helpers on top of isa::encode.
isa::CommandWords load_words(unsigned target, std::uint32_t dst, std::uint32_t count);

std::string describe(const isa::CommandWords& w);

}  // namespace tessera::rtl_test
