// tsr_store_unit (Cols=3, AccDepth=8, ParamDepth=16) on its own, inside a cycle-accurate C++
// model of what surrounds it in tsr_top:
//   - the accumulator (tsr_accumulator.sv): two banks, each a tsr_sram with a registered read
//     port; acc_rdata_i is the read register of the bank the store unit read last, so a row
//     shows the cycle after acc_re_o. While the execute unit fills a bank, its
//     read-modify-write reads move that bank's read register too (random reads here). The
//     written flag of a bank is set when the test finishes its block and cleared by
//     acc_start_o; the free flag is cleared when the execute unit claims the bank and set by
//     acc_done_o; clear_i resets both;
//   - the execute unit's side: it claims a free bank, fills it, pushes the job and marks the
//     bank written a few cycles later. So at most one job per bank is outstanding and the
//     depth-2 job FIFO cannot overflow, as in the engine. A bank holds poison while it is
//     being filled and again from the edge of acc_done_o on: a read before the bank is
//     written, or after the unit said it was done, shows as a wrong beat;
//   - PARAM (tsr_sram.sv): registered read, the word the cycle after param_re_o;
//   - an AXI4-Stream sink with random TREADY.
// Every beat is compared bit-exactly with the golden requantization (sw/src/golden.cpp), with
// its TLAST and gemm_done_o. The bench also holds the unit to the schedule its RTL sets out: a
// job leaves the job FIFO in the first idle cycle; Cols PARAM reads from param_base follow
// on consecutive cycles (while its bank may still be filling), then one cycle for the last
// word to land, in which the bank is taken (acc_start_o) if it is written, else in the first
// cycle after that it is; then one row read per cycle while the 16-entry output FIFO,
// counting the rows still in the 10-stage read + requant pipeline, has room; a row's beat is
// offered 11 cycles after its read. So
// stall_o means exactly "rows left to read, no room for them" (the output is backed up), and
// busy_o "a job queued or running, or a beat not yet taken".
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vtsr_store_unit.h"
#include "block_bench.hpp"
#include "tessera/golden.hpp"

namespace {

using tessera::rtl_test::BlockBench;

constexpr unsigned kCols = 3;
constexpr unsigned kAccDepth = 8;
constexpr unsigned kParamDepth = 16;
constexpr unsigned kAccAW = 3;       // $clog2(AccDepth)
constexpr unsigned kParamAW = 4;     // $clog2(ParamDepth)
constexpr unsigned kJobW = 36;       // 1 + 1 + (AccAW + 1) + ParamAW + 26
constexpr unsigned kOutDepth = 16;    // output FIFO entries, the unit's issue credit
constexpr unsigned kReadToBeat = 11;  // bank read, 9 lane stages (tsr_pkg::RqLatency), FIFO write
// A row read this many cycles ago or less still has to read its job's zero point and clamp
// (tsr_pkg::RqClampAt - 1): the job before the current one holds the slot the next job
// takes, so the next job waits while such a row of it is in the lanes.
constexpr unsigned kSlotReadBy = 7;
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

using Row = std::array<std::int32_t, kCols>;

std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

// One PARAM word as the scratchpad keeps it: {single[71], shift[70:64], mult[63:32],
// bias[31:0]} (tsr_pkg::ParamSingle).
struct ParamWord {
  std::int32_t bias = 0;
  std::int32_t mult = 0;
  std::int8_t shift = 0;
  bool single = false;  // single rounding
};
using ParamMemory = std::array<ParamWord, kParamDepth>;

// A store job as tsr_exec_unit pushes it (job_o), with the column block it leaves in its bank.
struct Job {
  bool cmd_last = true;
  unsigned bank = 0;
  unsigned m_rows = 1;
  unsigned param_base = 0;
  bool requant = false;
  bool per_channel = true;
  std::int8_t zero_point = 0;
  std::int8_t clamp_lo = -128;
  std::int8_t clamp_hi = 127;
  std::vector<Row> acc;  // m_rows rows
};

// {cmd_last, bank, m_rows, param_base, requant, per_channel, zp, clamp_lo, clamp_hi}
std::uint64_t pack(const Job& job) {
  std::uint64_t v = job.cmd_last ? 1 : 0;
  v = (v << 1) | (job.bank & 1u);
  v = (v << (kAccAW + 1)) | job.m_rows;
  v = (v << kParamAW) | job.param_base;
  v = (v << 1) | (job.requant ? 1 : 0);
  v = (v << 1) | (job.per_channel ? 1 : 0);
  v = (v << 8) | static_cast<std::uint8_t>(job.zero_point);
  v = (v << 8) | static_cast<std::uint8_t>(job.clamp_lo);
  v = (v << 8) | static_cast<std::uint8_t>(job.clamp_hi);
  return v;
}

// docs/isa.md: acc + bias, wrapping; with requant, MultiplyByQuantizedMultiplier with the
// channel's own scale (per channel) or the command's first channel's (per tensor), then the
// zero point (wrapping) and the clamp. The bias is always the channel's own.
std::int32_t expected_lane(std::int32_t acc, const ParamWord& own, const ParamWord& scale,
                           const Job& job) {
  const std::int32_t biased = wrap_add(acc, own.bias);
  if (!job.requant) return biased;
  const std::int32_t scaled =
      tessera::multiply_by_quantized_multiplier(
          biased, scale.mult, scale.shift,
          scale.single ? tessera::Rounding::kSingle : tessera::Rounding::kDouble);
  return std::clamp<std::int32_t>(wrap_add(scaled, job.zero_point), job.clamp_lo, job.clamp_hi);
}

struct Beat {
  Row lanes{};
  bool last = false;
  bool gemm_done = false;
  std::string where;  // for failure messages
};

// The beats of one job; cmd_base is the param_base of the job's command (its first job).
std::vector<Beat> expected_beats(const Job& job, const ParamMemory& params, unsigned cmd_base,
                                 unsigned job_index) {
  std::vector<Beat> beats;
  for (unsigned r = 0; r < job.m_rows; ++r) {
    Beat beat;
    std::ostringstream where;
    where << "job " << job_index << " (bank " << job.bank << ", param_base " << job.param_base
          << ", command's " << cmd_base << ", requant " << job.requant << ", per_channel "
          << job.per_channel << ", zp " << int{job.zero_point} << ", clamp [" << int{job.clamp_lo}
          << ", " << int{job.clamp_hi} << "]) row " << r << ":";
    for (unsigned c = 0; c < kCols; ++c) {
      const ParamWord& own = params[(job.param_base + c) % kParamDepth];
      const ParamWord& scale = job.per_channel ? own : params[cmd_base];
      beat.lanes[c] = expected_lane(job.acc[r][c], own, scale, job);
      where << " [acc " << job.acc[r][c] << " bias " << own.bias << " mult " << scale.mult
            << " shift " << int{scale.shift} << (scale.single ? " single" : "") << "]";
    }
    beat.last = r + 1 == job.m_rows;
    beat.gemm_done = beat.last && job.cmd_last;
    beat.where = where.str();
    beats.push_back(std::move(beat));
  }
  return beats;
}

// ---- random values -----------------------------------------------------------------------
constexpr std::array<std::int32_t, 10> kEdgeValues = {kMin, kMin + 1, kMax, kMax - 1, 0,
                                                      1,    -1,       127,  -128,     1 << 30};

class Random {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t bits() { return rng_(); }
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(0, 99) < percent; }
  std::int8_t int8() { return static_cast<std::int8_t>(rng_()); }
  std::int32_t int32() { return static_cast<std::int32_t>(rng_()); }

