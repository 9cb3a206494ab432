// The sparse path's schedule. The sparse lanes run two ways (docs/isa.md): SPGEMM keeps
// B's column blocks in WGT/META and streams M blocks of A through GBUF; SPGEMMA keeps A's
// row blocks there and streams column blocks of B. One scheduler serves both: the
// compressed operand's blocks are "stationary", the GBUF blocks "streamed". The engine
// checks address-range hazards (docs/isa.md, "Ordering"), so the program order alone
// decides what a command reads; the schedule decides how much overlaps:
//   - Stationary blocks are grouped into commands. A command has one len for all its
//     blocks, so a block with fewer entries is padded; a command of its own costs a
//     dispatch instead. The grouping that minimizes the model's cycles (max(len, M) a
//     block, plus kCommandCycles a command) is found by dynamic programming over
//     consecutive blocks. (SPGEMMA outputs the same rows of every row block of a command,
//     so a short last row block of A is a command of its own.)
//   - Entry values (WGT), indices (META, same addresses) and, for SPGEMM, the parameters
//     of the column blocks (PARAM) of as many groups as fit are loaded once (a pass) and
//     stay for every streamed block. Device::load leaves out the words the engine already
//     holds, so a later call with the same compressed operand sends none of them.
//     SPGEMMA's parameters go with the streamed column block of B, into a PARAM slot of
//     their own (slot b modulo the slots PARAM holds), so they too stay where they fit.
//   - Streamed blocks take turns in the two halves of GBUF. The next block's LOAD GBUF
//     sits right behind the current block's first command: it writes the other half, so
//     it runs while that command computes, and a command waiting at the FIFO head would
//     hold back everything behind it.
//   - While a pass's operands stream in, the streamed blocks of both halves run one
//     command per stationary block, each right behind that block's PARAM/WGT/META LOADs
//     (a command waits only for the LOAD writing its words): compute starts after one
//     block's words, and two streamed blocks' compute covers most of the next block's
//     operand stream.
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
constexpr std::size_t kMaxMRows = 64;     // SPGEMM m_rows field
constexpr std::size_t kMaxBase = 0xFFFF;  // 16-bit base fields

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// Consecutive stationary blocks [first, first + count) of one command, each padded to
// `len` entries, at WGT and META word `base` of their pass.
struct Group {
  std::size_t first = 0, count = 0;
  unsigned len = 1;
  std::size_t base = 0;
};

// Groups loaded together and resident for every streamed block: their WGT/META words
// from 0, and for SPGEMM their channels' PARAM words from 0.
struct Pass {
  std::vector<Group> groups;
  std::size_t first_block = 0, blocks = 0, words = 0;
};

class SparseScheduler {
 public:
  // `chunk` is the compressed operand of one K chunk: B's column blocks (SPGEMM) or A's
  // row blocks (SPGEMMA, pack_sparse_a); `geometry` the one it was packed with.
  SparseScheduler(Device& device, const GemmProblem& problem, SparseOperand operand,
                  const SparseChunk& chunk, const SparseGeometry& geometry)
      : device_(device),
        config_(device.config()),
        problem_(problem),
        sparse_a_(operand == SparseOperand::kA),
        chunk_(chunk),
        rows_(geometry.rows),
        cols_(geometry.cols),
        word_capacity_(
            std::min<std::size_t>({config_.wgt_depth, config_.meta_depth, kMaxBase + 1})),
        streamed_(ceil_div(sparse_a_ ? problem.n() : problem.m(), rows_)),
        param_slots_(config_.param_depth / config_.cols) {}

