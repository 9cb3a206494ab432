// tsr_pe: one weight-stationary MAC cell. What the array relies on: the signed int8 product,
// pipelined, added to the partial sum from above two cycles later (wrapping int32), two weight
// registers selected per activation, activation and bank forwarded one cycle later, and the
// stuck-at-0 fault hook.
#include <cstdint>
#include <random>

#include "Vtsr_pe.h"
#include "Vtsr_pe_lut.h"
#include "block_bench.hpp"

namespace {

using tessera::rtl_test::BlockBench;

// Vtsr_pe multiplies in a DSP block, Vtsr_pe_lut in logic (LutMul): every test runs on both.
template <typename Model>
struct PeBench : BlockBench<Model> {
  PeBench() {
    auto& d = this->dut();
    d.act_i = 0;
    d.act_bank_i = 0;
    d.psum_i = 0;
    d.wgt_we_i = 0;
    d.wgt_bank_i = 0;
    d.wgt_i = 0;
    d.fault_stuck0_i = 0;
    this->settle();
  }

  void load_weight(int bank, std::int8_t w) {
    auto& d = this->dut();
    d.act_i = 0;
    d.wgt_we_i = 1;
    d.wgt_bank_i = bank;
    d.wgt_i = static_cast<std::uint8_t>(w);
    this->tick();
    d.wgt_we_i = 0;
  }

  // Presents (a, bank) for an edge, waits an edge (multiplier inputs, then product
  // registered), then presents the partial sum from above for the next edge, as the PE
  // above delivers it; returns psum_o after that edge.
  std::int32_t mac(std::int8_t a, int bank, std::int32_t psum) {
    auto& d = this->dut();
    d.act_i = static_cast<std::uint8_t>(a);
    d.act_bank_i = bank;
    this->tick();
    this->tick();
    d.psum_i = static_cast<std::uint32_t>(psum);
    this->tick();
    return static_cast<std::int32_t>(d.psum_o);
  }
};

std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

}  // namespace

TEMPLATE_TEST_CASE("pe: product of every signed int8 pair", "[pe]", Vtsr_pe, Vtsr_pe_lut) {
  PeBench<TestType> pe;
  SECTION("the extremes the int8 range is known for") {
    pe.load_weight(0, -128);
    CHECK(pe.mac(-128, 0, 0) == 16384);
    CHECK(pe.mac(127, 0, 0) == -16256);
    pe.load_weight(0, 127);
    CHECK(pe.mac(-128, 0, 0) == -16256);
    CHECK(pe.mac(127, 0, 0) == 16129);
    CHECK(pe.mac(-1, 0, 0) == -127);
    pe.load_weight(0, -1);
    CHECK(pe.mac(-1, 0, 0) == 1);
    CHECK(pe.mac(0, 0, 0) == 0);
  }
  SECTION("exhaustively, all 65536 pairs") {
    int mismatches = 0;
    for (int w = -128; w <= 127; ++w) {
      pe.load_weight(0, static_cast<std::int8_t>(w));
      for (int a = -128; a <= 127; ++a) {
        const std::int32_t got = pe.mac(static_cast<std::int8_t>(a), 0, 0);
        if (got != a * w && ++mismatches <= 5) {
          FAIL_CHECK("a=" << a << " w=" << w << ": expected " << a * w << ", got " << got);
        }
      }
    }
    CHECK(mismatches == 0);
  }
}

TEMPLATE_TEST_CASE("pe: partial sums pass through and accumulate with int32 wrap-around", "[pe]",
                   Vtsr_pe, Vtsr_pe_lut) {
  PeBench<TestType> pe;
  SECTION("activation 0 passes the partial sum unchanged") {
    pe.load_weight(0, 77);
    for (std::int32_t p : {0, 1, -1, 123456789, INT32_MIN, INT32_MAX}) CHECK(pe.mac(0, 0, p) == p);
  }
  SECTION("sum = psum_i + a*w") {
    pe.load_weight(0, -3);
    CHECK(pe.mac(5, 0, 1000) == 985);
    CHECK(pe.mac(-128, 0, -7) == 377);
  }
  SECTION("wraps like int32 arithmetic, both ways") {
    pe.load_weight(0, 1);
    CHECK(pe.mac(1, 0, INT32_MAX) == INT32_MIN);
    CHECK(pe.mac(-1, 0, INT32_MIN) == INT32_MAX);
    pe.load_weight(0, -128);
    CHECK(pe.mac(-128, 0, INT32_MAX) == wrap_add(INT32_MAX, 16384));
    CHECK(pe.mac(127, 0, INT32_MIN + 5) == wrap_add(INT32_MIN + 5, -16256));
  }
  SECTION("random sums") {
    const std::uint64_t seed = tessera::rtl_test::test_seed(
        "rtl_pe_tests", "pe: partial sums pass through and accumulate with int32 wrap-around");
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 20000; ++i) {
      const auto w = static_cast<std::int8_t>(rng());
      const auto a = static_cast<std::int8_t>(rng());
      const auto p = static_cast<std::int32_t>(rng());
      const int bank = static_cast<int>(rng() & 1);
      pe.load_weight(bank, w);
      const std::int32_t got = pe.mac(a, bank, p);
      const std::int32_t expected = wrap_add(p, a * w);
      if (got != expected) {
        FAIL("a=" << int{a} << " w=" << int{w} << " psum=" << p << ": expected " << expected
                  << ", got " << got);
      }
    }
  }
}

