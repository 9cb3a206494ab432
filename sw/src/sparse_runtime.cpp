// The sparse path's schedule. The engine checks address-range hazards (docs/isa.md,
// "Ordering"), so the program order alone decides what an SPGEMM reads; the schedule
// decides how much overlaps:
//   - Column blocks are grouped into SPGEMM commands. A command has one len for all its
//     blocks, so a block with fewer entries is padded; a command of its own costs a
//     dispatch instead. The grouping that minimizes the model's cycles (max(len, M) a
//     block, plus kCommandCycles a command) is found by dynamic programming over
//     consecutive blocks.
//   - Weight values (WGT), indices (META, same addresses) and parameters (PARAM) of as
//     many groups as fit are loaded once (a pass) and stay for every M block. Device::load
//     leaves out the words the engine already holds, so a later call with the same B
//     sends none of them.
//   - M blocks of at most Rows rows take turns in the two halves of GBUF. The next
//     block's LOAD GBUF sits right behind the current block's first SPGEMM: it writes the
//     other half, so it runs while that SPGEMM computes, and a command waiting at the
//     FIFO head would hold back everything behind it.
//   - While a pass's operands stream in, the M blocks of both halves run one command per
//     column block, each right behind that block's PARAM/WGT/META LOADs (an SPGEMM waits
//     only for the LOAD writing its words): compute starts after one block's words, and
//     two M blocks' compute covers most of the next block's operand stream.
//   - Results are read as run_gemm reads them (ResultReader), three commands behind, or
//     down to the engine's output FIFO on a bounded transport.
#include "tessera/sparse_runtime.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "channel_params.hpp"
#include "result_reader.hpp"
#include "split_k.hpp"
#include "tessera/errors.hpp"

namespace tessera {
namespace {

constexpr std::size_t kOutstandingCommands = 3;
// What an SPGEMM command costs beyond its column blocks: the 5 cycles a command waits
// at the dispatcher's head (back-to-back SPGEMMs on the 16x16 engine issue len + 4
// cycles apart, from `tessera spmm --log-commands`). Only steers the grouping.
constexpr std::uint64_t kCommandCycles = 5;
constexpr std::size_t kMaxNtCount = 255;  // SPGEMM nt_count field
constexpr std::size_t kMaxBase = 0xFFFF;  // 16-bit base fields

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// Consecutive column blocks [first, first + count) of one SPGEMM command, each padded to
// `len` entries, at WGT and META word `base` of their pass.
struct Group {
  std::size_t first = 0, count = 0;
  unsigned len = 1;
  std::size_t base = 0;
};

// Groups loaded together and resident for every M block: their WGT/META words from 0,
// their channels' PARAM words from 0.
struct Pass {
  std::vector<Group> groups;
  std::size_t first_block = 0, blocks = 0, words = 0;
};

class SparseScheduler {
 public:
  SparseScheduler(Device& device, const GemmProblem& problem, const SparseChunk& chunk,
                  const SparseGeometry& geometry)
      : device_(device),
        config_(device.config()),
        problem_(problem),
        chunk_(chunk),
        rows_(geometry.rows),
        cols_(geometry.cols),
        word_capacity_(
            std::min<std::size_t>({config_.wgt_depth, config_.meta_depth, kMaxBase + 1})),
        m_blocks_(ceil_div(problem.m(), rows_)) {}