  std::int32_t value() {
    switch (uniform(0, 3)) {
      case 0:
        return kEdgeValues[uniform(0, kEdgeValues.size() - 1)];
      case 1:
        return int32();
      default: {  // log-uniform magnitude, random sign
        const int width = uniform(1, 31);
        const std::uint32_t v = static_cast<std::uint32_t>(rng_()) >> (32 - width);
        return static_cast<std::int32_t>(chance(50) ? v : 0u - v);
      }
    }
  }

  // A channel with a requantization scale: mostly TFLite's multiplier range [2^30, 2^31) and
  // shifts both ways, sometimes anything the 32-bit / 8-bit fields allow the lanes to get.
  ParamWord scale_word() {
    ParamWord w;
    w.bias = chance(20) ? 0 : value();
    switch (uniform(0, 9)) {
      case 0:
        w.mult = std::array{kMin, kMax, 0, 1, 1 << 30}[uniform(0, 4)];
        break;
      case 1:
        w.mult = int32();
        break;
      default:
        w.mult = static_cast<std::int32_t>((1u << 30) + (rng_() & 0x3FFFFFFF));
    }
    w.shift = static_cast<std::int8_t>(chance(70) ? uniform(-12, 6) : uniform(-31, 30));
    w.single = chance(50);
    return w;
  }

  // An accumulator value whose requantized result lands near the int8 window, where every bit
  // of the multiplier path shows (elsewhere the clamp hides it); sometimes anything.
  std::int32_t targeted_acc(const ParamWord& own, const ParamWord& scale, int zero_point) {
    if (scale.mult == 0 || chance(10)) return value();
    const int left = std::max<int>(scale.shift, 0), right = std::max<int>(-scale.shift, 0);
    const double target = uniform(-140, 140) - zero_point + uniform(-4, 4) / 8.0;
    const double x = target * std::ldexp(1.0, 31 + right - left) / scale.mult;
    if (!(std::fabs(x) < 2.0e9)) return value();
    const std::int64_t x_int = std::llround(x) + uniform(-2, 2);
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(x_int) -
                                     static_cast<std::uint32_t>(own.bias));
  }

 private:
  std::mt19937_64 rng_;
};

