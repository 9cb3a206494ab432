// The runtime's schedule (docs/isa.md "Ordering", docs/architecture.md "Decoupling").
// The engine checks address-range hazards, so the program order alone decides what a
// GEMM reads; the schedule only decides how much overlaps:
//   - Weights and parameters stay resident. When all of B's column blocks fit in WGT
//     (and its channels in PARAM), block nt sits at a fixed place for the whole call, and
//     the Device leaves out every LOAD whose bytes are already there, so later M chunks
//     and later calls with the same B send no weights at all. GEMM commands then span
//     several column blocks (nt_count > 1). Otherwise two WGT/PARAM slots alternate,
//     each holding as many column blocks as fit, one command per slot's worth.
//   - M is split into chunks (ACT halves alternate). The first chunk is short (whole
//     folds); while B streams in, its first column block is one command and the rest a
//     second that starts while their weights still arrive (folds wait tile by tile), so
//     the array starts after one block's operands;
//     each later chunk is as long as the input stream can fill while the previous chunk
//     computes, and is one command; a long last chunk ends in a short one.
//   - LOADs sit in the program just before the GEMM that needs them, right behind the
//     GEMM whose compute they overlap: a GEMM waiting at the FIFO head holds back
//     everything behind it. The next chunk's activations fill what is left of each gap.
//   - Results are read while later commands are queued: up to three GEMMs behind on a
//     transport that buffers without bound; where it does not (a board's UART bridge,
//     docs/protocol.md "Bounded buffers"), before every LOAD and GEMM the unread results
//     of the GEMMs already pushed are read down to what the engine's output FIFO holds
//     (Transport::limits), oldest first. Otherwise a LOAD's data could wait on the
//     bridge behind a GEMM that waits on its own unread results.
#include "tessera/runtime.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "channel_params.hpp"
#include "result_reader.hpp"
#include "split_k.hpp"
#include "tessera/errors.hpp"