  GemmRun run() {
    plan_passes(plan_groups());
    params_ = param_words(problem_, chunk_.blocks.size() * cols_);
    results_.emplace(device_, problem_.m(), problem_.n());

    const std::uint64_t start_cycles = device_.transport().stats().cycles;
    device_.perf_clear();
    for (const Pass& pass : passes_) {
      build_pass_words(pass);
      // While the pass's operands stream in, the M blocks of both GBUF halves run one
      // command per column block, right behind that block's own operands: the lanes
      // start after one block's words rather than the whole pass's (run_gemm splits its
      // first chunk the same way), and two M blocks' compute, 2·len cycles a column
      // block, about covers the 2·len + Cols beats of the next block's operands.
      // Operands already in place (an earlier call left them) need no split.
      const std::size_t early = pass_in_place(pass) ? 0 : std::min<std::size_t>(2, m_blocks_);
      load_gbuf(0);
      if (early == 2) load_gbuf(1);
      if (early > 0) {
        // The next block's operands go between the two M blocks' commands: behind the
        // second, they would wait for the first to finish (a command waiting for the
        // sparse unit at the FIFO head holds back the LOADs behind it).
        const std::vector<Group> commands = per_block(pass);
        send_operands(pass, commands[0]);
        for (std::size_t i = 0; i < commands.size(); ++i) {
          push_and_read(pass, commands[i], 0);
          if (i + 1 < commands.size()) send_operands(pass, commands[i + 1]);
          if (early == 2) push_and_read(pass, commands[i], 1);
        }
      }
      for (std::size_t b = early; b < m_blocks_; ++b) {
        // Into the half the command before does not read, so it overlaps that command.
        if (b == early && b > 0) load_gbuf(b);
        for (std::size_t g = 0; g < pass.groups.size(); ++g) {
          push_and_read(pass, pass.groups[g], b);
          // The next M block's activations go into the other half right behind this
          // block's first command, whose compute they overlap.
          if (g == 0 && b + 1 < m_blocks_) load_gbuf(b + 1);
        }
      }
    }
    return results_->finish(commands_, start_cycles);
  }

 private:
  std::size_t block_rows(std::size_t b) const {
    return std::min<std::size_t>(rows_, problem_.m() - b * rows_);
  }

  // The cheapest split of the column blocks into consecutive groups: cost(group) =
  // count * max(len, M) + kCommandCycles, len the group's longest block. A group fits
  // in one pass (WGT/META words, PARAM channels) and in the nt_count field.
  std::vector<Group> plan_groups() const {
    const std::size_t nt = chunk_.blocks.size();
    const std::size_t m = std::min<std::size_t>(rows_, problem_.m());
    const std::size_t max_count =
        std::min({kMaxNtCount, std::size_t{config_.param_depth} / cols_, nt});
    if (max_count == 0) {
      throw EngineError("PARAM holds " + std::to_string(config_.param_depth) +
                        " channels, fewer than one column block of " + std::to_string(cols_));
    }
    constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
    std::vector<std::uint64_t> best(nt + 1, kNever);
    std::vector<std::size_t> start(nt + 1, 0);
    best[0] = 0;
    for (std::size_t end = 1; end <= nt; ++end) {
      std::size_t len = 0;
      for (std::size_t first = end; first-- > 0 && end - first <= max_count;) {
        len = std::max<std::size_t>(len, chunk_.blocks[first].len);
        const std::size_t count = end - first;
        if (count * len > word_capacity_) break;
        if (best[first] == kNever) continue;
        const std::uint64_t cost = best[first] + count * std::max(len, m) + kCommandCycles;
        if (cost < best[end]) best[end] = cost, start[end] = first;
      }
      if (best[end] == kNever) {
        throw EngineError("one column block of " + std::to_string(chunk_.blocks[end - 1].len) +
                          " entries does not fit in WGT/META (" + std::to_string(word_capacity_) +
                          " words)");
      }
    }
    std::vector<Group> groups;
    for (std::size_t end = nt; end > 0; end = start[end]) {
      Group group;
      group.first = start[end];
      group.count = end - group.first;
      for (std::size_t b = group.first; b < end; ++b) {
        group.len = std::max(group.len, chunk_.blocks[b].len);
      }
      groups.push_back(group);
    }
    std::reverse(groups.begin(), groups.end());
    return groups;
  }

  // As many consecutive groups a pass as WGT/META and PARAM hold.
  void plan_passes(const std::vector<Group>& groups) {
    for (Group group : groups) {
      const std::size_t words = group.count * group.len;
      const bool fits = !passes_.empty() && passes_.back().words + words <= word_capacity_ &&
                        (passes_.back().blocks + group.count) * cols_ <= config_.param_depth;
      if (!fits) passes_.push_back({{}, group.first, 0, 0});
      Pass& pass = passes_.back();
      group.base = pass.words;
      pass.groups.push_back(group);
      pass.blocks += group.count;
      pass.words += words;
    }
  }

