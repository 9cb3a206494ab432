// The end-to-end bench for tsr_top, shared by netlist_tb.cpp (the netlist check and its RTL
// twin rtl_top_tb) and test_top.cpp (Catch2): the engine driven through its AXI ports only
// (the gate-level netlist has nothing else), scratchpad images in the docs/isa.md layouts,
// and a small bit-exact C++ reference of a GEMM whose requantization, CSR map and command
// encoding come from libtessera (tessera/golden.hpp, tessera/isa.hpp). Written for the configuration
// scripts/synth.sh synthesizes: Rows=4 Cols=4 ActDepth=64 WgtDepth=64 AccDepth=16
// ParamDepth=16, and the sparse-gather path with GbufDepth = MetaDepth = 32 (check_config
// reads it back). A board's configuration (scripts/boards.json) compiles it with
// -DTSR_ROWS=... and -DTSR_SPARSE=0 (tests/rtl/netlist_check.sh --board).
#pragma once

#include <verilated.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "Vtsr_top.h"
#include "tessera/golden.hpp"
#include "tessera/isa.hpp"

namespace tessera::rtl_test {

// The configuration the testbench is written for; read back from the CSRs and checked.
#ifndef TSR_ROWS
#define TSR_ROWS 4
#define TSR_COLS 4
#define TSR_ACT_DEPTH 64
#define TSR_WGT_DEPTH 64
#define TSR_ACC_DEPTH 16
#define TSR_PARAM_DEPTH 16
#endif
#ifndef TSR_SPARSE
#define TSR_SPARSE 1
#endif
constexpr bool kSparse = TSR_SPARSE != 0;
constexpr int kSparseDepth = kSparse ? 32 : 0;  // GBUF and META words
constexpr int kRows = TSR_ROWS, kCols = TSR_COLS, kActDepth = TSR_ACT_DEPTH,
              kWgtDepth = TSR_WGT_DEPTH, kAccDepth = TSR_ACC_DEPTH, kParamDepth = TSR_PARAM_DEPTH;
constexpr int kInBytes = std::max({kRows, kCols, 16});
constexpr int kOutBytes = 4 * kCols;

// Verilator holds a port of up to 64 bits in an integer, a wider one in a VlWide array of
// 32-bit words: these two read and clear a port of either kind, whatever the configuration.
template <typename T>
inline void clear_port(T& port) {
  if constexpr (std::is_integral_v<T>) {
    port = 0;
  } else {
    for (std::size_t i = 0; i < sizeof(T) / 4; ++i) port[i] = 0;
  }
}
template <typename T>
inline std::uint32_t port_word(const T& port, int i) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(port) >> (32 * i));
  } else {
    return port[i];
  }
}

using Beat = std::array<std::uint8_t, kInBytes>;

// A protocol failure (timeout, error response): the engine state is suspect afterwards.
struct Failure {
  std::string what;
};
// The engine's configuration registers disagree with the constants above.
struct ConfigMismatch {
  std::string what;
};

// ---- reference ---------------------------------------------------------------------------
inline std::int32_t wrap(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
}

struct Param {
  std::int32_t bias = 0, mult = 0;
  std::int8_t shift = 0;
};

// One GEMM and the scratchpad placement of its operands.
struct Gemm {
  std::string name;
  int m = 1, k = 1, n = 1;
  std::vector<std::int8_t> a, b;  // A[m][k], B[k][n], row-major
  std::vector<Param> params;      // nt*Cols channels, from param_base
  bool requant = false, per_channel = true;
  std::int8_t zero_point = 0, clamp_lo = -128, clamp_hi = 127;
  int act_base = 0, wgt_base = 0, param_base = 0;
  // As an SPGEMM (the sparse-gather path): B packed per column (values in WGT, K indices
  // in META), A transposed in GBUF; M <= Rows, K <= GBUF depth.
  bool sparse = false;
  int gbuf_base = 0, meta_base = 0;
  // As an SPGEMMA (sparse activations; with `sparse`): A packed per row the same way, B's
  // one column block (n <= Cols) in GBUF, the rows in blocks of min(m, Cols) (m at most
  // Cols or a multiple of it).
  bool sparse_a = false;
  int row_block() const { return std::min(m, kCols); }
  int row_blocks() const { return m / row_block(); }
  // SPGEMMA entries per row: the densest row's nonzero count.
  int a_len() const {
    int longest = 1;
    for (int row = 0; row < m; ++row) {
      int count = 0;
      for (int col = 0; col < k; ++col) count += a_at(row, col) != 0;
      longest = std::max(longest, count);
    }
    return longest;
  }

