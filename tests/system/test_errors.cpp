// RTL error paths: each bad command latches its code, is dropped, writes nothing, and
// the engine takes a CLEAR and runs the next GEMM exactly.
#include <catch2/catch.hpp>

#include "backend.hpp"
#include "counting_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"

using namespace tessera;

namespace {

isa::ErrorCode latched(Device& device) {
  return static_cast<isa::ErrorCode>(device.transport().csr_read(isa::csr::kErrCode));
}

void expect_recovery(Device& device) {
  device.clear();
  REQUIRE((device.status() & isa::status::kError) == 0);
  const GemmProblem problem = random_problem(6, 11, 7, 42, {true, false, true});
  const GemmRun run = run_gemm(device, problem);
  REQUIRE(run.output.data == golden_gemm(problem).data);
}

}  // namespace

TEST_CASE("bad commands latch a sticky error and the engine recovers") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto& cfg = device.config();

  struct Case {
    const char* name;
    isa::CommandWords words;
    isa::ErrorCode code;
  };
  isa::LoadCommand past_end{isa::Target::kAct, cfg.act_depth - 2, 3};
  isa::LoadCommand zero_count{isa::Target::kWgt, 0, 0};
  isa::LoadCommand wrapping{isa::Target::kParam, 0xFFFFFFFFu, 2};
  isa::GemmCommand too_many_rows;
  too_many_rows.m_rows = static_cast<std::uint16_t>(cfg.acc_depth + 1);
  too_many_rows.kt_count = 1;
  too_many_rows.nt_count = 1;
  isa::GemmCommand zero_kt = too_many_rows;
  zero_kt.m_rows = 4;
  zero_kt.kt_count = 0;
  isa::GemmCommand act_overrun = zero_kt;
  act_overrun.kt_count = 2;
  act_overrun.act_base = static_cast<std::uint16_t>(cfg.act_depth - 7);
  isa::GemmCommand wgt_overrun = zero_kt;
  wgt_overrun.kt_count = 1;
  wgt_overrun.nt_count = static_cast<std::uint8_t>(
      cfg.wgt_depth / cfg.rows + 1 > 255 ? 255 : cfg.wgt_depth / cfg.rows + 1);
  wgt_overrun.wgt_base = static_cast<std::uint16_t>(cfg.wgt_depth - cfg.rows);
  isa::GemmCommand bad_clamp = zero_kt;
  bad_clamp.kt_count = 1;
  bad_clamp.requant = true;
  bad_clamp.clamp_lo = 5;
  bad_clamp.clamp_hi = -5;
  // Target 3 is META since ISA 1.2 (sparse feature); 5-7 are never a scratchpad.
  isa::CommandWords bad_target = isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 1});
  bad_target[0] |= 5u << 8;

  const std::vector<Case> cases = {
      {"opcode 0", {0, 0, 0, 0}, isa::ErrorCode::kIllegalOp},
      {"opcode 0x7f", {0x7f, 1, 2, 3}, isa::ErrorCode::kIllegalOp},
      {"LOAD past the end of ACT", isa::encode(past_end), isa::ErrorCode::kAddrRange},
      {"LOAD with a wrapping address", isa::encode(wrapping), isa::ErrorCode::kAddrRange},
      {"LOAD of zero beats", isa::encode(zero_count), isa::ErrorCode::kShape},
      {"LOAD to target 5", bad_target, isa::ErrorCode::kBadField},
      {"GEMM with M over the accumulator", isa::encode(too_many_rows), isa::ErrorCode::kShape},
      {"GEMM with zero row blocks", isa::encode(zero_kt), isa::ErrorCode::kShape},
      {"GEMM reading past ACT", isa::encode(act_overrun), isa::ErrorCode::kAddrRange},
      {"GEMM reading past WGT", isa::encode(wgt_overrun), isa::ErrorCode::kAddrRange},
      {"GEMM with clamp lo > hi", isa::encode(bad_clamp), isa::ErrorCode::kBadField},
  };

  for (const Case& c : cases) {
    SECTION(c.name) {
      device.perf_clear();
      device.push(c.words);
      // A valid command behind the bad one is dropped too, without blocking.
      device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 1}));
      device.transport().wait_idle(10'000);
      REQUIRE((device.status() & isa::status::kError) != 0);
      CHECK(latched(device) == c.code);
      CHECK(device.perf().dropped == 2);
      CHECK(device.perf().retired == 0);
      CHECK_THROWS_AS(device.check_error(), EngineError);
      expect_recovery(device);
    }
  }
}

TEST_CASE("a LOAD past the end never writes: neighbouring words keep their values") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto& cfg = device.config();
  // Fill the last ACT words with a known pattern through a valid LOAD, then try one
  // that overruns: the pattern must survive (checked by a GEMM reading those words).
  const GemmProblem problem = random_problem(4, cfg.rows, cfg.cols, 9);
  const GemmRun before = run_gemm(device, problem);
  device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, cfg.act_depth + 1}));
  device.transport().wait_idle(10'000);
  REQUIRE(latched(device) == isa::ErrorCode::kAddrRange);
  device.clear();
  const GemmRun after = run_gemm(device, problem);
  CHECK(after.output.data == before.output.data);
  CHECK(after.output.data == golden_gemm(problem).data);
}

