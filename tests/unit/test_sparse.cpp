// The sparse path without an engine: format names, the N:M check and its message, the
// packer's layout (len, padding, K chunks), the cycle model "auto" picks by, seeded
// sparse problems, and the golden reference over the packed form, which must equal
// golden_gemm on the dense B bit for bit for every format and density.
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/errors.hpp"
#include "tessera/golden.hpp"
#include "tessera/golden_sparse.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/sparse.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

// The default engine (16x16, GBUF 512) and a small one with short K chunks.
const SparseGeometry kWide{16, 16, 256};
const SparseGeometry kSmall{4, 4, 32};

Tensor<std::int8_t> zeros(std::size_t k, std::size_t n) { return Tensor<std::int8_t>(k, n); }

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError thrown");
  return "";
}

// B rebuilt from the packed form alone; also checks every entry stays in its chunk and
// every padding entry is (0, 0).
Tensor<std::int8_t> unpack(const SparseB& packed) {
  Tensor<std::int8_t> b(packed.k, packed.n);
  for (const SparseChunk& chunk : packed.chunks) {
    for (std::size_t nt = 0; nt < chunk.blocks.size(); ++nt) {
      const SparseBlock& block = chunk.blocks[nt];
      REQUIRE(block.len >= 1);
      REQUIRE(block.values.size() == std::size_t{block.len} * packed.cols);
      REQUIRE(block.indices.size() == block.values.size());
      for (std::size_t j = 0; j < block.len; ++j) {
        for (std::size_t c = 0; c < packed.cols; ++c) {
          const std::int8_t value = block.values[j * packed.cols + c];
          const std::size_t index = block.indices[j * packed.cols + c];
          REQUIRE(index < chunk.k);
          if (value == 0) {
            CHECK(index == 0);  // padding is (value 0, index 0)
            continue;
          }
          REQUIRE(nt * packed.cols + c < packed.n);
          std::int8_t& slot = b.at(chunk.k0 + index, nt * packed.cols + c);
          REQUIRE(slot == 0);  // no K index listed twice
          slot = value;
        }
      }
    }
  }
  return b;
}

// A random matrix of the given density (Bernoulli), then pruned to N:M when `nm` is set:
// each group keeps its first N nonzeros.
Tensor<std::int8_t> random_b(std::size_t k, std::size_t n, double density, std::uint32_t seed,
                             const SparseFormat* nm = nullptr) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::uniform_int_distribution<int> value(-128, 126);
  Tensor<std::int8_t> b(k, n);
  for (auto& v : b.data) {
    if (coin(rng) >= density) continue;
    const int draw = value(rng);
    v = static_cast<std::int8_t>(draw >= 0 ? draw + 1 : draw);
  }
  if (nm) {
    for (std::size_t col = 0; col < n; ++col) {
      for (std::size_t k0 = 0; k0 < k; k0 += nm->m) {
        unsigned kept = 0;
        for (std::size_t i = k0; i < std::min(k, k0 + nm->m); ++i) {
          if (b.at(i, col) != 0 && ++kept > nm->n) b.at(i, col) = 0;
        }
      }
    }
  }
  return b;
}

GemmProblem problem_with(const Tensor<std::int8_t>& b, std::size_t m, std::uint32_t seed,
                         bool requant) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(-128, 127);
  GemmProblem p;
  p.a = Tensor<std::int8_t>(m, b.rows());
  for (auto& v : p.a.data) v = static_cast<std::int8_t>(value(rng));
  p.b = b;
  p.bias.resize(b.cols());
  std::uniform_int_distribution<std::int32_t> bias(-70000, 70000);
  for (auto& v : p.bias) v = bias(rng);
  if (requant) {
    Requant rq;
    for (std::size_t n = 0; n < b.cols(); ++n) {
      rq.multiplier.push_back(1 << 30 | static_cast<std::int32_t>(n * 7919));
      rq.shift.push_back(-9 - static_cast<std::int32_t>(n % 3));
    }
    rq.zero_point = -3;
    p.requant = rq;
  }
  return p;
}

std::string describe(const SparseFormat& format, std::size_t m, std::size_t k, std::size_t n,
                     double density, std::uint32_t seed, bool requant, const SparseGeometry& g) {
  std::ostringstream out;
  out << format_name(format) << " " << m << "x" << k << "x" << n << " density " << density
      << " seed " << seed << (requant ? " requant" : " raw") << " on cols " << g.cols << " chunk "
      << g.max_chunk_k;
  return out.str();
}