namespace tessera {
namespace {

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// One LOAD of the program, described; its words are built when it is sent.
struct LoadStep {
  enum class Kind { kAct, kWeights, kParams };
  Kind kind = Kind::kAct;
  std::size_t chunk = 0;             // kAct
  std::size_t first = 0, count = 0;  // kAct: chunk-local words; else column blocks
  std::uint32_t dst = 0;
};

// One GEMM command and the LOADs sent just before it.
struct GemmStep {
  std::vector<LoadStep> loads;
  std::size_t chunk = 0, nt0 = 0, nt_count = 1;
  std::uint32_t wgt_base = 0, param_base = 0;
};

struct Chunk {
  std::size_t m0 = 0, rows = 0;
};

// B and its PARAM words as LOADs carry them: column block nt at WGT words
// [nt*kt*Rows, (nt+1)*kt*Rows), word kt*Rows + r holding B[kt*Rows + r, nt*Cols + c]
// zero-padded past K and N; the PARAM words of every channel nt*Cols + c, the padding
// channels past N repeating the last one (a valid shift).
struct WeightLayout {
  std::vector<std::uint8_t> weights, params;
};

WeightLayout lay_out_weights(const EngineConfig& config, const GemmProblem& problem) {
  const std::size_t rows = config.rows, cols = config.cols;
  const std::size_t nt = ceil_div(problem.n(), cols);
  const std::size_t block_words = ceil_div(problem.k(), rows) * rows;
  WeightLayout layout;
  layout.weights.assign(nt * block_words * cols, 0);
  for (std::size_t k = 0; k < problem.k(); ++k) {
    for (std::size_t n = 0; n < problem.n(); ++n) {
      layout.weights[((n / cols) * block_words + k) * cols + n % cols] =
          static_cast<std::uint8_t>(problem.b.at(k, n));
    }
  }
  layout.params = param_words(problem, nt * cols);
  return layout;
}

// Whether all of B's column blocks and their channels fit WGT and PARAM at once, so that
// they can stay there (a fixed place for the whole call, and across calls).
bool fits_resident(const EngineConfig& config, std::span<const std::uint8_t> weights,
                   std::span<const std::uint8_t> params) {
  return weights.size() / config.cols <= config.wgt_depth &&
         params.size() / isa::kParamBytes <= config.param_depth;
}

// Where B lives. A region that already holds it is reused as it is; otherwise one that
// holds most of it (B changed a little: only the changed words are sent), else the least
// recently used one, so that B's of different calls can stay resident side by side when
// there is room for several.
std::uint32_t choose_region(const Device& device, isa::Target target, std::size_t region_words,
                            std::size_t depth, std::span<const std::uint8_t> contents) {
  const std::size_t regions = depth / region_words;
  std::size_t best = 0, best_matching = 0;
  std::size_t oldest = 0;
  std::uint64_t oldest_use = ~std::uint64_t{0};
  for (std::size_t r = 0; r < regions; ++r) {
    const auto base = static_cast<std::uint32_t>(r * region_words);
    const std::size_t matching = device.matching_words(target, base, contents);
    if (matching == region_words) return base;
    if (matching > best_matching) best = r, best_matching = matching;
    const std::uint64_t use = device.last_use(target, base, region_words);
    if (use < oldest_use) oldest = r, oldest_use = use;
  }
  const std::size_t chosen = 2 * best_matching >= region_words ? best : oldest;
  return static_cast<std::uint32_t>(chosen * region_words);
}

std::uint32_t choose_wgt_region(const Device& device, std::span<const std::uint8_t> weights) {
  const EngineConfig& config = device.config();
  return choose_region(device, isa::Target::kWgt, weights.size() / config.cols, config.wgt_depth,
                       weights);
}

std::uint32_t choose_param_region(const Device& device, std::span<const std::uint8_t> params) {
  const EngineConfig& config = device.config();
  return choose_region(device, isa::Target::kParam, params.size() / isa::kParamBytes,
                       config.param_depth, params);
}

class GemmScheduler {
 public:
  // `a` times the B of `stage` (whose own `a` is not read), laid out as lay_out_weights
  // lays it out.
  GemmScheduler(Device& device, const Tensor<std::int8_t>& a, const GemmProblem& stage,
                std::span<const std::uint8_t> weights, std::span<const std::uint8_t> params)
      : device_(device),
        config_(device.config()),
        a_(a),
        problem_(stage),
        rows_(config_.rows),
        cols_(config_.cols),
        kt_(ceil_div(problem_.b.rows(), rows_)),
        nt_(ceil_div(problem_.n(), cols_)),
        block_words_(kt_ * rows_),
        weights_(weights),
        params_(params) {}

  GemmRun run() {
    place_weights();
    plan_chunks();
    plan_steps();
    results_.emplace(device_, a_.rows(), problem_.n());

    const std::uint64_t start_cycles = device_.transport().stats().cycles;
    device_.perf_clear();
    for (const GemmStep& step : steps_) {
      for (const LoadStep& load : step.loads) {
        results_->make_room();
        send(load);
      }
      results_->make_room();
      push_gemm(step);
      // Results of older commands are read while later ones are still queued, so the
      // host never waits on the engine while it could be feeding it.
      results_->drain(kOutstandingCommands);
    }
    return results_->finish(commands_, start_cycles);
  }

 private:
  static constexpr std::size_t kOutstandingCommands = 3;

  std::span<const std::uint8_t> weight_blocks(std::size_t first, std::size_t count) const {
    return std::span(weights_).subspan(first * block_words_ * cols_, count * block_words_ * cols_);
  }
  std::span<const std::uint8_t> param_blocks(std::size_t first, std::size_t count) const {
    const std::size_t bytes = cols_ * isa::kParamBytes;
    return std::span(params_).subspan(first * bytes, count * bytes);
  }

  void place_weights() {
    resident_ = fits_resident(config_, weights_, params_);
    if (!resident_) return;
    wgt_region_ = choose_wgt_region(device_, weights_);
    param_region_ = choose_param_region(device_, params_);
    in_place_ = device_.holds(isa::Target::kWgt, wgt_region_, weights_) &&
                device_.holds(isa::Target::kParam, param_region_, params_);
  }