TEST_CASE("a CLEAR aborts a LOAD that waits for data that never comes") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 8}));
  CHECK_THROWS_AS(device.transport().wait_idle(2'000), TransportError);
  REQUIRE((device.status() & isa::status::kBusy) != 0);
  device.clear();
  device.transport().wait_idle(100);
  const GemmProblem problem = random_problem(5, 6, 7, 3, {true, true, true});
  CHECK(run_gemm(device, problem).output.data == golden_gemm(problem).data);
}

TEST_CASE("unmapped and read-only CSRs answer SLVERR") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  CHECK_THROWS_AS(transport->csr_read(0x3F0), EngineError);
  // A TCP transport posts writes, so the SLVERR may surface at the next call that waits.
  CHECK_THROWS_AS((transport->csr_write(isa::csr::kId, 1), transport->stats()), EngineError);
  CHECK(transport->csr_read(isa::csr::kId) == isa::kIdValue);
}

TEST_CASE("an engine error in a run is named, the engine cleared, and the next run works",
          "[runtime]") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto& cfg = device.config();
  const GemmProblem problem =
      random_problem(2 * cfg.rows + 3, 2 * cfg.rows + 1, cfg.cols + 2, 61, {true, false, true});
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run_gemm(device, problem).output.data == want.data);

  SECTION("a bad command on its own") {
    device.push({0x7f, 1, 2, 3});
    device.transport().wait_idle(10'000);
    CHECK_THROWS_WITH(device.check_error(), Catch::Contains("ILLEGAL_OP") &&
                                                Catch::Contains("at command #") &&
                                                Catch::Contains("the engine was cleared"));
    CHECK((device.status() & isa::status::kError) == 0);
  }
  SECTION("a run behind a bad command: its LOADs dropped, their data already sent") {
    // On a bounded transport the data of the dropped LOADs cannot go in at all (the
    // server's STREAM_WRITE stalls); either way the run ends in the engine's error.
    device.push({0x7f, 1, 2, 3});
    CHECK_THROWS_WITH(run_gemm(device, problem),
                      Catch::Contains("ILLEGAL_OP") && Catch::Contains("the engine was cleared"));
  }
  SECTION("a run whose PARAM word the engine refuses (BAD_PARAM)") {
    // A shift the host would refuse, sent around the runtime's checks.
    std::vector<std::uint8_t> params(cfg.cols * isa::kParamBytes, 0);
    params[8] = 40;
    device.load(isa::Target::kParam, 0, params);
    isa::GemmCommand gemm;
    gemm.requant = true;
    gemm.per_channel = true;
    gemm.m_rows = 1;
    gemm.kt_count = 1;
    gemm.nt_count = 1;
    device.push(isa::encode(gemm));
    device.transport().wait_idle(10'000);
    CHECK_THROWS_WITH(device.check_error(), Catch::Contains("BAD_PARAM"));
  }
  // No CLEAR from the test: check_error did it. Twice, so the second finds it resident.
  for (int run = 0; run < 2; ++run) {
    const GemmRun after = run_gemm(device, problem);
    CHECK(after.output.data == want.data);
  }
}

namespace {

// The engine, with VERSION and FEATURES reading as another engine's would.
class OtherEngine : public test::CountingTransport {
 public:
  OtherEngine(Transport& inner, std::uint32_t version, std::uint32_t features_clear)
      : CountingTransport(inner), version_(version), features_clear_(features_clear) {}
  std::uint32_t csr_read(std::uint32_t addr) override {
    if (addr == isa::csr::kVersion) return version_;
    const std::uint32_t value = CountingTransport::csr_read(addr);
    return addr == isa::csr::kFeatures ? value & ~features_clear_ : value;
  }

 private:
  std::uint32_t version_, features_clear_;
};

}  // namespace

TEST_CASE("a Device refuses an engine of another major ISA version or without a feature it needs",
          "[runtime]") {
  auto transport = test::make_test_transport();
  {
    OtherEngine newer_minor(*transport, isa::kVersionValue + 7, 0);
    CHECK(Device(newer_minor).config().version == isa::kVersionValue + 7);
  }
  {
    OtherEngine next_major(*transport, 0x00020000, 0);
    CHECK_THROWS_WITH(
        Device(next_major),
        Catch::Contains("engine speaks ISA 2.0") &&
            Catch::Contains("this runtime ISA " + isa::version_text(isa::kVersionValue)));
  }
  {
    OtherEngine old_major(*transport, 0x00000009, 0);
    CHECK_THROWS_WITH(Device(old_major), Catch::Contains("engine speaks ISA 0.9"));
  }
  {
    OtherEngine no_hazard_checks(*transport, isa::kVersionValue, 1u << 3);
    CHECK_THROWS_WITH(Device(no_hazard_checks),
                      Catch::Contains("lacks features") && Catch::Contains("bits 0x8 of 0x1f"));
  }
  // The engine itself is still fine to drive.
  Device device(*transport);
  const GemmProblem problem = random_problem(5, 9, 6, 62, {true, false, false});
  CHECK(run_gemm(device, problem).output.data == golden_gemm(problem).data);
}
