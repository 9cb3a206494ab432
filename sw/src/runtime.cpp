// The runtime's schedule. Every resource has two slots (halves of ACT, WGT and PARAM)
// so that the loads for the next GEMM command overlap the current one (docs/isa.md,
// "Ordering"). One command covers a chunk of M rows and one column block of Cols
// outputs, reducing all of K in hardware. The next M chunk's activations are loaded in
// pieces between the current chunk's commands, and the first chunk is kept short, so the
// array starts computing early and the input stream never holds it up for long.
#include "tessera/runtime.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

#include "tessera/errors.hpp"

namespace tessera {
namespace {

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

struct PendingOutput {
  std::size_t m0 = 0, rows = 0, n0 = 0;
};

class GemmScheduler {
 public:
  GemmScheduler(Device& device, const GemmProblem& problem)
      : device_(device),
        config_(device.config()),
        problem_(problem),
        rows_(config_.rows),
        cols_(config_.cols),
        kt_(ceil_div(problem.k(), rows_)),
        nt_(ceil_div(problem.n(), cols_)) {}

  GemmRun run() {
    plan_chunks();
    const std::uint64_t start_cycles = device_.transport().stats().cycles;
    device_.perf_clear();

    load_act_rows(0, 0, chunks_[0] * kt_);
    std::size_t m0 = 0;
    for (std::size_t chunk = 0; chunk < chunks_.size(); ++chunk) {
      const std::size_t rows = chunks_[chunk];
      const bool has_next = chunk + 1 < chunks_.size();
      const std::size_t next_words = has_next ? chunks_[chunk + 1] * kt_ : 0;
      std::size_t next_loaded = 0;
      for (std::size_t nt = 0; nt < nt_; ++nt) {
        push_gemm(chunk, m0, rows, nt);
        if (has_next) {
          // Spread the next chunk's activations over this chunk's commands. Each piece
          // follows one of them, so the newest GEMM reads the other ACT slot.
          const std::size_t target = ceil_div(next_words * (nt + 1), nt_);
          load_act_rows(chunk + 1, next_loaded, target - next_loaded);
          next_loaded = target;
        }
        drain_outputs(2);
      }
      m0 += rows;
    }
    drain_outputs(0);
    device_.check_error();

    GemmRun result;
    result.output = std::move(output_);
    result.perf = device_.perf();
    result.cycles = result.perf.last_out;
    result.commands = commands_;
    result.sim_cycles = device_.transport().stats().cycles - start_cycles;
    result.blocks = std::move(blocks_);
    return result;
  }

 private:
  // M chunks: as large as the accumulator and half of ACT allow, the first one shorter.
  void plan_chunks() {
    const std::size_t m = problem_.m();
    const std::size_t m_max = std::min<std::size_t>(
        {config_.acc_depth, (config_.act_depth / 2) / kt_, 0xFFFF});
    std::size_t first = std::max<std::size_t>(ceil_div(m, 8), rows_ + cols_);
    first = std::min({first, m_max, m});
    chunks_.push_back(first);
    for (std::size_t done = first; done < m;) {
      const std::size_t rows = std::min(m_max, m - done);
      chunks_.push_back(rows);
      done += rows;
    }
    output_ = Tensor<std::int32_t>(m, problem_.n());
  }

  std::size_t act_slot(std::size_t chunk) const { return (chunk % 2) * (config_.act_depth / 2); }

  // Words [first, first+count) of a chunk's ACT region: word kt*rows + m holds
  // A[m0 + m, kt*Rows .. kt*Rows + Rows - 1], zero-padded past K.
  void load_act_rows(std::size_t chunk, std::size_t first, std::size_t count) {
    if (count == 0) return;
    const std::size_t rows = chunks_[chunk];
    std::size_t m0 = 0;
    for (std::size_t c = 0; c < chunk; ++c) m0 += chunks_[c];
    std::vector<std::uint8_t> words(count * rows_, 0);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t word = first + i;
      const std::size_t kt = word / rows, m = word % rows;
      for (std::size_t r = 0; r < rows_; ++r) {
        const std::size_t k = kt * rows_ + r;
        if (k < problem_.k()) {
          words[i * rows_ + r] = static_cast<std::uint8_t>(problem_.a.at(m0 + m, k));
        }
      }
    }
    load(isa::Target::kAct, act_slot(chunk) + first, words, rows_);
  }

