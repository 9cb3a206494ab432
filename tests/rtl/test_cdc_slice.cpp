// tsr_cdc_slice (Width=16): a valid/ready channel across two clock domains (the SplitClk
// link between the UART bridge and the engine). Both clocks run from one time base with
// periods whose edges drift through each other; each side's handshake is taken at its own
// rising edge, and inputs change only after one, as a synchronous design drives them.
// Words must cross in order, each once; a flush must drop the words taken before it and
// none taken after.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "Vtsr_cdc_slice.h"
#include "block_bench.hpp"

namespace {

class CdcBench {
 public:
  // Half periods of the source's and the destination's clock, in time units.
  CdcBench(std::uint64_t src_half, std::uint64_t dst_half)
      : context_(std::make_unique<VerilatedContext>()),
        dut_(std::make_unique<Vtsr_cdc_slice>(context_.get(), "dut")),
        src_half_(src_half),
        dst_half_(dst_half) {
    auto& d = *dut_;
    d.src_clk_i = d.dst_clk_i = 0;
    d.src_flush_i = d.in_valid_i = d.out_ready_i = 0;
    d.in_data_i = 0;
    d.src_rst_ni = d.dst_rst_ni = 0;
    d.eval();
    d.src_rst_ni = d.dst_rst_ni = 1;
    d.eval();
  }
  ~CdcBench() { dut_->final(); }

  Vtsr_cdc_slice& dut() { return *dut_; }

  // Runs to the next rising edge of either clock (both, when they coincide): the
  // handshakes are sampled before it, then the callbacks set the next cycle's inputs.
  template <class OnSrc, class OnDst>
  void step(OnSrc on_src, OnDst on_dst) {
    for (;;) {
      const std::uint64_t t = std::min(src_edge_, dst_edge_);
      const bool src_rise = src_edge_ == t && !dut_->src_clk_i;
      const bool dst_rise = dst_edge_ == t && !dut_->dst_clk_i;
      const bool took = src_rise && dut_->in_valid_i && dut_->in_ready_o;
      const bool gave = dst_rise && dut_->out_valid_o && dut_->out_ready_i;
      const std::uint16_t word = dut_->out_data_o;
      if (src_edge_ == t) {
        dut_->src_clk_i = !dut_->src_clk_i;
        src_edge_ += src_half_;
      }
      if (dst_edge_ == t) {
        dut_->dst_clk_i = !dut_->dst_clk_i;
        dst_edge_ += dst_half_;
      }
      dut_->eval();
      if (src_rise) on_src(took);
      if (dst_rise) on_dst(gave, word);
      dut_->eval();
      if (src_rise || dst_rise) return;
    }
  }

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Vtsr_cdc_slice> dut_;
  std::uint64_t src_half_, dst_half_;
  std::uint64_t src_edge_ = 1, dst_edge_ = 2;
};

struct Ratio {
  std::uint64_t src_half, dst_half;
};
constexpr Ratio kRatios[] = {{3, 8}, {8, 3}, {5, 5}, {7, 11}, {13, 4}};

TEST_CASE("cdc slice: words cross in order, each once, at any clock ratio and back-pressure",
          "[cdc]") {
  const std::uint64_t seed =
      tessera::rtl_test::test_seed("rtl_cdc_slice_tests", "cdc slice: words cross in order");
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (const Ratio r : kRatios) {
    INFO("half periods " << r.src_half << " / " << r.dst_half);
    CdcBench b(r.src_half, r.dst_half);
    auto& d = b.dut();
    std::deque<std::uint16_t> sent;
    std::uint16_t next = 1;
    std::size_t received = 0;
    for (int i = 0; i < 40000; ++i) {
      b.step(
          [&](bool took) {
            if (took) {
              sent.push_back(d.in_data_i);
              d.in_valid_i = 0;
            }
            // A presented word stays, unchanged, until it is taken.
            if (!d.in_valid_i && rng() % 3 != 0) {
              d.in_valid_i = 1;
              d.in_data_i = next++;
            }
          },
          [&](bool gave, std::uint16_t word) {
            if (gave) {
              REQUIRE(!sent.empty());
              REQUIRE(word == sent.front());
              sent.pop_front();
              ++received;
            }
            d.out_ready_i = rng() % 4 != 0;
          });
    }
    CHECK(sent.size() <= 1);  // at most the word still crossing
    CHECK(received > 2000);   // it moved
  }
}

TEST_CASE("cdc slice: a flush drops the words taken before it, and none after", "[cdc]") {
  for (const Ratio r : kRatios) {
    INFO("half periods " << r.src_half << " / " << r.dst_half);
    CdcBench b(r.src_half, r.dst_half);
    auto& d = b.dut();
    std::vector<std::uint16_t> got;
    auto on_dst = [&](bool gave, std::uint16_t word) {
      if (gave) got.push_back(word);
    };
    // Source cycles until `done` says so (at most 400); a word taken is withdrawn.
    auto run = [&](auto done) {
      for (int i = 0; i < 400; ++i) {
        bool stop = false;
        b.step(
            [&](bool took) {
              if (took) d.in_valid_i = 0;
              stop = done(took);
            },
            on_dst);
        if (stop) return true;
      }
      return false;
    };
    auto flush_pulse = [&] {
      d.src_flush_i = 1;
      REQUIRE(run([&](bool) { return true; }));
      d.src_flush_i = 0;
    };
    // Word 0x11 crosses while the destination is not ready, and is presented there.
    d.in_valid_i = 1;
    d.in_data_i = 0x11;
    run([&](bool) { return false; });
    REQUIRE(d.out_valid_o);
    // A flush withdraws it, and the source is free again once it is discarded.
    flush_pulse();
    REQUIRE(run([&](bool) { return d.in_ready_o != 0; }));
    CHECK(!d.out_valid_o);
    // Word 0x22, taken in a flush's own cycle, goes too; and no word is taken until the
    // destination has the new epoch.
    d.in_valid_i = 1;
    d.in_data_i = 0x22;
    d.src_flush_i = 1;
    bool took_22 = false;
    REQUIRE(run([&](bool took) { took_22 = took; return true; }));
    d.src_flush_i = 0;
    CHECK(took_22);
    CHECK(!d.in_ready_o);
    // Then 0x33 crosses, and it alone.
    d.in_valid_i = 1;
    d.in_data_i = 0x33;
    d.out_ready_i = 1;
    run([&](bool) { return false; });
    CHECK(!d.in_valid_i);
    // A flush with nothing crossing: 0x44, offered right after it, waits for the new
    // epoch to reach the destination (taken sooner, it would be dropped there as old).
    flush_pulse();
    CHECK(!d.in_ready_o);
    d.in_valid_i = 1;
    d.in_data_i = 0x44;
    run([&](bool) { return false; });
    CHECK(!d.in_valid_i);
    CHECK(got == std::vector<std::uint16_t>{0x33, 0x44});
  }
}

}  // namespace
