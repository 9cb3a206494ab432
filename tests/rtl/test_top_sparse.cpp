// Directed SPGEMM and SPGEMMA tests of tsr_top at 4x4 (GbufDepth = MetaDepth = 32, as
// scripts/synth.sh builds it), through its ports only (top_host.hpp). Each test packs a
// dense B (SPGEMM) or A (SPGEMMA) into the compressed layout (docs/isa.md) and checks
// every result beat against A·B + bias computed here, densely: the sparse path must equal
// the dense product bit for bit. The random command-stream testbench
// (cmd_stream_tb) mixes SPGEMMs into arbitrary programs; these tests pin the corners.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "Vtsr_top.h"
#include "block_bench.hpp"
#include "tessera/golden.hpp"
#include "tessera/isa.hpp"
#include "top_host.hpp"

using namespace tessera;
using namespace tessera::rtl_test;

namespace {

constexpr unsigned kRows = 4, kCols = 4;
using Matrix = std::vector<std::vector<std::int8_t>>;  // [row][col]

struct Channel {
  std::int32_t bias = 0, mult = 1 << 30;
  std::int8_t shift = 0;
};

// B [K][N] in the SPGEMM layout: entry j of column c of block nt at word nt*len + j.
struct Packed {
  unsigned len = 1;
  std::vector<std::vector<std::uint8_t>> values, indices;  // [word][c]
};

Packed pack(const Matrix& b, unsigned k, unsigned n, unsigned force_len = 0) {
  const unsigned nt = (n + kCols - 1) / kCols;
  Packed p;
  for (unsigned col = 0; col < n; ++col) {
    unsigned count = 0;
    for (unsigned kk = 0; kk < k; ++kk) count += b[kk][col] != 0;
    p.len = std::max(p.len, count);
  }
  if (force_len) p.len = force_len;
  p.values.assign(nt * p.len, std::vector<std::uint8_t>(kCols, 0));
  p.indices.assign(nt * p.len, std::vector<std::uint8_t>(kCols, 0));
  for (unsigned col = 0; col < nt * kCols; ++col) {
    unsigned j = 0;
    for (unsigned kk = 0; col < n && kk < k; ++kk) {
      if (b[kk][col] == 0) continue;
      const unsigned word = (col / kCols) * p.len + j++;
      p.values[word][col % kCols] = static_cast<std::uint8_t>(b[kk][col]);
      p.indices[word][col % kCols] = static_cast<std::uint8_t>(kk);
    }
  }
  return p;
}

struct Rig {
  explicit Rig(std::uint64_t seed) : host(seed), rng(seed) {
    REQUIRE(host.config().rows == kRows);
    REQUIRE(host.config().cols == kCols);
    host.sink_enabled = true;
  }
  TopHost<Vtsr_top> host;
  std::mt19937_64 rng;
  std::vector<OutBeat> out, expected;