  GemmRun run() {
    if (param_slots_ == 0) {
      throw EngineError("PARAM holds " + std::to_string(config_.param_depth) +
                        " channels, fewer than one column block of " +
                        std::to_string(config_.cols));
    }
    plan_passes(plan_groups());
    params_ = param_words(problem_, ceil_div(problem_.n(), config_.cols) * config_.cols);
    results_.emplace(device_, problem_.m(), problem_.n());

    const std::uint64_t start_cycles = device_.transport().stats().cycles;
    device_.perf_clear();
    for (const Pass& pass : passes_) {
      build_pass_words(pass);
      // While the pass's operands stream in, the streamed blocks of both GBUF halves run
      // one command per stationary block, right behind that block's own operands: the
      // lanes start after one block's words rather than the whole pass's (run_gemm
      // splits its first chunk the same way), and two streamed blocks' compute, 2·len
      // cycles a stationary block, about covers the 2·len + Cols beats of the next
      // block's operands. Operands already in place (an earlier call left them) need no
      // split.
      const std::size_t early = pass_in_place(pass) ? 0 : std::min<std::size_t>(2, streamed_);
      load_streamed(0);
      if (early == 2) load_streamed(1);
      if (early > 0) {
        // The next block's operands go between the two streamed blocks' commands: behind
        // the second, they would wait for the first to finish (a command waiting for the
        // sparse unit at the FIFO head holds back the LOADs behind it).
        const std::vector<Group> commands = per_block(pass);
        send_operands(pass, commands[0]);
        for (std::size_t i = 0; i < commands.size(); ++i) {
          push_and_read(pass, commands[i], 0);
          if (i + 1 < commands.size()) send_operands(pass, commands[i + 1]);
          if (early == 2) push_and_read(pass, commands[i], 1);
        }
      }
      for (std::size_t b = early; b < streamed_; ++b) {
        // Into the half the command before does not read, so it overlaps that command.
        if (b == early && b > 0) load_streamed(b);
        for (std::size_t g = 0; g < pass.groups.size(); ++g) {
          push_and_read(pass, pass.groups[g], b);
          // The next streamed block goes into the other half right behind this block's
          // first command, whose compute it overlaps.
          if (g == 0 && b + 1 < streamed_) load_streamed(b + 1);
        }
      }
    }
    return results_->finish(commands_, start_cycles);
  }

 private:
  // The output rows of each block of a command over stationary block s and streamed
  // block b: SPGEMM's M block b, SPGEMMA's row block s.
  std::size_t output_rows(std::size_t s, std::size_t b) const {
    if (sparse_a_) return std::min(cols_, problem_.m() - s * cols_);
    return std::min(rows_, problem_.m() - b * rows_);
  }