  // SPGEMM entries per column and column block: the longest column's nonzero count.
  int len() const {
    int longest = 1;
    for (int col = 0; col < nt() * kCols; ++col) {
      int count = 0;
      for (int row = 0; row < k; ++row) count += b_at(row, col) != 0;
      longest = std::max(longest, count);
    }
    return longest;
  }

  int kt() const { return (k + kRows - 1) / kRows; }
  int nt() const { return (n + kCols - 1) / kCols; }
  std::int8_t a_at(int row, int col) const { return col < k ? a[row * k + col] : 0; }
  std::int8_t b_at(int row, int col) const { return row < k && col < n ? b[row * n + col] : 0; }

  // Expected output lanes, beat by beat: column block nt, then row m, Cols lanes each.
  // per_tensor_scale_of_block: per-tensor scale from each column block's first channel
  // (param_base + nt*Cols) instead of param_base (docs/isa.md), the reading of a bug fixed
  // long ago; test_top.cpp uses it to show its data tells the two apart.
  std::vector<std::int32_t> expected(bool per_tensor_scale_of_block = false) const {
    std::vector<std::int32_t> out;
    for (int block = 0; block < nt(); ++block) {
      for (int row = 0; row < m; ++row) {
        for (int c = 0; c < kCols; ++c) {
          const int col = block * kCols + c;
          std::int32_t acc = 0;
          for (int i = 0; i < kt() * kRows; ++i)
            acc = wrap(std::int64_t{acc} + a_at(row, i) * b_at(i, col));
          const Param& p = params[col];
          acc = wrap(std::int64_t{acc} + p.bias);
          if (requant) {
            const Param& scale =
                per_channel ? p : params[per_tensor_scale_of_block ? block * kCols : 0];
            const std::int32_t y = wrap(
                std::int64_t{multiply_by_quantized_multiplier(acc, scale.mult, scale.shift)} +
                zero_point);
            acc = std::clamp<std::int32_t>(y, clamp_lo, clamp_hi);
          }
          out.push_back(acc);
        }
      }
    }
    return out;
  }
};

// ---- the engine through its ports ----------------------------------------------------
class Engine {
 public:
  explicit Engine(std::uint64_t seed)
      : context_(std::make_unique<VerilatedContext>()),
        top_(std::make_unique<Vtsr_top>(context_.get(), "tsr")),
        rng_(seed) {
    auto& t = *top_;
    t.clk_i = 0;
    t.rst_ni = 0;
    t.s_axil_awvalid_i = t.s_axil_wvalid_i = t.s_axil_bready_i = 0;
    t.s_axil_arvalid_i = t.s_axil_rready_i = 0;
    t.s_axil_awaddr_i = t.s_axil_araddr_i = 0;
    t.s_axil_wdata_i = 0;
    t.s_axil_wstrb_i = 0;
    t.s_axis_tvalid_i = t.s_axis_tlast_i = 0;
    clear_port(t.s_axis_tdata_i);
    t.m_axis_tready_i = 1;
    clear_port(t.dbg_pe_stuck0_i);
    for (int i = 0; i < 4; ++i) tick();
    t.rst_ni = 1;
    tick();
  }
  ~Engine() { top_->final(); }

  // Output beats taken so far: Cols int32 lanes and TLAST each.
  struct OutBeat {
    std::array<std::int32_t, kCols> lanes;
    bool last;
  };
  std::vector<OutBeat> out;
  // Percentage of cycles the result stream is held off (TREADY low).
  int backpressure = 0;
  std::uint64_t cycle = 0;

  void settle() {
    top_->clk_i = 0;
    top_->eval();
  }