Tensor<std::int8_t> transposed(const Tensor<std::int8_t>& t) {
  Tensor<std::int8_t> out(t.cols(), t.rows());
  for (std::size_t r = 0; r < t.rows(); ++r) {
    for (std::size_t c = 0; c < t.cols(); ++c) out.at(c, r) = t.at(r, c);
  }
  return out;
}

void require_golden(const GemmProblem& problem, const Tensor<std::int32_t>& got) {
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(got.shape == want.shape);
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    INFO("first mismatch at row " << i / want.cols() << ", col " << i % want.cols());
    REQUIRE(got.data[i] == want.data[i]);
  }
}

// Packs, rebuilds and computes through the packed form; all must agree with the dense B.
void check_round_trip(const GemmProblem& problem, const SparseFormat& format,
                      const SparseGeometry& geometry) {
  const SparseB packed = pack_sparse(problem.b, format, geometry);
  REQUIRE(unpack(packed).data == problem.b.data);
  CHECK(packed.nonzeros == count_nonzeros(problem.b));
  require_golden(problem, golden_spgemm(problem, packed));
}

// The same for a sparse A through SPGEMMA's packed form (Aᵀ's columns are A's rows).
void check_round_trip_a(const GemmProblem& problem, const SparseGeometry& geometry) {
  const SparseB packed = pack_sparse_a(problem.a, geometry);
  REQUIRE(unpack(packed).data == transposed(problem.a).data);
  CHECK(packed.nonzeros == count_nonzeros(problem.a));
  require_golden(problem, golden_spgemma(problem, packed));
}

// A dense B [k, n] with a sparse A [m, k] of the given density.
GemmProblem sparse_a_problem(std::size_t m, std::size_t k, std::size_t n, double density,
                             std::uint32_t seed, bool requant) {
  GemmProblem p = problem_with(random_b(k, n, 1.0, seed), m, seed, requant);
  p.a = random_b(m, k, density, seed + 1);
  return p;
}

}  // namespace

TEST_CASE("sparse formats parse from their names and back", "[sparse]") {
  CHECK(parse_sparse_format("2:4") == SparseFormat::nm(2, 4));
  CHECK(parse_sparse_format("1:4") == SparseFormat::nm(1, 4));
  CHECK(parse_sparse_format("7:16") == SparseFormat::nm(7, 16));
  CHECK(parse_sparse_format("unstructured").kind == SparseFormat::Kind::kUnstructured);
  CHECK(parse_sparse_format("auto").kind == SparseFormat::Kind::kAuto);
  CHECK(format_name(SparseFormat::nm(2, 4)) == "2:4");
  CHECK(format_name(SparseFormat{SparseFormat::Kind::kDense}) == "dense");
  for (const char* bad :
       {"4:4", "0:4", "5:4", "2:17", "2:", ":4", "2:4x", "two:four", "", "Auto", "2 :4", "-1:4"}) {
    INFO("format '" << bad << "'");
    CHECK_THAT(message_of([&] { parse_sparse_format(bad); }),
               Contains("'" + std::string(bad) + "'") && Contains("N:M"));
  }
}

TEST_CASE("a B declared N:M that is not names the first offending group", "[sparse]") {
  Tensor<std::int8_t> b = zeros(12, 8);
  b.at(8, 5) = 1, b.at(9, 5) = -2, b.at(11, 5) = 3;  // column 5, group k 8..11: 3 nonzeros
  b.at(0, 6) = 1, b.at(1, 6) = 1, b.at(2, 6) = 1;    // column 6 too, but after column 5
  CHECK_THAT(message_of([&] { check_nm(b, 2, 4); }),
             Equals("b is not 2:4: column 5, k 8..11 has 3 nonzeros"));
  CHECK_THAT(message_of([&] { pack_sparse(b, SparseFormat::nm(2, 4), kWide); }),
             Equals("b is not 2:4: column 5, k 8..11 has 3 nonzeros"));
  CHECK_FALSE(is_nm(b, 2, 4));
  CHECK(is_nm(b, 3, 4));
  CHECK_NOTHROW(check_nm(b, 3, 4));

  SECTION("within a column, the lowest K first") {
    Tensor<std::int8_t> two = zeros(8, 1);
    two.at(4, 0) = two.at(5, 0) = 1;
    two.at(0, 0) = two.at(1, 0) = 1;
    CHECK_THAT(message_of([&] { check_nm(two, 1, 4, "weights"); }),
               Equals("weights is not 1:4: column 0, k 0..3 has 2 nonzeros"));
  }
  SECTION("a last group cut short by K counts its missing rows as zeros") {
    Tensor<std::int8_t> short_k = zeros(10, 2);  // groups 0..3, 4..7, 8..9
    short_k.at(8, 1) = short_k.at(9, 1) = 5;
    CHECK(is_nm(short_k, 2, 4));
    CHECK_THAT(message_of([&] { check_nm(short_k, 1, 4); }),
               Equals("b is not 1:4: column 1, k 8..9 has 2 nonzeros"));
  }
}

