// Runtime <-> engine on the sparse-gather path: seeded sparse GEMMs of every format and
// density through SPGEMM, bit-exact against the golden reference, on whichever engine
// build this binary links; what the runs send (counted at the transport); BAD_META.
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
    out << " --density " << pattern.density;
  }
  out << (o.relu ? " --relu" : (o.requant ? " --requant" : "")) << " --check, on a "
      << sim::sim_config_name() << " build)";
  return out.str();
}

// Runs the problem in `format` and checks it bit for bit; returns what the run sent.
CountingTransport::Counts run_exact(Rig& rig, const GemmProblem& problem,
                                    const SparseFormat& format) {
  rig.counter.counts = {};
  const SparseGemmRun run = run_sparse_gemm(rig.device, problem, format);
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run.run.output.shape == want.shape);
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    INFO("first mismatch at row " << i / want.cols() << ", col " << i % want.cols());
    REQUIRE(run.run.output.data[i] == want.data[i]);
  }
  CHECK(run.run.cycles > 0);
  if (format.kind != SparseFormat::Kind::kAuto) {
    CHECK(run.format == format);
    CHECK(rig.counter.counts.spgemms > 0);
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

TEST_CASE("an SPGEMM index past its K latches BAD_META; CLEAR recovers", "[sparse]") {
  Rig rig;
  Device& device = rig.device;
  const auto& cfg = device.config();
  const unsigned k = 8;
  std::vector<std::uint8_t> gbuf(std::size_t{k} * cfg.rows, 1);
  std::vector<std::uint8_t> values(cfg.cols, 1), indices(cfg.cols, 0);
  indices[cfg.cols - 1] = k;  // entry 0 of the last column gathers k = 8 of K = 8
  device.load(isa::Target::kGbuf, 0, gbuf);
  device.load(isa::Target::kWgt, 0, values);
  device.load(isa::Target::kMeta, 0, indices);
  device.load(isa::Target::kParam, 0, std::vector<std::uint8_t>(cfg.cols * isa::kParamBytes, 0));
  isa::SpgemmCommand cmd;
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
  const GemmProblem p = random_sparse_problem(3, 20, 5, 7501, {0.5, std::nullopt});
  run_exact(rig, p, SparseFormat{});
}