  void tick() {
    settle();
    auto& t = *top_;
    if (t.m_axis_tvalid_o && t.m_axis_tready_i) {
      OutBeat beat{};
      for (int c = 0; c < kCols; ++c)
        beat.lanes[c] = static_cast<std::int32_t>(port_word(t.m_axis_tdata_o, c));
      beat.last = t.m_axis_tlast_o;
      out.push_back(beat);
    }
    t.clk_i = 1;
    t.eval();
    ++cycle;
    // TREADY for the next cycle (may drop while TVALID is high: AXI allows that of a sink).
    t.m_axis_tready_i = backpressure == 0 || static_cast<int>(rng_() % 100) >= backpressure;
    settle();
  }

  void csr_write(std::uint32_t addr, std::uint32_t data) {
    auto& t = *top_;
    t.s_axil_awaddr_i = addr;
    t.s_axil_wdata_i = data;
    t.s_axil_wstrb_i = 0xF;
    t.s_axil_awvalid_i = t.s_axil_wvalid_i = 1;
    wait_for([&] { return t.s_axil_awready_o && t.s_axil_wready_o; }, "AWREADY/WREADY", addr);
    tick();
    t.s_axil_awvalid_i = t.s_axil_wvalid_i = 0;
    t.s_axil_bready_i = 1;
    wait_for([&] { return t.s_axil_bvalid_o != 0; }, "BVALID", addr);
    const unsigned resp = t.s_axil_bresp_o;
    tick();
    t.s_axil_bready_i = 0;
    if (resp != 0) throw Failure{"CSR write 0x" + hex(addr) + " answered " + std::to_string(resp)};
  }

  std::uint32_t csr_read(std::uint32_t addr) {
    auto& t = *top_;
    t.s_axil_araddr_i = addr;
    t.s_axil_arvalid_i = 1;
    wait_for([&] { return t.s_axil_arready_o != 0; }, "ARREADY", addr);
    tick();
    t.s_axil_arvalid_i = 0;
    t.s_axil_rready_i = 1;
    wait_for([&] { return t.s_axil_rvalid_o != 0; }, "RVALID", addr);
    const std::uint32_t data = t.s_axil_rdata_o;
    const unsigned resp = t.s_axil_rresp_o;
    tick();
    t.s_axil_rready_i = 0;
    if (resp != 0) throw Failure{"CSR read 0x" + hex(addr) + " answered " + std::to_string(resp)};
    return data;
  }

  void command(const isa::CommandWords& w) {
    for (int i = 0; i < 4; ++i) csr_write(isa::csr::kCmd0 + 4 * i, w[i]);
  }

  void load(isa::Target target, int dst, const std::vector<Beat>& beats) {
    command(isa::encode(isa::LoadCommand{target, static_cast<std::uint32_t>(dst),
                                         static_cast<std::uint32_t>(beats.size())}));
  }

  void gemm(const Gemm& g) {
    isa::GemmCommand c;
    c.requant = g.requant;
    c.per_channel = g.per_channel;
    c.zero_point = g.zero_point;
    c.act_base = static_cast<std::uint16_t>(g.act_base);
    c.wgt_base = static_cast<std::uint16_t>(g.wgt_base);
    c.param_base = static_cast<std::uint16_t>(g.param_base);
    c.m_rows = static_cast<std::uint16_t>(g.m);
    c.kt_count = static_cast<std::uint8_t>(g.kt());
    c.nt_count = static_cast<std::uint8_t>(g.nt());
    c.clamp_lo = g.clamp_lo;
    c.clamp_hi = g.clamp_hi;
    command(isa::encode(c));
  }

