// SerialTransport (tessera/serial_transport.hpp) against tessera-sim over a
// pseudo-terminal: the in-process engine behind the request executor (--pty), and a
// board's FPGA top with its UART bridge simulated at the bit level (--board NAME --pty).
// The tessera-sim binary is the one ctest built (TESSERA_SIM_BIN).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "pty.hpp"
#include "tessera/device.hpp"
#include "tessera/protocol.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"
#include "tessera/serial_transport.hpp"

using namespace tessera;

namespace {

// tessera-sim in a child process, stopped with SIGTERM (it must then exit 0).
class SimProcess {
 public:
  explicit SimProcess(const std::vector<std::string>& args) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      std::string bin = TESSERA_SIM_BIN;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& arg : copy) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    char line[256] = {};
    // "pty /dev/pts/N", flushed once ready.
    REQUIRE(std::fgets(line, sizeof line, stdout_) != nullptr);
    const std::string text = line;
    REQUIRE(text.rfind("pty /dev/", 0) == 0);
    path_ = text.substr(4, text.find_last_not_of("\r\n") - 3);
  }
  ~SimProcess() {
    if (pid_ > 0) stop();
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  const std::string& path() const { return path_; }
  std::string spec() const { return "serial://" + path_; }

  // SIGTERM; returns the exit status (0 expected).
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string path_;
};

void check_gemm(Transport& transport, std::size_t m, std::size_t k, std::size_t n,
                std::uint64_t seed) {
  INFO(m << "x" << k << "x" << n << " seed " << seed);
  Device device(transport);
  const GemmProblem problem = random_problem(m, k, n, seed, RandomOptions{});
  const GemmRun run = run_gemm(device, problem);
  const Tensor<std::int32_t> want = golden_gemm(problem);
  REQUIRE(run.output.shape == want.shape);
  REQUIRE(run.output.data == want.data);
}

// A client that sends the first `bytes` of a 1 KiB STREAM_WRITE and goes away.
void die_mid_frame(const std::string& path, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY);
  REQUIRE(fd >= 0);
  std::vector<std::uint8_t> frame;
  protocol::append_frame(frame, static_cast<std::uint8_t>(protocol::MsgType::kStreamWrite),
                         protocol::kFlagPosted, 7, std::vector<std::uint8_t>(1024, 0x5A));
  REQUIRE(::write(fd, frame.data(), bytes) == static_cast<ssize_t>(bytes));
  ::close(fd);
}

// Throughput over the simulated UART, at the board's clock: what docs/fpga.md quotes.
void report_throughput(Transport& transport, const char* what, std::size_t m, std::size_t k,
                       std::size_t n, double clock_hz, int runs) {
  Device device(transport);
  const GemmProblem problem = random_problem(m, k, n, 1, RandomOptions{});
  const std::uint64_t start = transport.stats().cycles;
  const auto wall = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) run_gemm(device, problem);
  const double cycles = static_cast<double>(transport.stats().cycles - start);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  std::cout << what << ": " << runs << " GEMMs " << m << "x" << k << "x" << n << " in " << cycles
            << " cycles = " << runs / (cycles / clock_hz) << " GEMM/s (cycles of "
            << clock_hz / 1e6 << " MHz; simulated in " << seconds << " s)\n";
}

}  // namespace

TEST_CASE("serial device specs parse, and bad ones say what is wrong", "[serial]") {
  const SerialDeviceSpec spec = parse_serial_device_spec("serial:///dev/pts/3");
  CHECK(spec.path == "/dev/pts/3");
  CHECK(spec.baud == 1'000'000);
  CHECK(spec.text() == "serial:///dev/pts/3");
  const SerialDeviceSpec fast = parse_serial_device_spec("serial:///dev/ttyUSB1?baud=3000000");
  CHECK(fast.baud == 3'000'000);
  CHECK(fast.text() == "serial:///dev/ttyUSB1?baud=3000000");
  CHECK(is_serial_device_spec("serial:///dev/ttyACM0"));
  CHECK_FALSE(is_serial_device_spec("tcp://127.0.0.1:7000"));
  for (const std::string bad :
       {"serial://", "serial://dev/ttyUSB0", "serial:///dev/x?baud=", "serial:///dev/x?baud=fast",
        "serial:///dev/x?baud=100", "serial:///dev/x?parity=odd", "tcp://127.0.0.1:7000"}) {
    INFO(bad);
    try {
      parse_serial_device_spec(bad);
      FAIL("no InputError");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("'" + bad + "'") != std::string::npos);
    }
  }
}

TEST_CASE("a missing serial device is a TransportError naming it", "[serial]") {
  try {
    make_serial_transport(parse_serial_device_spec("serial:///dev/tessera-no-such-tty"));
    FAIL("no TransportError");
  } catch (const TransportError& e) {
    CHECK(std::string(e.what()).find("/dev/tessera-no-such-tty") != std::string::npos);
  }
}