  void observe(const CycleEvents& ev) {
    if (ev.out_beat) out.push_back(ev.out);
  }
  unsigned write(std::uint32_t addr, std::uint32_t data) {
    return host.csr_write(addr, data, [&](const CycleEvents& ev) { observe(ev); });
  }
  std::uint32_t read(std::uint32_t addr) {
    unsigned resp = 0;
    const std::uint32_t v = host.csr_read(addr, &resp, [&](const CycleEvents& ev) { observe(ev); });
    REQUIRE(resp == 0);
    return v;
  }
  void push(const isa::CommandWords& w) {
    for (int i = 0; i < 4; ++i) REQUIRE(write(isa::csr::kCmd0 + 4 * i, w[i]) == 0);
  }
  // LOAD target at dst with one beat per word (the word's bytes first, the rest random).
  void load(isa::Target target, std::uint32_t dst,
            const std::vector<std::vector<std::uint8_t>>& words) {
    Packet p;
    for (std::size_t i = 0; i < words.size(); ++i) {
      InBeat beat;
      beat.bytes.resize(host.config().in_bytes);
      for (auto& x : beat.bytes) x = static_cast<std::uint8_t>(rng());
      std::copy(words[i].begin(), words[i].end(), beat.bytes.begin());
      beat.last = i + 1 == words.size();
      p.push_back(std::move(beat));
    }
    host.queue_packet(std::move(p), 0);
    push(isa::encode(isa::LoadCommand{target, dst, static_cast<std::uint32_t>(words.size())}));
  }
  void load_params(std::uint32_t dst, const std::vector<Channel>& ch) {
    std::vector<std::vector<std::uint8_t>> words;
    for (const Channel& c : ch) {
      std::vector<std::uint8_t> w(9);
      for (int i = 0; i < 4; ++i) {
        w[i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(c.bias) >> (8 * i));
        w[4 + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(c.mult) >> (8 * i));
      }
      w[8] = static_cast<std::uint8_t>(c.shift);
      words.push_back(w);
    }
    load(isa::Target::kParam, dst, words);
  }
  // GBUF word k = A[r][k] in byte r (rows r >= M left random).
  void load_gbuf(std::uint32_t dst, const Matrix& a, unsigned k) {
    std::vector<std::vector<std::uint8_t>> words(k, std::vector<std::uint8_t>(kRows));
    for (unsigned kk = 0; kk < k; ++kk) {
      for (unsigned r = 0; r < kRows; ++r) {
        words[kk][r] = r < a.size() ? static_cast<std::uint8_t>(a[r][kk])
                                    : static_cast<std::uint8_t>(rng());
      }
    }
    load(isa::Target::kGbuf, dst, words);
  }
  // What the engine must send for out = A·B (+ bias, requant) over N columns.
  void expect(const Matrix& a, const Matrix& b, unsigned k, unsigned n,
              const std::vector<Channel>& ch, const isa::SpgemmCommand& cmd) {
    const unsigned nt = (n + kCols - 1) / kCols;
    for (unsigned t = 0; t < nt; ++t) {
      for (unsigned m = 0; m < a.size(); ++m) {
        OutBeat beat;
        beat.last = m + 1 == a.size();
        for (unsigned c = 0; c < kCols; ++c) {
          const unsigned col = t * kCols + c;
          std::int32_t acc = 0;
          for (unsigned kk = 0; col < n && kk < k; ++kk) {
            acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) +
                                            static_cast<std::uint32_t>(a[m][kk] * b[kk][col]));
          }
          const Channel& p = ch[col];
          const Channel& q = cmd.per_channel ? p : ch[0];
          acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) +
                                          static_cast<std::uint32_t>(p.bias));
          if (cmd.requant) {
            std::int32_t y = multiply_by_quantized_multiplier(acc, q.mult, q.shift);
            y = static_cast<std::int32_t>(static_cast<std::uint32_t>(y) +
                                          static_cast<std::uint32_t>(cmd.zero_point));
            acc = std::clamp<std::int32_t>(y, cmd.clamp_lo, cmd.clamp_hi);
          }
          beat.lanes.push_back(acc);
        }
        expected.push_back(beat);
      }
    }
  }
  void run(int timeout = 100000) {
    for (int i = 0; out.size() < expected.size(); ++i) {
      REQUIRE(i < timeout);
      observe(host.tick());
    }
    for (int i = 0; i < 100; ++i) observe(host.tick());
  }
  void check_results() {
    REQUIRE(out.size() == expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      INFO("result beat " << i);
      CHECK(out[i].lanes == expected[i].lanes);
      CHECK(out[i].last == expected[i].last);
    }
  }

  Matrix random_matrix(unsigned rows, unsigned cols, double density) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Matrix m(rows, std::vector<std::int8_t>(cols, 0));
    for (auto& row : m) {
      for (auto& x : row) {
        if (u(rng) < density) {
          do x = static_cast<std::int8_t>(rng()); while (x == 0);
        }
      }
    }
    return m;
  }
  std::vector<Channel> random_channels(unsigned n) {
    std::vector<Channel> ch(n);
    for (Channel& c : ch) {
      c.bias = static_cast<std::int32_t>(rng() % 4001) - 2000;
      c.mult = static_cast<std::int32_t>((1u << 30) + (rng() & 0x3FFFFFFF));
      c.shift = static_cast<std::int8_t>(-6 - static_cast<int>(rng() % 4));
    }
    return ch;
  }

  // SPGEMMA over the row blocks of `a` (Cols rows each, M = m_rows of them output) and
  // one column block of B (N = Cols): A compressed per row into WGT and META, B into
  // GBUF word k = B[k][0..Cols-1].
  isa::SpgemmCommand spgemm_a(const Matrix& a, const Matrix& b, unsigned k, unsigned m_rows,
                              const std::vector<Channel>& ch, std::uint16_t gbuf,
                              std::uint16_t wgt, std::uint16_t meta, std::uint16_t param,
                              bool requant) {
    REQUIRE(a.size() % kCols == 0);
    const unsigned blocks = static_cast<unsigned>(a.size()) / kCols;
    Matrix at(k, std::vector<std::int8_t>(a.size()));
    for (unsigned m = 0; m < a.size(); ++m)
      for (unsigned kk = 0; kk < k; ++kk) at[kk][m] = a[m][kk];
    const Packed p = pack(at, k, static_cast<unsigned>(a.size()));
    load_params(param, ch);
    load(isa::Target::kWgt, wgt, p.values);
    load(isa::Target::kMeta, meta, p.indices);
    std::vector<std::vector<std::uint8_t>> gwords(k);
    for (unsigned kk = 0; kk < k; ++kk)
      for (unsigned c = 0; c < kCols; ++c) gwords[kk].push_back(static_cast<std::uint8_t>(b[kk][c]));
    load(isa::Target::kGbuf, gbuf, gwords);
    isa::SpgemmCommand cmd = command({gbuf, wgt, meta, param}, requant, m_rows, k, p.len, blocks);
    cmd.compressed_a = true;
    push(isa::encode(cmd));
    for (unsigned t = 0; t < blocks; ++t) {
      const Matrix rows(a.begin() + t * kCols, a.begin() + t * kCols + m_rows);
      expect(rows, b, k, kCols, ch, cmd);  // every block: the same Cols channels
    }
    return cmd;
  }

  // An SPGEMM (or SPGEMMA) command, per channel, with a zero point and a clamp that bite.
  struct Bases {
    std::uint16_t gbuf, wgt, meta, param;
  };
  static isa::SpgemmCommand command(const Bases& at, bool requant, unsigned m_rows, unsigned k,
                                    unsigned len, unsigned blocks) {
    isa::SpgemmCommand cmd;
    cmd.requant = requant;
    cmd.per_channel = true;
    cmd.zero_point = -3;
    cmd.clamp_lo = -100;
    cmd.clamp_hi = 110;
    cmd.gbuf_base = at.gbuf;
    cmd.wgt_base = at.wgt;
    cmd.meta_base = at.meta;
    cmd.param_base = at.param;
    cmd.m_rows = m_rows;
    cmd.k_count = k;
    cmd.len = len;
    cmd.nt_count = static_cast<std::uint8_t>(blocks);
    return cmd;
  }

  // Loads everything for one SPGEMM at the given bases and pushes it.
  isa::SpgemmCommand spgemm(const Matrix& a, const Matrix& b, unsigned k, unsigned n,
                            const std::vector<Channel>& ch, std::uint16_t gbuf,
                            std::uint16_t wgt, std::uint16_t meta, std::uint16_t param,
                            bool requant, unsigned force_len = 0) {
    const Packed p = pack(b, k, n, force_len);
    load_params(param, ch);
    load(isa::Target::kWgt, wgt, p.values);
    load(isa::Target::kMeta, meta, p.indices);
    load_gbuf(gbuf, a, k);
    const isa::SpgemmCommand cmd = command({gbuf, wgt, meta, param}, requant,
                                           static_cast<unsigned>(a.size()), k, p.len,
                                           (n + kCols - 1) / kCols);
    push(isa::encode(cmd));
    expect(a, b, k, n, ch, cmd);
    return cmd;
  }
};