TEST_CASE("unstructured packing: len is the block's longest column", "[sparse]") {
  // K = 6, N = 10 on 4 columns a block: blocks {0..3}, {4..7}, {8, 9} + 2 padding columns.
  Tensor<std::int8_t> b = zeros(6, 10);
  b.at(5, 1) = 7;                   // block 0: column 1 has 1
  b.at(0, 2) = -1, b.at(3, 2) = 2;  //          column 2 has 2
  for (std::size_t k = 0; k < 6; ++k) b.at(k, 6) = static_cast<std::int8_t>(k + 1);  // block 1: 6
  // block 2: all zero
  const SparseB packed = pack_sparse(b, {}, kSmall);
  REQUIRE(packed.chunks.size() == 1);
  const SparseChunk& chunk = packed.chunks[0];
  CHECK(chunk.k0 == 0);
  CHECK(chunk.k == 6);
  REQUIRE(chunk.blocks.size() == 3);
  CHECK(chunk.blocks[0].len == 2);
  CHECK(chunk.blocks[1].len == 6);
  CHECK(chunk.blocks[2].len == 1);  // at least one entry, all padding
  // Column 2 lists its nonzeros in K order: (-1 at k 0), (2 at k 3).
  CHECK(chunk.blocks[0].values[0 * 4 + 2] == -1);
  CHECK(chunk.blocks[0].indices[0 * 4 + 2] == 0);
  CHECK(chunk.blocks[0].values[1 * 4 + 2] == 2);
  CHECK(chunk.blocks[0].indices[1 * 4 + 2] == 3);
  CHECK(packed.nonzeros == 9);
  CHECK(unpack(packed).data == b.data);
}

TEST_CASE("N:M packing: every block of a chunk has len ceil(k/M)*N", "[sparse]") {
  const SparseFormat two_four = SparseFormat::nm(2, 4);
  SECTION("even where every group has fewer nonzeros than N") {
    Tensor<std::int8_t> b = zeros(10, 5);  // K = 10: groups 0..3, 4..7, 8..9
    b.at(9, 4) = 3;                        // the only nonzero: group 2 of column 4
    const SparseB packed = pack_sparse(b, two_four, kSmall);
    REQUIRE(packed.chunks.size() == 1);
    for (const SparseBlock& block : packed.chunks[0].blocks) CHECK(block.len == 6);
    // Group 2 of column 4 (block 1, column 0) owns entries 4 and 5.
    const SparseBlock& block = packed.chunks[0].blocks[1];
    CHECK(block.values[4 * 4 + 0] == 3);
    CHECK(block.indices[4 * 4 + 0] == 9);
    CHECK(unpack(packed).data == b.data);
  }
  SECTION("an all-zero B") {
    const SparseB packed = pack_sparse(zeros(7, 3), SparseFormat::nm(1, 4), kWide);
    REQUIRE(packed.chunks.size() == 1);
    REQUIRE(packed.chunks[0].blocks.size() == 1);
    CHECK(packed.chunks[0].blocks[0].len == 2);
    CHECK(packed.nonzeros == 0);
  }
  SECTION("a full 2:4 pattern") {
    const GemmProblem p = random_sparse_problem(1, 64, 20, 9, {1.0, two_four});
    const SparseB packed = pack_sparse(p.b, two_four, kWide);
    for (const SparseBlock& block : packed.chunks[0].blocks) CHECK(block.len == 32);
    CHECK(packed.nonzeros == 64 * 20 / 2);
    CHECK(unpack(packed).data == p.b.data);
  }
}

