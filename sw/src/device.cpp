#include "tessera/device.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include "tessera/errors.hpp"

namespace tessera {

Device::Device(Transport& transport) : transport_(transport) {
  config_.id = transport_.csr_read(isa::csr::kId);
  if (config_.id != isa::kIdValue) {
    std::ostringstream message;
    message << "not a Tessera engine: ID register reads 0x" << std::hex << config_.id
            << ", expected 0x" << isa::kIdValue;
    throw EngineError(message.str());
  }
  config_.version = transport_.csr_read(isa::csr::kVersion);
  // Another major version is another ISA; a newer minor one only adds to this one.
  if (config_.version >> 16 != isa::kVersionValue >> 16) {
    throw EngineError("engine speaks ISA " + isa::version_text(config_.version) +
                      ", this runtime ISA " + isa::version_text(isa::kVersionValue) +
                      " (major versions differ: rebuild the engine or the runtime)");
  }
  const std::uint32_t array = transport_.csr_read(isa::csr::kCfgArray);
  config_.rows = array & 0xFFFF;
  config_.cols = array >> 16;
  config_.act_depth = transport_.csr_read(isa::csr::kCfgActDepth);
  config_.wgt_depth = transport_.csr_read(isa::csr::kCfgWgtDepth);
  config_.acc_depth = transport_.csr_read(isa::csr::kCfgAccDepth);
  config_.param_depth = transport_.csr_read(isa::csr::kCfgParamDepth);
  const std::uint32_t stream = transport_.csr_read(isa::csr::kCfgStream);
  config_.in_beat_bytes = stream & 0xFFFF;
  config_.out_beat_bytes = stream >> 16;
  config_.features = transport_.csr_read(isa::csr::kFeatures);
  config_.cmd_fifo_depth = (config_.features >> 8) & 0xFF;
  if ((config_.features & isa::kFeaturesRequired) != isa::kFeaturesRequired) {
    std::ostringstream message;
    message << "engine (ISA " << isa::version_text(config_.version)
            << ") lacks features this runtime "
            << "needs: FEATURES reads 0x" << std::hex << config_.features << ", bits 0x"
            << (isa::kFeaturesRequired & ~config_.features) << " of 0x" << isa::kFeaturesRequired
            << " (dense, requant, per-channel, hazard and TLAST checks) are clear";
    throw EngineError(message.str());
  }
  // Engines before version 1.2 have no sparse feature and do not map these CSRs.
  if (config_.sparse()) {
    config_.gbuf_depth = transport_.csr_read(isa::csr::kCfgGbufDepth);
    config_.meta_depth = transport_.csr_read(isa::csr::kCfgMetaDepth);
  }
  resident(isa::Target::kAct) = ResidentWords(config_.act_depth, config_.rows);
  resident(isa::Target::kWgt) = ResidentWords(config_.wgt_depth, config_.cols);
  resident(isa::Target::kParam) = ResidentWords(config_.param_depth, isa::kParamBytes);
  resident(isa::Target::kMeta) = ResidentWords(config_.meta_depth, config_.cols);
  resident(isa::Target::kGbuf) = ResidentWords(config_.gbuf_depth, config_.rows);
}

void Device::push(const isa::CommandWords& words) {
  forget_load(words);
  if (fifo_free_ == 0) wait_for_command_room();
  transport_.csr_write(isa::csr::kCmd0, words[0]);
  transport_.csr_write(isa::csr::kCmd1, words[1]);
  transport_.csr_write(isa::csr::kCmd2, words[2]);
  transport_.csr_write(isa::csr::kCmd3, words[3]);
  --fifo_free_;
}

void Device::wait_for_command_room() {
  const unsigned depth = config_.cmd_fifo_depth;
  const std::uint32_t status_word = status();
  const unsigned level = (status_word >> 16) & 0xFF;  // STATUS[23:16]
  const bool full = (status_word & isa::status::kFifoFull) != 0;
  if (depth > 0 && !full && level <= depth / 2) {
    fifo_free_ = depth - level;
    return;
  }
  if (depth == 0 && !full) {
    fifo_free_ = 1;  // an engine that reports no depth: one command at a time on FIFO_FULL
    return;
  }
  // The engine is behind by more than half a FIFO: let it work through half, so the next
  // depth/2 pushes need no STATUS read (waiting for one free entry would cost a read per
  // push while the engine is the bottleneck).
  const unsigned target = depth / 2;
  try {
    if (depth == 0) {
      transport_.wait_status(isa::status::kFifoFull, Transport::kAnyFifoLevel, command_wait_budget);
    } else {
      transport_.wait_status(0, target, command_wait_budget);
    }
  } catch (const EngineError&) {
    throw;
  } catch (const TransportError& e) {
    throw TransportError("command FIFO (depth " + std::to_string(depth) + ", " +
                         std::to_string(level) + " queued) did not drain to " +
                         std::to_string(target) + " within " + std::to_string(command_wait_budget) +
                         " cycles: the command at its head cannot issue (a LOAD waiting for "
                         "input never sent, or a GEMM whose results are not read?): " +
                         e.what());
  }
  // Only this Device pushes, so the level can only have fallen since.
  fifo_free_ = depth == 0 ? 1 : depth - target;
}

void Device::queue_words(std::span<const std::uint8_t> words, unsigned word_bytes) {
  const std::size_t count = words.size() / word_bytes;
  std::vector<std::uint8_t> beats(count * config_.in_beat_bytes, 0);
  for (std::size_t i = 0; i < count; ++i) {
    std::copy_n(words.begin() + i * word_bytes, word_bytes,
                beats.begin() + i * config_.in_beat_bytes);
  }
  transport_.stream_write(beats);
}

void Device::clear() {
  transport_.csr_write(isa::csr::kCtrl, isa::ctrl::kClear);
  forget_resident();                    // an aborted LOAD may have written part of its range
  fifo_free_ = config_.cmd_fifo_depth;  // CLEAR empties the FIFO
}

void Device::perf_clear() { transport_.csr_write(isa::csr::kCtrl, isa::ctrl::kPerfClear); }

PerfCounters Device::perf() {
  PerfCounters perf;
  perf.detail = config_.perf_detail();
  perf.cycles = transport_.csr_read(isa::csr::kPerfCycles);
  perf.last_out = transport_.csr_read(isa::csr::kPerfLastOut);
  if (!perf.detail) return perf;
  perf.busy = transport_.csr_read(isa::csr::kPerfBusy);
  perf.stall = transport_.csr_read(isa::csr::kPerfStall);
  perf.macs = transport_.csr_read(isa::csr::kPerfMacsLo);
  perf.macs |= std::uint64_t{transport_.csr_read(isa::csr::kPerfMacsHi)} << 32;
  perf.retired = transport_.csr_read(isa::csr::kPerfCmds);
  perf.dropped = transport_.csr_read(isa::csr::kPerfDropped);
  return perf;
}

std::uint32_t Device::status() { return transport_.csr_read(isa::csr::kStatus); }

void Device::check_error() {
  if (!(status() & isa::status::kError)) return;
  const auto code = static_cast<isa::ErrorCode>(transport_.csr_read(isa::csr::kErrCode) & 0xFF);
  const std::uint32_t index = transport_.csr_read(isa::csr::kErrCmd);
  // The engine drops every command after the failing one until a CLEAR; clearing here
  // leaves it ready for the caller's next call (what it held resident is forgotten).
  clear();
  std::string message = "engine error ";
  message += isa::error_name(code);
  message += " (code " + std::to_string(static_cast<unsigned>(code)) + ") at command #" +
             std::to_string(index) + "; the engine was cleared";
  throw EngineError(message);
}

// ---- resident operands ---------------------------------------------------------------

const ResidentWords& Device::resident(isa::Target target) const {
  return resident_[static_cast<unsigned>(target)];
}

ResidentWords& Device::resident(isa::Target target) {
  return resident_[static_cast<unsigned>(target)];
}

std::size_t Device::load(isa::Target target, std::uint32_t dst,
                         std::span<const std::uint8_t> words) {
  ResidentWords& words_held = resident(target);
  const unsigned word_bytes = words_held.word_bytes();
  if (words.empty() || words.size() % word_bytes != 0) {
    throw InputError("load of " + std::to_string(words.size()) +
                     " bytes is not a whole number (>0) of " + std::to_string(word_bytes) +
                     "-byte words");
  }
  const std::size_t count = words.size() / word_bytes;
  if (dst > words_held.depth() || count > words_held.depth() - dst) {
    throw InputError("load of words [" + std::to_string(dst) + ", " + std::to_string(dst + count) +
                     ") past the end of a " + std::to_string(words_held.depth()) +
                     "-word scratchpad");
  }
  const ResidentWords::Span differ = words_held.differing(dst, words);
  const std::uint64_t stamp = ++load_stamp_;
  if (differ.first == differ.last) {
    words_held.touch(dst, count, stamp);
    return 0;
  }
  const auto sent =
      words.subspan(differ.first * word_bytes, (differ.last - differ.first) * word_bytes);
  isa::LoadCommand cmd;
  cmd.target = target;
  cmd.dst = static_cast<std::uint32_t>(dst + differ.first);
  cmd.count = static_cast<std::uint32_t>(differ.last - differ.first);
  // The command before its data: a board's bridge holds no input ahead of the LOAD that
  // takes it (docs/protocol.md, "Bounded buffers").
  push(isa::encode(cmd));
  queue_words(sent, word_bytes);
  words_held.store(dst, words, stamp);
  return differ.last - differ.first;
}

bool Device::holds(isa::Target target, std::uint32_t dst,
                   std::span<const std::uint8_t> words) const {
  const ResidentWords& words_held = resident(target);
  const std::size_t count = words.size() / words_held.word_bytes();
  if (dst > words_held.depth() || count > words_held.depth() - dst) return false;
  return words_held.holds(dst, words);
}

std::size_t Device::matching_words(isa::Target target, std::uint32_t dst,
                                   std::span<const std::uint8_t> words) const {
  const ResidentWords& words_held = resident(target);
  const std::size_t count = words.size() / words_held.word_bytes();
  if (dst > words_held.depth() || count > words_held.depth() - dst) return 0;
  return words_held.matching(dst, words);
}

std::uint64_t Device::last_use(isa::Target target, std::uint32_t dst, std::uint32_t count) const {
  return resident(target).last_use(dst, count);
}

void Device::forget_resident() {
  for (ResidentWords& words_held : resident_) words_held.forget_all();
}

void Device::reset() {
  transport_.reset();
  forget_resident();
  fifo_free_ = 0;  // unknown until STATUS says: the next push reads it
}

void Device::forget_load(const isa::CommandWords& words) {
  if ((words[0] & 0xFF) != static_cast<std::uint32_t>(isa::Opcode::kLoad)) return;
  const unsigned target = (words[0] >> 8) & 0x7;
  if (target > static_cast<unsigned>(isa::Target::kGbuf)) return;
  resident(static_cast<isa::Target>(target)).forget(words[1], words[2]);
}

}  // namespace tessera