  void spgemm(const Gemm& g) {
    isa::SpgemmCommand c;
    c.requant = g.requant;
    c.per_channel = g.per_channel;
    c.zero_point = g.zero_point;
    c.gbuf_base = static_cast<std::uint16_t>(g.gbuf_base);
    c.wgt_base = static_cast<std::uint16_t>(g.wgt_base);
    c.meta_base = static_cast<std::uint16_t>(g.meta_base);
    c.param_base = static_cast<std::uint16_t>(g.param_base);
    c.m_rows = static_cast<unsigned>(g.m);
    c.k_count = static_cast<unsigned>(g.k);
    c.len = static_cast<unsigned>(g.len());
    c.nt_count = static_cast<std::uint8_t>(g.nt());
    if (g.sparse_a) {
      c.compressed_a = true;
      c.m_rows = static_cast<unsigned>(g.row_block());
      c.len = static_cast<unsigned>(g.a_len());
      c.nt_count = static_cast<std::uint8_t>(g.row_blocks());
    }
    c.clamp_lo = g.clamp_lo;
    c.clamp_hi = g.clamp_hi;
    command(isa::encode(c));
  }

  void stream(const std::vector<Beat>& beats) {
    auto& t = *top_;
    for (std::size_t i = 0; i < beats.size(); ++i) {
      for (int w = 0; w < kInBytes / 4; ++w) {
        std::uint32_t word = 0;
        for (int b = 0; b < 4; ++b) word |= std::uint32_t{beats[i][4 * w + b]} << (8 * b);
        t.s_axis_tdata_i[w] = word;
      }
      t.s_axis_tvalid_i = 1;
      t.s_axis_tlast_i = i + 1 == beats.size();
      wait_for([&] { return t.s_axis_tready_o != 0; }, "S_AXIS TREADY",
               static_cast<std::uint32_t>(i));
      tick();
    }
    t.s_axis_tvalid_i = t.s_axis_tlast_i = 0;
  }

  void run_until(const std::function<bool()>& done, unsigned timeout, const std::string& what) {
    for (unsigned i = 0; !done(); ++i) {
      if (i == timeout)
        throw Failure{"timeout after " + std::to_string(timeout) + " cycles: " + what};
      tick();
    }
  }

  static std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03X", v);
    return buf;
  }

 private:
  template <class Ready>
  void wait_for(Ready ready, const char* what, std::uint32_t detail) {
    for (unsigned i = 0;; ++i) {
      settle();
      if (ready()) return;
      if (i == 5000)
        throw Failure{std::string("timeout waiting for ") + what + " (" + hex(detail) + ")"};
      tick();
    }
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Vtsr_top> top_;
  std::mt19937_64 rng_;
};

// ---- scratchpad images ---------------------------------------------------------------------
// Bytes of a beat past the word are filled with junk: the engine must ignore them.
inline Beat junk_beat(std::mt19937_64& rng) {
  Beat beat{};
  for (auto& byte : beat) byte = static_cast<std::uint8_t>(rng());
  return beat;
}

inline std::vector<Beat> act_beats(const Gemm& g, std::mt19937_64& rng) {
  std::vector<Beat> beats;  // word kt*M + m holds A[m, kt*Rows .. +Rows-1]
  for (int kt = 0; kt < g.kt(); ++kt)
    for (int row = 0; row < g.m; ++row) {
      Beat beat = junk_beat(rng);
      for (int r = 0; r < kRows; ++r)
        beat[r] = static_cast<std::uint8_t>(g.a_at(row, kt * kRows + r));
      beats.push_back(beat);
    }
  return beats;
}

inline std::vector<Beat> wgt_beats(const Gemm& g, std::mt19937_64& rng) {
  std::vector<Beat> beats;  // block (kt, nt) row r at (nt*kt_count + kt)*Rows + r
  for (int nt = 0; nt < g.nt(); ++nt)
    for (int kt = 0; kt < g.kt(); ++kt)
      for (int r = 0; r < kRows; ++r) {
        Beat beat = junk_beat(rng);
        for (int c = 0; c < kCols; ++c)
          beat[c] = static_cast<std::uint8_t>(g.b_at(kt * kRows + r, nt * kCols + c));
        beats.push_back(beat);
      }
  return beats;
}

// SPGEMM images: GBUF word k holds A[0..M-1, k]; WGT and META word nt*len + j hold entry j
// of each column of block nt (its j-th nonzero: value, K index; zero padding).
inline std::vector<Beat> gbuf_beats(const Gemm& g, std::mt19937_64& rng) {
  std::vector<Beat> beats;
  for (int col = 0; col < g.k; ++col) {
    Beat beat = junk_beat(rng);
    for (int row = 0; row < g.m; ++row) beat[row] = static_cast<std::uint8_t>(g.a_at(row, col));
    beats.push_back(beat);
  }
  return beats;
}

