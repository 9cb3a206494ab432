// A board's buffer discipline (docs/protocol.md, "Bounded buffers") without a board:
// tessera-sim in bounded mode over TCP runs STREAM_WRITE like the UART bridge (blocking
// until the engine takes every beat) and holds no result beyond the engine's output
// FIFO, so a runtime that sent data before its LOAD, or read results too late, would
// fail here instead of deadlocking a board. Hidden ([.]): each case makes its own
// bounded server, so ctest runs them once, with the tcp-bounded backend.
#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "backend.hpp"
#include "sim_transport.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/golden.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"

using namespace tessera;

namespace {

void expect_exact(Device& device, const GemmProblem& problem) {
  const GemmRun run = run_gemm(device, problem);
  REQUIRE(run.output.data == golden_gemm(problem).data);
}

}  // namespace

TEST_CASE("a bounded server reports a board's limits, the in-process engine none", "[.][bounded]") {
  // One engine at a time: two Verilated models alive at once in one thread hang on
  // destruction (VerilatedContext's scope mutex, Verilator 5.006).
  CHECK_FALSE(sim::make_sim_transport()->limits().bounded());
  auto bounded = test::make_bounded_tcp_transport();
  CHECK(bounded->limits() == BufferLimits{0, 8});
  CHECK(bounded->limits().bounded());
}

TEST_CASE("GEMMs keep the board's discipline: several chunks, requant, resident weights",
          "[.][bounded]") {
  auto transport = test::make_bounded_tcp_transport();
  Device device(*transport);
  const auto& cfg = device.config();
  const std::size_t r = cfg.rows, c = cfg.cols;
  // More rows than an accumulator bank: several M chunks, results of one read while the
  // next is loaded.
  const std::size_t big_m = 2 * cfg.acc_depth + 3;
  std::uint64_t seed = 4000;
  for (const auto& [m, k, n] : std::vector<std::array<std::size_t, 3>>{
           {1, 1, 1}, {big_m, 2 * r + 1, 3 * c + 1}, {r + 1, 9 * r + 2, c + 3}}) {
    INFO(m << "x" << k << "x" << n << " seed " << seed + 1);
    expect_exact(device, random_problem(m, k, n, ++seed, {}));
    expect_exact(device, random_problem(m, k, n, ++seed, {true, false, true}));
    expect_exact(device, random_problem(m, k, n, ++seed, {true, true, false}));
  }
  // The same B again: resident weights, sent once.
  const GemmProblem problem = random_problem(big_m, 2 * r, 2 * c + 1, 4100, {true, false, true});
  expect_exact(device, problem);
  expect_exact(device, problem);
}

TEST_CASE("data sent before its LOAD fails with TRANSPORT naming the cause; a reset recovers",
          "[.][bounded]") {
  auto transport = test::make_bounded_tcp_transport();
  Device device(*transport);
  const auto& cfg = device.config();
  const std::vector<std::uint8_t> words(4 * cfg.rows, 1);
  std::string message;
  try {
    // The wrong order, through raw calls: the server takes the data, the engine never
    // does, and the posted failure surfaces at the next call that waits.
    device.queue_words(words, cfg.rows);
    device.push(isa::encode(isa::LoadCommand{isa::Target::kAct, 0, 4}));
    device.status();
  } catch (const EngineError& e) {
    FAIL("EngineError instead of TransportError: " << e.what());
  } catch (const InputError& e) {
    FAIL("InputError instead of TransportError: " << e.what());
  } catch (const TransportError& e) {
    message = e.what();
  }
  INFO(message);
  CHECK_THAT(message, Catch::Contains("STREAM_WRITE"));
  CHECK_THAT(message, Catch::Contains("data sent before the LOAD that consumes it"));
  CHECK_THAT(message, Catch::Contains("Bounded buffers"));
  device.reset();
  expect_exact(device, random_problem(9, 2 * cfg.rows + 3, 6, 4200, {true, false, true}));
}