  // The pass's WGT and META words from word 0: each group's blocks padded to its len.
  void build_pass_words(const Pass& pass) {
    wgt_words_.clear();
    meta_words_.clear();
    for (const Group& group : pass.groups) {
      for (std::size_t b = group.first; b < group.first + group.count; ++b) {
        append_block_words(chunk_.blocks[b], group.len, static_cast<unsigned>(cols_), wgt_words_,
                           meta_words_);
      }
    }
  }

  std::span<const std::uint8_t> pass_params(const Pass& pass) const {
    const std::size_t bytes = cols_ * isa::kParamBytes;
    return std::span(params_).subspan(pass.first_block * bytes, pass.blocks * bytes);
  }

  bool pass_in_place(const Pass& pass) const {
    return device_.holds(isa::Target::kParam, 0, pass_params(pass)) &&
           device_.holds(isa::Target::kWgt, 0, wgt_words_) &&
           device_.holds(isa::Target::kMeta, 0, meta_words_);
  }

  // The pass's groups cut into commands of one column block each; a block keeps its
  // group's len and address, so the words are the same either way.
  static std::vector<Group> per_block(const Pass& pass) {
    std::vector<Group> blocks;
    for (const Group& group : pass.groups) {
      for (std::size_t t = 0; t < group.count; ++t) {
        blocks.push_back({group.first + t, 1, group.len, group.base + t * group.len});
      }
    }
    return blocks;
  }

  // The PARAM, WGT and META words of one command's column blocks. Parameters first, as
  // run_gemm sends them.
  void send_operands(const Pass& pass, const Group& command) {
    const std::size_t param_bytes = cols_ * isa::kParamBytes;
    const std::size_t first = command.first - pass.first_block;
    send(isa::Target::kParam, static_cast<std::uint32_t>(first * cols_),
         pass_params(pass).subspan(first * param_bytes, command.count * param_bytes));
    const std::size_t offset = command.base * cols_, bytes = command.count * command.len * cols_;
    const auto dst = static_cast<std::uint32_t>(command.base);
    send(isa::Target::kWgt, dst, std::span(wgt_words_).subspan(offset, bytes));
    send(isa::Target::kMeta, dst, std::span(meta_words_).subspan(offset, bytes));
  }

  std::uint32_t gbuf_half(std::size_t b) const {
    return static_cast<std::uint32_t>((b % 2) * (config_.gbuf_depth / 2));
  }

  // M block b transposed: GBUF word k holds A[m0 + r, k] in byte r, zeros past the block.
  void load_gbuf(std::size_t b) {
    const std::size_t word_bytes = config_.rows, m0 = b * rows_;
    std::vector<std::uint8_t> words(chunk_.k * word_bytes, 0);
    for (std::size_t k = 0; k < chunk_.k; ++k) {
      for (std::size_t r = 0; r < block_rows(b); ++r) {
        words[k * word_bytes + r] = static_cast<std::uint8_t>(problem_.a.at(m0 + r, k));
      }
    }
    send(isa::Target::kGbuf, gbuf_half(b), words);
  }

  void send(isa::Target target, std::uint32_t dst, std::span<const std::uint8_t> words) {
    results_->make_room();
    if (device_.load(target, dst, words) > 0) ++commands_;
  }

  // Results of older commands are read while later ones are still queued, so the host
  // never waits on the engine while it could be feeding it.
  void push_and_read(const Pass& pass, const Group& group, std::size_t b) {
    results_->make_room();
    push_spgemm(pass, group, b);
    results_->drain(kOutstandingCommands);
  }