TEST_CASE("K beyond one SPGEMM is cut into chunks of whole N:M groups", "[sparse]") {
  const Tensor<std::int8_t> b = random_b(600, 5, 0.3, 4);
  SECTION("unstructured: chunks of max_chunk_k") {
    const SparseB packed = pack_sparse(b, {}, kWide);
    REQUIRE(packed.chunks.size() == 3);
    CHECK(packed.chunks[0].k0 == 0);
    CHECK(packed.chunks[1].k0 == 256);
    CHECK(packed.chunks[2].k0 == 512);
    CHECK(packed.chunks[2].k == 88);
    CHECK(unpack(packed).data == b.data);
  }
  SECTION("N:M: a multiple of M") {
    const SparseFormat one_three = SparseFormat::nm(1, 3);
    const Tensor<std::int8_t> nm_b = random_b(600, 5, 0.3, 4, &one_three);
    CHECK(chunk_k(one_three, kWide) == 255);
    const SparseB packed = pack_sparse(nm_b, one_three, kWide);
    REQUIRE(packed.chunks.size() == 3);
    CHECK(packed.chunks[1].k0 == 255);
    CHECK(packed.chunks[2].k == 90);
    CHECK(packed.chunks[0].blocks[0].len == 85);
    CHECK(packed.chunks[2].blocks[0].len == 30);
    CHECK(unpack(packed).data == nm_b.data);
  }
  SECTION("a chunk shorter than one group is refused") {
    CHECK_THROWS_AS(chunk_k(SparseFormat::nm(3, 16), SparseGeometry{4, 4, 8}), InputError);
  }
}

TEST_CASE("padded block words lay out values and indices entry by entry", "[sparse]") {
  SparseBlock block;
  block.len = 2;
  block.values = {1, 2, 3, 4};  // cols = 2
  block.indices = {5, 6, 7, 8};
  std::vector<std::uint8_t> wgt, meta;
  append_block_words(block, 3, 2, wgt, meta);
  CHECK(wgt == std::vector<std::uint8_t>{1, 2, 3, 4, 0, 0});
  CHECK(meta == std::vector<std::uint8_t>{5, 6, 7, 8, 0, 0});
}

TEST_CASE("the cycle model sums max(len, M) over M blocks, chunks and column blocks", "[sparse]") {
  // cols 4: block 0 has len 2, block 1 len 6, block 2 len 1 (see the packing test).
  Tensor<std::int8_t> b = zeros(6, 10);
  b.at(0, 2) = -1, b.at(3, 2) = 2;
  for (std::size_t k = 0; k < 6; ++k) b.at(k, 6) = 1;
  const SparseB packed = pack_sparse(b, {}, kSmall);
  // M = 6 on 4 rows: an M block of 4 (4 + 6 + 4) and one of 2 (2 + 6 + 2).
  CHECK(sparse_cycles(packed, 6, 4) == 14 + 10);
  CHECK(sparse_cycles(packed, 1, 4) == 2 + 6 + 1);
  // Dense on 4x4: kt = 2, nt = 3, each fold max(M, 8).
  CHECK(dense_cycles(6, 6, 10, 4, 4) == 6 * 8);
  CHECK(dense_cycles(100, 6, 10, 4, 4) == 6 * 100);
}

TEST_CASE("auto picks the fewest model cycles, structured formats first on a tie", "[sparse]") {
  SECTION("a full 1:4 pattern: 1:4 ties unstructured and wins") {
    const GemmProblem p = random_sparse_problem(16, 256, 64, 3, {1.0, SparseFormat::nm(1, 4)});
    const FormatChoice choice = choose_format(p.b, 16, kWide, 16, 16);
    CHECK(choice.format == SparseFormat::nm(1, 4));
    REQUIRE(choice.candidates.size() == 4);  // 1:4, 2:4, unstructured, dense
    CHECK(choice.candidates[0].cycles == 4 * 64);
    CHECK(choice.candidates[1].cycles == 4 * 128);
    CHECK(choice.candidates[2].cycles == 4 * 64);
    CHECK(choice.candidates[3].cycles == 16 * 4 * 32);
    CHECK(choice.cycles == 256);
  }
  SECTION("a 2:4 B is never offered as 1:4") {
    const GemmProblem p = random_sparse_problem(16, 64, 32, 5, {1.0, SparseFormat::nm(2, 4)});
    const FormatChoice choice = choose_format(p.b, 16, kWide, 16, 16);
    REQUIRE(choice.candidates.size() == 3);
    CHECK(choice.candidates[0].format == SparseFormat::nm(2, 4));
    CHECK(choice.format == SparseFormat::nm(2, 4));
  }
  SECTION("a very sparse B runs unstructured") {
    const GemmProblem p = random_sparse_problem(16, 256, 64, 7, {0.01, std::nullopt});
    const FormatChoice choice = choose_format(p.b, 16, kWide, 16, 16);
    CHECK(choice.format.kind == SparseFormat::Kind::kUnstructured);
    CHECK(choice.cycles < 4 * 64);
  }
  SECTION("a dense B over many rows runs dense") {
    const GemmProblem p = random_sparse_problem(256, 64, 32, 8, {1.0, std::nullopt});
    const FormatChoice choice = choose_format(p.b, 256, kWide, 16, 16);
    CHECK(choice.format.kind == SparseFormat::Kind::kDense);
    CHECK(choice.cycles == 4 * 2 * 256);
  }
}

