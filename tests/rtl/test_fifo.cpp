// tsr_fifo (Width=16, Depth=4): the command and output FIFOs of the engine. First word
// falls through; full/empty/level track the contents; a push while full and a pop while
// empty are ignored and flagged by the FIFO's assertions (callers never do either);
// clear_i empties it at once, or down to its head with keep_head_i.
#include <cstdint>
#include <deque>
#include <random>

#include "Vtsr_fifo.h"
#include "block_bench.hpp"

namespace {

using tessera::rtl_test::BlockBench;
constexpr unsigned kDepth = 4;

struct FifoBench : BlockBench<Vtsr_fifo> {
  FifoBench() {
    auto& d = dut();
    d.clear_i = 0;
    d.keep_head_i = 0;
    d.push_i = 0;
    d.pop_i = 0;
    d.data_i = 0;
    reset();
  }
  void push(std::uint16_t v) {
    dut().push_i = 1;
    dut().data_i = v;
    tick();
    dut().push_i = 0;
  }
  std::uint16_t pop() {
    const std::uint16_t head = dut().data_o;
    dut().pop_i = 1;
    tick();
    dut().pop_i = 0;
    return head;
  }
};

}  // namespace

TEST_CASE("fifo: order, full, empty and level", "[fifo]") {
  FifoBench fifo;
  auto& d = fifo.dut();
  CHECK(d.empty_o == 1);
  CHECK(d.full_o == 0);
  CHECK(d.level_o == 0);
  for (unsigned i = 0; i < kDepth; ++i) {
    fifo.push(0x1000 + i);
    CHECK(d.level_o == i + 1);
    CHECK(d.empty_o == 0);
    CHECK(d.data_o == 0x1000);  // first word falls through
  }
  CHECK(d.full_o == 1);
  fifo.context().fatalOnError(false);  // the next push breaks the contract on purpose
  fifo.push(0xDEAD);                   // ignored while full
  CHECK(fifo.context().gotError());    // ... and NoPushWhenFull_A saw it
  fifo.context().gotError(false);
  CHECK(d.level_o == kDepth);
  for (unsigned i = 0; i < kDepth; ++i) {
    CHECK(d.full_o == (i == 0));
    CHECK(fifo.pop() == 0x1000 + i);
  }
  CHECK(d.empty_o == 1);
  CHECK(d.level_o == 0);
  fifo.pop();  // ignored while empty: no underflow
  CHECK(fifo.context().gotError());  // NoPopWhenEmpty_A
  fifo.context().gotError(false);
  fifo.context().fatalOnError(true);
  CHECK(d.level_o == 0);
  CHECK(d.empty_o == 1);
  fifo.push(0xBEEF);
  CHECK(d.data_o == 0xBEEF);
  CHECK(d.level_o == 1);
}

TEST_CASE("fifo: push and pop in one cycle keep the level", "[fifo]") {
  FifoBench fifo;
  auto& d = fifo.dut();
  fifo.push(1);
  fifo.push(2);
  d.push_i = 1;
  d.data_i = 3;
  d.pop_i = 1;
  fifo.tick();
  d.push_i = 0;
  d.pop_i = 0;
  CHECK(d.level_o == 2);
  CHECK(fifo.pop() == 2);
  CHECK(fifo.pop() == 3);
}

TEST_CASE("fifo: clear empties it in one cycle", "[fifo]") {
  FifoBench fifo;
  auto& d = fifo.dut();
  for (unsigned i = 0; i < 3; ++i) fifo.push(static_cast<std::uint16_t>(i));
  d.clear_i = 1;
  d.push_i = 1;  // clear wins over a push in the same cycle
  d.data_i = 0x77;
  fifo.tick();
  d.clear_i = 0;
  d.push_i = 0;
  CHECK(d.empty_o == 1);
  CHECK(d.level_o == 0);
  fifo.push(0x55);
  CHECK(d.data_o == 0x55);
  CHECK(d.level_o == 1);
}

TEST_CASE("fifo: clear with keep_head keeps only the head", "[fifo]") {
  FifoBench fifo;
  auto& d = fifo.dut();
  for (unsigned i = 0; i < 3; ++i) fifo.push(static_cast<std::uint16_t>(0x40 + i));
  d.clear_i = 1;
  d.keep_head_i = 1;
  fifo.tick();
  d.clear_i = 0;
  d.keep_head_i = 0;
  CHECK(d.level_o == 1);
  CHECK(d.data_o == 0x40);
  fifo.push(0x99);
  CHECK(fifo.pop() == 0x40);
  CHECK(fifo.pop() == 0x99);
  CHECK(d.empty_o == 1);
  // Kept from an empty FIFO: still empty.
  d.clear_i = 1;
  d.keep_head_i = 1;
  fifo.tick();
  d.clear_i = 0;
  d.keep_head_i = 0;
  CHECK(d.empty_o == 1);
}

TEST_CASE("fifo: random traffic against a queue model", "[fifo]") {
  const std::uint64_t seed =
      tessera::rtl_test::test_seed("rtl_fifo_tests", "fifo: random traffic against a queue model");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  FifoBench fifo;
  auto& d = fifo.dut();
  std::deque<std::uint16_t> model;
  for (int cycle = 0; cycle < 20000; ++cycle) {
    // Callers keep the contract (no push while full, no pop while empty); the FIFO's
    // assertions stop the test if the model and the RTL disagree about either.
    const bool clear = rng() % 500 == 0;
    const bool push = rng() % 3 != 0 && model.size() < kDepth;
    const bool pop = rng() % 2 == 0 && !model.empty();
    const auto value = static_cast<std::uint16_t>(rng());
    d.push_i = push;
    d.pop_i = pop;
    d.clear_i = clear;
    d.data_i = value;
    fifo.settle();
    INFO("cycle " << cycle);
    REQUIRE(d.level_o == model.size());
    REQUIRE(d.full_o == (model.size() == kDepth));
    REQUIRE(d.empty_o == model.empty());
    if (!model.empty()) REQUIRE(d.data_o == model.front());
    // Model: accepted against the state at the start of the cycle.
    if (clear) {
      model.clear();
    } else {
      const bool do_push = push && model.size() < kDepth;
      if (pop && !model.empty()) model.pop_front();
      if (do_push) model.push_back(value);
    }
    fifo.tick();
  }
}
