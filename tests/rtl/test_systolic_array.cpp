// tsr_systolic_array at Rows=4, Cols=3 (non-square, so a transposed index shows). The
// contract the execute unit builds on (docs/isa.md, tsr_top): weights are written a row at
// a time into one of two banks; activation row r enters r cycles after row 0 (skewed); the
// sum of column c leaves the bottom edge Rows + 2 + c cycles after row 0's activation entered
// (each PE registers its multiplier's inputs and its product: the chain is two cycles longer).
// Each activation carries its bank, so folds can follow each other without a bubble.
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "Vtsr_systolic_array.h"
#include "block_bench.hpp"

namespace {

using tessera::rtl_test::BlockBench;

constexpr int kRows = 4;
constexpr int kCols = 3;
constexpr int kLatency = kRows + 2;  // row 0's activation in to column 0's sum out

using Weights = std::array<std::array<std::int8_t, kCols>, kRows>;  // [r][c]
using ActRow = std::array<std::int8_t, kRows>;                      // one row of A (K = Rows)

// One activation row streamed into the array and the bank whose weights it multiplies.
struct Issue {
  ActRow act;
  int bank;
};

// A weight-row write scheduled at a cycle (relative to the first activation).
struct WeightWrite {
  int cycle;
  int row;
  int bank;
  std::array<std::int8_t, kCols> values;
};

struct ArrayBench : BlockBench<Vtsr_systolic_array> {
  ArrayBench() {
    auto& d = dut();
    d.act_i = 0;
    d.act_bank_i = 0;
    d.wgt_we_i = 0;
    d.wgt_bank_i = 0;
    d.wgt_row_i = 0;
    d.fault_stuck0_i = 0;
    settle();
  }

  static std::uint32_t pack_row(const std::array<std::int8_t, kCols>& v) {
    std::uint32_t word = 0;
    for (int c = 0; c < kCols; ++c)
      word |= std::uint32_t{static_cast<std::uint8_t>(v[c])} << (8 * c);
    return word;
  }

  void load_bank(int bank, const Weights& w) {
    auto& d = dut();
    for (int r = 0; r < kRows; ++r) {
      d.wgt_we_i = 1u << r;
      d.wgt_bank_i = bank;
      d.wgt_row_i = pack_row(w[r]);
      tick();
    }
    d.wgt_we_i = 0;
  }

  std::int32_t psum(int col) { return static_cast<std::int32_t>(dut().psum_o[col]); }