// The column blocks of one GEMM command: nt jobs at param_base, param_base + Cols, ..., in
// banks alternating from *bank on, as the execute unit hands them out. The settings are the
// command's, so the same for every block.
std::vector<Job> make_command(Random& rnd, const ParamMemory& params, unsigned& bank, unsigned nt,
                              unsigned m_rows, unsigned param_base, bool requant,
                              bool per_channel) {
  const std::int8_t zero_point = rnd.chance(20) ? std::int8_t{0} : rnd.int8();
  std::int8_t lo = -128, hi = 127;
  switch (rnd.uniform(0, 4)) {
    case 0:
    case 1:
      break;
    case 2:  // ReLU-like
      lo = zero_point;
      break;
    default:
      lo = rnd.int8();
      hi = rnd.int8();
      if (lo > hi) std::swap(lo, hi);
  }
  std::vector<Job> jobs;
  for (unsigned n = 0; n < nt; ++n) {
    Job job;
    job.cmd_last = n + 1 == nt;
    job.bank = bank;
    bank ^= 1;
    job.m_rows = m_rows;
    job.param_base = param_base + n * kCols;
    job.requant = requant;
    job.per_channel = per_channel;
    job.zero_point = zero_point;
    job.clamp_lo = lo;
    job.clamp_hi = hi;
    for (unsigned r = 0; r < m_rows; ++r) {
      Row row;
      for (unsigned c = 0; c < kCols; ++c) {
        const ParamWord& own = params[(job.param_base + c) % kParamDepth];
        const ParamWord& scale = per_channel ? own : params[param_base];
        row[c] = requant ? rnd.targeted_acc(own, scale, zero_point) : rnd.value();
      }
      job.acc.push_back(row);
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

// A random command that fits PARAM (the dispatcher rejects the rest): nt column blocks from
// param_base, nt * Cols <= ParamDepth - param_base.
std::vector<Job> random_command(Random& rnd, const ParamMemory& params, unsigned& bank,
                                bool requant, bool per_channel, unsigned max_nt = 3) {
  const unsigned nt = rnd.uniform(1, max_nt);
  const unsigned base = rnd.uniform(0, kParamDepth - nt * kCols);
  const unsigned m_rows = rnd.uniform(1, kAccDepth);
  return make_command(rnd, params, bank, nt, m_rows, base, requant, per_channel);
}

// ---- the bench -------------------------------------------------------------------------
class StoreBench : public BlockBench<Vtsr_store_unit> {
 public:
  explicit StoreBench(std::uint64_t seed) : rnd_(seed ^ 0x5703E) {
    auto& d = dut();
    d.clear_i = 0;
    d.job_push_i = 0;
    d.job_i = 0;
    d.acc_written_i = 0;
    d.m_tready_i = 0;
    for (unsigned b = 0; b < 2; ++b) poison(b);
    drive_read_data();
    reset();
  }

  ParamMemory params{};
  int ready_percent = 100;    // chance of TREADY in a cycle
  int max_fill = 3;           // cycles the execute unit takes to fill a bank
  int max_written_delay = 4;  // cycles from a job's push to its bank being written (>= 1)
  int foreign_read_percent = 30;

  // Hands a job to the execute unit side; it pushes jobs in order, each once its bank is free.
  void submit(const Job& job) { to_issue_.push_back(job); }
  void submit(const std::vector<Job>& jobs) {
    for (const Job& job : jobs) submit(job);
  }

  // One cycle; with clear, a cycle of clear_i (CTRL.CLEAR, which clears the execute unit and
  // the accumulator's flags in the same edge).
  void step(bool clear = false);
  void clear() { step(true); }

  // Until every submitted job is out and taken; then one more cycle, checking the idle outputs.
  void run_until_idle(unsigned max_cycles = 5000) {
    for (unsigned i = 0; i < max_cycles && !idle(); ++i) step();
    if (!idle()) FAIL("not idle after " << max_cycles << " cycles" << summary());
    step();
  }

  bool all_pushed() const { return to_issue_.empty() && !filling_; }
  unsigned beats() const { return beats_; }
  unsigned gemm_dones() const { return gemm_dones_; }
  unsigned mismatches() const { return mismatches_; }
  unsigned stall_cycles() const { return stall_cycles_; }
  unsigned backpressure_cycles() const { return backpressure_cycles_; }
  unsigned max_queued() const { return max_queued_; }
  // A beat offered and not taken when the last CLEAR came: it stays offered (AXI4-Stream).
  bool held_through_clear() const { return held_through_clear_; }
  unsigned jobs_started() const { return jobs_started_; }

 private:
  enum class Phase { kIdle, kParams, kWait, kRows };
  struct PendingWrite {
    int delay;
    std::vector<Row> rows;
  };

  bool idle() const {
    return to_issue_.empty() && !filling_ && queued_.empty() && phase_ == Phase::kIdle &&
           expected_.empty() && issued_ == popped_ && !pending_[0] && !pending_[1];
  }

  std::string summary() const {
    std::ostringstream s;
    s << " (model: phase " << static_cast<int>(phase_) << ", jobs queued " << queued_.size()
      << ", params read " << params_read_ << ", rows read " << rows_issued_ << ", beats in flight "
      << issued_ - popped_ << ", written " << written_[0] << written_[1] << ", free " << free_[0]
      << free_[1] << ")";
    return s.str();
  }

  template <class Got, class Expected>
  void expect_eq(const char* what, Got got, Expected expected) {
    if (static_cast<std::uint64_t>(got) != static_cast<std::uint64_t>(expected)) {
      FAIL("cycle " << cycle() << ": " << what << " is " << static_cast<std::uint64_t>(got)
                    << ", expected " << static_cast<std::uint64_t>(expected) << summary());
    }
  }

  void poison(unsigned bank) {
    for (Row& row : banks_[bank])
      for (std::int32_t& v : row) v = static_cast<std::int32_t>(0xDEAD0000u ^ rnd_.bits());
  }

  void drive_read_data() {
    auto& d = dut();
    const Row& acc = bank_rdata_[store_bank_q_];
    for (unsigned c = 0; c < kCols; ++c) d.acc_rdata_i[c] = static_cast<std::uint32_t>(acc[c]);
    d.param_rdata_i[0] = static_cast<std::uint32_t>(param_rdata_.bias);
    d.param_rdata_i[1] = static_cast<std::uint32_t>(param_rdata_.mult);
    d.param_rdata_i[2] =
        static_cast<std::uint8_t>((param_rdata_.shift & 0x7F) | (param_rdata_.single ? 0x80 : 0));
  }

  void check_beat(bool take);
  void clear_model();

  Random rnd_;

  // Environment: accumulator banks and their flags, PARAM's read register, the execute unit.
  std::array<std::array<Row, kAccDepth>, 2> banks_{};
  std::array<Row, 2> bank_rdata_{};  // each bank's read register
  unsigned store_bank_q_ = 0;        // bank of the store unit's last read
  ParamWord param_rdata_{};
  std::array<bool, 2> written_{false, false};
  std::array<bool, 2> free_{true, true};
  std::array<bool, 2> exec_owns_{false, false};  // claimed, being filled
  std::array<std::optional<PendingWrite>, 2> pending_;
  std::deque<Job> to_issue_;
  bool filling_ = false;
  int fill_left_ = 0;
  bool next_is_first_ = true;  // the next job pushed starts a command
  unsigned cmd_base_ = 0;
  unsigned jobs_pushed_ = 0;

  // The store unit as it should behave.
  std::deque<Job> queued_;  // pushed, not started
  Phase phase_ = Phase::kIdle;
  Job current_;
  unsigned params_read_ = 0;
  unsigned rows_issued_ = 0;
  std::uint64_t issued_ = 0, landed_ = 0, popped_ = 0;
  std::deque<std::uint64_t> issue_cycles_;  // rows read, beat not yet offered
  std::deque<std::pair<std::uint64_t, unsigned>> slot_reads_;  // rows read: cycle, job
  unsigned jobs_popped_ = 0;
  std::deque<Beat> expected_;
  std::optional<std::pair<Row, bool>> held_;  // beat offered and not taken last cycle

  unsigned beats_ = 0, gemm_dones_ = 0, mismatches_ = 0, stall_cycles_ = 0;
  unsigned backpressure_cycles_ = 0, max_queued_ = 0, jobs_started_ = 0;
  bool held_through_clear_ = false;
};

void StoreBench::step(bool clear) {
  auto& d = dut();

  // The execute unit: claim the next job's bank once free, fill it, push the job.
  std::optional<Job> push;
  if (!clear) {
    if (!filling_ && !to_issue_.empty() && free_[to_issue_.front().bank]) {
      const unsigned bank = to_issue_.front().bank;
      free_[bank] = false;
      exec_owns_[bank] = true;
      poison(bank);
      fill_left_ = rnd_.uniform(0, max_fill);
      filling_ = true;
    }
    if (filling_) {
      if (fill_left_ == 0) {
        push = std::move(to_issue_.front());
        to_issue_.pop_front();
        filling_ = false;
      } else {
        --fill_left_;
      }
    }
  }

  d.clear_i = clear;
  d.job_push_i = push.has_value();
  // Without a push job_i is don't-care: noise shows if the unit latches it anyway.
  d.job_i = push ? pack(*push) : rnd_.bits() & ((std::uint64_t{1} << kJobW) - 1);
  d.acc_written_i = (written_[1] ? 2 : 0) | (written_[0] ? 1 : 0);
  drive_read_data();
  // Not in a clear cycle: a beat taken at the clearing edge would be neither kept nor lost.
  d.m_tready_i = !clear && rnd_.chance(ready_percent);
  settle();

  // ---- outputs against the model ----
  const std::uint64_t now = cycle();
  while (!issue_cycles_.empty() && issue_cycles_.front() + kReadToBeat <= now) {
    ++landed_;
    issue_cycles_.pop_front();
  }
  const std::uint64_t in_flight = issued_ - popped_;  // lane pipeline + output FIFO

  while (!slot_reads_.empty() && slot_reads_.front().first + kSlotReadBy < now)
    slot_reads_.pop_front();
  const bool slot_busy =
      std::any_of(slot_reads_.begin(), slot_reads_.end(),
                  [&](const auto& read) { return read.second != jobs_popped_; });
  const bool pop = phase_ == Phase::kIdle && !queued_.empty() && !slot_busy;
  const bool params_done = phase_ == Phase::kParams && params_read_ == kCols;
  const bool start = (params_done || phase_ == Phase::kWait) && written_[current_.bank];
  expect_eq("acc_start_o", d.acc_start_o, start);
  if (start) expect_eq("acc_bank_o at the start", d.acc_bank_o, current_.bank);

  const bool param_read = phase_ == Phase::kParams && params_read_ < kCols;
  expect_eq("param_re_o", d.param_re_o, param_read);
  const unsigned param_addr = (current_.param_base + params_read_) % kParamDepth;
  if (param_read) expect_eq("param_raddr_o", d.param_raddr_o, param_addr);

  const bool rows_left = phase_ == Phase::kRows;
  const bool issue = rows_left && in_flight < kOutDepth;
  const bool last_row = issue && rows_issued_ + 1 == current_.m_rows;
  expect_eq("acc_re_o", d.acc_re_o, issue);
  expect_eq("acc_done_o", d.acc_done_o, last_row);
  if (issue) {
    expect_eq("acc_raddr_o", d.acc_raddr_o, rows_issued_);
    expect_eq("acc_bank_o", d.acc_bank_o, current_.bank);
  }
  expect_eq("stall_o", d.stall_o, rows_left && !issue);
  // At least OutDepth - 10 beats wait in the FIFO then, so the stall is the sink's.
  if (d.stall_o) expect_eq("m_tvalid_o while stalled", d.m_tvalid_o, 1);
  expect_eq("m_tvalid_o", d.m_tvalid_o, landed_ > popped_);
  expect_eq("busy_o", d.busy_o, phase_ != Phase::kIdle || !queued_.empty() || in_flight > 0);

  const bool take = d.m_tvalid_o && d.m_tready_i;
  check_beat(take);
  if (d.stall_o) ++stall_cycles_;
  if (d.m_tvalid_o && !d.m_tready_i) ++backpressure_cycles_;
  // Jobs waiting for their turn at the rows: in the FIFO, or taken and not yet started.
  const bool current_waits = phase_ == Phase::kParams || phase_ == Phase::kWait;
  max_queued_ = std::max<unsigned>(max_queued_, queued_.size() + (current_waits ? 1 : 0));

  tick();

  // ---- the edge ----
  if (clear) {
    clear_model();
    return;
  }
  if (push) {
    const unsigned bank = push->bank;
    if (next_is_first_) cmd_base_ = push->param_base;
    next_is_first_ = push->cmd_last;
    for (Beat& beat : expected_beats(*push, params, cmd_base_, jobs_pushed_++))
      expected_.push_back(std::move(beat));
    pending_[bank] = PendingWrite{rnd_.uniform(1, max_written_delay), push->acc};
    queued_.push_back(std::move(*push));
  }
  if (pop) {
    current_ = queued_.front();
    queued_.pop_front();
    phase_ = Phase::kParams;
    ++jobs_popped_;
    params_read_ = 0;
    rows_issued_ = 0;
  } else if (start) {
    written_[current_.bank] = false;
    phase_ = Phase::kRows;
    ++jobs_started_;
  } else if (phase_ == Phase::kParams) {
    if (param_read) {
      param_rdata_ = params[param_addr];
      ++params_read_;
    } else {
      phase_ = Phase::kWait;  // the last word landed in its lane; the bank is not written
    }
  } else if (issue) {
    bank_rdata_[current_.bank] = banks_[current_.bank][rows_issued_];
    store_bank_q_ = current_.bank;
    issue_cycles_.push_back(now);
    slot_reads_.emplace_back(now, jobs_popped_);
    ++issued_;
    if (++rows_issued_ == current_.m_rows) {
      phase_ = Phase::kIdle;
      free_[current_.bank] = true;
      poison(current_.bank);  // the execute unit may refill it from now on
    }
  }
  // Read-modify-write reads of a bank being filled.
  for (unsigned b = 0; b < 2; ++b) {
    if (exec_owns_[b] && rnd_.chance(foreign_read_percent))
      bank_rdata_[b] = banks_[b][rnd_.uniform(0, kAccDepth - 1)];
  }
  if (take) {
    ++popped_;
    expected_.pop_front();
  }
  for (unsigned b = 0; b < 2; ++b) {
    if (pending_[b] && --pending_[b]->delay == 0) {
      std::copy(pending_[b]->rows.begin(), pending_[b]->rows.end(), banks_[b].begin());
      written_[b] = true;
      exec_owns_[b] = false;
      pending_[b].reset();
    }
  }
}

void StoreBench::check_beat(bool take) {
  auto& d = dut();
  Row got;
  for (unsigned c = 0; c < kCols; ++c) got[c] = static_cast<std::int32_t>(d.m_tdata_o[c]);
  const bool got_last = d.m_tlast_o;

  // AXI4-Stream: a beat offered stays, unchanged, until taken.
  if (held_) {
    expect_eq("m_tvalid_o after a beat was not taken", d.m_tvalid_o, 1);
    if (got != held_->first || got_last != held_->second)
      FAIL("cycle " << cycle() << ": a beat not taken changed" << summary());
  }
  held_.reset();
  if (d.m_tvalid_o && !take) held_ = {got, got_last};

  if (!take) {
    expect_eq("gemm_done_o without a beat taken", d.gemm_done_o, 0);
    return;
  }
  if (expected_.empty()) FAIL("cycle " << cycle() << ": a beat nobody asked for" << summary());
  const Beat& want = expected_.front();
  ++beats_;
  if (d.gemm_done_o) ++gemm_dones_;
  if (got != want.lanes || got_last != want.last || bool(d.gemm_done_o) != want.gemm_done) {
    if (++mismatches_ <= 8) {
      std::ostringstream s;
      s << "cycle " << cycle() << ", beat " << beats_ - 1 << ": " << want.where << "\n  expected";
      for (std::int32_t v : want.lanes) s << ' ' << v;
      s << " tlast " << want.last << " gemm_done " << want.gemm_done << "\n  got     ";
      for (std::int32_t v : got) s << ' ' << v;
      s << " tlast " << got_last << " gemm_done " << int{d.gemm_done_o};
      FAIL_CHECK(s.str());
    }
  }
}

// CTRL.CLEAR: the unit, the execute unit and the accumulator's flags start over; the
// memories and their read registers keep what they hold.
void StoreBench::clear_model() {
  written_ = {false, false};
  free_ = {true, true};
  exec_owns_ = {false, false};
  pending_ = {};
  to_issue_.clear();
  filling_ = false;
  next_is_first_ = true;
  queued_.clear();
  phase_ = Phase::kIdle;
  params_read_ = rows_issued_ = 0;
  issued_ = landed_ = popped_ = 0;
  issue_cycles_.clear();
  slot_reads_.clear();
  expected_.clear();
  // A beat on offer stays until taken, now stale: it retires nothing (no gemm_done_o).
  held_through_clear_ = held_.has_value();
  if (held_) {
    expected_.push_back(Beat{held_->first, held_->second, false, "the beat held through CLEAR"});
    issued_ = landed_ = 1;
  }
}

unsigned count_beats(const std::vector<Job>& jobs) {
  unsigned n = 0;
  for (const Job& job : jobs) n += job.m_rows;
  return n;
}

}  // namespace

TEST_CASE("store_unit: raw int32 output is acc + bias, wrapping", "[store_unit]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_store_unit_tests", "store_unit: raw int32 output is acc + bias, wrapping");
  INFO("seed " << seed);
  Random rnd(seed);
  StoreBench bench(seed);
  // Multiplier and shift must not matter without requant: noise.
  for (ParamWord& w : bench.params) w = {rnd.value(), rnd.int32(), rnd.int8()};
  bench.params[0].bias = 1;
  bench.params[1].bias = kMax;
  bench.params[2].bias = kMin;

  unsigned bank = 0;
  // One job alone, M = AccDepth, with the wrapping sums in its first row.
  std::vector<Job> job = make_command(rnd, bench.params, bank, 1, kAccDepth, 0, false, true);
  job[0].acc[0] = {kMax, 1, -1};  // kMax + 1, 1 + kMax, -1 + kMin: all wrap
  job[0].acc[1] = {kMin, kMin, kMin};
  bench.submit(job);
  bench.run_until_idle();
  CHECK(bench.beats() == kAccDepth);
  CHECK(bench.gemm_dones() == 1);

  // More single-job commands: one row, odd sizes, other banks and param_bases (the last up
  // to the end of PARAM); per_channel, zero point and clamp must not matter either.
  std::vector<Job> jobs;
  constexpr std::array<std::pair<unsigned, unsigned>, 4> kShapes = {
      {{1, 13}, {5, 7}, {3, 4}, {kAccDepth, 11}}};  // {M, param_base}
  for (auto [m_rows, base] : kShapes) {
    std::vector<Job> c =
        make_command(rnd, bench.params, bank, 1, m_rows, base, false, rnd.chance(50));
    jobs.insert(jobs.end(), c.begin(), c.end());
  }
  bench.submit(jobs);
  bench.run_until_idle();
  CHECK(bench.beats() == kAccDepth + count_beats(jobs));
  CHECK(bench.gemm_dones() == 1 + jobs.size());
  CHECK(bench.mismatches() == 0);
}

TEST_CASE("store_unit: per-channel requantization, random multipliers and shifts", "[store_unit]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_store_unit_tests",
      "store_unit: per-channel requantization, random multipliers and shifts");
  INFO("seed " << seed);
  Random rnd(seed);
  StoreBench bench(seed);
  bench.ready_percent = 70;
  for (ParamWord& w : bench.params) w = rnd.scale_word();
  // Left and right shifts both in every column block.
  for (unsigned i = 0; i < kParamDepth; ++i) {
    if (i % 3 == 0) bench.params[i].shift = static_cast<std::int8_t>(rnd.uniform(1, 6));
    if (i % 3 == 1) bench.params[i].shift = static_cast<std::int8_t>(rnd.uniform(-14, -1));
  }

  unsigned bank = 0, commands = 0, in_window = 0, lanes = 0;
  std::vector<Job> jobs;
  for (int i = 0; i < 16; ++i, ++commands) {
    std::vector<Job> c = random_command(rnd, bench.params, bank, true, true);
    jobs.insert(jobs.end(), c.begin(), c.end());
  }
  for (const Job& job : jobs) {
    for (const Beat& beat : expected_beats(job, bench.params, 0, 0)) {
      for (std::int32_t v : beat.lanes) {
        ++lanes;
        if (v > job.clamp_lo && v < job.clamp_hi) ++in_window;
      }
    }
  }
  // Most results inside the clamp window, or only the clamp would be checked.
  CHECK(in_window > lanes / 4);

  bench.submit(jobs);
  bench.run_until_idle();
  CHECK(bench.beats() == count_beats(jobs));
  CHECK(bench.gemm_dones() == commands);
  CHECK(bench.mismatches() == 0);
}