  // Input beats the stream carries while `rows` activation rows run through every fold
  // of `blocks` column blocks: one beat a cycle, one fold row a cycle.
  std::size_t compute_cycles(std::size_t rows, std::size_t blocks) const {
    return rows * kt_ * blocks;
  }
  std::size_t block_beats() const { return block_words_ + cols_; }  // weights + params

  // Rows a fold needs so that the array never waits for weights: a weight bank takes
  // new weights Cols-1 cycles after its last activation row, in Rows cycles, while the
  // other bank's fold runs (tsr_exec_unit). Shorter folds leave the array idle.
  std::size_t fold_rows() const { return rows_ + cols_ - 1; }

  // M chunks. The first is long enough for whole folds, and for one column block's
  // computation to cover the streaming of the next block's weights and parameters; each
  // later one as long as what is left of the stream while the previous chunk computes
  // can carry, within the accumulator depth and half of ACT. The last column block's
  // results leave only after its chunk is done, so a long last chunk gives up its end
  // to a short one.
  void plan_chunks() {
    const std::size_t m = a_.rows();
    const std::size_t m_max =
        std::min<std::size_t>({config_.acc_depth, (config_.act_depth / 2) / kt_, 0xFFFF});
    const std::size_t stream_rows = rows_ + ceil_div(cols_, kt_);
    std::size_t first = std::max(stream_rows, fold_rows());
    // Without resident weights every chunk streams all of B again: the first one then
    // has to cover that twice over (B, and the next chunk's activations) to let the next
    // one grow.
    if (!resident_ && nt_ > 1) first = std::max(first, 2 * stream_rows);
    first = take_remainder(std::min({first, m_max, m}), m, m_max);
    chunks_.push_back({0, first});
    for (std::size_t done = first; done < m;) {
      const Chunk& last = chunks_.back();
      std::size_t stream = compute_cycles(last.rows, nt_);
      // Weights streamed during the previous chunk: all of B's but the first block's
      // with resident weights (sent once, with the first chunk), all of them otherwise.
      const std::size_t weight_beats = !resident_ ? nt_ * block_beats()
                                       : chunks_.size() == 1 && !in_place_
                                           ? (nt_ - 1) * block_beats()
                                           : 0;
      stream = stream > weight_beats ? stream - weight_beats : 0;
      std::size_t rows = std::max<std::size_t>(stream / kt_, last.rows);
      rows = take_remainder(std::min({rows, m_max, m - done}), m - done, m_max);
      chunks_.push_back({done, rows});
      done += rows;
    }
    Chunk& last = chunks_.back();
    if (chunks_.size() > 1 && last.rows >= 3 * fold_rows()) {
      const std::size_t tail = fold_rows();
      last.rows -= tail;
      chunks_.push_back({last.m0 + last.rows, tail});
    }
  }

  // A chunk of `rows` out of the `left` rows still to plan, grown to all of them when
  // what would follow is shorter than a fold and the chunk can hold it: every chunk runs
  // every fold of B, so a remainder of a few rows costs about as much as a full chunk.
  std::size_t take_remainder(std::size_t rows, std::size_t left, std::size_t m_max) const {
    return left - rows < fold_rows() && left <= m_max ? left : rows;
  }

  std::uint32_t act_slot(std::size_t chunk) const {
    return static_cast<std::uint32_t>((chunk % 2) * (config_.act_depth / 2));
  }

