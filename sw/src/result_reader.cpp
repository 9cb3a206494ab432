#include "result_reader.hpp"

#include <cstring>

#include "tessera/errors.hpp"

namespace tessera {

ResultReader::ResultReader(Device& device, std::size_t m, std::size_t n)
    : device_(device),
      cols_(device.config().cols),
      output_(m, n),
      max_unread_beats_(device.transport().limits().output_beats) {}

void ResultReader::expect(std::size_t m0, std::size_t rows, std::size_t n0, std::size_t blocks,
                          Step step, std::uint64_t work_cycles) {
  pending_.push_back({m0, rows, n0, blocks, step, work_cycles});
  unread_beats_ += rows * blocks;
  for (std::size_t b = 0; b < blocks; ++b) blocks_.push_back(block_of(pending_.back(), b));
}

OutputBlock ResultReader::block_of(const Pending& command, std::size_t b) const {
  const std::size_t offset = b * cols_;
  if (command.step == Step::kRows) return {command.m0 + offset, command.rows, command.n0};
  return {command.m0, command.rows, command.n0 + offset};
}

void ResultReader::make_room() {
  while (unread_beats_ > max_unread_beats_) read_oldest(pending_.size() - 1);
}

void ResultReader::drain(std::size_t keep) {
  while (pending_.size() > keep) read_oldest(keep);
}

void ResultReader::read_oldest(std::size_t keep) {
  const Pending out = pending_.front();
  pending_.pop_front();
  unread_beats_ -= out.rows * out.blocks;
  const unsigned beat_bytes = device_.config().out_beat_bytes;
  for (std::size_t b = 0; b < out.blocks; ++b) {
    const std::uint64_t budget = 2'000'000 + 16 * out.work_cycles * (keep + 2);
    std::vector<std::uint8_t> beats;
    try {
      beats = device_.transport().stream_read(static_cast<std::uint32_t>(out.rows), budget);
    } catch (const TransportError&) {
      device_.check_error();  // an engine error explains the silence better
      throw;
    }
    const OutputBlock block = block_of(out, b);
    for (std::size_t m = 0; m < block.rows; ++m) {
      for (std::size_t c = 0; c < cols_ && block.n0 + c < output_.cols(); ++c) {
        std::int32_t value;
        std::memcpy(&value, &beats[m * beat_bytes + 4 * c], 4);
        output_.at(block.m0 + m, block.n0 + c) = value;
      }
    }
  }
}

GemmRun ResultReader::finish(std::size_t commands, std::uint64_t start_sim_cycles) {
  drain(0);
  device_.check_error();
  GemmRun result;
  result.output = std::move(output_);
  result.perf = device_.perf();
  result.cycles = result.perf.last_out;
  result.commands = commands;
  result.sim_cycles = device_.transport().stats().cycles - start_sim_cycles;
  result.blocks = std::move(blocks_);
  return result;
}

}  // namespace tessera
