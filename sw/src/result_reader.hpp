// The results of the GEMM, SPGEMM and SPGEMMA commands a run has pushed and not yet read,
// read in stream order into the output tensor (docs/isa.md: per output block, M beats,
// lane c = channel n0 + c). On a transport with bounded buffers (a board's bridge, docs/protocol.md
// "Bounded buffers") make_room() reads the oldest results before the next LOAD or
// command is pushed, so nothing the engine needs can wait behind unread results.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "tessera/device.hpp"
#include "tessera/runtime.hpp"

namespace tessera {

class ResultReader {
 public:
  ResultReader(Device& device, std::size_t m, std::size_t n);

  // How a command's output blocks follow one another: Cols channels on (GEMM and SPGEMM
  // column blocks), or Cols rows on (SPGEMMA row blocks).
  enum class Step { kChannels, kRows };

  // A command just pushed: `blocks` output blocks of `rows` beats each, the first for
  // output rows m0..m0+rows-1 and channels n0.., each next one a `step` on. `work_cycles`
  // (about what the engine computes for it) sizes the cycle budget of the wait for its
  // results.
  void expect(std::size_t m0, std::size_t rows, std::size_t n0, std::size_t blocks, Step step,
              std::uint64_t work_cycles);
  // Bounded transports: reads the oldest commands' results until no more are unread
  // than the engine's output FIFO holds.
  void make_room();
  // Reads the results of all but the newest `keep` commands.
  void drain(std::size_t keep);

  Tensor<std::int32_t>& output() { return output_; }
  std::vector<OutputBlock>& blocks() { return blocks_; }  // one per column block, stream order
  // Reads every result still pending, checks the engine for an error and hands the output,
  // counters and blocks over as the run's result (the reader is spent afterwards).
  GemmRun finish(std::size_t commands, std::uint64_t start_sim_cycles);

 private:
  struct Pending {
    std::size_t m0 = 0, rows = 0, n0 = 0, blocks = 1;
    Step step = Step::kChannels;
    std::uint64_t work_cycles = 0;
  };
  // Where block b of a command's output lies.
  OutputBlock block_of(const Pending& command, std::size_t b) const;
  // Reads the oldest pending command's results; `keep` (the commands left behind it)
  // sizes the cycle budget.
  void read_oldest(std::size_t keep);

  Device& device_;
  std::size_t cols_;
  Tensor<std::int32_t> output_;
  std::deque<Pending> pending_;
  std::size_t unread_beats_ = 0;  // output beats of pending_
  std::size_t max_unread_beats_;
  std::vector<OutputBlock> blocks_;
};

}  // namespace tessera