// SPGEMMA images: GBUF word k holds B[k, 0..Cols-1]; WGT and META word t*len + j hold
// entry j of each row of row block t (sparse_beats with A's rows as the columns).
inline std::vector<Beat> gbuf_b_beats(const Gemm& g, std::mt19937_64& rng) {
  std::vector<Beat> beats;
  for (int row = 0; row < g.k; ++row) {
    Beat beat = junk_beat(rng);
    for (int c = 0; c < kCols; ++c) beat[c] = static_cast<std::uint8_t>(g.b_at(row, c));
    beats.push_back(beat);
  }
  return beats;
}

inline void sparse_beats(const Gemm& g, std::mt19937_64& rng, std::vector<Beat>& values,
                         std::vector<Beat>& indices) {
  // Block t, lane c, K index kk: B[kk, t*Cols + c], or for SPGEMMA A[t*Cols + c, kk].
  const auto operand = [&](int t, int c, int kk) -> std::int8_t {
    if (!g.sparse_a) return g.b_at(kk, t * kCols + c);
    return c < g.row_block() ? g.a_at(t * g.row_block() + c, kk) : 0;
  };
  const int len = g.sparse_a ? g.a_len() : g.len();
  const int blocks = g.sparse_a ? g.row_blocks() : g.nt();
  for (int nt = 0; nt < blocks; ++nt) {
    std::vector<Beat> v(len, Beat{}), i(len, Beat{});
    for (int c = 0; c < kCols; ++c) {
      int j = 0;
      for (int row = 0; row < g.k; ++row) {
        const std::int8_t b = operand(nt, c, row);
        if (b == 0) continue;
        v[j][c] = static_cast<std::uint8_t>(b);
        i[j++][c] = static_cast<std::uint8_t>(row);
      }
    }
    for (int j = 0; j < len; ++j) {  // bytes past Cols: junk, ignored
      const Beat junk = junk_beat(rng);
      std::copy(junk.begin() + kCols, junk.end(), v[j].begin() + kCols);
      std::copy(junk.begin() + kCols, junk.end(), i[j].begin() + kCols);
    }
    values.insert(values.end(), v.begin(), v.end());
    indices.insert(indices.end(), i.begin(), i.end());
  }
}

inline std::vector<Beat> param_beats(const Gemm& g, std::mt19937_64& rng) {
  std::vector<Beat> beats;
  for (const Param& p : g.params) {
    Beat beat = junk_beat(rng);
    for (int i = 0; i < 4; ++i) {
      beat[i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(p.bias) >> (8 * i));
      beat[4 + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(p.mult) >> (8 * i));
    }
    beat[8] = static_cast<std::uint8_t>(p.shift);
    beats.push_back(beat);
  }
  return beats;
}

// ---- cases ---------------------------------------------------------------------------------
inline Gemm random_gemm(std::string name, int m, int k, int n, std::mt19937_64& rng) {
  Gemm g;
  g.name = std::move(name);
  g.m = m;
  g.k = k;
  g.n = n;
  for (int i = 0; i < m * k; ++i) g.a.push_back(static_cast<std::int8_t>(rng()));
  for (int i = 0; i < k * n; ++i) g.b.push_back(static_cast<std::int8_t>(rng()));
  // Extremes in the first row and column, where a sign slip would be loudest.
  g.a[0] = -128;
  g.b[0] = -128;
  g.params.resize(g.nt() * kCols);
  for (auto& p : g.params) p.bias = static_cast<std::int32_t>(rng() % 200001) - 100000;
  return g;
}

// Multipliers and shifts that map this GEMM's sums (a few thousand for these sizes) across
// the int8 range, with biases small enough not to push them into the clamp, so the output
// shows the rounding rather than just the clamp (run_step checks that it does).
inline void scale_params(Gemm& g, std::mt19937_64& rng) {
  for (auto& p : g.params) {
    p.bias = static_cast<std::int32_t>(rng() % 4001) - 2000;
    p.mult = static_cast<std::int32_t>((1u << 30) + (rng() & 0x3FFFFFFF));
    p.shift = static_cast<std::int8_t>(-6 - static_cast<int>(rng() % 4));
  }
}