// docs/isa.md: per_channel=0 scales every lane of every column block with the multiplier and
// shift of the command's first channel (param_base), not each block's own first channel; the
// bias stays per channel. The next command takes its own first channel.
TEST_CASE("store_unit: per-tensor scale is the command's first channel for every block",
          "[store_unit]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_store_unit_tests",
      "store_unit: per-tensor scale is the command's first channel for every block");
  INFO("seed " << seed);
  Random rnd(seed);
  StoreBench bench(seed);
  bench.ready_percent = 80;
  auto tflite_mult = [&] {
    return static_cast<std::int32_t>((1u << 30) + (rnd.bits() & 0x3FFFFFFF));
  };
  // Every channel but the commands' first ones (shifts -5, -2, -3) scales up 32 times more
  // or further (shifts 3..8), so a result taken with the wrong word is clamped, not in the
  // window.
  for (ParamWord& w : bench.params)
    w = {rnd.value(), tflite_mult(), static_cast<std::int8_t>(rnd.uniform(3, 8))};
  bench.params[1].shift = -5;
  bench.params[4].shift = -2;
  bench.params[13].shift = -3;

  unsigned bank = 0;
  std::vector<Job> jobs;
  std::vector<unsigned> cmd_bases;  // of each job's command
  auto add = [&](std::vector<Job> command) {
    for (Job& job : command) {
      cmd_bases.push_back(command.front().param_base);
      job.clamp_lo = -128;  // the full window, so that the clamp hides nothing
      job.clamp_hi = 127;
    }
    jobs.insert(jobs.end(), command.begin(), command.end());
  };
  // A: four blocks at words 1, 4, 7, 10, all scaled by word 1; word 4 is block 1's channel 0.
  add(make_command(rnd, bench.params, bank, 4, 6, 1, true, false));
  // B: from word 4, so scaled by word 4, not by A's word 1.
  add(make_command(rnd, bench.params, bank, 2, 4, 4, true, false));
  // C: per channel between them, then D: per tensor again, from the last block of PARAM.
  add(make_command(rnd, bench.params, bank, 2, 3, 2, true, true));
  add(make_command(rnd, bench.params, bank, 1, kAccDepth, 13, true, false));

  // The test's own check: had the unit scaled a later block by that block's own channel 0,
  // or every channel by its own word, most results would differ.
  unsigned lanes = 0, differ_block = 0, differ_channel = 0;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    if (jobs[j].per_channel || jobs[j].param_base == cmd_bases[j]) continue;
    Job per_channel = jobs[j];
    per_channel.per_channel = true;
    const auto right = expected_beats(jobs[j], bench.params, cmd_bases[j], 0);
    const auto block = expected_beats(jobs[j], bench.params, jobs[j].param_base, 0);
    const auto channel = expected_beats(per_channel, bench.params, 0, 0);
    for (unsigned r = 0; r < jobs[j].m_rows; ++r) {
      for (unsigned c = 0; c < kCols; ++c, ++lanes) {
        differ_block += right[r].lanes[c] != block[r].lanes[c];
        differ_channel += right[r].lanes[c] != channel[r].lanes[c];
      }
    }
  }
  CHECK(lanes == 3 * kCols * 6 + kCols * 4);
  CHECK(differ_block > lanes / 2);
  CHECK(differ_channel > lanes / 2);

  bench.submit(jobs);
  bench.run_until_idle();
  CHECK(bench.beats() == count_beats(jobs));
  CHECK(bench.gemm_dones() == 4);
  CHECK(bench.mismatches() == 0);
}