std::uint64_t seed_of(const char* name) { return test_seed("rtl_top_sparse_tests", name); }

}  // namespace

TEST_CASE("top sparse: unstructured B at several densities equals A·B + bias", "[top_sparse]") {
  Rig rig(seed_of("top sparse: unstructured"));
  REQUIRE((rig.read(isa::csr::kFeatures) >> isa::kFeatureSparse & 1u) == 1u);
  REQUIRE(rig.read(isa::csr::kCfgGbufDepth) == 32);
  REQUIRE(rig.read(isa::csr::kCfgMetaDepth) == 32);
  const double densities[] = {0.0, 0.1, 0.25, 0.5, 1.0};
  std::uint16_t param = 0;
  for (const double d : densities) {
    for (const bool requant : {false, true}) {
      const unsigned k = 10, n = 7;  // K and N not multiples of the array
      const Matrix a = rig.random_matrix(3, k, 1.0);
      const Matrix b = rig.random_matrix(k, n, d);
      rig.spgemm(a, b, k, n, rig.random_channels(8), 0, 0, 0, param, requant);
      param = static_cast<std::uint16_t>(param == 0 ? 8 : 0);  // keep the two in flight apart
      rig.run();
    }
  }
  rig.check_results();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
}

TEST_CASE("top sparse: one-entry blocks with M = Rows wait for the hand-off", "[top_sparse]") {
  Rig rig(seed_of("top sparse: one-entry blocks"));
  const unsigned k = 4, n = 16;  // four blocks, one entry each (len 1 < M 4)
  Matrix b(k, std::vector<std::int8_t>(n, 0));
  for (unsigned col = 0; col < n; ++col) b[col % k][col] = static_cast<std::int8_t>(col * 7 - 50);
  const Matrix a = rig.random_matrix(4, k, 1.0);
  rig.spgemm(a, b, k, n, rig.random_channels(16), 8, 4, 4, 0, false);
  rig.run();
  rig.check_results();
}