TEST_CASE("seeded sparse problems: exact density or an exact N:M pattern", "[sparse]") {
  const GemmProblem dense = random_problem(5, 40, 30, 11, {true, false, true});
  SECTION("density: round(D*K*N) nonzeros, the same A and parameters as the dense seed") {
    for (const double density : {0.0, 0.01, 0.1, 0.25, 0.5, 1.0}) {
      INFO("density " << density);
      const GemmProblem p =
          random_sparse_problem(5, 40, 30, 11, {density, std::nullopt}, {true, false, true});
      CHECK(count_nonzeros(p.b) == static_cast<std::size_t>(std::llround(density * 1200)));
      CHECK(p.a.data == dense.a.data);
      CHECK(p.bias == dense.bias);
      CHECK(p.requant->multiplier == dense.requant->multiplier);
    }
  }
  SECTION("N:M: exactly N in every group, all of a short last group") {
    const GemmProblem p = random_sparse_problem(5, 41, 30, 11, {1.0, SparseFormat::nm(2, 8)});
    for (std::size_t col = 0; col < 30; ++col) {
      for (std::size_t k0 = 0; k0 < 41; k0 += 8) {
        std::size_t count = 0;
        for (std::size_t k = k0; k < std::min<std::size_t>(41, k0 + 8); ++k)
          count += p.b.at(k, col) != 0;
        INFO("column " << col << ", k " << k0);
        CHECK(count == (k0 == 40 ? 1u : 2u));
      }
    }
  }
  SECTION("the same seed gives the same B, another seed another one") {
    const SparsePattern half{0.5, std::nullopt};
    CHECK(random_sparse_problem(5, 40, 30, 11, half).b.data ==
          random_sparse_problem(5, 40, 30, 11, half).b.data);
    CHECK(random_sparse_problem(5, 40, 30, 11, half).b.data !=
          random_sparse_problem(5, 40, 30, 12, half).b.data);
  }
  SECTION("a density outside [0, 1] is refused") {
    CHECK_THROWS_AS(random_sparse_problem(1, 1, 1, 1, {1.5, std::nullopt}), InputError);
    CHECK_THROWS_AS(random_sparse_problem(1, 1, 1, 1, {-0.1, std::nullopt}), InputError);
  }
}

namespace {

struct Shape {
  std::size_t m, k, n;
};
// K not a multiple of M (30, 37), K beyond one chunk (300, 600 on 256; 70 on 32), M and
// N not multiples of the blocks, a single row and a single column.
const std::vector<Shape> kGoldenShapes = {
    {5, 30, 18}, {1, 37, 5}, {17, 300, 33}, {3, 600, 1}, {9, 70, 9}};

}  // namespace

TEST_CASE("golden_spgemm from the packed form equals golden_gemm on the dense B",
          "[sparse][golden]") {
  const std::vector<SparseFormat> formats = {SparseFormat{}, SparseFormat::nm(1, 4),
                                             SparseFormat::nm(2, 4), SparseFormat::nm(3, 8)};
  std::uint32_t seed = 100;
  for (const SparseGeometry& geometry : {kWide, kSmall}) {
    for (const Shape& s : kGoldenShapes) {
      for (const SparseFormat& format : formats) {
        for (const double density : {0.0, 0.01, 0.1, 0.25, 0.5, 1.0}) {
          for (const bool requant : {false, true}) {
            ++seed;
            INFO(describe(format, s.m, s.k, s.n, density, seed, requant, geometry));
            const bool nm = format.kind == SparseFormat::Kind::kNM;
            const Tensor<std::int8_t> b = random_b(s.k, s.n, density, seed, nm ? &format : nullptr);
            check_round_trip(problem_with(b, s.m, seed, requant), format, geometry);
          }
        }
      }
    }
  }
}