TEST_CASE("store_unit: queued jobs under back-pressure, no beat lost or repeated", "[store_unit]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_store_unit_tests",
      "store_unit: queued jobs under back-pressure, no beat lost or repeated");
  INFO("seed " << seed);
  Random rnd(seed);
  StoreBench bench(seed);
  for (ParamWord& w : bench.params) w = rnd.scale_word();

  unsigned bank = 0, commands = 0;
  std::vector<Job> jobs;
  while (jobs.size() < 48) {
    std::vector<Job> c = random_command(rnd, bench.params, bank, rnd.chance(80), rnd.chance(50), 4);
    jobs.insert(jobs.end(), c.begin(), c.end());
    ++commands;
  }
  // Phases: a fast producer and a slow sink (the output backs up into the unit, and banks
  // are written late, so both jobs wait), then a fast sink and a slow producer (the unit
  // waits for banks), then both random. {TREADY %, max fill, max written delay}
  const std::array<std::array<int, 3>, 3> phases = {{{25, 0, 16}, {100, 6, 10}, {50, 2, 4}}};
  const std::size_t third = jobs.size() / 3;
  for (std::size_t p = 0; p < phases.size(); ++p) {
    bench.ready_percent = phases[p][0];
    bench.max_fill = phases[p][1];
    bench.max_written_delay = phases[p][2];
    const auto first = jobs.begin() + p * third;
    bench.submit(std::vector<Job>(first, p + 1 == phases.size() ? jobs.end() : first + third));
    // The next phase's settings apply once this phase's jobs are all pushed.
    for (unsigned i = 0; i < 20000 && !bench.all_pushed(); ++i) bench.step();
  }
  bench.run_until_idle(20000);

  CHECK(bench.jobs_started() == jobs.size());
  CHECK(bench.beats() == count_beats(jobs));
  CHECK(bench.gemm_dones() == commands);
  CHECK(bench.mismatches() == 0);
  // The situations this test is for did happen.
  CHECK(bench.max_queued() == 2);  // both banks' jobs waiting their turn
  CHECK(bench.stall_cycles() > 0);
  CHECK(bench.backpressure_cycles() > 0);
}