  // Streams the issues back to back (issue i's row 0 enters at cycle i, row r at i + r),
  // applying the scheduled weight writes, and returns psum_o of every cycle.
  std::vector<std::array<std::int32_t, kCols>> run(const std::vector<Issue>& issues,
                                                   const std::vector<WeightWrite>& writes,
                                                   int cycles) {
    auto& d = dut();
    std::vector<std::array<std::int32_t, kCols>> out;
    for (int t = 0; t < cycles; ++t) {
      std::uint32_t act = 0, bank = 0;
      for (int r = 0; r < kRows; ++r) {
        const int i = t - r;  // the issue whose row r enters now
        if (i >= 0 && i < static_cast<int>(issues.size())) {
          act |= std::uint32_t{static_cast<std::uint8_t>(issues[i].act[r])} << (8 * r);
          bank |= static_cast<std::uint32_t>(issues[i].bank) << r;
        }
      }
      d.act_i = act;
      d.act_bank_i = bank;
      d.wgt_we_i = 0;
      for (const auto& w : writes) {
        if (w.cycle == t) {
          d.wgt_we_i = 1u << w.row;
          d.wgt_bank_i = w.bank;
          d.wgt_row_i = pack_row(w.values);
        }
      }
      settle();
      out.push_back({psum(0), psum(1), psum(2)});
      tick();
    }
    d.wgt_we_i = 0;
    return out;
  }
};

std::int32_t dot_column(const ActRow& a, const Weights& w, int c) {
  std::int32_t sum = 0;
  for (int r = 0; r < kRows; ++r) sum += a[r] * w[r][c];
  return sum;
}

Weights random_weights(std::mt19937_64& rng) {
  Weights w{};
  for (auto& row : w)
    for (auto& v : row) v = static_cast<std::int8_t>(rng());
  return w;
}

ActRow random_act(std::mt19937_64& rng) {
  ActRow a{};
  for (auto& v : a) v = static_cast<std::int8_t>(rng());
  return a;
}

// Checks every cycle's bottom edge: issue i's column c at cycle i + Rows + 2 + c, zero otherwise
// (idle slots carry activation 0, so nothing else may leave the array).
void check_edge(const std::vector<std::array<std::int32_t, kCols>>& out,
                const std::vector<Issue>& issues, const std::vector<Weights>& weights_of_issue) {
  int mismatches = 0;
  for (int t = 0; t < static_cast<int>(out.size()); ++t) {
    for (int c = 0; c < kCols; ++c) {
      const int i = t - kLatency - c;
      std::int32_t expected = 0;
      if (i >= 0 && i < static_cast<int>(issues.size()))
        expected = dot_column(issues[i].act, weights_of_issue[i], c);
      if (out[t][c] != expected && ++mismatches <= 5) {
        FAIL_CHECK("cycle " << t << " column " << c << " (issue " << i << "): expected " << expected
                            << ", got " << out[t][c]);
      }
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("systolic_array: column sums equal A*B, column c after Rows + 2 + c cycles",
          "[systolic_array]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_systolic_array_tests",
      "systolic_array: column sums equal A*B, column c after Rows + 2 + c cycles");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  ArrayBench array;

  SECTION("a hand-checked product") {
    // A (2 x 4) * B (4 x 3), with int8 extremes.
    const Weights b = {{{1, 2, 3}, {-1, 0, 1}, {-128, 127, 5}, {2, -2, -128}}};
    array.load_bank(0, b);
    const std::vector<Issue> issues = {{{1, 2, 3, 4}, 0}, {{-128, -128, -128, -128}, 0}};
    const auto out = array.run(issues, {}, 2 + kLatency + kCols + 2);
    // Row 0: [1 - 2 - 384 + 8, 2 + 0 + 381 - 8, 3 + 2 + 15 - 512] = [-377, 375, -492]
    CHECK(out[kLatency + 0][0] == -377);
    CHECK(out[kLatency + 1][1] == 375);
    CHECK(out[kLatency + 2][2] == -492);
    // Row 1: -128 * column sums [-126, 127, -119]
    CHECK(out[1 + kLatency + 0][0] == 16128);
    CHECK(out[1 + kLatency + 1][1] == -16256);
    CHECK(out[1 + kLatency + 2][2] == 15232);
    check_edge(out, issues, {b, b});
  }

  SECTION("random int8 matrices, both banks") {
    for (int trial = 0; trial < 40; ++trial) {
      const int bank = trial & 1;
      const Weights b = random_weights(rng);
      array.load_bank(bank, b);
      const int m = 1 + static_cast<int>(rng() % 12);
      std::vector<Issue> issues;
      for (int i = 0; i < m; ++i) issues.push_back({random_act(rng), bank});
      const auto out = array.run(issues, {}, m + kLatency + kCols + 2);
      INFO("trial " << trial << ", M = " << m << ", bank " << bank);
      check_edge(out, issues, std::vector<Weights>(issues.size(), b));
    }
  }
}

TEST_CASE("systolic_array: back-to-back folds switch banks with no bubble", "[systolic_array]") {
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_systolic_array_tests", "systolic_array: back-to-back folds switch banks with no bubble");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  ArrayBench array;

  for (int trial = 0; trial < 20; ++trial) {
    // Three folds of M rows: fold 0 on bank 0 (loaded before), fold 1 on bank 1 (loaded while
    // fold 0 computes), fold 2 on bank 0 again (reloaded while fold 1 computes, each row as
    // soon as fold 0's last activation has passed it: the tightest legal schedule).
    // M >= 3 keeps the bank-0 writes (from cycle M + Cols - 2) clear of the bank-1 writes in
    // cycles 0..Rows-1 (one weight row per cycle), and M >= 2 gets them done before fold 2.
    const int m = 3 + static_cast<int>(rng() % 6);
    INFO("trial " << trial << ", M = " << m);
    const Weights b0 = random_weights(rng), b1 = random_weights(rng), b2 = random_weights(rng);
    array.load_bank(0, b0);

    std::vector<Issue> issues;
    std::vector<Weights> weights_of_issue;
    for (int fold = 0; fold < 3; ++fold) {
      for (int i = 0; i < m; ++i) {
        issues.push_back({random_act(rng), fold & 1});
        weights_of_issue.push_back(fold == 0 ? b0 : fold == 1 ? b1 : b2);
      }
    }
    std::vector<WeightWrite> writes;
    for (int r = 0; r < kRows; ++r) writes.push_back({r, r, 1, b1[r]});  // during fold 0
    for (int r = 0; r < kRows; ++r) {
      // Fold 0's last issue (m - 1) uses row r of bank 0 at cycles m-1+r .. m-1+r+Cols-1; a
      // write in the last of those cycles lands at its edge, after the use.
      writes.push_back({(m - 1) + r + (kCols - 1), r, 0, b2[r]});
    }
    const auto out = array.run(issues, writes, 3 * m + kLatency + kCols + 2);
    check_edge(out, issues, weights_of_issue);
  }
}

TEST_CASE("systolic_array: fault_stuck0_i bit r*Cols+c silences PE (r, c) only",
          "[systolic_array]") {
  ArrayBench array;
  Weights ones{};
  for (auto& row : ones) row.fill(1);
  array.load_bank(0, ones);
  const ActRow a = {1, 10, 100, -128};  // column sum 1 + 10 + 100 - 128 = -17
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kCols; ++c) {
      array.dut().fault_stuck0_i = 1u << (r * kCols + c);
      const auto out = array.run({{a, 0}}, {}, kLatency + kCols + 1);
      INFO("fault at PE (" << r << ", " << c << ")");
      for (int cc = 0; cc < kCols; ++cc) {
        CHECK(out[kLatency + cc][cc] == (cc == c ? -17 - a[r] : -17));
      }
    }
  }
  array.dut().fault_stuck0_i = 0;
}