TEST_CASE("top sparse: SPGEMMs and GEMMs interleave in program order", "[top_sparse]") {
  Rig rig(seed_of("top sparse: interleave"));
  // A dense GEMM (4x4x4), then an SPGEMM, then the dense GEMM again.
  const Matrix a = rig.random_matrix(4, 4, 1.0);
  const Matrix b = rig.random_matrix(4, 4, 0.5);
  const std::vector<Channel> ch = rig.random_channels(4);
  std::vector<std::vector<std::uint8_t>> act(4), wgt(4);
  for (unsigned i = 0; i < 4; ++i) {
    for (unsigned j = 0; j < 4; ++j) {
      act[i].push_back(static_cast<std::uint8_t>(a[i][j]));
      wgt[i].push_back(static_cast<std::uint8_t>(b[i][j]));
    }
  }
  rig.load(isa::Target::kAct, 0, act);
  rig.load(isa::Target::kWgt, 32, wgt);
  isa::GemmCommand g;
  g.wgt_base = 32;
  g.param_base = 8;
  g.m_rows = 4;
  g.kt_count = 1;
  g.nt_count = 1;
  g.per_channel = true;
  isa::SpgemmCommand raw;  // the dense GEMM's expected output: raw, same channels
  raw.per_channel = true;
  rig.load_params(8, ch);
  rig.push(isa::encode(g));
  rig.expect(a, b, 4, 4, ch, raw);
  rig.spgemm(a, b, 4, 4, ch, 0, 0, 0, 0, true);
  rig.push(isa::encode(g));
  rig.expect(a, b, 4, 4, ch, raw);
  rig.run();
  rig.check_results();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
}