TEST_CASE("store_unit: clear in the middle of a job leaves it idle and ready", "[store_unit]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_store_unit_tests", "store_unit: clear in the middle of a job leaves it idle and ready");
  INFO("seed " << seed);
  Random rnd(seed);
  StoreBench bench(seed);
  for (ParamWord& w : bench.params) w = rnd.scale_word();
  bench.ready_percent = 50;

  unsigned bank = 0, cleared_busy = 0, cleared_with_beats = 0, cleared_mid_output = 0,
           cleared_held = 0;
  // Every clear point from the first cycle on: job queued, PARAM reads, row reads, rows in
  // the lanes, beats waiting in the output FIFO, some taken, the second block's turn.
  for (unsigned clear_at = 0; clear_at < 48; ++clear_at) {
    INFO("clear after " << clear_at << " cycles");
    // A per-tensor command of two blocks, cleared before it is through: the next job starts
    // a command again and must take its own first word for the scale, not this command's.
    const unsigned base = rnd.uniform(0, kParamDepth - 2 * kCols);
    bench.submit(make_command(rnd, bench.params, bank, 2, kAccDepth, base, true, false));
    const unsigned before = bench.beats();
    for (unsigned i = 0; i < clear_at; ++i) bench.step();
    cleared_busy += bench->busy_o;
    cleared_with_beats += bench->m_tvalid_o;
    cleared_mid_output += bench.beats() != before;
    bench.clear();
    bench->eval();
    const bool held = bench.held_through_clear();
    cleared_held += held;
    CHECK(bench->busy_o == held);
    CHECK(bench->m_tvalid_o == held);
    CHECK(bench->stall_o == 0);
    CHECK(bench->acc_re_o == 0);
    CHECK(bench->param_re_o == 0);

    // Then a command from anywhere, mostly per tensor, must come out right; the bench also
    // fails on any beat left over from before the clear.
    bank = rnd.uniform(0, 1);
    const std::vector<Job> after =
        random_command(rnd, bench.params, bank, rnd.chance(80), rnd.chance(25), 2);
    bench.submit(after);
    const unsigned after_clear = bench.beats();
    bench.run_until_idle();
    CHECK(bench.beats() - after_clear == count_beats(after) + (held ? 1 : 0));
  }
  CHECK(bench.mismatches() == 0);
  // The clear points did cover the job's course.
  CHECK(cleared_busy > 30);
  CHECK(cleared_with_beats > 5);
  CHECK(cleared_mid_output > 5);
  CHECK(cleared_held > 0);  // a beat on offer at the CLEAR stayed, unchanged, until taken
}