  void load(isa::Target target, std::size_t dst, const std::vector<std::uint8_t>& words,
            unsigned word_bytes) {
    device_.queue_words(words, word_bytes);
    isa::LoadCommand cmd;
    cmd.target = target;
    cmd.dst = static_cast<std::uint32_t>(dst);
    cmd.count = static_cast<std::uint32_t>(words.size() / word_bytes);
    device_.push(isa::encode(cmd));
    ++commands_;
  }

  void push_gemm(std::size_t chunk, std::size_t m0, std::size_t rows, std::size_t nt) {
    const std::size_t slot = gemms_ % 2;
    const std::size_t wgt_base = slot * (config_.wgt_depth / 2);
    const std::size_t param_base = slot * (config_.param_depth / 2);

    // Weights of column block nt: word kt*Rows + r holds B[kt*Rows + r, nt*Cols + c].
    std::vector<std::uint8_t> weights(kt_ * rows_ * cols_, 0);
    for (std::size_t k = 0; k < problem_.k(); ++k) {
      for (std::size_t c = 0; c < cols_; ++c) {
        const std::size_t n = nt * cols_ + c;
        if (n < problem_.n()) {
          weights[k * cols_ + c] = static_cast<std::uint8_t>(problem_.b.at(k, n));
        }
      }
    }
    load(isa::Target::kWgt, wgt_base, weights, cols_);

    std::vector<std::uint8_t> params(cols_ * isa::kParamBytes, 0);
    for (std::size_t c = 0; c < cols_; ++c) {
      const std::size_t n = std::min(nt * cols_ + c, problem_.n() - 1);
      std::uint8_t* word = &params[c * isa::kParamBytes];
      const std::int32_t bias = problem_.bias.empty() ? 0 : problem_.bias[n];
      std::int32_t multiplier = 0, shift = 0;
      if (problem_.requant) {
        const auto& rq = *problem_.requant;
        multiplier = rq.multiplier.size() == 1 ? rq.multiplier[0] : rq.multiplier[n];
        shift = rq.shift.size() == 1 ? rq.shift[0] : rq.shift[n];
      }
      std::memcpy(word, &bias, 4);
      std::memcpy(word + 4, &multiplier, 4);
      word[8] = static_cast<std::uint8_t>(static_cast<std::int8_t>(shift));
    }
    load(isa::Target::kParam, param_base, params, isa::kParamBytes);

    isa::GemmCommand cmd;
    cmd.requant = problem_.requant.has_value();
    cmd.per_channel = true;
    if (problem_.requant) {
      cmd.zero_point = static_cast<std::int8_t>(problem_.requant->zero_point);
      cmd.clamp_lo = static_cast<std::int8_t>(problem_.clamp_lo);
      cmd.clamp_hi = static_cast<std::int8_t>(problem_.clamp_hi);
    }
    cmd.act_base = static_cast<std::uint16_t>(act_slot(chunk));
    cmd.wgt_base = static_cast<std::uint16_t>(wgt_base);
    cmd.param_base = static_cast<std::uint16_t>(param_base);
    cmd.m_rows = static_cast<std::uint16_t>(rows);
    cmd.kt_count = static_cast<std::uint8_t>(kt_);
    cmd.nt_count = 1;
    device_.push(isa::encode(cmd));
    ++commands_;
    ++gemms_;
    pending_.push_back({m0, rows, nt * cols_});
    blocks_.push_back({m0, rows, nt * cols_});
  }

  // Reads the results of all but the newest `keep` GEMMs, so the engine's output never
  // piles up beyond a couple of commands.
  void drain_outputs(std::size_t keep) {
    while (pending_.size() > keep) {
      const PendingOutput out = pending_.front();
      pending_.pop_front();
      const std::uint64_t budget = 2'000'000 + 16 * out.rows * kt_ * (keep + 2);
      std::vector<std::uint8_t> beats;
      try {
        beats = device_.transport().stream_read(static_cast<std::uint32_t>(out.rows), budget);
      } catch (const TransportError&) {
        device_.check_error();  // an engine error explains the silence better
        throw;
      }
      for (std::size_t m = 0; m < out.rows; ++m) {
        for (std::size_t c = 0; c < cols_ && out.n0 + c < problem_.n(); ++c) {
          std::int32_t value;
          std::memcpy(&value, &beats[m * config_.out_beat_bytes + 4 * c], 4);
          output_.at(out.m0 + m, out.n0 + c) = value;
        }
      }
    }
  }