TEST_CASE("top sparse: an index past K raises BAD_META, never hangs, CLEAR recovers",
          "[top_sparse]") {
  Rig rig(seed_of("top sparse: bad meta"));
  const unsigned k = 6, n = 4;
  const Matrix a = rig.random_matrix(2, k, 1.0);
  const Matrix b = rig.random_matrix(k, n, 0.5);
  Packed p = pack(b, k, n);
  p.indices[0][2] = static_cast<std::uint8_t>(k);  // one past the last legal index
  rig.load_params(0, rig.random_channels(4));
  rig.load(isa::Target::kWgt, 0, p.values);
  rig.load(isa::Target::kMeta, 0, p.indices);
  rig.load_gbuf(0, a, k);
  isa::SpgemmCommand cmd;
  cmd.m_rows = 2;
  cmd.k_count = k;
  cmd.len = p.len;
  cmd.nt_count = 1;
  const std::uint32_t dropped_before = rig.read(isa::csr::kPerfDropped);
  rig.push(isa::encode(cmd));  // command 4
  // Judged only once the SPGEMM has checked its entries (docs/isa.md "Errors"): dropped,
  // and BAD_META, the earlier in program order, is the code reported, not BAD_FIELD.
  rig.push({0x0501, 0, 1, 0});
  // Writes META the SPGEMM reads: waits for the sparse unit, then dropped. (A LOAD clear
  // of the SPGEMM's operands might be handed off before the error; this one never is.)
  rig.push(isa::encode(isa::LoadCommand{isa::Target::kMeta, 0, 1}));
  for (int i = 0; i < 2000; ++i) rig.observe(rig.host.tick());
  CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(isa::ErrorCode::kBadMeta));
  CHECK(rig.read(isa::csr::kErrCmd) == 4);
  CHECK(rig.read(isa::csr::kPerfDropped) - dropped_before == 2);
  CHECK((rig.read(isa::csr::kStatus) & isa::status::kBusy) == 0);
  CHECK(rig.out.size() == 2);  // the SPGEMM completed (undefined values); nothing after it
  REQUIRE(rig.write(isa::csr::kCtrl, isa::ctrl::kClear) == 0);
  rig.out.clear();
  rig.spgemm(a, b, k, n, rig.random_channels(4), 16, 8, 8, 4, false);
  rig.run();
  rig.check_results();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
}

TEST_CASE("top sparse: SHAPE, ADDR_RANGE and BAD_FIELD for SPGEMM and sparse LOADs",
          "[top_sparse]") {
  struct Case {
    const char* what;
    isa::CommandWords words;
    isa::ErrorCode code;
  };
  isa::SpgemmCommand ok;
  ok.m_rows = 4;
  ok.k_count = 8;
  ok.len = 2;
  ok.nt_count = 1;
  const auto with = [&](auto edit) {
    isa::SpgemmCommand c = ok;
    edit(c);
    return isa::encode(c);
  };
  std::vector<Case> cases = {
      {"M > Rows", with([](auto& c) { c.m_rows = 5; }), isa::ErrorCode::kShape},
      {"nt 0", with([](auto& c) { c.nt_count = 0; }), isa::ErrorCode::kShape},
      {"GBUF end past 32", with([](auto& c) { c.gbuf_base = 28; }), isa::ErrorCode::kAddrRange},
      {"META end past 32", with([](auto& c) { c.meta_base = 31; }), isa::ErrorCode::kAddrRange},
      {"WGT end past 64", with([](auto& c) { c.wgt_base = 63; }), isa::ErrorCode::kAddrRange},
      {"PARAM end past 16", with([](auto& c) { c.param_base = 13; }), isa::ErrorCode::kAddrRange},
      {"clamp reversed", with([](auto& c) { c.requant = true; c.clamp_lo = 5; c.clamp_hi = 4; }),
       isa::ErrorCode::kBadField},
      {"LOAD target 5", {0x0501, 0, 1, 0}, isa::ErrorCode::kBadField},
      {"LOAD GBUF past 32", isa::encode(isa::LoadCommand{isa::Target::kGbuf, 31, 2}),
       isa::ErrorCode::kAddrRange},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Rig rig(seed_of(c.what));
    rig.push(c.words);
    for (int i = 0; i < 50; ++i) rig.observe(rig.host.tick());
    CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(c.code));
    CHECK(rig.read(isa::csr::kErrCmd) == 0);
  }
}