  // The cheapest split of the stationary blocks into consecutive groups: cost(group) =
  // count * max(len, M) + kCommandCycles, len the group's longest block, M its blocks'
  // output rows (the first M block's for SPGEMM), which must be the same for all. A
  // group fits in one pass (WGT/META words, for SPGEMM PARAM channels) and in the
  // nt_count field.
  std::vector<Group> plan_groups() const {
    const std::size_t nt = chunk_.blocks.size();
    std::size_t max_count = std::min(kMaxNtCount, nt);
    if (!sparse_a_) max_count = std::min(max_count, param_slots_);
    constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
    std::vector<std::uint64_t> best(nt + 1, kNever);
    std::vector<std::size_t> start(nt + 1, 0);
    best[0] = 0;
    for (std::size_t end = 1; end <= nt; ++end) {
      const std::size_t m = output_rows(end - 1, 0);
      std::size_t len = 0;
      for (std::size_t first = end; first-- > 0 && end - first <= max_count;) {
        if (output_rows(first, 0) != m) break;
        len = std::max<std::size_t>(len, chunk_.blocks[first].len);
        const std::size_t count = end - first;
        if (count * len > word_capacity_) break;
        if (best[first] == kNever) continue;
        const std::uint64_t cost = best[first] + count * std::max(len, m) + kCommandCycles;
        if (cost < best[end]) best[end] = cost, start[end] = first;
      }
      if (best[end] == kNever) {
        throw EngineError("one block of " + std::to_string(chunk_.blocks[end - 1].len) +
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

  // As many consecutive groups a pass as WGT/META (and for SPGEMM PARAM) hold.
  void plan_passes(const std::vector<Group>& groups) {
    for (Group group : groups) {
      const std::size_t words = group.count * group.len;
      const bool fits = !passes_.empty() && passes_.back().words + words <= word_capacity_ &&
                        (sparse_a_ || passes_.back().blocks + group.count <= param_slots_);
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

  // The PARAM words of `count` column blocks of channels from block `first` on.
  std::span<const std::uint8_t> block_params(std::size_t first, std::size_t count) const {
    const std::size_t bytes = config_.cols * isa::kParamBytes;
    return std::span(params_).subspan(first * bytes, count * bytes);
  }

  // SPGEMM: the PARAM words of the pass's column blocks, resident from word 0.
  std::span<const std::uint8_t> pass_params(const Pass& pass) const {
    return block_params(pass.first_block, pass.blocks);
  }

  // SPGEMMA: the PARAM word of channel 0 of B's column block b.
  std::uint32_t param_slot(std::size_t b) const {
    return static_cast<std::uint32_t>((b % param_slots_) * config_.cols);
  }

  bool pass_in_place(const Pass& pass) const {
    return (sparse_a_ || device_.holds(isa::Target::kParam, 0, pass_params(pass))) &&
           device_.holds(isa::Target::kWgt, 0, wgt_words_) &&
           device_.holds(isa::Target::kMeta, 0, meta_words_);
  }

  // The pass's groups cut into commands of one stationary block each; a block keeps its
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

  // The (SPGEMM: PARAM,) WGT and META words of one command's stationary blocks.
  // Parameters first, as run_gemm sends them.
  void send_operands(const Pass& pass, const Group& command) {
    if (!sparse_a_) {
      const std::size_t first = command.first - pass.first_block;
      send(isa::Target::kParam, static_cast<std::uint32_t>(first * cols_),
           block_params(command.first, command.count));
    }
    const std::size_t offset = command.base * cols_, bytes = command.count * command.len * cols_;
    const auto dst = static_cast<std::uint32_t>(command.base);
    send(isa::Target::kWgt, dst, std::span(wgt_words_).subspan(offset, bytes));
    send(isa::Target::kMeta, dst, std::span(meta_words_).subspan(offset, bytes));
  }

  std::uint32_t gbuf_half(std::size_t b) const {
    return static_cast<std::uint32_t>((b % 2) * (config_.gbuf_depth / 2));
  }

  // Streamed block b into its half of GBUF: SPGEMM's M block of A transposed, word k
  // holding A[m0 + r, k] in byte r; SPGEMMA's column block of B, word k holding
  // B[k, n0 + r] in byte r (with its channels' parameters, first, into their slot).
  // Zeros past the edge of the operand.
  void load_streamed(std::size_t b) {
    const std::size_t word_bytes = config_.rows, first = b * rows_;
    const std::size_t count = std::min(rows_, (sparse_a_ ? problem_.n() : problem_.m()) - first);
    std::vector<std::uint8_t> words(chunk_.k * word_bytes, 0);
    for (std::size_t k = 0; k < chunk_.k; ++k) {
      for (std::size_t r = 0; r < count; ++r) {
        const std::int8_t value =
            sparse_a_ ? problem_.b.at(k, first + r) : problem_.a.at(first + r, k);
        words[k * word_bytes + r] = static_cast<std::uint8_t>(value);
      }
    }
    if (sparse_a_) send(isa::Target::kParam, param_slot(b), block_params(b, 1));
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
    push_command(pass, group, b);
    results_->drain(kOutstandingCommands);
  }

  void push_command(const Pass& pass, const Group& group, std::size_t b) {
    const std::size_t rows = output_rows(group.first, b);
    isa::SpgemmCommand cmd;
    set_output_stage(cmd, problem_);
    cmd.compressed_a = sparse_a_;
    cmd.gbuf_base = static_cast<std::uint16_t>(gbuf_half(b));
    cmd.wgt_base = static_cast<std::uint16_t>(group.base);
    cmd.meta_base = static_cast<std::uint16_t>(group.base);
    cmd.param_base = static_cast<std::uint16_t>(
        sparse_a_ ? param_slot(b) : (group.first - pass.first_block) * cols_);
    cmd.m_rows = static_cast<unsigned>(rows);
    cmd.k_count = static_cast<unsigned>(chunk_.k);
    cmd.len = group.len;
    cmd.nt_count = static_cast<std::uint8_t>(group.count);
    device_.push(isa::encode(cmd));
    ++commands_;
    const std::uint64_t work =
        group.count * std::max<std::uint64_t>(group.len, rows) + kCommandCycles;
    if (sparse_a_) {
      results_->expect(group.first * cols_, rows, b * rows_, group.count, ResultReader::Step::kRows,
                       work);
    } else {
      results_->expect(b * rows_, rows, group.first * cols_, group.count,
                       ResultReader::Step::kChannels, work);
    }
  }

  Device& device_;
  const EngineConfig& config_;
  const GemmProblem& problem_;
  const bool sparse_a_;  // SPGEMMA: A's row blocks stationary, B's column blocks streamed
  const SparseChunk& chunk_;
  const std::size_t rows_, cols_;    // a streamed block's rows (channels), a stationary one's
  const std::size_t word_capacity_;  // WGT and META words a pass may use
  const std::size_t streamed_;       // streamed blocks
  const std::size_t param_slots_;    // column blocks of channels PARAM holds
  std::vector<Pass> passes_;
  std::vector<std::uint8_t> params_;
  std::vector<std::uint8_t> wgt_words_, meta_words_;  // of the current pass
  std::optional<ResultReader> results_;
  std::size_t commands_ = 0;
};

// One K chunk of the problem (K <= the geometry's max_chunk_k) through the sparse lanes.
GemmRun run_packed(Device& device, const GemmProblem& problem, SparseOperand operand,
                   const SparseFormat& format, const SparseGeometry& geometry) {
  const SparseB packed = operand == SparseOperand::kA ? pack_sparse_a(problem.a, geometry)
                                                      : pack_sparse(problem.b, format, geometry);
  return SparseScheduler(device, problem, operand, packed.chunks.front(), geometry).run();
}

// Whether the engine runs SPGEMMA for this runtime: bit 6, and row blocks whose every
// row the m_rows field can output.
bool runs_sparse_a(const EngineConfig& config) {
  return config.sparse_a() && config.cols <= kMaxMRows;
}

// "auto" on an engine with the sparse path: the fewest model cycles among what it runs (a
// sparse A considers SPGEMMA too).
FormatChoice choose(const GemmProblem& problem, SparseOperand operand, const EngineConfig& config) {
  if (operand == SparseOperand::kA && runs_sparse_a(config)) {
    return choose_format_a(problem.a, problem.b, sparse_a_geometry(config), sparse_geometry(config),
                           config.rows, config.cols);
  }
  return choose_format(problem.b, problem.m(), sparse_geometry(config), config.rows, config.cols);
}

void require_feature(const EngineConfig& config, SparseOperand operand,
                     const SparseFormat& format) {
  if (operand == SparseOperand::kA && !config.sparse_a()) {
    throw EngineError(
        "the engine has no sparse-activation path (FEATURES bit 6 clear: SPGEMMA needs the "
        "sparse feature on a square array), so it cannot run a sparse A; format auto runs "
        "dense there");
  }
  if (operand == SparseOperand::kA && !runs_sparse_a(config)) {
    throw EngineError("SPGEMMA outputs at most " + std::to_string(kMaxMRows) +
                      " rows a row block, but this engine's row blocks have Cols = " +
                      std::to_string(config.cols));
  }
  if (operand == SparseOperand::kB && !config.sparse()) {
    throw EngineError(
        "the engine has no sparse-gather path (FEATURES bit 5 clear), so it cannot "
        "run format " +
        format_name(format) + "; format auto runs dense there");
  }
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

SparseGeometry sparse_a_geometry(const EngineConfig& config) {
  SparseGeometry geometry = sparse_geometry(config);
  geometry.rows = config.cols;  // channels of a column block of B in GBUF (Rows = Cols)
  return geometry;
}

SparseGemmRun run_sparse_gemm(Device& device, const GemmProblem& problem,
                              const SparseFormat& format, SparseOperand operand) {
  validate(problem);
  const EngineConfig& config = device.config();
  require_rounding(config, problem);
  // An operand that breaks its declared format is the input's fault, whatever the engine.
  if (format.kind == SparseFormat::Kind::kNM) {
    if (operand == SparseOperand::kA) {
      throw InputError("format " + format_name(format) +
                       " is a pattern of B; a sparse A (SPGEMMA) is unstructured or auto");
    }
    check_nm(problem.b, format.n, format.m);
  }

  SparseGemmRun result;
  result.operand = operand;
  result.format = format;
  if (format.kind == SparseFormat::Kind::kAuto) {
    result.format = SparseFormat{SparseFormat::Kind::kDense};
    if (config.sparse()) {
      const FormatChoice choice = choose(problem, operand, config);
      result.format = choice.format;
      if (choice.format.kind != SparseFormat::Kind::kDense) result.operand = choice.operand;
    }
  } else if (format.kind != SparseFormat::Kind::kDense) {
    require_feature(config, operand, format);
  }
  const bool sparse_a = result.operand == SparseOperand::kA;
  result.nonzeros = count_nonzeros(sparse_a ? problem.a : problem.b);

  if (result.format.kind == SparseFormat::Kind::kDense) {
    result.model_cycles =
        dense_cycles(problem.m(), problem.k(), problem.n(), config.rows, config.cols);
    result.run = run_gemm(device, problem);
    return result;
  }
  const SparseGeometry geometry = sparse_a ? sparse_a_geometry(config) : sparse_geometry(config);
  const std::size_t step = chunk_k(result.format, geometry);
  result.model_cycles = sparse_a ? sparse_a_cycles(pack_sparse_a(problem.a, geometry), problem.n())
                                 : sparse_cycles(pack_sparse(problem.b, result.format, geometry),
                                                 problem.m(), geometry.rows);
  const auto run_chunk = [&](const GemmProblem& part) {
    return run_packed(device, part, result.operand, result.format, geometry);
  };
  try {
    result.run = problem.k() <= step ? run_chunk(problem) : run_split_k(problem, step, run_chunk);
  } catch (...) {
    // A run that stopped part way may have left a LOAD half fed or commands queued:
    // what the scratchpads hold is no longer known.
    device.forget_resident();
    throw;
  }
  return result;
}

}  // namespace tessera
