// The host's side of ISA 1.1 on both backends: input packets (TLAST), the command FIFO's
// room, CTRL.CLEAR's input and output rules, and reads bigger than the host's output
// buffer. Each case ends the way a user would notice a failure: a GEMM through run_gemm
// that must match the golden reference bit for bit.
#include <catch2/catch.hpp>
#include <cstring>

#include "backend.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"

using namespace tessera;

namespace {

isa::ErrorCode latched(Device& device) {
  return static_cast<isa::ErrorCode>(device.transport().csr_read(isa::csr::kErrCode));
}

void expect_exact_gemm(Device& device, std::uint64_t seed) {
  const GemmProblem problem =
      random_problem(9, 2 * device.config().rows + 3, 6, seed, {true, false, true});
  const GemmRun run = run_gemm(device, problem);
  REQUIRE(run.output.data == golden_gemm(problem).data);
}

// `count` ACT words, each `rows` bytes of `value`.
std::vector<std::uint8_t> act_words(const Device& device, std::size_t count, std::uint8_t value) {
  return std::vector<std::uint8_t>(count * device.config().rows, value);
}

// Operands for `m` rows of all-ones activations times an all-ones Rows x Cols weight block
// (no bias, no requant): every output lane is Rows. Queued and pushed as three LOADs.
void load_ones(Device& device, std::uint32_t m) {
  const auto& cfg = device.config();
  device.queue_words(act_words(device, m, 1), cfg.rows);
  device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, m}));
  device.queue_words(std::vector<std::uint8_t>(cfg.rows * cfg.cols, 1), cfg.cols);
  device.push(isa::encode(isa::LoadCommand{isa::Target::kWgt, 0, cfg.rows}));
  device.queue_words(std::vector<std::uint8_t>(cfg.cols * isa::kParamBytes, 0), isa::kParamBytes);
  device.push(isa::encode(isa::LoadCommand{isa::Target::kParam, 0, cfg.cols}));
}

isa::GemmCommand ones_gemm(std::uint16_t m) {
  isa::GemmCommand gemm;
  gemm.m_rows = m;
  gemm.kt_count = 1;
  gemm.nt_count = 1;
  return gemm;
}

void expect_ones(const Device& device, const std::vector<std::uint8_t>& beats, std::size_t n) {
  const auto& cfg = device.config();
  REQUIRE(beats.size() == n * cfg.out_beat_bytes);
  for (std::size_t beat = 0; beat < n; ++beat) {
    for (std::size_t c = 0; c < cfg.cols; ++c) {
      std::int32_t lane;
      std::memcpy(&lane, &beats[beat * cfg.out_beat_bytes + 4 * c], 4);
      INFO("beat " << beat << ", lane " << c);
      REQUIRE(lane == static_cast<std::int32_t>(cfg.rows));
    }
  }
}

// Forwards to another transport, counting STATUS reads.
class CountingTransport final : public Transport {
 public:
  explicit CountingTransport(Transport& inner) : inner_(inner) {}
  void csr_write(std::uint32_t addr, std::uint32_t data) override { inner_.csr_write(addr, data); }
  std::uint32_t csr_read(std::uint32_t addr) override {
    if (addr == isa::csr::kStatus) ++status_reads;
    return inner_.csr_read(addr);
  }
  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override {
    inner_.stream_write(bytes, ends_packet);
  }
  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t budget) override {
    return inner_.stream_read(beats, budget);
  }
  std::uint64_t wait_idle(std::uint64_t budget) override { return inner_.wait_idle(budget); }
  std::uint64_t wait_status(std::uint32_t mask, unsigned max_level, std::uint64_t budget) override {
    ++status_waits;
    return inner_.wait_status(mask, max_level, budget);
  }
  void reset() override { inner_.reset(); }
  void trace_start(const TraceRequest& request) override { inner_.trace_start(request); }
  void trace_stop() override { inner_.trace_stop(); }
  SimStats stats() override { return inner_.stats(); }
  BufferLimits limits() override { return inner_.limits(); }

  unsigned status_reads = 0;
  unsigned status_waits = 0;

 private:
  Transport& inner_;
};

}  // namespace

TEST_CASE("a LOAD whose packet ends early or late raises STREAM; CLEAR recovers") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto rows = device.config().rows;
  struct Case {
    const char* name;
    std::size_t beats;    // in the packet
    std::uint32_t count;  // the LOAD asks for
  };
  for (const Case c : {Case{"short packet", 3, 5}, Case{"long packet", 5, 3}}) {
    SECTION(c.name) {
      device.queue_words(act_words(device, c.beats, 7), rows);
      device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, c.count}));
      device.transport().wait_idle(10'000);
      REQUIRE(latched(device) == isa::ErrorCode::kStream);
      CHECK_THROWS_WITH(device.check_error(), Catch::Contains("STREAM"));
      device.clear();
      REQUIRE((device.status() & isa::status::kError) == 0);
      expect_exact_gemm(device, 500 + c.beats);
    }
  }
}

