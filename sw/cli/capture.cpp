#include "capture.hpp"

#include <algorithm>
#include <filesystem>

#include "harness.hpp"
#include "tessera/errors.hpp"
#include "trace_file.hpp"
#include "wave_views.hpp"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMargin = 16;         // cycles shown before the GEMM and after the beat
constexpr std::uint64_t kMaxWindow = 20'000;  // bounds the FST of a very long GEMM

const sim::CommandRecord* gemm_record(const EngineRun& run, std::size_t block) {
  std::size_t seen = 0;
  for (const auto& record : run.commands) {
    if ((record.words[0] & 0xFF) != static_cast<unsigned>(isa::Opcode::kGemm)) continue;
    if (seen++ == block) return &record;
  }
  return nullptr;
}

}  // namespace

std::optional<FirstWrong> first_wrong(const EngineRun& run, const Tensor<std::int32_t>& want) {
  const Tensor<std::int32_t>& got = run.run.output;
  std::optional<FirstWrong> first;
  std::size_t count = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) count += got.data[i] != want.data[i];
  if (count == 0) return std::nullopt;
  // Blocks are in stream order and each block's beats in row order, so the first wrong
  // value met this way is the first to have left the engine.
  std::size_t beat = 0;
  for (std::size_t b = 0; b < run.run.blocks.size() && !first; ++b) {
    const OutputBlock& block = run.run.blocks[b];
    for (std::size_t i = 0; i < block.rows && !first; ++i, ++beat) {
      const std::size_t m = block.m0 + i;
      for (std::size_t lane = 0; lane < run.config.cols && block.n0 + lane < want.cols(); ++lane) {
        const std::size_t n = block.n0 + lane;
        if (got.at(m, n) == want.at(m, n)) continue;
        first = FirstWrong{
            m, n, got.at(m, n), want.at(m, n), count, b, beat, static_cast<unsigned>(lane), 0};
        if (beat < run.beat_cycles.size()) first->beat_cycle = run.beat_cycles[beat];
        break;
      }
    }
  }
  return first;
}

std::vector<unsigned> suspect_rows(const GemmProblem& problem, const FirstWrong& wrong,
                                   unsigned rows) {
  // The value PE (r, lane) would give with its products forced to zero: the same dot
  // product without the k = r (mod Rows) terms, through the same output stage.
  GemmProblem one;
  one.a = Tensor<std::int8_t>(1, problem.k());
  one.b = Tensor<std::int8_t>(problem.k(), 1);
  for (std::size_t k = 0; k < problem.k(); ++k) one.a.at(0, k) = problem.a.at(wrong.row, k);
  if (!problem.bias.empty()) one.bias = {problem.bias[wrong.col]};
  if (problem.requant) {
    const Requant& rq = *problem.requant;
    Requant channel;
    channel.multiplier = {rq.multiplier[rq.multiplier.size() == 1 ? 0 : wrong.col]};
    channel.shift = {rq.shift[rq.shift.size() == 1 ? 0 : wrong.col]};
    channel.zero_point = rq.zero_point;
    one.requant = channel;
  }
  one.clamp_lo = problem.clamp_lo;
  one.clamp_hi = problem.clamp_hi;
  std::vector<unsigned> suspects;
  for (unsigned r = 0; r < rows; ++r) {
    bool touches = false;
    for (std::size_t k = 0; k < problem.k(); ++k) {
      const bool zeroed = k % rows == r;
      touches |= zeroed;
      one.b.at(k, 0) = zeroed ? 0 : problem.b.at(k, wrong.col);
    }
    if (touches && golden_gemm(one).at(0, 0) == wrong.got) suspects.push_back(r);
  }
  return suspects;
}