TEST_CASE("a device that never answers times out instead of hanging", "[serial]") {
  board::Pty silent;  // nobody serves its master side
  SerialOptions options;
  options.reply_timeout = std::chrono::milliseconds(100);
  const auto start = std::chrono::steady_clock::now();
  try {
    make_serial_transport(parse_serial_device_spec("serial://" + silent.path()), options);
    FAIL("no TransportError");
  } catch (const TransportError& e) {
    CHECK(std::string(e.what()).find(silent.path()) != std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("a lost reply is a TransportError after a PING resync, and the link goes on",
          "[serial]") {
  // A device that answers everything but the first CSR_READ, as if its reply were lost.
  board::Pty pty;
  std::atomic<bool> stop{false};
  std::thread device([&] {
    protocol::FrameDecoder decoder;
    std::vector<std::uint8_t> in, out;
    std::size_t written = 0;
    bool dropped = false;
    while (!stop) {
      pty.wait(std::chrono::milliseconds(20), !out.empty());
      if (pty.read_into(in)) decoder.feed(in);
      in.clear();
      while (auto event = decoder.poll()) {
        if (!event->is_frame()) continue;
        const protocol::Frame& f = event->frame;
        const auto type = static_cast<protocol::MsgType>(f.type);
        protocol::Bytes reply;
        if (type == protocol::MsgType::kHello) {
          reply = protocol::encode(protocol::HelloReply{4096, 16, 16, "fake"});
        } else if (type == protocol::MsgType::kLimits) {
          reply = protocol::encode(protocol::LimitsReply{0, 8});
        } else if (type == protocol::MsgType::kCsrRead) {
          if (!dropped) {
            dropped = true;
            continue;
          }
          reply = protocol::encode_u32(0x1234);
        }
        protocol::append_frame(out, protocol::reply_type(type), 0, f.seq, reply);
      }
      pty.write_from(out, written);
    }
  });
  {
    SerialOptions options;
    options.reply_timeout = std::chrono::milliseconds(200);
    auto transport =
        make_serial_transport(parse_serial_device_spec("serial://" + pty.path()), options);
    try {
      transport->csr_read(0x10);
      FAIL("no TransportError");
    } catch (const TransportError& e) {
      CHECK(std::string(e.what()).find("no reply to CSR_READ") != std::string::npos);
      CHECK(std::string(e.what()).find("resynchronized with PING") != std::string::npos);
    }
    CHECK(transport->csr_read(0x10) == 0x1234);
  }
  stop = true;
  device.join();
}

TEST_CASE("GEMMs pass through tessera-sim --pty with a board's buffers", "[serial]") {
  SimProcess sim({"--engine", "4x4", "--bounded", "--pty"});
  {
    auto transport = make_serial_transport(parse_serial_device_spec(sim.spec()));
    CHECK(transport->limits().bounded());
    check_gemm(*transport, 8, 8, 8, 1);
    check_gemm(*transport, 13, 21, 9, 2);  // several tiles, several batches
    check_gemm(*transport, 40, 64, 24, 3);
  }
  {
    // A second client on the same terminal, after one that died mid-frame.
    die_mid_frame(sim.path(), 300);
    auto transport = make_serial_transport(parse_serial_device_spec(sim.spec()));
    check_gemm(*transport, 5, 6, 7, 4);
  }
  CHECK(sim.stop() == 0);
}

TEST_CASE("GEMMs pass through the iCEBreaker's UART bridge, simulated at the bit level",
          "[serial][board]") {
  SimProcess sim({"--board", "icebreaker", "--pty"});
  {
    auto transport = make_serial_transport(parse_serial_device_spec(sim.spec()));
    CHECK(transport->limits() == BufferLimits{0, 8});
    check_gemm(*transport, 8, 8, 8, 1);
    check_gemm(*transport, 5, 3, 7, 2);
    // The iCEBreaker's engine rounds twice only and counts cycles only (RoundSingle = 0,
    // PerfDetail = 0): FEATURES says so, a requantized GEMM is exact in double rounding,
    // single rounding is refused before anything is sent, and a run has its cycles.
    Device device(*transport);
    CHECK_FALSE(device.config().round_single());
    CHECK_FALSE(device.config().perf_detail());
    RandomOptions requant;
    requant.requant = true;
    const GemmProblem problem = random_problem(6, 9, 5, 3, requant);
    const GemmRun run = run_gemm(device, problem);
    CHECK(run.output.data == golden_gemm(problem).data);
    CHECK(run.cycles > 0);
    CHECK_FALSE(run.perf.detail);
    CHECK(run.perf.busy == 0);
    requant.rounding = Rounding::kSingle;
    CHECK_THROWS_WITH(run_gemm(device, random_problem(6, 9, 5, 4, requant)),
                      Catch::Contains("FEATURES bit 7"));
    check_gemm(*transport, 4, 5, 6, 5);
  }
  {
    // A client that died mid-frame leaves the bridge waiting for a payload that never
    // comes; the next client's resynchronization completes it and gets through.
    die_mid_frame(sim.path(), 100);
    SerialOptions options;
    options.reply_timeout = std::chrono::milliseconds(3000);
    auto transport = make_serial_transport(parse_serial_device_spec(sim.spec()), options);
    check_gemm(*transport, 4, 4, 4, 5);
  }
  CHECK(sim.stop() == 0);
}

// Not in ctest (hidden): the throughput figures docs/fpga.md quotes, per board. The
// board's own log line on stderr (at the SIGTERM) gives the bytes carried. The cycles are
// the bridge's (its STATS): the engine's clock, or the ULX3S's 50 MHz bridge clock.
TEST_CASE("throughput over each board's simulated UART", "[.throughput]") {
  const struct {
    const char* board;
    double clock_hz;
  } boards[] = {{"icebreaker", 24e6}, {"orangecrab-25f", 100e6}, {"ulx3s-85f", 50e6}};
  for (const auto& b : boards) {
    SimProcess sim({"--board", b.board, "--pty"});
    {
      auto transport = make_serial_transport(parse_serial_device_spec(sim.spec()));
      report_throughput(*transport, b.board, 8, 8, 8, b.clock_hz, 5);
      report_throughput(*transport, b.board, 32, 32, 32, b.clock_hz, 2);
    }
    CHECK(sim.stop() == 0);
  }
}