  void push_spgemm(const Pass& pass, const Group& group, std::size_t b) {
    const std::size_t rows = block_rows(b);
    isa::SpgemmCommand cmd;
    set_output_stage(cmd, problem_);
    cmd.gbuf_base = static_cast<std::uint16_t>(gbuf_half(b));
    cmd.wgt_base = static_cast<std::uint16_t>(group.base);
    cmd.meta_base = static_cast<std::uint16_t>(group.base);
    cmd.param_base = static_cast<std::uint16_t>((group.first - pass.first_block) * cols_);
    cmd.m_rows = static_cast<unsigned>(rows);
    cmd.k_count = static_cast<unsigned>(chunk_.k);
    cmd.len = group.len;
    cmd.nt_count = static_cast<std::uint8_t>(group.count);
    device_.push(isa::encode(cmd));
    ++commands_;
    results_->expect(b * rows_, rows, group.first * cols_, group.count,
                     group.count * std::max<std::uint64_t>(group.len, rows) + kCommandCycles);
  }

  Device& device_;
  const EngineConfig& config_;
  const GemmProblem& problem_;
  const SparseChunk& chunk_;
  const std::size_t rows_, cols_;
  const std::size_t word_capacity_;  // WGT and META words a pass may use
  const std::size_t m_blocks_;
  std::vector<Pass> passes_;
  std::vector<std::uint8_t> params_;
  std::vector<std::uint8_t> wgt_words_, meta_words_;  // of the current pass
  std::optional<ResultReader> results_;
  std::size_t commands_ = 0;
};

GemmRun run_packed(Device& device, const GemmProblem& problem, const SparseFormat& format,
                   const SparseGeometry& geometry) {
  const SparseB packed = pack_sparse(problem.b, format, geometry);
  return SparseScheduler(device, problem, packed.chunks.front(), geometry).run();
}

}  // namespace

SparseGeometry sparse_geometry(const EngineConfig& config) {
  SparseGeometry geometry;
  geometry.rows = std::min(config.rows, 64u);
  geometry.cols = config.cols;
  // A column's entries never outnumber its chunk's K, so a chunk no longer than WGT and
  // META always fits one column block in them.
  geometry.max_chunk_k =
      std::min<std::size_t>({256, config.gbuf_depth / 2, config.wgt_depth, config.meta_depth});
  return geometry;
}

SparseGemmRun run_sparse_gemm(Device& device, const GemmProblem& problem,
                              const SparseFormat& format) {
  validate(problem);
  const EngineConfig& config = device.config();
  SparseGemmRun result;
  result.nonzeros = count_nonzeros(problem.b);
  // A B that breaks its declared format is the input's fault, whatever the engine.
  if (format.kind == SparseFormat::Kind::kNM) check_nm(problem.b, format.n, format.m);

  result.format = format;
  const SparseGeometry geometry = sparse_geometry(config);
  if (format.kind == SparseFormat::Kind::kAuto) {
    result.format = SparseFormat{SparseFormat::Kind::kDense};
    if (config.sparse()) {
      const FormatChoice choice =
          choose_format(problem.b, problem.m(), geometry, config.rows, config.cols);
      result.format = choice.format;
    }
  } else if (format.kind != SparseFormat::Kind::kDense && !config.sparse()) {
    throw EngineError(
        "the engine has no sparse-gather path (FEATURES bit 5 clear), so it cannot "
        "run format " +
        format_name(format) + "; format auto runs dense there");
  }

  if (result.format.kind == SparseFormat::Kind::kDense) {
    result.model_cycles =
        dense_cycles(problem.m(), problem.k(), problem.n(), config.rows, config.cols);
    result.run = run_gemm(device, problem);
    return result;
  }
  const std::size_t step = chunk_k(result.format, geometry);
  result.model_cycles =
      sparse_cycles(pack_sparse(problem.b, result.format, geometry), problem.m(), geometry.rows);
  try {
    if (problem.k() <= step) {
      result.run = run_packed(device, problem, result.format, geometry);
    } else {
      result.run = run_split_k(problem, step, [&](const GemmProblem& part) {
        return run_packed(device, part, result.format, geometry);
      });
    }
  } catch (...) {
    // A run that stopped part way may have left a LOAD half fed or commands queued:
    // what the scratchpads hold is no longer known.
    device.forget_resident();
    throw;
  }
  return result;
}

}  // namespace tessera