  void plan_steps() {
    // Without resident weights each of the two WGT/PARAM slots holds as many column
    // blocks as fit, and a command spans them.
    const std::size_t slot_blocks = std::max<std::size_t>(
        1, std::min((config_.wgt_depth / 2) / block_words_, (config_.param_depth / 2) / cols_));
    for (std::size_t c = 0; c < chunks_.size(); ++c) {
      // One command per column block while B streams in during the first chunk, so the
      // array starts after one block's weights; with B already in place (an earlier call
      // left it there) even the first chunk is a single command.
      const bool streams_b = !resident_ || (c == 0 && !in_place_);
      const std::size_t per_command = !resident_ ? (c == 0 ? 1 : slot_blocks) : streams_b ? 1 : 255;
      for (std::size_t nt0 = 0; nt0 < nt_;) {
        std::size_t count = std::min<std::size_t>({per_command, nt_ - nt0, 255});
        if (resident_ && streams_b && nt0 > 0) {
          // The rest of the first chunk is one command: its folds wait only for their own
          // weight tiles, so it starts while its weights still stream in (docs/isa.md,
          // "Ordering": fold-level read after write on the LOAD in progress).
          count = std::min<std::size_t>(nt_ - nt0, 255);
        } else if (streams_b && !steps_.empty()) {
          // No more blocks than stream in while the command before computes.
          const GemmStep& before = steps_.back();
          const std::size_t cycles = compute_cycles(chunks_[before.chunk].rows, before.nt_count);
          count = std::min(count, std::max<std::size_t>(1, cycles / block_beats()));
        }
        GemmStep step;
        step.chunk = c;
        step.nt0 = nt0;
        step.nt_count = count;
        if (resident_) {
          step.wgt_base = wgt_region_ + static_cast<std::uint32_t>(nt0 * block_words_);
          step.param_base = param_region_ + static_cast<std::uint32_t>(nt0 * cols_);
        } else {
          const std::size_t slot = steps_.size() % 2;
          step.wgt_base = static_cast<std::uint32_t>(slot * (config_.wgt_depth / 2));
          step.param_base = static_cast<std::uint32_t>(slot * (config_.param_depth / 2));
        }
        // Resident weights go in with the first chunk (the Device leaves out what an
        // earlier call left there); later chunks find them in place.
        // Parameters first: a GEMM waits for all of its PARAM range, but only fold by
        // fold for the weights of the LOAD still in progress when it starts.
        if (streams_b) {
          step.loads.push_back({LoadStep::Kind::kParams, 0, nt0, count, step.param_base});
          step.loads.push_back({LoadStep::Kind::kWeights, 0, nt0, count, step.wgt_base});
        }
        steps_.push_back(step);
        nt0 += count;
      }
    }
    // The first chunk's activations go before the first GEMM; every later chunk's fill
    // the gaps behind the previous chunk's GEMMs, each gap up to that GEMM's compute
    // time less the weights already in it, the rest into the last gap.
    steps_.front().loads.push_back(
        {LoadStep::Kind::kAct, 0, 0, chunks_[0].rows * kt_, act_slot(0)});
    std::size_t s = 0;
    for (std::size_t c = 1; c < chunks_.size(); ++c) {
      const std::size_t words = chunks_[c].rows * kt_;
      while (steps_[s].chunk != c - 1) ++s;
      std::vector<std::size_t> gaps;  // steps after each GEMM of chunk c-1
      for (std::size_t g = s; steps_[g].chunk == c - 1; ++g) gaps.push_back(g + 1);
      std::size_t sent = 0;
      for (std::size_t i = 0; i < gaps.size() && sent < words; ++i) {
        const GemmStep& before = steps_[gaps[i] - 1];
        GemmStep& gap = steps_[gaps[i]];
        std::size_t room = compute_cycles(chunks_[before.chunk].rows, before.nt_count);
        for (const LoadStep& load : gap.loads) room -= std::min(room, beats_of(load));
        const std::size_t piece =
            i + 1 == gaps.size() ? words - sent : std::min(room, words - sent);
        if (piece == 0) continue;
        gap.loads.push_back(
            {LoadStep::Kind::kAct, c, sent, piece, act_slot(c) + static_cast<std::uint32_t>(sent)});
        sent += piece;
      }
    }
  }