TEST_CASE("CLEAR: input packets not begun are dropped, the begun one is finished") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  const auto rows = device.config().rows;

  SECTION("whole packets queued with no LOAD to take them") {
    // The first is presented when CLEAR takes effect, so the engine discards it; the host
    // must drop the other two, or the next GEMM's LOADs would read them.
    for (std::uint8_t v = 1; v <= 3; ++v) device.queue_words(act_words(device, 4, v), rows);
    device.clear();
    expect_exact_gemm(device, 601);
  }
  SECTION("a packet cut off mid-way, finished after CLEAR") {
    const std::size_t beat = device.config().in_beat_bytes;
    const std::vector<std::uint8_t> beats(8 * beat, 9);
    const std::span<const std::uint8_t> all(beats);
    device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 8}));
    device.transport().stream_write(all.first(3 * beat), false);
    CHECK_THROWS_AS(device.transport().wait_idle(2'000), TransportError);  // waits for input
    device.clear();
    device.transport().stream_write(all.subspan(3 * beat), true);  // the engine discards it
    expect_exact_gemm(device, 602);
  }
  SECTION("an error, then CLEAR with later packets already queued") {
    device.push({0x7F, 0, 0, 0});  // ILLEGAL_OP: what follows is dropped
    device.queue_words(act_words(device, 4, 5), rows);
    device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 4}));
    device.queue_words(act_words(device, 2, 6), rows);
    device.transport().wait_idle(10'000);
    CHECK_THROWS_WITH(device.check_error(), Catch::Contains("ILLEGAL_OP"));
    device.clear();
    expect_exact_gemm(device, 603);
  }
}

TEST_CASE("CLEAR drops unread results, the stale beat the engine still presents included") {
  // A one-beat host buffer: one result is buffered, the next one presented and not taken.
  sim::SimOptions options;
  options.max_buffered_output_beats = 1;
  auto transport = test::make_test_transport(options);
  Device device(*transport);
  load_ones(device, 8);
  device.push(isa::encode(ones_gemm(8)));
  CHECK_THROWS_AS(device.transport().wait_idle(5'000), TransportError);  // output blocked
  device.clear();
  expect_exact_gemm(device, 701);
}

TEST_CASE("a program longer than the command FIFO waits for room, never overflows") {
  auto transport = test::make_test_transport();
  CountingTransport counting(*transport);
  Device device(counting);
  const unsigned depth = device.config().cmd_fifo_depth;
  REQUIRE(depth > 0);

  // 32-row GEMMs take longer than a push, even in-process, so the FIFO fills up.
  const std::uint16_t m = 32;
  load_ones(device, m);
  CHECK(counting.status_reads == 1);  // the first push learns the level, then counts
  const unsigned gemms = 4 * depth;
  for (unsigned i = 0; i < gemms; ++i) device.push(isa::encode(ones_gemm(m)));
  // The FIFO filled up, and push waited instead of
  // writing CMD3 into a full FIFO. It read STATUS only when its count ran out, and then
  // waited for half the FIFO to drain: about one read and one wait per depth/2 pushes.
  INFO(counting.status_reads << " STATUS reads, " << counting.status_waits << " waits");
  CHECK(counting.status_waits >= 1);
  CHECK(counting.status_reads <= 2 + 2 * gemms / depth);
  CHECK(counting.status_waits <= 1 + 2 * gemms / depth);
  expect_ones(device, device.transport().stream_read(gemms * m, 10'000'000), gemms * m);
  device.check_error();  // no OVERFLOW
  CHECK(device.perf().retired == 3 + gemms);
}

TEST_CASE("a FIFO that never frees is a clear error, and CLEAR recovers") {
  auto transport = test::make_test_transport();
  Device device(*transport);
  device.command_wait_budget = 20'000;
  // A LOAD with no data holds the FIFO head; the commands behind it fill the FIFO.
  device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 4}));
  try {
    for (unsigned i = 0; i <= device.config().cmd_fifo_depth; ++i) {
      device.push(isa::encode(ones_gemm(1)));
    }
    FAIL("push into a FIFO that never frees returned");
  } catch (const TransportError& e) {
    CHECK_THAT(e.what(), Catch::Contains("command FIFO") && Catch::Contains("did not drain"));
  }
  device.check_error();  // nothing was written into the full FIFO: no OVERFLOW
  device.clear();
  expect_exact_gemm(device, 801);
}

TEST_CASE("a read of more beats than the host buffer holds completes") {
  sim::SimOptions options;
  options.max_buffered_output_beats = 2;
  auto transport = test::make_test_transport(options);
  Device device(*transport);
  load_ones(device, 12);
  device.push(isa::encode(ones_gemm(12)));
  expect_ones(device, device.transport().stream_read(12, 200'000), 12);
  const GemmProblem problem =
      random_problem(2 * device.config().acc_depth + 3, 5, 7, 901, {true, true, true});
  CHECK(run_gemm(device, problem).output.data == golden_gemm(problem).data);
}