TEST_CASE("top sparse: SPGEMMA, A compressed per row, equals A·B + bias", "[top_sparse]") {
  Rig rig(seed_of("top sparse: spgemma"));
  REQUIRE((rig.read(isa::csr::kFeatures) >> isa::kFeatureSparseA & 1u) == 1u);
  const double densities[] = {0.0, 0.1, 0.3, 0.6, 1.0};
  std::uint16_t param = 0;
  for (const double d : densities) {
    for (const bool requant : {false, true}) {
      const unsigned k = 11;
      const Matrix a = rig.random_matrix(8, k, d);  // two row blocks
      const Matrix b = rig.random_matrix(k, kCols, 1.0);
      rig.spgemm_a(a, b, k, requant ? 3 : 4, rig.random_channels(4), 0, 0, 0, param, requant);
      param = static_cast<std::uint16_t>(param == 0 ? 4 : 0);
      rig.run();
    }
  }
  // A row with no nonzero at all, and one with a single nonzero at K-1.
  Matrix a = rig.random_matrix(4, 9, 0.5);
  a[1].assign(9, 0);
  a[2].assign(9, 0);
  a[2][8] = -128;
  rig.spgemm_a(a, rig.random_matrix(9, kCols, 1.0), 9, 4, rig.random_channels(4), 0, 0, 0, 8,
               false);
  rig.run();
  rig.check_results();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
}

TEST_CASE("top sparse: SPGEMM, SPGEMMA and GEMM back to back keep each hand-off's direction",
          "[top_sparse]") {
  Rig rig(seed_of("top sparse: spgemma back to back"));
  // No waiting in between: an SPGEMMA's transposed hand-off follows an SPGEMM's still
  // under way, and the other way round.
  const Matrix a = rig.random_matrix(4, 6, 0.6);
  const Matrix b = rig.random_matrix(6, 4, 1.0);
  const std::vector<Channel> ch = rig.random_channels(4);
  rig.spgemm(a, rig.random_matrix(6, 4, 0.2), 6, 4, ch, 0, 0, 0, 0, false);
  rig.spgemm_a(a, b, 6, 4, ch, 8, 8, 6, 4, false);
  rig.spgemm(a, rig.random_matrix(6, 4, 0.3), 6, 4, ch, 16, 16, 12, 8, true);
  rig.spgemm_a(rig.random_matrix(8, 6, 0.3), b, 6, 4, ch, 24, 24, 18, 12, true);
  rig.run();
  rig.check_results();
  CHECK(rig.read(isa::csr::kErrCode) == 0);
}

TEST_CASE("top sparse: SPGEMMA's PARAM range is one column block; BAD_META", "[top_sparse]") {
  isa::SpgemmCommand ok;
  ok.compressed_a = true;
  ok.m_rows = 4;
  ok.k_count = 8;
  ok.len = 1;
  ok.nt_count = 4;
  SECTION("four row blocks read PARAM [12, 16): legal") {
    Rig rig(seed_of("spgemma param 12"));
    rig.load(isa::Target::kMeta, 0, std::vector<std::vector<std::uint8_t>>(4, {0, 1, 2, 3}));
    isa::SpgemmCommand c = ok;
    c.param_base = 12;
    rig.push(isa::encode(c));
    for (int i = 0; i < 200; ++i) rig.observe(rig.host.tick());
    CHECK(rig.read(isa::csr::kErrCode) == 0);
    CHECK(rig.out.size() == 16);
  }
  SECTION("PARAM [13, 17): ADDR_RANGE") {
    Rig rig(seed_of("spgemma param 13"));
    isa::SpgemmCommand c = ok;
    c.param_base = 13;
    rig.push(isa::encode(c));
    for (int i = 0; i < 50; ++i) rig.observe(rig.host.tick());
    CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(isa::ErrorCode::kAddrRange));
  }
  SECTION("an index past K: BAD_META") {
    Rig rig(seed_of("spgemma bad meta"));
    rig.load(isa::Target::kMeta, 0, {{0, 1, 8, 2}});  // row 2's index 8 = K
    isa::SpgemmCommand c = ok;
    c.nt_count = 1;
    rig.push(isa::encode(c));
    for (int i = 0; i < 200; ++i) rig.observe(rig.host.tick());
    CHECK(rig.read(isa::csr::kErrCode) == static_cast<std::uint32_t>(isa::ErrorCode::kBadMeta));
    CHECK(rig.read(isa::csr::kErrCmd) == 1);
    CHECK(rig.out.size() == 4);
  }
}