  // Beats a load streams unless the Device leaves it out (an estimate for planning).
  std::size_t beats_of(const LoadStep& load) const {
    switch (load.kind) {
      case LoadStep::Kind::kAct:
        return load.count;
      case LoadStep::Kind::kWeights:
        return device_.holds(isa::Target::kWgt, load.dst, weight_blocks(load.first, load.count))
                   ? 0
                   : load.count * block_words_;
      case LoadStep::Kind::kParams:
        return device_.holds(isa::Target::kParam, load.dst, param_blocks(load.first, load.count))
                   ? 0
                   : load.count * cols_;
    }
    return 0;
  }

  void send(const LoadStep& load) {
    std::size_t sent = 0;
    switch (load.kind) {
      case LoadStep::Kind::kAct:
        sent = device_.load(isa::Target::kAct, load.dst,
                            act_words(load.chunk, load.first, load.count));
        break;
      case LoadStep::Kind::kWeights:
        sent = device_.load(isa::Target::kWgt, load.dst, weight_blocks(load.first, load.count));
        break;
      case LoadStep::Kind::kParams:
        sent = device_.load(isa::Target::kParam, load.dst, param_blocks(load.first, load.count));
        break;
    }
    if (sent > 0) ++commands_;
  }

  // Words [first, first+count) of a chunk's ACT region: word kt*rows + m holds
  // A[m0 + m, kt*Rows .. kt*Rows + Rows - 1], zero-padded past K.
  std::vector<std::uint8_t> act_words(std::size_t chunk, std::size_t first,
                                      std::size_t count) const {
    const Chunk& ch = chunks_[chunk];
    std::vector<std::uint8_t> words(count * rows_, 0);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t word = first + i;
      const std::size_t kt = word / ch.rows, m = word % ch.rows;
      for (std::size_t r = 0; r < rows_; ++r) {
        const std::size_t k = kt * rows_ + r;
        if (k < a_.cols()) {
          words[i * rows_ + r] = static_cast<std::uint8_t>(a_.at(ch.m0 + m, k));
        }
      }
    }
    return words;
  }

  void push_gemm(const GemmStep& step) {
    const Chunk& chunk = chunks_[step.chunk];
    isa::GemmCommand cmd;
    set_output_stage(cmd, problem_);
    cmd.act_base = static_cast<std::uint16_t>(act_slot(step.chunk));
    cmd.wgt_base = static_cast<std::uint16_t>(step.wgt_base);
    cmd.param_base = static_cast<std::uint16_t>(step.param_base);
    cmd.m_rows = static_cast<std::uint16_t>(chunk.rows);
    cmd.kt_count = static_cast<std::uint8_t>(kt_);
    cmd.nt_count = static_cast<std::uint8_t>(step.nt_count);
    device_.push(isa::encode(cmd));
    ++commands_;
    results_->expect(chunk.m0, chunk.rows, step.nt0 * cols_, step.nt_count,
                     ResultReader::Step::kChannels, chunk.rows * kt_ * nt_);
  }

  Device& device_;
  const EngineConfig& config_;
  const Tensor<std::int8_t>& a_;
  const GemmProblem& problem_;  // B and the output stage
  const std::size_t rows_, cols_, kt_, nt_;
  const std::size_t block_words_;  // WGT words of one column block
  const std::span<const std::uint8_t> weights_, params_;
  bool resident_ = false;
  bool in_place_ = false;  // resident, and all of B and its parameters already there
  std::uint32_t wgt_region_ = 0, param_region_ = 0;
  std::vector<Chunk> chunks_;
  std::vector<GemmStep> steps_;
  std::optional<ResultReader> results_;
  std::size_t commands_ = 0;
};

// Called from a catch block of a run that stopped part way: it may have left a LOAD half
// fed or commands queued, so what the scratchpads hold is no longer known. A link that
// gave up waiting (a bounded transport's STREAM_WRITE the engine did not take, results
// that never came) is often an engine error's echo: that error, if one is latched, is
// thrown instead (and the engine cleared). Otherwise the exception goes on as it was.
[[noreturn]] void stopped_part_way(Device& device) {
  device.forget_resident();
  try {
    throw;
  } catch (const TransportError&) {
    try {
      device.check_error();
    } catch (const EngineError&) {
      throw;
    } catch (...) {
      // The link itself is down: the first failure says more.
    }
    throw;
  }
}

}  // namespace