CaptureFiles capture_mismatch(const GemmProblem& problem, const DebugOptions& options,
                              const EngineRun& first, const FirstWrong& wrong,
                              const std::string& label, std::ostream& out) {
  const std::uint64_t origin = first.origin;
  const sim::CommandRecord* gemm = gemm_record(first, wrong.block);
  out << "first wrong value: out[" << wrong.row << ", " << wrong.col << "] = " << wrong.got
      << ", want " << wrong.want << "; output beat " << wrong.beat << " at cycle "
      << wrong.beat_cycle - origin << ", array column " << wrong.lane;
  if (gemm) {
    out << ", from GEMM command #" << gemm->index << " (issued at cycle " << gemm->issue - origin
        << ")";
  }
  out << "\n";
  const std::vector<unsigned> suspects = suspect_rows(problem, wrong, first.config.rows);
  std::optional<unsigned> suspect;
  if (suspects.size() == 1) {
    suspect = suspects[0];
    out << "suspect: PE (" << *suspect << ", " << wrong.lane
        << "): the wrong value is exactly what that PE gives if its products are zero\n";
  } else if (suspects.size() > 1) {
    out << "suspect: one of PEs";
    for (unsigned r : suspects) out << " (" << r << ", " << wrong.lane << ")";
    out << " (each explains the value as zero products)\n";
  }

  // From just before the GEMM was issued (its weights start loading then) to just after
  // the beat: every cycle the wrong value spent in the array, accumulator and store.
  const std::uint64_t issue = gemm ? gemm->issue : wrong.beat_cycle;
  std::uint64_t start = std::max(origin, issue > kMargin ? issue - kMargin : 0);
  const std::uint64_t window_limit =
      std::max<std::uint64_t>(kMaxWindow, 4 * (first.config.rows + first.config.cols) + 256);
  if (wrong.beat_cycle - start > window_limit) start = wrong.beat_cycle - window_limit;
  const std::uint64_t end = wrong.beat_cycle + kMargin + 1;

  std::error_code ec;
  fs::create_directories(options.capture_dir, ec);
  if (ec) throw InputError("capture directory '" + options.capture_dir + "': " + ec.message());
  CaptureFiles files;
  files.fst = (fs::path(options.capture_dir) / (label + ".fst")).string();
  files.gtkw = (fs::path(options.capture_dir) / (label + ".gtkw")).string();
  files.start = start - origin;
  files.end = end - origin;
  files.beat_cycle = wrong.beat_cycle - origin;

  // The simulation is deterministic: the same options and problem replay the same
  // cycles, now with the window traced.
  DebugOptions replay = options;
  replay.log_commands.clear();
  TraceSpec trace;
  trace.path = files.fst;
  trace.start = files.start;
  trace.end = files.end;
  const EngineRun again = run_on_engine(problem, replay, trace);
  if (again.origin != origin || again.run.output.data != first.run.output.data ||
      wrong.beat >= again.beat_cycles.size() || again.beat_cycles[wrong.beat] != wrong.beat_cycle) {
    out << "capture: warning: the re-run did not repeat the first run exactly; the window "
           "may miss the wrong value\n";
  }

  TraceFile fst(files.fst);
  const std::uint64_t period = sim::Harness::kTracePeriod;
  SaveFileOptions save;
  save.dumpfile = fs::absolute(files.fst).string();
  save.time_start = files.start * period;
  save.time_span = (files.end - files.start) * period;
  save.marker = files.beat_cycle * period + period / 2;
  if (gemm && gemm->issue >= start)
    save.named_markers.push_back({'A', (gemm->issue - origin) * period});
  save.named_markers.push_back({'B', files.beat_cycle * period + period / 2});
  const WaveView view = column_view(first.config.rows, first.config.cols, wrong.lane, suspect);
  const auto missing = write_save_file(files.gtkw, view, fst, save);
  for (const auto& name : missing) out << "capture: note: the trace has no signal " << name << "\n";

  out << "capture: cycles " << files.start << ".." << files.end - 1 << " (FST time = 10 x cycle; "
      << "marker at the beat, A at the GEMM's issue) in " << files.fst << "\n";
  out << "open it: gtkwave " << files.fst << " " << files.gtkw << "\n";
  return files;
}

}  // namespace tessera::cli
