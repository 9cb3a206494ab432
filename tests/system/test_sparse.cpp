// Runtime <-> engine on the sparse-gather path: seeded sparse GEMMs of every format and
// density through SPGEMM (sparse B) and SPGEMMA (sparse A), bit-exact against the golden
// reference, on whichever engine build this binary links; what the runs send (counted at
// the transport); BAD_META; an engine without SPGEMMA.
#include <catch2/catch.hpp>
#include <sstream>

#include "backend.hpp"
#include "counting_transport.hpp"
#include "sim_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/sparse_runtime.hpp"

using namespace tessera;
using tessera::test::CountingTransport;

namespace {

constexpr unsigned kAct = static_cast<unsigned>(isa::Target::kAct);
constexpr unsigned kWgt = static_cast<unsigned>(isa::Target::kWgt);
constexpr unsigned kParam = static_cast<unsigned>(isa::Target::kParam);
constexpr unsigned kMeta = static_cast<unsigned>(isa::Target::kMeta);
constexpr unsigned kGbuf = static_cast<unsigned>(isa::Target::kGbuf);

struct Rig {
  std::unique_ptr<Transport> engine = test::make_test_transport();
  CountingTransport counter{*engine};
  Device device{counter};
  Rig() { REQUIRE(device.config().sparse()); }  // every engine build has the sparse path
};

// Keeps the first N nonzeros of every group of M in each column: an N:M matrix of at
// most the density it had.
void prune_to_nm(Tensor<std::int8_t>& b, const SparseFormat& nm) {
  for (std::size_t col = 0; col < b.cols(); ++col) {
    for (std::size_t k0 = 0; k0 < b.rows(); k0 += nm.m) {
      unsigned kept = 0;
      for (std::size_t k = k0; k < std::min(b.rows(), k0 + nm.m); ++k) {
        if (b.at(k, col) != 0 && ++kept > nm.n) b.at(k, col) = 0;
      }
    }
  }
}

std::string reproduce(const GemmProblem& p, std::uint64_t seed, const SparsePattern& pattern,
                      const RandomOptions& o) {
  std::ostringstream out;
  out << p.m() << "x" << p.k() << "x" << p.n() << " seed " << seed
      << "  (reproduce: tessera spmm --m " << p.m() << " --k " << p.k() << " --n " << p.n()
      << " --seed " << seed;
  if (pattern.nm) {
    out << " --nm " << format_name(*pattern.nm);
  } else {
    out << (pattern.operand == SparseOperand::kA ? " --a-density " : " --density ")
        << pattern.density;
  }
  out << (o.relu ? " --relu" : (o.requant ? " --requant" : "")) << " --check, on a "
      << sim::sim_config_name() << " build)";
  return out.str();
}

// Runs the problem in `format` and checks it bit for bit; returns what the run sent.
CountingTransport::Counts run_exact(Rig& rig, const GemmProblem& problem,
                                    const SparseFormat& format,
                                    SparseOperand operand = SparseOperand::kB) {
  rig.counter.counts = {};
  const SparseGemmRun run = run_sparse_gemm(rig.device, problem, format, operand);
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run.run.output.shape == want.shape);
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    INFO("first mismatch at row " << i / want.cols() << ", col " << i % want.cols());
    REQUIRE(run.run.output.data[i] == want.data[i]);
  }
  CHECK(run.run.cycles > 0);
  if (format.kind != SparseFormat::Kind::kAuto) {
    const bool sparse_a = operand == SparseOperand::kA;
    CHECK(run.format == format);
    CHECK(run.operand == operand);
    CHECK((sparse_a ? rig.counter.counts.spgemmas : rig.counter.counts.spgemms) > 0);
    CHECK((sparse_a ? rig.counter.counts.spgemms : rig.counter.counts.spgemmas) == 0);
    CHECK(rig.counter.counts.gemms == 0);
  }
  return rig.counter.counts;
}

struct Shape {
  std::size_t m, k, n;
};