struct Step {
  std::vector<Gemm> gemms;       // issued back to back, each with its own LOADs, outputs in order
  bool queue_commands = false;   // write all commands before streaming any data
  int backpressure_percent = 0;  // result TREADY low this share of cycles
};

inline void check_config(Engine& e) {
  struct Expect {
    std::uint32_t addr, value;
    const char* name;
  };
  const Expect expects[] = {
      {isa::csr::kId, isa::kIdValue, "ID"},
      {isa::csr::kCfgArray, kCols << 16 | kRows, "CFG_ARRAY"},
      {isa::csr::kCfgActDepth, kActDepth, "CFG_ACT_DEPTH"},
      {isa::csr::kCfgWgtDepth, kWgtDepth, "CFG_WGT_DEPTH"},
      {isa::csr::kCfgAccDepth, kAccDepth, "CFG_ACC_DEPTH"},
      {isa::csr::kCfgParamDepth, kParamDepth, "CFG_PARAM_DEPTH"},
      {isa::csr::kCfgStream, kOutBytes << 16 | kInBytes, "CFG_STREAM"},
      {isa::csr::kCfgGbufDepth, kSparseDepth, "CFG_GBUF_DEPTH"},
      {isa::csr::kCfgMetaDepth, kSparseDepth, "CFG_META_DEPTH"},
  };
  for (const auto& x : expects) {
    const std::uint32_t got = e.csr_read(x.addr);
    if (got != x.value) {
      char text[160];
      std::snprintf(text, sizeof text, "%s = 0x%08X, the testbench expects 0x%08X", x.name, got,
                    x.value);
      throw ConfigMismatch{text};
    }
  }
}

inline std::string compare(const Step& step, const std::vector<Engine::OutBeat>& out,
                           const std::vector<std::int32_t>& expected,
                           const std::vector<bool>& expected_last, bool verbose);
inline std::string status_check(Engine& e);

struct StepResult {
  std::string mismatch;  // empty: every beat as expected
};