TEMPLATE_TEST_CASE(
    "pe: pipelined, a new activation every cycle meets the partial sum two cycles later", "[pe]",
    Vtsr_pe, Vtsr_pe_lut) {
  PeBench<TestType> pe;
  auto& d = pe.dut();
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_pe_tests",
      "pe: pipelined, a new activation every cycle meets the partial sum two cycles later");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  pe.load_weight(0, -77);
  pe.load_weight(1, 113);
  const std::int8_t weight[2] = {-77, 113};
  std::int32_t product[2] = {0, 0};  // of the activations presented 1 and 2 cycles ago
  for (int i = 0; i < 2000; ++i) {
    const auto a = static_cast<std::int8_t>(rng());
    const int bank = static_cast<int>(rng() & 1);
    const auto p = static_cast<std::int32_t>(rng());
    d.act_i = static_cast<std::uint8_t>(a);
    d.act_bank_i = bank;
    d.psum_i = static_cast<std::uint32_t>(p);
    pe.tick();
    const std::int32_t expected = wrap_add(p, product[1]);
    if (static_cast<std::int32_t>(d.psum_o) != expected) {
      FAIL("cycle " << i << ": expected " << expected << ", got "
                    << static_cast<std::int32_t>(d.psum_o));
    }
    product[1] = product[0];
    product[0] = a * weight[bank];
  }
}

TEMPLATE_TEST_CASE("pe: two weight banks, the idle one loads while the other computes", "[pe]",
                   Vtsr_pe, Vtsr_pe_lut) {
  PeBench<TestType> pe;
  auto& d = pe.dut();
  pe.load_weight(0, 7);
  pe.load_weight(1, -9);
  CHECK(pe.mac(3, 0, 0) == 21);
  CHECK(pe.mac(3, 1, 0) == -27);

  // Compute with bank 0 while bank 1 takes a new weight in the same cycles.
  d.wgt_we_i = 1;
  d.wgt_bank_i = 1;
  d.wgt_i = static_cast<std::uint8_t>(std::int8_t{-100});
  CHECK(pe.mac(2, 0, 5) == 19);
  d.wgt_i = 11;  // written again the next cycle: the last write wins
  CHECK(pe.mac(-4, 0, 0) == -28);
  d.wgt_we_i = 0;
  CHECK(pe.mac(-4, 0, 0) == -28);  // bank 0 unaffected by bank-1 writes
  CHECK(pe.mac(-4, 1, 0) == -44);  // switch: bank 1 now holds 11

  // The other way round: bank 0 reloads while bank 1 computes.
  d.wgt_we_i = 1;
  d.wgt_bank_i = 0;
  d.wgt_i = static_cast<std::uint8_t>(std::int8_t{-128});
  CHECK(pe.mac(1, 1, 0) == 11);
  d.wgt_we_i = 0;
  CHECK(pe.mac(1, 1, 0) == 11);
  CHECK(pe.mac(1, 0, 0) == -128);

  // Switching banks on consecutive activations, no bubble.
  CHECK(pe.mac(2, 0, 0) == -256);
  CHECK(pe.mac(2, 1, 0) == 22);
  CHECK(pe.mac(2, 0, 0) == -256);
}

TEMPLATE_TEST_CASE("pe: a weight written this cycle is used from the next cycle on", "[pe]",
                   Vtsr_pe, Vtsr_pe_lut) {
  // The execute unit's preloader counts on this: the write lands at the clock edge, so the
  // activation presented with it still sees the old weight of that bank.
  PeBench<TestType> pe;
  auto& d = pe.dut();
  pe.load_weight(0, 5);
  d.wgt_we_i = 1;
  d.wgt_bank_i = 0;
  d.wgt_i = 6;
  CHECK(pe.mac(10, 0, 0) == 50);
  d.wgt_we_i = 0;
  CHECK(pe.mac(10, 0, 0) == 60);
}

TEMPLATE_TEST_CASE("pe: activation and bank are forwarded one cycle later", "[pe]", Vtsr_pe,
                   Vtsr_pe_lut) {
  PeBench<TestType> pe;
  auto& d = pe.dut();
  const std::uint64_t seed = tessera::rtl_test::test_seed(
      "rtl_pe_tests", "pe: activation and bank are forwarded one cycle later");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::uint8_t prev_act = 0;
  int prev_bank = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto act = static_cast<std::uint8_t>(rng());
    const int bank = static_cast<int>(rng() & 1);
    d.act_i = act;
    d.act_bank_i = bank;
    pe.settle();
    // Before the edge the outputs still show the previous cycle's inputs (registered).
    if (i > 0) {
      REQUIRE(d.act_o == prev_act);
      REQUIRE(d.act_bank_o == prev_bank);
    }
    pe.tick();
    REQUIRE(d.act_o == act);
    REQUIRE(d.act_bank_o == bank);
    prev_act = act;
    prev_bank = bank;
  }
}

TEMPLATE_TEST_CASE("pe: fault_stuck0_i forces the product to 0", "[pe]", Vtsr_pe, Vtsr_pe_lut) {
  PeBench<TestType> pe;
  auto& d = pe.dut();
  pe.load_weight(0, -128);
  pe.load_weight(1, 100);
  d.fault_stuck0_i = 1;
  CHECK(pe.mac(-128, 0, 42) == 42);
  CHECK(pe.mac(127, 1, -5) == -5);
  CHECK(pe.mac(0, 0, INT32_MIN) == INT32_MIN);
  // The fault hides the product only: forwarding and the stored weights are untouched.
  d.act_i = 0x5A;
  d.act_bank_i = 1;
  pe.tick();
  CHECK(d.act_o == 0x5A);
  CHECK(d.act_bank_o == 1);
  d.fault_stuck0_i = 0;
  CHECK(pe.mac(-128, 0, 42) == 16384 + 42);
  CHECK(pe.mac(127, 1, -5) == 12700 - 5);
}