TEST_CASE("golden_spgemm on edge cases", "[sparse][golden]") {
  const std::vector<SparseFormat> formats = {SparseFormat{}, SparseFormat::nm(1, 4),
                                             SparseFormat::nm(2, 4)};
  for (const SparseFormat& format : formats) {
    INFO("format " << format_name(format));
    {  // all-zero B: every output is the bias
      GemmProblem p = problem_with(zeros(20, 7), 4, 1, false);
      check_round_trip(p, format, kSmall);
      const Tensor<std::int32_t> out = golden_spgemm(p, pack_sparse(p.b, format, kSmall));
      for (std::size_t n = 0; n < 7; ++n) CHECK(out.at(3, n) == p.bias[n]);
    }
    {  // a single nonzero in the last row and column
      Tensor<std::int8_t> b = zeros(300, 19);
      b.at(299, 18) = -128;
      GemmProblem p = problem_with(b, 6, 2, false);
      p.bias.clear();
      check_round_trip(p, format, kWide);
      const Tensor<std::int32_t> out = golden_spgemm(p, pack_sparse(p.b, format, kWide));
      CHECK(out.at(5, 18) == -128 * p.a.at(5, 299));
      CHECK(out.at(5, 17) == 0);
    }
    {  // empty rows and columns of B, and empty rows of A
      const bool nm = format.kind == SparseFormat::Kind::kNM;
      Tensor<std::int8_t> b = random_b(40, 24, 0.5, 3, nm ? &format : nullptr);
      for (std::size_t k = 0; k < 40; ++k) b.at(k, 0) = b.at(k, 17) = 0;  // empty columns
      for (std::size_t n = 0; n < 24; ++n) b.at(8, n) = b.at(39, n) = 0;  // empty rows
      GemmProblem p = problem_with(b, 7, 4, true);
      for (std::size_t k = 0; k < 40; ++k) p.a.at(2, k) = 0;
      check_round_trip(p, format, kSmall);
      check_round_trip(p, format, kWide);
    }
    {  // the most negative operands everywhere, and a bias that wraps
      const bool nm = format.kind == SparseFormat::Kind::kNM;
      Tensor<std::int8_t> b = zeros(64, 5);
      for (std::size_t k = 0; k < 64; ++k) {
        for (std::size_t n = 0; n < 5; ++n) {
          if (!nm || k % format.m < format.n) b.at(k, n) = -128;
        }
      }
      GemmProblem p = problem_with(b, 3, 5, false);
      std::fill(p.a.data.begin(), p.a.data.end(), std::int8_t{-128});
      p.bias.assign(5, std::numeric_limits<std::int32_t>::max());
      check_round_trip(p, format, kWide);
    }
  }
}

TEST_CASE("golden_spgemm refuses an index outside its chunk", "[sparse][golden]") {
  GemmProblem p = problem_with(zeros(8, 2), 2, 1, false);
  SparseB packed = pack_sparse(p.b, {}, kSmall);
  packed.chunks[0].blocks[0].values[1] = 5;
  packed.chunks[0].blocks[0].indices[1] = 8;  // K = 8: the engine's BAD_META
  CHECK_THAT(message_of([&] { golden_spgemm(p, packed); }),
             Contains("column 1") && Contains("index 8"));
}

// ---------------------------------------------------------------------------------------
// A sparse A (SPGEMMA): the packer on Aᵀ, the cycle model, "auto" and the golden.