std::size_t max_k(const EngineConfig& config) {
  const std::size_t kt_limit =
      std::min<std::size_t>({255, (config.wgt_depth / 2) / config.rows, config.act_depth / 2});
  return kt_limit * config.rows;
}

GemmRun run_gemm(Device& device, const GemmProblem& problem) {
  validate(problem);
  require_rounding(device.config(), problem);
  try {
    const std::size_t limit = max_k(device.config());
    const auto run_whole = [&device](const GemmProblem& part) {
      const WeightLayout layout = lay_out_weights(device.config(), part);
      return GemmScheduler(device, part.a, part, layout.weights, layout.params).run();
    };
    if (problem.k() > limit) return run_split_k(problem, limit, run_whole);
    return run_whole(problem);
  } catch (...) {
    stopped_part_way(device);
  }
}

ResidentWeights upload_weights(Device& device, Tensor<std::int8_t> b,
                               std::vector<std::int32_t> bias, std::optional<Requant> requant,
                               std::int32_t clamp_lo, std::int32_t clamp_hi) {
  ResidentWeights weights;
  GemmProblem& problem = weights.problem_;
  // validate() checks B against a one-row A of B's K; the kept placeholder has no rows.
  const std::size_t k = b.shape.size() == 2 ? b.shape[0] : 0;
  problem.a = Tensor<std::int8_t>(1, k);
  problem.b = std::move(b);
  problem.bias = std::move(bias);
  problem.requant = std::move(requant);
  problem.clamp_lo = clamp_lo;
  problem.clamp_hi = clamp_hi;
  validate(problem);
  require_rounding(device.config(), problem);
  problem.a = Tensor<std::int8_t>(0, k);
  weights.config_ = device.config();
  if (k > max_k(device.config())) return weights;

  WeightLayout layout = lay_out_weights(device.config(), problem);
  if (fits_resident(device.config(), layout.weights, layout.params)) {
    try {
      // Parameters first, as run_gemm sends them; then any latched error is this upload's.
      device.load(isa::Target::kParam, choose_param_region(device, layout.params), layout.params);
      device.load(isa::Target::kWgt, choose_wgt_region(device, layout.weights), layout.weights);
      device.check_error();
    } catch (...) {
      device.forget_resident();
      throw;
    }
  }
  weights.weights_ = std::move(layout.weights);
  weights.params_ = std::move(layout.params);
  return weights;
}

GemmRun run_gemm(Device& device, const Tensor<std::int8_t>& a, const ResidentWeights& weights) {
  const EngineConfig& here = device.config();
  const EngineConfig& there = weights.config_;
  if (here.rows != there.rows || here.cols != there.cols || here.act_depth != there.act_depth ||
      here.wgt_depth != there.wgt_depth || here.param_depth != there.param_depth) {
    throw InputError("resident weights were laid out for another engine configuration (" +
                     std::to_string(there.rows) + "x" + std::to_string(there.cols) +
                     "); upload them to this Device (" + std::to_string(here.rows) + "x" +
                     std::to_string(here.cols) + ")");
  }
  if (a.shape.size() != 2 || a.data.size() != a.shape[0] * a.shape[1]) {
    throw InputError("a must be a [M,K] matrix, got shape " + format_shape(a.shape));
  }
  if (a.cols() != weights.k() || a.rows() == 0) {
    throw InputError("shape mismatch: a is [M,K]=" + format_shape(a.shape) +
                     " but the resident weights are [K,N]=" +
                     format_shape(weights.problem_.b.shape) + "; M must be at least 1");
  }
  if (weights.weights_.empty()) {
    // K beyond one pass: the passes are laid out per call.
    GemmProblem whole = weights.problem_;
    whole.a = a;
    return run_gemm(device, whole);
  }
  try {
    return GemmScheduler(device, a, weights.problem_, weights.weights_, weights.params_).run();
  } catch (...) {
    stopped_part_way(device);
  }
}

}  // namespace tessera