// Two M blocks with a short second one, K not a multiple of 4, a partial column block;
// one row and one column; K beyond one SPGEMM, more M blocks than the two GBUF halves.
std::vector<Shape> shapes(const EngineConfig& cfg) {
  const std::size_t r = cfg.rows, c = cfg.cols;
  const std::size_t chunk = sparse_geometry(cfg).max_chunk_k;
  return {{r + 3, 37, c + 5}, {1, 9, 1}, {3 * r + 2, chunk + 7, 2 * c + 1}};
}

}  // namespace

TEST_CASE("sparse GEMMs of every format and density match the golden reference", "[sparse]") {
  Rig rig;
  std::uint64_t seed = 7000;
  for (const Shape& s : shapes(rig.device.config())) {
    for (const double density : {0.0, 0.01, 0.1, 0.25, 0.5, 1.0}) {
      const RandomOptions options{seed % 2 == 0, seed % 3 == 0, true};
      const SparsePattern pattern{density, std::nullopt};
      const GemmProblem p = random_sparse_problem(s.m, s.k, s.n, ++seed, pattern, options);
      INFO("unstructured, density " << density << ": " << reproduce(p, seed, pattern, options));
      run_exact(rig, p, SparseFormat{});
      for (const SparseFormat nm : {SparseFormat::nm(1, 4), SparseFormat::nm(2, 4)}) {
        INFO(format_name(nm) << " thinned from that B");
        GemmProblem thinned = p;
        prune_to_nm(thinned.b, nm);
        run_exact(rig, thinned, nm);
      }
    }
    for (const SparseFormat nm : {SparseFormat::nm(1, 4), SparseFormat::nm(2, 4)}) {
      const RandomOptions options{true, false, true};
      const SparsePattern pattern{1.0, nm};
      const GemmProblem p = random_sparse_problem(s.m, s.k, s.n, ++seed, pattern, options);
      INFO("a full " << format_name(nm) << " pattern: " << reproduce(p, seed, pattern, options));
      run_exact(rig, p, nm);
      run_exact(rig, p, SparseFormat{SparseFormat::Kind::kAuto});
    }
  }
}

TEST_CASE("sparse GEMMs keep the runtime's discipline on every transport", "[runtime][sparse]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const std::size_t chunk = sparse_geometry(cfg).max_chunk_k;
  const GemmProblem raw =
      random_sparse_problem(2 * cfg.rows + 1, chunk + 3, cfg.cols + 2, 7101, {0.25, std::nullopt});
  run_exact(rig, raw, SparseFormat{});
  const GemmProblem relu = random_sparse_problem(cfg.rows + 2, 40, 2 * cfg.cols + 1, 7102,
                                                 {1.0, SparseFormat::nm(2, 4)}, {true, true, true});
  run_exact(rig, relu, SparseFormat::nm(2, 4));
}

TEST_CASE("sparse edge cases: all zero, a single nonzero, empty rows and columns", "[sparse]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const std::size_t m = cfg.rows + 1, k = 23, n = 2 * cfg.cols + 1;
  GemmProblem p = random_problem(m, k, n, 7201, {true, false, true});
  for (const SparseFormat format :
       {SparseFormat{}, SparseFormat::nm(1, 4), SparseFormat::nm(2, 4)}) {
    INFO("format " << format_name(format));
    std::fill(p.b.data.begin(), p.b.data.end(), std::int8_t{0});
    run_exact(rig, p, format);  // every output the requantized bias

    p.b.at(k - 1, n - 1) = -128;
    run_exact(rig, p, format);

    p.b = random_sparse_problem(m, k, n, 7202, {0.5, std::nullopt}).b;
    if (format.kind == SparseFormat::Kind::kNM) prune_to_nm(p.b, format);
    for (std::size_t i = 0; i < k; ++i) p.b.at(i, 0) = p.b.at(i, cfg.cols) = 0;  // empty columns
    for (std::size_t j = 0; j < n; ++j) p.b.at(0, j) = p.b.at(k - 1, j) = 0;     // empty rows
    for (std::size_t i = 0; i < k; ++i) p.a.at(m - 1, i) = 0;  // an empty row of A
    run_exact(rig, p, format);
  }
}