TEST_CASE("pack_sparse_a lists each row of A in K order, row blocks of cols rows", "[sparse]") {
  // M = 6 on 4 rows a block: rows {0..3} and {4, 5} + 2 padding rows.
  Tensor<std::int8_t> a = zeros(6, 9);
  a.at(1, 8) = 5, a.at(1, 2) = -7;  // row 1: k 2 then k 8
  a.at(5, 0) = 1;                   // row 5, the second block's row 1
  const SparseB packed = pack_sparse_a(a, kSmall);
  CHECK(packed.k == 9);
  CHECK(packed.n == 6);
  CHECK(packed.cols == 4);
  CHECK(packed.format.kind == SparseFormat::Kind::kUnstructured);
  REQUIRE(packed.chunks.size() == 1);
  const SparseChunk& chunk = packed.chunks[0];
  REQUIRE(chunk.blocks.size() == 2);
  CHECK(chunk.blocks[0].len == 2);
  CHECK(chunk.blocks[0].values[0 * 4 + 1] == -7);
  CHECK(chunk.blocks[0].indices[0 * 4 + 1] == 2);
  CHECK(chunk.blocks[0].values[1 * 4 + 1] == 5);
  CHECK(chunk.blocks[0].indices[1 * 4 + 1] == 8);
  CHECK(chunk.blocks[1].len == 1);
  CHECK(chunk.blocks[1].values[0 * 4 + 1] == 1);
  CHECK(chunk.blocks[1].values[0 * 4 + 2] == 0);  // rows past M are padding
  CHECK(packed.nonzeros == 3);
  CHECK(unpack(packed).data == transposed(a).data);

  SECTION("K beyond one chunk") {
    const Tensor<std::int8_t> long_a = random_b(5, 70, 0.3, 12);
    const SparseB chunks = pack_sparse_a(long_a, kSmall);  // chunks of 32
    REQUIRE(chunks.chunks.size() == 3);
    CHECK(chunks.chunks[2].k0 == 64);
    CHECK(chunks.chunks[2].k == 6);
    CHECK(unpack(chunks).data == transposed(long_a).data);
  }
}

TEST_CASE("the SPGEMMA cycle model: max(len, rows) a row block, per column block of B",
          "[sparse]") {
  // M = 6 on blocks of 4: row block 0 has len 3 (4 rows out), row block 1 len 1 (2 rows).
  Tensor<std::int8_t> a = zeros(6, 8);
  a.at(0, 1) = a.at(0, 4) = a.at(0, 7) = 1;
  a.at(4, 0) = 1;
  const SparseB packed = pack_sparse_a(a, kSmall);
  // Per column block: max(3, 4) + max(1, 2) = 6; N = 9 is 3 column blocks of 4.
  CHECK(sparse_a_cycles(packed, 9) == 3 * 6);
  CHECK(sparse_a_cycles(packed, 4) == 6);
  // A full row (len 8) outlasts the rows it outputs.
  for (std::size_t k = 0; k < 8; ++k) a.at(5, k) = 2;
  CHECK(sparse_a_cycles(pack_sparse_a(a, kSmall), 4) == 4 + 8);
}

TEST_CASE("auto for a sparse A weighs SPGEMMA against B's formats and dense", "[sparse]") {
  SECTION("ReLU-sparse activations and dense weights run SPGEMMA") {
    const GemmProblem p = sparse_a_problem(256, 256, 256, 0.3, 21, false);
    const FormatChoice choice = choose_format_a(p.a, p.b, kWide, kWide, 16, 16);
    REQUIRE(choice.candidates.size() == 3);  // A unstructured, B unstructured, dense
    CHECK(choice.candidates[0].operand == SparseOperand::kA);
    CHECK(choice.candidates[0].cycles == sparse_a_cycles(pack_sparse_a(p.a, kWide), 256));
    CHECK(choice.candidates[1].operand == SparseOperand::kB);
    CHECK(choice.candidates[2].format.kind == SparseFormat::Kind::kDense);
    CHECK(choice.operand == SparseOperand::kA);
    CHECK(choice.format.kind == SparseFormat::Kind::kUnstructured);
    CHECK(choice.cycles < choice.candidates[2].cycles);
  }
  SECTION("dense activations: dense wins the tie with SPGEMMA") {
    const GemmProblem p = sparse_a_problem(64, 64, 64, 1.0, 22, false);
    const FormatChoice choice = choose_format_a(p.a, p.b, kWide, kWide, 16, 16);
    CHECK(choice.candidates[0].cycles == choice.candidates.back().cycles);
    CHECK(choice.format.kind == SparseFormat::Kind::kDense);
  }
  SECTION("weights sparser than the activations run SPGEMM") {
    GemmProblem p = random_sparse_problem(64, 256, 64, 23, {1.0, SparseFormat::nm(1, 4)});
    const FormatChoice choice = choose_format_a(p.a, p.b, kWide, kWide, 16, 16);
    REQUIRE(choice.candidates.size() == 5);  // A, then 1:4, 2:4, unstructured, dense
    CHECK(choice.operand == SparseOperand::kB);
    CHECK(choice.format == SparseFormat::nm(1, 4));
  }
}