// Runs one step (LOADs, GEMMs, collecting the outputs) and compares bit-exactly.
inline StepResult run_step(Engine& e, const Step& step, std::mt19937_64& rng,
                           bool verbose = false) {
  // Each GEMM's LOADs: {target, base, beats}; ACT, WGT, PARAM, or for an SPGEMM GBUF, WGT,
  // META, PARAM.
  struct Image {
    isa::Target target;
    int base;
    std::vector<Beat> beats;
  };
  std::vector<std::vector<Image>> images;
  std::vector<std::int32_t> expected;
  std::vector<bool> expected_last;
  for (const Gemm& g : step.gemms) {
    if (g.sparse) {
      std::vector<Beat> values, indices;
      sparse_beats(g, rng, values, indices);
      images.push_back({{isa::Target::kGbuf, g.gbuf_base,
                         g.sparse_a ? gbuf_b_beats(g, rng) : gbuf_beats(g, rng)},
                        {isa::Target::kWgt, g.wgt_base, values},
                        {isa::Target::kMeta, g.meta_base, indices},
                        {isa::Target::kParam, g.param_base, param_beats(g, rng)}});
    } else {
      images.push_back({{isa::Target::kAct, g.act_base, act_beats(g, rng)},
                        {isa::Target::kWgt, g.wgt_base, wgt_beats(g, rng)},
                        {isa::Target::kParam, g.param_base, param_beats(g, rng)}});
    }
    const auto lanes = g.expected();
    expected.insert(expected.end(), lanes.begin(), lanes.end());
    if (g.requant) {
      // Testbench sanity: a good share of results inside the clamp window (ReLU clamps about
      // half), or the case checks little.
      const auto inside = std::count_if(lanes.begin(), lanes.end(), [&](std::int32_t y) {
        return y > g.clamp_lo && y < g.clamp_hi;
      });
      if (4 * inside < static_cast<long>(lanes.size()))
        throw Failure{"testbench: case '" + g.name + "' has only " + std::to_string(inside) +
                      " of " + std::to_string(lanes.size()) + " results inside the clamp window"};
    }
    // TLAST on each column block's last row; an SPGEMMA's blocks are row blocks.
    const int blocks = g.sparse_a ? g.row_blocks() : g.nt();
    const int block_rows = g.sparse_a ? g.row_block() : g.m;
    for (int block = 0; block < blocks; ++block)
      for (int row = 0; row < block_rows; ++row) expected_last.push_back(row == block_rows - 1);
  }
  const std::size_t beats_expected = expected_last.size();
  e.out.clear();
  e.backpressure = step.backpressure_percent;

  const auto issue = [&](const Gemm& g) {
    if (g.sparse) e.spgemm(g);
    else e.gemm(g);
  };
  if (step.queue_commands) {
    for (std::size_t i = 0; i < step.gemms.size(); ++i) {
      for (const Image& im : images[i]) e.load(im.target, im.base, im.beats);
      issue(step.gemms[i]);
    }
    for (const auto& gemm_images : images)
      for (const Image& im : gemm_images) e.stream(im.beats);
  } else {
    for (std::size_t i = 0; i < step.gemms.size(); ++i) {
      for (const Image& im : images[i]) {
        e.load(im.target, im.base, im.beats);
        e.stream(im.beats);
      }
      issue(step.gemms[i]);
    }
  }
  e.run_until([&] { return e.out.size() >= beats_expected; }, 20000,
              "got " + std::to_string(e.out.size()) + " of " + std::to_string(beats_expected) +
                  " output beats");
  // Nothing more may come out.
  e.backpressure = 0;
  for (int i = 0; i < 64; ++i) e.tick();

  if (e.out.size() != beats_expected) {
    return {std::to_string(e.out.size()) + " output beats, expected " +
            std::to_string(beats_expected)};
  }
  if (std::string mismatch = compare(step, e.out, expected, expected_last, verbose);
      !mismatch.empty())
    return {mismatch};
  return {status_check(e)};
}

// The first difference between the output beats and the expected lanes and TLASTs.
inline std::string compare(const Step& step, const std::vector<Engine::OutBeat>& out,
                           const std::vector<std::int32_t>& expected,
                           const std::vector<bool>& expected_last, bool verbose) {
  std::size_t lane_index = 0, beat_index = 0;
  for (std::size_t gi = 0; gi < step.gemms.size(); ++gi) {
    const Gemm& g = step.gemms[gi];
    for (int block = 0; block < g.nt(); ++block) {
      for (int row = 0; row < g.m; ++row, ++beat_index) {
        const auto& beat = out[beat_index];
        for (int c = 0; c < kCols; ++c, ++lane_index) {
          if (verbose)
            std::printf("  [%s] n-block %d row %d lane %d: %d (expected %d)\n", g.name.c_str(),
                        block, row, c, beat.lanes[c], expected[lane_index]);
          if (beat.lanes[c] != expected[lane_index]) {
            return "GEMM '" + g.name + "': output beat " + std::to_string(beat_index) +
                   " (column block " + std::to_string(block) + ", row " + std::to_string(row) +
                   "), lane " + std::to_string(c) + " (output column " +
                   std::to_string(block * kCols + c) + "): expected " +
                   std::to_string(expected[lane_index]) + ", got " + std::to_string(beat.lanes[c]);
          }
        }
        if (beat.last != expected_last[beat_index]) {
          return "GEMM '" + g.name + "': output beat " + std::to_string(beat_index) + " TLAST " +
                 std::to_string(beat.last) + ", expected " +
                 std::to_string(expected_last[beat_index]);
        }
      }
    }
  }
  return {};
}

inline std::string status_check(Engine& e) {
  const std::uint32_t err = e.csr_read(isa::csr::kErrCode);
  const std::uint32_t status = e.csr_read(isa::csr::kStatus);
  if (err != 0 || (status & 0b11) != 0) {
    return "after the GEMM: ERR_CODE " + std::to_string(err) + ", STATUS 0x" + Engine::hex(status) +
           " (expected idle, no error)";
  }
  return {};
}

}  // namespace tessera::rtl_test