TEST_CASE("column blocks of very different lengths, and more than WGT/META holds at once",
          "[sparse]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const SparseGeometry geometry = sparse_geometry(cfg);
  const std::size_t k = geometry.max_chunk_k;
  SECTION("a full block between nearly empty ones takes commands of its own") {
    GemmProblem p = random_problem(cfg.rows, k, 5 * cfg.cols, 7301, {true, false, true});
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t j = 0; j < p.n(); ++j) {
        const bool dense_block = j / cfg.cols == 2;
        if (!dense_block && (i + j) % 97 != 0) p.b.at(i, j) = 0;
      }
    }
    const auto sent = run_exact(rig, p, SparseFormat{});
    CHECK(sent.spgemms > 1);
  }
  SECTION("WGT/META words past what the scratchpads hold run in several passes") {
    const std::size_t capacity = std::min(cfg.wgt_depth, cfg.meta_depth);
    const std::size_t n = (capacity / k + 1) * cfg.cols;  // every column full: len = k
    const GemmProblem p =
        random_sparse_problem(2, k, n, 7302, {1.0, std::nullopt}, {true, false, true});
    const auto sent = run_exact(rig, p, SparseFormat{});
    CHECK(sent.loads[kWgt] >= 2);
    CHECK(sent.load_words[kWgt] >= n / cfg.cols * k);
  }
}

TEST_CASE("a second identical sparse run sends only activations", "[runtime][sparse]") {
  Rig rig;
  const auto& cfg = rig.device.config();
  const GemmProblem p = random_sparse_problem(3 * cfg.rows + 1, 50, 3 * cfg.cols + 2, 7401,
                                              {0.1, std::nullopt}, {true, false, true});
  const auto first = run_exact(rig, p, SparseFormat{});
  // One LOAD of each per column block, so the first block computes while the rest load.
  CHECK(first.loads[kWgt] == 4);
  CHECK(first.loads[kMeta] == 4);
  CHECK(first.loads[kParam] == 4);
  CHECK(first.load_words[kParam] == 4 * cfg.cols);
  CHECK(first.load_words[kWgt] == first.load_words[kMeta]);
  CHECK(first.loads[kGbuf] == 4);  // one per M block, each into the other half
  CHECK(first.load_words[kGbuf] == 4 * 50);
  CHECK(first.loads[kAct] == 0);

  const auto second = run_exact(rig, p, SparseFormat{});
  CHECK(second.loads[kWgt] == 0);
  CHECK(second.loads[kMeta] == 0);
  CHECK(second.loads[kParam] == 0);
  CHECK(second.stream_bytes == second.load_words[kGbuf] * cfg.in_beat_bytes);

  // A dense run on the same engine finds its weights gone and still runs exactly.
  const GemmRun dense = run_gemm(rig.device, p);
  CHECK(dense.output.data == golden_gemm(p).data);
  run_exact(rig, p, SparseFormat{});
}