TEST_CASE("seeded sparse A problems: exact density, the same B as the dense seed", "[sparse]") {
  const GemmProblem dense = random_problem(30, 40, 5, 11, {true, false, true});
  for (const double density : {0.0, 0.01, 0.1, 0.25, 0.5, 1.0}) {
    INFO("density " << density);
    const GemmProblem p = random_sparse_problem(
        30, 40, 5, 11, {density, std::nullopt, SparseOperand::kA}, {true, false, true});
    CHECK(count_nonzeros(p.a) == static_cast<std::size_t>(std::llround(density * 1200)));
    CHECK(p.b.data == dense.b.data);
    CHECK(p.bias == dense.bias);
  }
  CHECK_THROWS_AS(
      random_sparse_problem(4, 8, 4, 1, {1.0, SparseFormat::nm(2, 4), SparseOperand::kA}),
      InputError);
}

TEST_CASE("golden_spgemma from the packed A equals golden_gemm on the dense A",
          "[sparse][golden]") {
  std::uint32_t seed = 500;
  for (const SparseGeometry& geometry : {kWide, kSmall}) {
    for (const Shape& s : kGoldenShapes) {
      for (const double density : {0.0, 0.01, 0.1, 0.25, 0.5, 1.0}) {
        for (const bool requant : {false, true}) {
          ++seed;
          INFO(describe(SparseFormat{}, s.m, s.k, s.n, density, seed, requant, geometry)
               << ", sparse A");
          check_round_trip_a(sparse_a_problem(s.m, s.k, s.n, density, seed, requant), geometry);
        }
      }
    }
  }
}

TEST_CASE("golden_spgemma on edge cases", "[sparse][golden]") {
  SECTION("all-zero A: every output is the bias") {
    GemmProblem p = sparse_a_problem(7, 20, 6, 0.0, 1, false);
    check_round_trip_a(p, kSmall);
    const Tensor<std::int32_t> out = golden_spgemma(p, pack_sparse_a(p.a, kSmall));
    for (std::size_t n = 0; n < 6; ++n) CHECK(out.at(6, n) == p.bias[n]);
  }
  SECTION("a single nonzero in the last row and column") {
    GemmProblem p = sparse_a_problem(19, 300, 6, 0.0, 2, false);
    p.a.at(18, 299) = -128;
    p.bias.clear();
    check_round_trip_a(p, kWide);
    const Tensor<std::int32_t> out = golden_spgemma(p, pack_sparse_a(p.a, kWide));
    CHECK(out.at(18, 5) == -128 * p.b.at(299, 5));
    CHECK(out.at(17, 5) == 0);
  }
  SECTION("empty rows and columns of A, per-tensor requantization") {
    GemmProblem p = sparse_a_problem(9, 40, 7, 0.5, 3, true);
    p.requant->multiplier = {1 << 30};
    p.requant->shift = {-10};
    for (std::size_t k = 0; k < 40; ++k) p.a.at(0, k) = p.a.at(4, k) = 0;  // empty rows
    for (std::size_t m = 0; m < 9; ++m) p.a.at(m, 39) = 0;                 // an empty column
    check_round_trip_a(p, kSmall);
    check_round_trip_a(p, kWide);
  }
  SECTION("the most negative operands everywhere, and a bias that wraps") {
    GemmProblem p = sparse_a_problem(5, 64, 3, 1.0, 4, false);
    std::fill(p.a.data.begin(), p.a.data.end(), std::int8_t{-128});
    std::fill(p.b.data.begin(), p.b.data.end(), std::int8_t{-128});
    p.bias.assign(3, std::numeric_limits<std::int32_t>::max());
    check_round_trip_a(p, kWide);
  }
}

TEST_CASE("golden_spgemma refuses an index outside its chunk and a packed A of another shape",
          "[sparse][golden]") {
  const GemmProblem p = sparse_a_problem(2, 8, 3, 0.0, 1, false);
  SparseB packed = pack_sparse_a(p.a, kSmall);
  packed.chunks[0].blocks[0].values[1] = 5;
  packed.chunks[0].blocks[0].indices[1] = 8;  // K = 8: the engine's BAD_META
  CHECK_THAT(message_of([&] { golden_spgemma(p, packed); }),
             Contains("packed A") && Contains("row 1") && Contains("index 8"));
  const SparseB other = pack_sparse_a(sparse_a_problem(3, 8, 3, 0.5, 2, false).a, kSmall);
  CHECK_THAT(message_of([&] { golden_spgemma(p, other); }), Contains("packed A"));
}