  Device& device_;
  const EngineConfig& config_;
  const GemmProblem& problem_;
  const std::size_t rows_, cols_, kt_, nt_;
  std::vector<std::size_t> chunks_;
  std::deque<PendingOutput> pending_;
  std::vector<OutputBlock> blocks_;
  Tensor<std::int32_t> output_;
  std::size_t commands_ = 0;
  std::size_t gemms_ = 0;
};

}  // namespace

std::size_t max_k(const EngineConfig& config) {
  const std::size_t kt_limit = std::min<std::size_t>(
      {255, (config.wgt_depth / 2) / config.rows, config.act_depth / 2});
  return kt_limit * config.rows;
}

namespace {

// The slice of A's columns and B's rows [k0, k0 + k), as a raw int32 GEMM without bias.
GemmProblem k_slice(const GemmProblem& problem, std::size_t k0, std::size_t k) {
  GemmProblem part;
  part.a = Tensor<std::int8_t>(problem.m(), k);
  part.b = Tensor<std::int8_t>(k, problem.n());
  for (std::size_t m = 0; m < problem.m(); ++m) {
    for (std::size_t i = 0; i < k; ++i) part.a.at(m, i) = problem.a.at(m, k0 + i);
  }
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t n = 0; n < problem.n(); ++n) part.b.at(i, n) = problem.b.at(k0 + i, n);
  }
  return part;
}

// K longer than one pass: the engine reduces slices of K into raw int32 partial sums,
// the host adds them (wrapping, like the accumulators) and applies bias, requantization
// and clamp with the golden reference's functions, which the RTL matches bit for bit.
GemmRun run_split_k(Device& device, const GemmProblem& problem, std::size_t max_pass) {
  GemmRun total;
  total.output = Tensor<std::int32_t>(problem.m(), problem.n());
  std::vector<std::uint32_t> acc(problem.m() * problem.n(), 0);
  for (std::size_t k0 = 0; k0 < problem.k(); k0 += max_pass) {
    const std::size_t k = std::min(max_pass, problem.k() - k0);
    const GemmRun part = GemmScheduler(device, k_slice(problem, k0, k)).run();
    for (std::size_t i = 0; i < acc.size(); ++i) {
      acc[i] += static_cast<std::uint32_t>(part.output.data[i]);
    }
    total.cycles += part.cycles;
    total.commands += part.commands;
    total.sim_cycles += part.sim_cycles;
    total.perf = part.perf;
  }
  for (std::size_t m = 0; m < problem.m(); ++m) {
    for (std::size_t n = 0; n < problem.n(); ++n) {
      std::uint32_t value = acc[m * problem.n() + n];
      if (!problem.bias.empty()) value += static_cast<std::uint32_t>(problem.bias[n]);
      std::int32_t out = static_cast<std::int32_t>(value);
      if (problem.requant) {
        const Requant& rq = *problem.requant;
        const std::int32_t mult = rq.multiplier.size() == 1 ? rq.multiplier[0] : rq.multiplier[n];
        const std::int32_t shift = rq.shift.size() == 1 ? rq.shift[0] : rq.shift[n];
        const std::uint32_t with_zp =
            static_cast<std::uint32_t>(multiply_by_quantized_multiplier(out, mult, shift)) +
            static_cast<std::uint32_t>(rq.zero_point);
        out = std::clamp(static_cast<std::int32_t>(with_zp), problem.clamp_lo, problem.clamp_hi);
      }
      total.output.at(m, n) = out;
    }
  }
  return total;
}

}  // namespace

GemmRun run_gemm(Device& device, const GemmProblem& problem) {
  validate(problem);
  const std::size_t limit = max_k(device.config());
  if (problem.k() > limit) return run_split_k(device, problem, limit);
  return GemmScheduler(device, problem).run();
}

}  // namespace tessera