TEST_CASE("an SPGEMM or SPGEMMA index past its K latches BAD_META; CLEAR recovers", "[sparse]") {
  Rig rig;
  Device& device = rig.device;
  const auto& cfg = device.config();
  // The same words serve both: SPGEMM reads an A block from GBUF and B's entries from
  // WGT/META, SPGEMMA a block of B and A's.
  const bool compressed_a = GENERATE(false, true);
  INFO((compressed_a ? "SPGEMMA" : "SPGEMM"));
  if (compressed_a) REQUIRE(cfg.sparse_a());
  const unsigned k = 8;
  std::vector<std::uint8_t> gbuf(std::size_t{k} * cfg.rows, 1);
  std::vector<std::uint8_t> values(cfg.cols, 1), indices(cfg.cols, 0);
  indices[cfg.cols - 1] = k;  // entry 0 of the last column (row) gathers k = 8 of K = 8
  device.load(isa::Target::kGbuf, 0, gbuf);
  device.load(isa::Target::kWgt, 0, values);
  device.load(isa::Target::kMeta, 0, indices);
  device.load(isa::Target::kParam, 0, std::vector<std::uint8_t>(cfg.cols * isa::kParamBytes, 0));
  isa::SpgemmCommand cmd;
  cmd.compressed_a = compressed_a;
  cmd.m_rows = 2;
  cmd.k_count = k;
  cmd.len = 1;
  cmd.nt_count = 1;
  device.push(isa::encode(cmd));
  // The command still completes: its two result beats leave, undefined.
  device.transport().stream_read(2, 100'000);
  device.transport().wait_idle(100'000);
  REQUIRE(static_cast<isa::ErrorCode>(device.transport().csr_read(isa::csr::kErrCode)) ==
          isa::ErrorCode::kBadMeta);
  CHECK_THROWS_WITH(device.check_error(), Catch::Matchers::Contains("BAD_META"));
  device.clear();
  const SparseOperand operand = compressed_a ? SparseOperand::kA : SparseOperand::kB;
  const GemmProblem p = random_sparse_problem(3, 20, 5, 7501, {0.5, std::nullopt, operand});
  run_exact(rig, p, SparseFormat{}, operand);
}

// =======================================================================================
// A sparse A through SPGEMMA: A's rows resident in WGT/META, B's column blocks in GBUF.

namespace {

const SparseFormat kUnstructured{SparseFormat::Kind::kUnstructured};

// Raw int32, per-channel requantization, per-tensor requantization, ReLU (per tensor).
constexpr RandomOptions kOutputStages[] = {
    {false, false, true}, {true, false, true}, {true, false, false}, {false, true, false}};

struct SparseARig : Rig {
  SparseARig() { REQUIRE(device.config().sparse_a()); }  // every engine build is square
};

GemmProblem random_sparse_a(const Shape& s, double density, std::uint64_t seed,
                            const RandomOptions& options) {
  return random_sparse_problem(s.m, s.k, s.n, seed, {density, std::nullopt, SparseOperand::kA},
                               options);
}

// For "auto": A 30 % dense, B dense and M not a multiple of Rows, where the model puts
// the dense path strictly ahead of SPGEMM, and SPGEMMA ahead of both.
GemmProblem auto_problem(const EngineConfig& cfg) {
  return random_sparse_a({8 * cfg.rows + 1, 4 * cfg.rows, cfg.cols + 2}, 0.3, 8501,
                         {true, false, true});
}

// An engine as one without SPGEMMA shows itself: FEATURES bit 6 reads 0.
class WithoutSparseA : public CountingTransport {
 public:
  using CountingTransport::CountingTransport;
  std::uint32_t csr_read(std::uint32_t addr) override {
    const std::uint32_t value = CountingTransport::csr_read(addr);
    return addr == isa::csr::kFeatures ? value & ~(1u << isa::kFeatureSparseA) : value;
  }
};

}  // namespace

TEST_CASE("sparse A GEMMs of every density and output stage match the golden reference",
          "[sparse][sparse-a]") {
  SparseARig rig;
  std::uint64_t seed = 8000;
  // shapes(): a short last row block (M not a multiple of Cols), one row and column,
  // K beyond one chunk with more column blocks than the two GBUF halves.
  for (const Shape& s : shapes(rig.device.config())) {
    for (const double density : {0.0, 0.01, 0.1, 0.25, 0.5, 1.0}) {
      const RandomOptions& options = kOutputStages[++seed % std::size(kOutputStages)];
      const SparsePattern pattern{density, std::nullopt, SparseOperand::kA};
      const GemmProblem p = random_sparse_problem(s.m, s.k, s.n, seed, pattern, options);
      INFO("sparse A, density " << density << (options.per_channel ? "" : ", per tensor") << ": "
                                << reproduce(p, seed, pattern, options));
      run_exact(rig, p, kUnstructured, SparseOperand::kA);
    }
  }
}

TEST_CASE("sparse A GEMMs keep the runtime's discipline on every transport",
          "[runtime][sparse][sparse-a]") {
  SparseARig rig;
  const auto& cfg = rig.device.config();
  const std::size_t chunk = sparse_a_geometry(cfg).max_chunk_k;
  const GemmProblem relu =
      random_sparse_a({2 * cfg.cols + 1, chunk + 3, cfg.cols + 2}, 0.4, 8101, {false, true, true});
  run_exact(rig, relu, kUnstructured, SparseOperand::kA);
  const GemmProblem raw = random_sparse_a({cfg.cols + 3, 40, 2 * cfg.cols + 1}, 0.6, 8102, {});
  run_exact(rig, raw, SparseFormat{SparseFormat::Kind::kAuto}, SparseOperand::kA);
}

TEST_CASE("sparse A edge cases: all zero, a single nonzero, empty rows and columns",
          "[sparse][sparse-a]") {
  SparseARig rig;
  const auto& cfg = rig.device.config();
  const std::size_t m = 2 * cfg.cols + 1, k = 23, n = cfg.cols + 3;
  GemmProblem p = random_problem(m, k, n, 8201, {true, false, true});
  std::fill(p.a.data.begin(), p.a.data.end(), std::int8_t{0});
  run_exact(rig, p, kUnstructured, SparseOperand::kA);  // every output the requantized bias

  p.a.at(m - 1, k - 1) = -128;
  run_exact(rig, p, kUnstructured, SparseOperand::kA);

  p.a = random_sparse_a({m, k, n}, 0.5, 8202, {}).a;
  for (std::size_t i = 0; i < k; ++i) p.a.at(0, i) = p.a.at(cfg.cols, i) = 0;  // empty rows
  for (std::size_t row = 0; row < m; ++row) p.a.at(row, 0) = p.a.at(row, k - 1) = 0;
  run_exact(rig, p, kUnstructured, SparseOperand::kA);
}

TEST_CASE(
    "sparse A: row blocks of very different lengths, more than WGT/META holds, more "
    "column blocks than PARAM slots",
    "[sparse][sparse-a]") {
  SparseARig rig;
  const auto& cfg = rig.device.config();
  const std::size_t k = sparse_a_geometry(cfg).max_chunk_k;
  SECTION("a full row block between nearly empty ones takes commands of its own") {
    GemmProblem p = random_problem(5 * cfg.cols, k, cfg.cols, 8301, {true, false, true});
    for (std::size_t row = 0; row < p.m(); ++row) {
      for (std::size_t i = 0; i < k; ++i) {
        if (row / cfg.cols != 2 && (row + i) % 97 != 0) p.a.at(row, i) = 0;
      }
    }
    const auto sent = run_exact(rig, p, kUnstructured, SparseOperand::kA);
    CHECK(sent.spgemmas > 1);
  }
  SECTION("WGT/META words past what the scratchpads hold run in several passes") {
    const std::size_t capacity = std::min(cfg.wgt_depth, cfg.meta_depth);
    const std::size_t m = (capacity / k + 1) * cfg.cols;  // every row full: len = k
    const GemmProblem p = random_sparse_a({m, k, 3}, 1.0, 8302, {true, false, true});
    const auto sent = run_exact(rig, p, kUnstructured, SparseOperand::kA);
    CHECK(sent.loads[kWgt] >= 2);
    CHECK(sent.load_words[kWgt] >= m / cfg.cols * k);
  }
  SECTION("channels past PARAM reuse its slots") {
    const std::size_t n = (cfg.param_depth / cfg.cols + 2) * cfg.cols + 1;
    const GemmProblem p = random_sparse_a({3, 20, n}, 0.5, 8303, {true, false, true});
    const auto sent = run_exact(rig, p, kUnstructured, SparseOperand::kA);
    CHECK(sent.load_words[kParam] == (n / cfg.cols + 1) * cfg.cols);
  }
}

TEST_CASE("a second identical sparse A run sends only B's column blocks",
          "[runtime][sparse][sparse-a]") {
  SparseARig rig;
  const auto& cfg = rig.device.config();
  // Four row blocks (the last of one row), four column blocks of B (the last of two).
  const GemmProblem p =
      random_sparse_a({3 * cfg.cols + 1, 50, 3 * cfg.cols + 2}, 0.3, 8401, {true, false, true});
  const auto first = run_exact(rig, p, kUnstructured, SparseOperand::kA);
  // One LOAD of each per row block, so the first computes while the rest load.
  CHECK(first.loads[kWgt] == 4);
  CHECK(first.loads[kMeta] == 4);
  CHECK(first.load_words[kWgt] == first.load_words[kMeta]);
  CHECK(first.loads[kParam] == 4);  // each column block's channels with its GBUF block
  CHECK(first.load_words[kParam] == 4 * cfg.cols);
  CHECK(first.loads[kGbuf] == 4);  // one per column block, each into the other half
  CHECK(first.load_words[kGbuf] == 4 * 50);
  CHECK(first.loads[kAct] == 0);

  const auto second = run_exact(rig, p, kUnstructured, SparseOperand::kA);
  CHECK(second.loads[kWgt] == 0);
  CHECK(second.loads[kMeta] == 0);
  CHECK(second.loads[kParam] == 0);
  CHECK(second.stream_bytes == second.load_words[kGbuf] * cfg.in_beat_bytes);

  // The sparse-B and dense paths on the same engine find A's entries gone and still run
  // exactly, and so does the sparse A after them.
  run_exact(rig, p, kUnstructured);
  const GemmRun dense = run_gemm(rig.device, p);
  CHECK(dense.output.data == golden_gemm(p).data);
  run_exact(rig, p, kUnstructured, SparseOperand::kA);
}

TEST_CASE("auto for a sparse A runs SPGEMMA where the model says so", "[sparse][sparse-a]") {
  SparseARig rig;
  const GemmProblem p = auto_problem(rig.device.config());
  const SparseGemmRun run =
      run_sparse_gemm(rig.device, p, SparseFormat{SparseFormat::Kind::kAuto}, SparseOperand::kA);
  CHECK(run.operand == SparseOperand::kA);
  CHECK(run.format == kUnstructured);
  CHECK(run.run.output.data == golden_gemm(p).data);
}

TEST_CASE("an engine without SPGEMMA (FEATURES bit 6) refuses a sparse A; auto runs dense",
          "[sparse][sparse-a]") {
  std::unique_ptr<Transport> engine = test::make_test_transport();
  WithoutSparseA masked{*engine};
  Device device{masked};
  REQUIRE(device.config().sparse());
  REQUIRE_FALSE(device.config().sparse_a());
  const GemmProblem p = auto_problem(device.config());

  CHECK_THROWS_AS(run_sparse_gemm(device, p, kUnstructured, SparseOperand::kA), EngineError);
  CHECK_THROWS_WITH(run_sparse_gemm(device, p, kUnstructured, SparseOperand::kA),
                    Catch::Matchers::Contains("FEATURES bit 6"));
  CHECK(masked.counts.spgemmas == 0);
  CHECK(masked.counts.loads[kWgt] == 0);  // refused before anything was sent

  const SparseGemmRun fallback =
      run_sparse_gemm(device, p, SparseFormat{SparseFormat::Kind::kAuto}, SparseOperand::kA);
  CHECK(fallback.format.kind == SparseFormat::Kind::kDense);
  CHECK(fallback.run.output.data == golden_gemm(p).data);
  CHECK(masked.counts.gemms > 0);
  CHECK(masked.counts.spgemmas == 0);

  // N:M is a pattern of B: refused as the input's fault, whatever the engine.
  CHECK_THROWS_AS(run_sparse_gemm(device, p, SparseFormat::nm(2, 4), SparseOperand::kA),
                  InputError);
}
