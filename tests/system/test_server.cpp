// tessera-sim server and TcpTransport over real loopback sockets, hosting a fake engine
// (a register file plus a stream loopback), so these run without the Verilated model:
// every call end to end, error mapping, posted-write failures, each robustness case
// (bad magic/version/checksum, oversize, truncation, random bytes, vanishing and idle
// clients, busy), config errors, and - when the real binary is built - its exit codes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "server_config.hpp"
#include "sim_server.hpp"
#include "tessera/device.hpp"
#include "tessera/golden.hpp"
#include "tessera/isa.hpp"
#include "tessera/protocol.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"
#include "tessera/tcp_transport.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using namespace tessera;
using namespace tessera::protocol;
using tessera::server::BusyPolicy;
using tessera::server::LogLevel;
using tessera::server::ServerConfig;
using tessera::server::SimServer;
using ByteVec = std::vector<std::uint8_t>;

// ---- fake engine -----------------------------------------------------------------------

// A register file (addresses >= 0x800 answer SLVERR) and a loopback stream: every four
// 16-byte input beats come back as one 64-byte output beat. wait_idle with a budget of
// at least kSlowBudget takes 300 ms, to stand for a long simulation.
class FakeEngine final : public Transport {
 public:
  static constexpr std::uint32_t kInBeat = 16;
  static constexpr std::uint32_t kOutBeat = 64;
  static constexpr std::uint64_t kSlowBudget = 1'000'000'000;

  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    std::lock_guard lock(mutex_);
    cycles_ += 2;
    if (addr >= 0x800) throw EngineError("AXI4-Lite SLVERR: write to unmapped address");
    registers_[addr] = data;
  }
  std::uint32_t csr_read(std::uint32_t addr) override {
    std::lock_guard lock(mutex_);
    cycles_ += 2;
    if (addr == isa::csr::kCfgStream) return (kOutBeat << 16) | kInBeat;
    if (addr == isa::csr::kId) return isa::kIdValue;
    if (addr >= 0x800) throw EngineError("AXI4-Lite SLVERR: read from unmapped address");
    return registers_[addr];
  }
  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override {
    std::lock_guard lock(mutex_);
    if (bytes.size() % kInBeat != 0) {
      throw InputError("stream_write of " + std::to_string(bytes.size()) +
                       " bytes is not a whole number of 16-byte beats");
    }
    loopback_.insert(loopback_.end(), bytes.begin(), bytes.end());
    written_ += bytes.size();
    if (ends_packet) packet_ends_.push_back(written_);
    cycles_ += bytes.size() / kInBeat;
  }
  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t cycle_budget) override {
    std::lock_guard lock(mutex_);
    const std::size_t need = std::size_t{beats} * kOutBeat;
    if (loopback_.size() < need) {
      cycles_ += cycle_budget;
      throw TransportError("stream_read: cycle budget of " + std::to_string(cycle_budget) +
                           " exhausted waiting for output beats");
    }
    std::vector<std::uint8_t> out(loopback_.begin(),
                                  loopback_.begin() + static_cast<std::ptrdiff_t>(need));
    loopback_.erase(loopback_.begin(), loopback_.begin() + static_cast<std::ptrdiff_t>(need));
    cycles_ += beats;
    return out;
  }
  std::uint64_t wait_idle(std::uint64_t cycle_budget) override {
    if (cycle_budget >= kSlowBudget) std::this_thread::sleep_for(300ms);
    std::lock_guard lock(mutex_);
    cycles_ += 5;
    return 5;
  }
  void reset() override {
    std::lock_guard lock(mutex_);
    loopback_.clear();
    ++resets_;
  }
  void trace_start(const TraceRequest& request) override {
    std::lock_guard lock(mutex_);
    traces_.push_back(request);
  }
  void trace_stop() override {
    std::lock_guard lock(mutex_);
    ++trace_stops_;
  }
  SimStats stats() override {
    std::lock_guard lock(mutex_);
    return SimStats{cycles_};
  }

  std::uint32_t reg(std::uint32_t addr) {
    std::lock_guard lock(mutex_);
    return registers_[addr];
  }
  std::size_t loopback_bytes() {
    std::lock_guard lock(mutex_);
    return loopback_.size();
  }
  // Stream bytes written since creation at the end of each input packet.
  std::vector<std::size_t> packet_ends() {
    std::lock_guard lock(mutex_);
    return packet_ends_;
  }
  int resets() {
    std::lock_guard lock(mutex_);
    return resets_;
  }
  std::vector<TraceRequest> traces() {
    std::lock_guard lock(mutex_);
    return traces_;
  }
  int trace_stops() {
    std::lock_guard lock(mutex_);
    return trace_stops_;
  }

 private:
  std::mutex mutex_;
  std::map<std::uint32_t, std::uint32_t> registers_;
  std::deque<std::uint8_t> loopback_;
  std::size_t written_ = 0;
  std::vector<std::size_t> packet_ends_;
  std::uint64_t cycles_ = 0;
  int resets_ = 0;
  std::vector<TraceRequest> traces_;
  int trace_stops_ = 0;
};

std::filesystem::path test_trace_dir() {
  return std::filesystem::temp_directory_path() /
         ("tessera-test-server-" + std::to_string(::getpid()));
}

ServerConfig test_config() {
  ServerConfig config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.idle_timeout_ms = 10'000;
  config.linger_ms = 300;
  config.engine_name = "fake engine";
  config.trace_dir = test_trace_dir().string();
  config.log = std::getenv("TESSERA_TEST_VERBOSE") ? LogLevel::kDebug : LogLevel::kQuiet;
  return config;
}

// A server on an ephemeral port, running on its own thread for the test's lifetime.
class TestServer {
 public:
  explicit TestServer(const ServerConfig& config = test_config(),
                      std::function<void(std::uint64_t)> push_input = {})
      : server_(std::make_unique<SimServer>(config, engine, std::cerr, std::move(push_input))),
        thread_([this] { server_->run(); }) {}
  ~TestServer() { stop_and_join(); }
  std::uint16_t port() const { return server_->port(); }
  SimServer& server() { return *server_; }
  std::unique_ptr<Transport> connect(const TcpOptions& options = {}) const {
    return make_tcp_transport("127.0.0.1", port(), options);
  }
  void stop_and_join() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  FakeEngine engine;

 private:
  std::unique_ptr<SimServer> server_;
  std::thread thread_;
};

// A client speaking raw bytes, for the cases a well-behaved TcpTransport never produces.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  // False once the server has closed (EPIPE / ECONNRESET): that is allowed.
  bool send(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool send_frame(MsgType type, std::uint32_t seq, const ByteVec& payload = {},
                  std::uint16_t flags = 0) {
    ByteVec bytes;
    append_frame(bytes, static_cast<std::uint8_t>(type), flags, seq, payload);
    return send(bytes);
  }

  // Next frame from the server; nullopt on EOF, reset or timeout.
  std::optional<Frame> read_frame(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto event = decoder_.poll()) {
        REQUIRE(event->is_frame());  // the server never sends garbage
        return std::move(event->frame);
      }
      if (!receive_some(deadline)) return std::nullopt;
    }
  }
  // Reads and discards until EOF; false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (receive_some(deadline)) {
      while (decoder_.poll()) {
      }
    }
    return closed_;
  }
  // Vanish abruptly: RST instead of FIN.
  void abort() {
    linger option{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
    ::close(fd_);
    fd_ = -1;
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  FrameDecoder decoder_{kMaxMaxPayload};
  std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(64 * 1024);
  bool closed_ = false;

  bool receive_some(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::recv(fd_, buffer_.data(), std::min(buffer_.size(), decoder_.space()), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    REQUIRE(decoder_.feed(std::span(buffer_.data(), static_cast<std::size_t>(n))) ==
            static_cast<std::size_t>(n));
    return true;
  }
};

ErrorReply error_of(const Frame& frame) {
  REQUIRE(frame.type == static_cast<std::uint8_t>(MsgType::kError));
  return decode_error(frame.payload);
}

ByteVec pattern(std::size_t n, std::uint32_t seed) {
  ByteVec bytes(n);
  std::mt19937 rng(seed);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
  return bytes;
}

// After each abuse the server must still serve a new, well-behaved client correctly.
void expect_served(const TestServer& server) {
  auto device = server.connect();
  device->csr_write(0x100, 0xC0FFEE);
  CHECK(device->csr_read(0x100) == 0xC0FFEE);
  const ByteVec data = pattern(256, 99);
  device->stream_write(data);
  CHECK(device->stream_read(4, 1000) == data);
}

}  // namespace

// ---- the transport end to end ------------------------------------------------------------

TEST_CASE("TcpTransport carries every Transport call to the engine", "[server]") {
  TestServer server;
  auto device = server.connect();
  CHECK(device->csr_read(isa::csr::kId) == isa::kIdValue);
  CHECK(device->csr_read(isa::csr::kCfgStream) == ((64u << 16) | 16u));

  device->csr_write(0x100, 0x12345678);
  device->csr_write(0x104, 0x9ABCDEF0);
  CHECK(device->csr_read(0x100) == 0x12345678);
  CHECK(device->csr_read(0x104) == 0x9ABCDEF0);

  const ByteVec data = pattern(1024, 1);
  device->stream_write(data);
  CHECK(device->stream_read(16, 10'000) == data);
  CHECK(device->stream_read(0, 10) == ByteVec{});

  CHECK(device->wait_idle(100) == 5);
  const auto before = device->stats().cycles;
  CHECK(before > 0);
  device->csr_write(0x100, 1);
  CHECK(device->stats().cycles > before);  // the posted write ran before STATS

  const int resets = server.engine.resets();
  device->reset();
  CHECK(server.engine.resets() == resets + 1);

  // The client names the file; the server puts it in its trace directory.
  device->trace_start(TraceRequest{"some/client/dir/gemm.fst", 10, 20});
  device->trace_stop();
  const auto traces = server.engine.traces();
  REQUIRE(traces.size() == 1);
  CHECK(traces[0].path == (test_trace_dir() / "gemm.fst").string());
  CHECK(traces[0].start_cycle == 10);
  CHECK(traces[0].end_cycle == 20);
  CHECK(server.engine.trace_stops() == 1);
}

TEST_CASE("a trace left running by a departing client is stopped", "[server]") {
  TestServer server;
  {
    auto device = server.connect();
    device->trace_start(TraceRequest{"left.fst", 0, 0});
  }
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (server.engine.trace_stops() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(server.engine.trace_stops() == 1);
}

TEST_CASE("large stream transfers are split to the negotiated frame size", "[server]") {
  ServerConfig config = test_config();
  config.max_payload_bytes = kMinMaxPayload;  // 4 KiB frames
  TestServer server(config);
  auto device = server.connect();
  const ByteVec data = pattern(256 * 1024, 2);
  device->stream_write(data);                           // 64 posted frames
  CHECK(device->stream_read(4096, 1'000'000) == data);  // 66 reads, in order
  CHECK(server.engine.loopback_bytes() == 0);
  // A big write that is not whole beats cannot be split; it fails before sending any.
  CHECK_THROWS_AS(device->stream_write(ByteVec(3 * kMinMaxPayload + 5)), InputError);
  CHECK(device->csr_read(0x100) == 0);
}

TEST_CASE("input packets: a STREAM_WRITE ends its packet unless it says MORE", "[server]") {
  ServerConfig config = test_config();
  config.max_payload_bytes = kMinMaxPayload;  // 4 KiB frames
  TestServer server(config);
  auto device = server.connect();
  // One packet over four frames: only the last one ends it.
  device->stream_write(pattern(1000 * FakeEngine::kInBeat, 3));
  // One packet over two calls.
  device->stream_write(pattern(4 * FakeEngine::kInBeat, 4), false);
  device->stream_write(pattern(2 * FakeEngine::kInBeat, 5), true);
  device->stream_write(pattern(FakeEngine::kInBeat, 6));
  CHECK(device->csr_read(0x100) == 0);  // waits until the posted writes ran
  CHECK(server.engine.packet_ends() ==
        std::vector<std::size_t>{16000, 16000 + 6 * 16, 16000 + 7 * 16});
  device.reset();  // one client at a time

  // MORE means something on STREAM_WRITE only.
  RawClient client(server.port());
  REQUIRE(client.send_frame(MsgType::kPing, 1, {}, kFlagMore));
  auto reply = client.read_frame();
  REQUIRE(reply);
  CHECK(error_of(*reply).code == ErrorCode::kBadRequest);
  CHECK_THAT(error_of(*reply).message, Catch::Contains("STREAM_WRITE only"));
}

TEST_CASE("WAIT_STATUS clocks until the STATUS bits clear, within its budget", "[server]") {
  TestServer server;
  auto device = server.connect();
  CHECK(device->wait_status_clear(isa::status::kFifoFull, 100) < 100);  // one STATUS read
  // STATUS is a plain register in the fake: FIFO_FULL and a level of 12.
  device->csr_write(isa::csr::kStatus, (12u << 16) | isa::status::kFifoFull);
  CHECK_THROWS_WITH(
      device->wait_status_clear(isa::status::kFifoFull, 100),
      Catch::Contains("WAIT_STATUS(mask=0x00000004, max_fifo_level=255, budget=100)") &&
          Catch::Contains("after 100 cycles"));
  CHECK(device->wait_status_clear(isa::status::kBusy, 100) < 100);
  CHECK_THROWS_WITH(device->wait_status(0, 8, 100), Catch::Contains("FIFO level <= 8"));
  CHECK(device->wait_status(isa::status::kBusy, 12, 100) < 100);
}

TEST_CASE("engine errors keep their exception type and the server's message", "[server]") {
  TestServer server;
  auto device = server.connect();
  try {
    device->csr_read(0x900);
    FAIL("expected EngineError");
  } catch (const EngineError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("tcp://127.0.0.1:"));
    CHECK_THAT(what, Catch::Contains("CSR_READ(addr=0x00000900)"));
    CHECK_THAT(what, Catch::Contains("SLVERR"));
  }
  try {
    device->stream_read(1, 50);
    FAIL("expected TransportError");
  } catch (const TransportError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("cycle budget of 50"));
  }
  // The connection is still good after each error.
  device->csr_write(0x100, 7);
  CHECK(device->csr_read(0x100) == 7);
}

TEST_CASE("a failed posted write surfaces at the next synchronous call, naming it", "[server]") {
  TestServer server;
  auto device = server.connect();
  device->csr_write(0x100, 1);
  device->csr_write(0x900, 2);           // fails on the server
  device->csr_write(0x100, 3);           // skipped
  device->stream_write(ByteVec(64, 5));  // skipped
  try {
    device->csr_read(0x104);  // skipped too: it throws the posted failure
    FAIL("expected EngineError");
  } catch (const EngineError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("CSR_WRITE(addr=0x00000900, data=0x00000002)"));
    CHECK_THAT(what, Catch::Contains("posted"));
    CHECK_THAT(what, Catch::Contains("SLVERR"));
  }
  // Nothing after the failure ran; the link is usable again.
  CHECK(device->csr_read(0x100) == 1);
  CHECK(server.engine.loopback_bytes() == 0);

  // A posted stream write of a partial beat: the engine's InputError type survives.
  device->stream_write(ByteVec(5));
  CHECK_THROWS_AS(device->wait_idle(10), InputError);
  CHECK(device->wait_idle(10) == 5);
}

TEST_CASE("a posted failure already received is thrown by the next posted call", "[server]") {
  TestServer server;
  TcpOptions options;
  options.send_batch_bytes = 1;  // send every posted frame at once
  auto device = server.connect(options);
  bool thrown = false;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  for (std::uint32_t i = 0; !thrown && std::chrono::steady_clock::now() < deadline; ++i) {
    try {
      // The failing write itself may already see its error if the reply is that quick.
      if (i == 0) {
        device->csr_write(0x900, 1);
      } else {
        std::this_thread::sleep_for(5ms);
        device->csr_write(0x104, i);
      }
    } catch (const EngineError& e) {
      thrown = true;
      CHECK_THAT(std::string(e.what()), Catch::Contains("0x00000900"));
    }
  }
  CHECK(thrown);
  CHECK(device->csr_read(0x104) == 0);  // none of the later writes ran
}

TEST_CASE("a silent server times out, a slow budgeted wait is allowed for", "[server]") {
  CHECK(TcpOptions{}.io_timeout > 0ms);  // on by default
  TestServer server;
  {
    // FakeEngine's wait_idle at kSlowBudget takes 300 ms: longer than the timeout, and
    // the budget's allowance at this speed is under a millisecond.
    TcpOptions options;
    options.io_timeout = 100ms;
    options.budget_cycles_per_second = 10 * FakeEngine::kSlowBudget;
    auto device = server.connect(options);
    try {
      device->wait_idle(FakeEngine::kSlowBudget);
      FAIL("expected TransportError");
    } catch (const TransportError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("timed out: no reply to WAIT_IDLE"));
    }
  }
  {
    // At a tenth of that speed the allowance is a second: the same wait completes.
    TcpOptions options;
    options.io_timeout = 100ms;
    options.budget_cycles_per_second = FakeEngine::kSlowBudget;
    auto device = server.connect(options);
    CHECK(device->wait_idle(FakeEngine::kSlowBudget) == 5);
  }
}

TEST_CASE("a posted failure no call reported is told when the transport closes", "[server]") {
  TestServer server;
  // Catch what the destructor prints: stderr into a temporary file for the while.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tessera-close-" + std::to_string(::getpid()) + ".txt"))
                               .string();
  const int saved = ::dup(STDERR_FILENO);
  const int file = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  REQUIRE(file >= 0);
  ::dup2(file, STDERR_FILENO);
  {
    auto device = server.connect();
    device->csr_write(0x100, 1);
    device->csr_write(0x900, 2);  // fails on the server; nothing waits for it
  }
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(file);
  std::ifstream in(path);
  const std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  CHECK_THAT(printed, Catch::Contains("closing with a failure no call reported"));
  CHECK_THAT(printed, Catch::Contains("CSR_WRITE(addr=0x00000900, data=0x00000002)"));

  // A clean close prints nothing, and the posted writes before it have run.
  {
    auto device = server.connect();
    device->csr_write(0x104, 9);
  }
  CHECK(server.connect()->csr_read(0x104) == 9);
}

// ---- robustness: each malformed-input case over a real socket ------------------------------

TEST_CASE("bad magic: the server reports garbage and resynchronizes", "[server][robustness]") {
  TestServer server;
  {
    RawClient client(server.port());
    ByteVec stream(300, 0x5A);
    ByteVec ping;
    append_frame(ping, static_cast<std::uint8_t>(MsgType::kPing), 0, 1, {});
    stream.insert(stream.end(), ping.begin(), ping.end());
    REQUIRE(client.send(stream));
    const auto first = client.read_frame();
    REQUIRE(first);
    CHECK(error_of(*first).code == ErrorCode::kBadFrame);
    CHECK(first->seq == 0);
    const auto second = client.read_frame();
    REQUIRE(second);
    CHECK(second->type == reply_type(MsgType::kPing));
    CHECK(second->seq == 1);
  }
  expect_served(server);
}

TEST_CASE("bad version: an error reply names the frame", "[server][robustness]") {
  TestServer server;
  {
    RawClient client(server.port());
    ByteVec frame =
        encode_frame(Frame{static_cast<std::uint8_t>(MsgType::kCsrRead), 0, 41, encode_u32(0)});
    frame[2] = 9;
    const std::uint32_t header_crc = crc32(std::span(frame).first(16));
    for (int i = 0; i < 4; ++i) frame[16 + i] = static_cast<std::uint8_t>(header_crc >> (8 * i));
    REQUIRE(client.send(frame));
    const auto reply = client.read_frame();
    REQUIRE(reply);
    CHECK(reply->seq == 41);
    const ErrorReply error = error_of(*reply);
    CHECK(error.code == ErrorCode::kBadVersion);
    CHECK_THAT(error.message, Catch::Contains("version 9"));
    REQUIRE(client.send_frame(MsgType::kPing, 42));
    const auto ping = client.read_frame();
    REQUIRE(ping);
    CHECK(ping->seq == 42);
  }
  expect_served(server);
}

TEST_CASE("bad checksum: an error reply, then the connection carries on", "[server][robustness]") {
  TestServer server;
  {
    RawClient client(server.port());
    ByteVec frame = encode_frame(Frame{static_cast<std::uint8_t>(MsgType::kCsrWrite), 0, 7,
                                       encode(CsrWriteRequest{0x100, 0xBAD})});
    frame[frame.size() - 1] ^= 0xFF;
    REQUIRE(client.send(frame));
    const auto reply = client.read_frame();
    REQUIRE(reply);
    CHECK(reply->seq == 7);
    CHECK(error_of(*reply).code == ErrorCode::kBadFrame);
    CHECK_THAT(error_of(*reply).message, Catch::Contains("CRC"));
    REQUIRE(client.send_frame(MsgType::kCsrRead, 8, encode_u32(0x100)));
    const auto read = client.read_frame();
    REQUIRE(read);
    CHECK(read->seq == 8);
    CHECK(decode_u32(read->payload, "reply") == 0);  // the corrupt write never ran
  }
  expect_served(server);
}

TEST_CASE("length over the limit: error reply, then the client is dropped",
          "[server][robustness]") {
  ServerConfig config = test_config();
  config.max_payload_bytes = 64 * 1024;
  TestServer server(config);
  {
    RawClient client(server.port());
    ByteVec header =
        encode_frame(Frame{static_cast<std::uint8_t>(MsgType::kStreamWrite), 0, 3, {}});
    header.resize(kHeaderBytes);
    const std::uint32_t length = 1u << 30;
    for (int i = 0; i < 4; ++i) header[12 + i] = static_cast<std::uint8_t>(length >> (8 * i));
    const std::uint32_t header_crc = crc32(std::span(header).first(16));
    for (int i = 0; i < 4; ++i) header[16 + i] = static_cast<std::uint8_t>(header_crc >> (8 * i));
    REQUIRE(client.send(header));
    client.send(ByteVec(256 * 1024, 0));  // the start of the oversize payload
    const auto reply = client.read_frame();
    REQUIRE(reply);
    CHECK(reply->seq == 3);
    CHECK(error_of(*reply).code == ErrorCode::kTooLarge);
    CHECK(client.wait_closed());
  }
  expect_served(server);
  CHECK(server.server().stats().clients_dropped == 1);
}

TEST_CASE("truncated frame then disconnect: the next client is served", "[server][robustness]") {
  TestServer server;
  {
    RawClient client(server.port());
    const ByteVec frame = encode_frame(
        Frame{static_cast<std::uint8_t>(MsgType::kStreamWrite), 0, 1, ByteVec(1000, 1)});
    REQUIRE(client.send(std::span(frame).first(frame.size() / 2)));
    client.close();
  }
  expect_served(server);
  CHECK(server.engine.loopback_bytes() == 0);
}

TEST_CASE("random bytes: errors or a drop, never a crash", "[server][robustness]") {
  std::uint64_t seed = 0x7e55e7a;  // fixed so `make test` repeats; override to explore
  if (const char* env = std::getenv("TESSERA_FUZZ_SEED")) seed = std::stoull(env);
  std::cout << "server random-bytes seed " << seed << std::endl;
  INFO("seed " << seed << "; reproduce with TESSERA_FUZZ_SEED=" << seed
               << " test_server '[robustness]'");
  TestServer server;
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 4; ++round) {
    RawClient client(server.port());
    ByteVec junk(1 << 20);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    client.send(junk);  // may fail part-way once the server drops us
    // Every reply is a well-formed ERROR frame (RawClient checks framing).
    while (auto frame = client.read_frame(500ms))
      CHECK(frame->type == static_cast<std::uint8_t>(MsgType::kError));
  }
  expect_served(server);
  CHECK(server.server().stats().frames_bad > 0);
}

TEST_CASE("client vanishing mid-transfer: half a frame, or before reading its reply",
          "[server][robustness]") {
  TestServer server;
  {  // vanishes in the middle of a 1 MiB stream write
    RawClient client(server.port());
    const ByteVec frame = encode_frame(Frame{static_cast<std::uint8_t>(MsgType::kStreamWrite),
                                             kFlagPosted, 1, ByteVec(1 << 20, 3)});
    client.send(std::span(frame).first(300'000));
    client.abort();
  }
  expect_served(server);
  {  // asks for a 4 MiB reply and resets the connection instead of reading it
    RawClient client(server.port());
    REQUIRE(client.send_frame(MsgType::kStreamWrite, 1, ByteVec(4 << 20, 4), kFlagPosted));
    REQUIRE(
        client.send_frame(MsgType::kStreamRead, 2, encode(StreamReadRequest{65536, 1'000'000})));
    std::this_thread::sleep_for(50ms);
    client.abort();
  }
  expect_served(server);
}

TEST_CASE("wire level: posted failures, skipping, and malformed requests", "[server]") {
  TestServer server;
  RawClient client(server.port());
  // A posted write that fails is answered with its own seq; later posted requests are
  // dropped and the next synchronous one is answered SKIPPED.
  REQUIRE(client.send_frame(MsgType::kCsrWrite, 1, encode(CsrWriteRequest{0x900, 1}), kFlagPosted));
  REQUIRE(client.send_frame(MsgType::kCsrWrite, 2, encode(CsrWriteRequest{0x100, 2}), kFlagPosted));
  REQUIRE(client.send_frame(MsgType::kCsrRead, 3, encode_u32(0x100)));
  auto reply = client.read_frame();
  REQUIRE(reply);
  CHECK(reply->seq == 1);
  CHECK(error_of(*reply).code == ErrorCode::kEngine);
  CHECK(error_of(*reply).request_type == static_cast<std::uint8_t>(MsgType::kCsrWrite));
  reply = client.read_frame();
  REQUIRE(reply);
  CHECK(reply->seq == 3);
  CHECK(error_of(*reply).code == ErrorCode::kSkipped);
  CHECK_THAT(error_of(*reply).message, Catch::Contains("request #1"));
  // Cleared: the next request runs, and the dropped write never happened.
  REQUIRE(client.send_frame(MsgType::kCsrRead, 4, encode_u32(0x100)));
  reply = client.read_frame();
  REQUIRE(reply);
  CHECK(reply->type == reply_type(MsgType::kCsrRead));
  CHECK(decode_u32(reply->payload, "reply") == 0);
  // A successful posted request sends nothing back.
  REQUIRE(client.send_frame(MsgType::kCsrWrite, 5, encode(CsrWriteRequest{0x100, 5}), kFlagPosted));
  REQUIRE(client.send_frame(MsgType::kPing, 6));
  reply = client.read_frame();
  REQUIRE(reply);
  CHECK(reply->seq == 6);
  // Malformed requests: unknown type, wrong payload size, posting a request with data,
  // unknown flags, a read whose reply would exceed the limit.
  const std::vector<std::pair<Frame, std::string>> bad = {
      {Frame{0x42, 0, 7, {}}, "unknown request type"},
      {Frame{static_cast<std::uint8_t>(MsgType::kCsrWrite), 0, 8, ByteVec(5)}, "8 bytes, got 5"},
      {Frame{static_cast<std::uint8_t>(MsgType::kCsrRead), 0, 9, encode_u32(0)}, ""},
      {Frame{static_cast<std::uint8_t>(MsgType::kPing), 0x40, 10, {}}, "unknown flag"},
      {Frame{static_cast<std::uint8_t>(MsgType::kStreamRead), 0, 11,
             encode(StreamReadRequest{1u << 20, 10})},
       "split the read"},
  };
  for (const auto& [frame, expected] : bad) {
    REQUIRE(client.send(encode_frame(frame)));
    reply = client.read_frame();
    REQUIRE(reply);
    CHECK(reply->seq == frame.seq);
    if (expected.empty()) continue;  // the well-formed control case
    CHECK(error_of(*reply).code == ErrorCode::kBadRequest);
    CHECK_THAT(error_of(*reply).message, Catch::Contains(expected));
  }
  Frame posted_read{static_cast<std::uint8_t>(MsgType::kCsrRead), kFlagPosted, 12, encode_u32(0)};
  REQUIRE(client.send(encode_frame(posted_read)));
  reply = client.read_frame();
  REQUIRE(reply);
  CHECK(error_of(*reply).code == ErrorCode::kBadRequest);
  CHECK_THAT(error_of(*reply).message, Catch::Contains("may not be posted"));
}

namespace {
std::size_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}
}  // namespace

TEST_CASE("a client that never reads its replies cannot grow server memory",
          "[server][robustness]") {
  ServerConfig config = test_config();
  // Long enough that a loaded machine (a sanitizer build beside other jobs) reaches the
  // back-pressure before the idle timeout drains the stalled session.
  config.idle_timeout_ms = 2000;
  TestServer server(config);
  const std::size_t before = resident_kib();
  {
    RawClient client(server.port());
    ByteVec pings;
    for (std::uint32_t i = 1; i <= 100'000; ++i)
      append_frame(pings, static_cast<std::uint8_t>(MsgType::kPing), 0, i, {});
    // Send until the server stops reading (its replies pile up unread in our socket).
    timeval timeout{0, 200'000};
    ::setsockopt(client.fd(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::size_t sent = 0;
    for (int round = 0; round < 40 && client.send(pings); ++round) sent += pings.size();
    INFO("sent " << sent << " bytes of requests");
    CHECK(sent < 40 * pings.size());  // back-pressure reached us
    // The stalled session makes no progress, so the idle timeout reclaims it: idle_timeout_ms
    // after the last request it executed, which a slow (sanitizer) build reaches late.
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (server.server().stats().clients_dropped == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
  }
  const std::size_t after = resident_kib();
  INFO("RSS " << before << " KiB -> " << after << " KiB");
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine of freed blocks (256 MiB) swamps RSS
  CHECK(after < before + 64 * 1024);
#endif
  CHECK(server.server().stats().clients_dropped == 1);
  expect_served(server);
}

TEST_CASE("idle clients are told and dropped after idle_timeout_ms", "[server][robustness]") {
  ServerConfig config = test_config();
  config.idle_timeout_ms = 300;
  TestServer server(config);
  {
    RawClient client(server.port());
    const auto reply = client.read_frame(3000ms);
    REQUIRE(reply);
    CHECK(reply->seq == 0);
    CHECK(error_of(*reply).code == ErrorCode::kIdleTimeout);
    CHECK(client.wait_closed());
  }
  {  // A TcpTransport left idle reports why its next call fails.
    auto device = server.connect();
    std::this_thread::sleep_for(700ms);
    try {
      device->csr_read(0x100);
      FAIL("expected TransportError");
    } catch (const TransportError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("idle timeout"));
    }
    CHECK_THROWS_AS(device->csr_read(0x100), TransportError);  // and stays unusable
  }
  expect_served(server);
}

TEST_CASE("repeated bad frames get the client dropped", "[server][robustness]") {
  ServerConfig config = test_config();
  config.max_bad_frames = 4;
  TestServer server(config);
  {
    RawClient client(server.port());
    for (std::uint32_t i = 1; i <= 10; ++i) {
      ByteVec frame = encode_frame(Frame{static_cast<std::uint8_t>(MsgType::kPing), 0, i, {}});
      frame.back() ^= 1;
      if (!client.send(frame)) break;
    }
    int errors = 0;
    while (auto frame = client.read_frame()) {
      CHECK(error_of(*frame).code == ErrorCode::kBadFrame);
      ++errors;
    }
    CHECK(errors == 5);  // four replies plus the parting message
    CHECK(client.wait_closed());
  }
  expect_served(server);
}

TEST_CASE("a second client gets a clear busy error while one is attached", "[server][robustness]") {
  ServerConfig config = test_config();
  config.busy_grace_ms = 200;
  TestServer server(config);
  {
    auto first = server.connect();
    first->csr_write(0x100, 1);
    try {
      server.connect();
      FAIL("expected TransportError");
    } catch (const TransportError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("server busy"));
    }
    CHECK(first->csr_read(0x100) == 1);  // the first client is undisturbed
  }
  // One that arrives just as the first leaves is served: the grace period covers the
  // moment before the server sees the close.
  expect_served(server);
  CHECK(server.server().stats().clients_rejected == 1);
}

TEST_CASE("a client arriving within busy_grace_ms of the holder leaving is served",
          "[server][robustness]") {
  TestServer server;
  auto first = server.connect();
  first->csr_write(0x100, 5);
  auto second = std::async(std::launch::async, [&] { return server.connect()->csr_read(0x100); });
  std::this_thread::sleep_for(100ms);
  first.reset();
  REQUIRE(second.wait_for(3s) == std::future_status::ready);
  CHECK(second.get() == 5);  // served by the same engine (the fake's reset keeps registers)
  CHECK(server.server().stats().clients_rejected == 0);
}

TEST_CASE("busy_policy wait queues the second client until the first leaves",
          "[server][robustness]") {
  ServerConfig config = test_config();
  config.busy_policy = BusyPolicy::kWait;
  TestServer server(config);
  auto first = server.connect();
  first->csr_write(0x100, 11);
  auto second = std::async(std::launch::async, [&] {
    // Queued longer than its I/O timeout: the wait for HELLO is not bounded by it.
    TcpOptions options;
    options.io_timeout = 100ms;
    auto device = server.connect(options);
    return device->csr_read(0x104);
  });
  CHECK(second.wait_for(300ms) == std::future_status::timeout);
  CHECK(first->csr_read(0x100) == 11);
  first.reset();
  REQUIRE(second.wait_for(3s) == std::future_status::ready);
  CHECK(second.get() == 0);
}

TEST_CASE("stop lets the request in progress finish, then tells the client", "[server]") {
  TestServer server;
  auto device = server.connect();
  auto slow =
      std::async(std::launch::async, [&] { return device->wait_idle(FakeEngine::kSlowBudget); });
  std::this_thread::sleep_for(100ms);
  server.stop_and_join();
  CHECK(slow.get() == 5);  // the 300 ms request completed and was answered
  try {
    device->csr_read(0x100);
    FAIL("expected TransportError");
  } catch (const TransportError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("shutting down"));
  }
}

TEST_CASE("LIMITS: unbounded by default, a board's when bounded, unbounded from an old server",
          "[server]") {
  {
    TestServer server;
    CHECK(server.connect()->limits() == BufferLimits{});
  }
  {
    ServerConfig config = test_config();
    config.bounded = true;
    TestServer server(config, [](std::uint64_t) {});
    CHECK(server.connect()->limits() == BufferLimits{0, 8});
    CHECK_THROWS_AS(SimServer(config, server.engine, std::cerr), InputError);  // no push_input
  }
  // A server that predates LIMITS: HELLO, then BAD_REQUEST for anything else.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  std::thread old_server([listener] {
    const int fd = ::accept(listener, nullptr, nullptr);
    FrameDecoder decoder;
    std::vector<std::uint8_t> buffer(4096);
    for (;;) {
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      decoder.feed(std::span(buffer.data(), static_cast<std::size_t>(n)));
      while (auto event = decoder.poll()) {
        ByteVec reply;
        if (event->frame.type == static_cast<std::uint8_t>(MsgType::kHello)) {
          append_frame(reply, reply_type(MsgType::kHello), 0, event->frame.seq,
                       encode(HelloReply{kDefaultMaxPayload, 16, 64, "old server"}));
        } else {
          append_frame(reply, static_cast<std::uint8_t>(MsgType::kError), 0, event->frame.seq,
                       encode(ErrorReply{ErrorCode::kBadRequest, event->frame.type,
                                         "unknown request type"}));
        }
        ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
    }
    ::close(fd);
  });
  {
    auto device = make_tcp_transport("127.0.0.1", ntohs(address.sin_port));
    CHECK(device->limits() == BufferLimits{});
  }
  old_server.join();
  ::close(listener);
}

TEST_CASE("unreachable servers and bad device specs are clear errors", "[server]") {
  std::uint16_t port = 0;
  {
    TestServer server;
    port = server.port();
  }
  try {
    make_tcp_transport("127.0.0.1", port);
    FAIL("expected TransportError");
  } catch (const TransportError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("cannot connect"));
  }
  const DeviceSpec spec = parse_device_spec("tcp://127.0.0.1:7000");
  CHECK(spec.host == "127.0.0.1");
  CHECK(spec.port == 7000);
  CHECK(parse_device_spec("tcp://[::1]:80").host == "::1");
  CHECK(parse_device_spec("tcp://[::1]:80").text() == "tcp://[::1]:80");
  CHECK(parse_device_spec("tcp://sim-host:1").host == "sim-host");
  CHECK(is_tcp_device_spec("tcp://x:1"));
  CHECK_FALSE(is_tcp_device_spec("sim"));
  for (const char* bad :
       {"tcp://", "tcp://host", "tcp://host:", "tcp://:7000", "tcp://host:0", "tcp://host:65536",
        "tcp://host:70x", "udp://host:1", "tcp://::1:80", "tcp://[::1]80", "tcp://host:7000/"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_device_spec(bad), InputError);
  }
}

// ---- configuration -------------------------------------------------------------------------

TEST_CASE("server config: every key parses", "[server][config]") {
  ServerConfig config;
  server::apply_server_config(nlohmann::json::parse(R"({
      "listen": "0.0.0.0:7100", "trace_dir": "/tmp/waves", "idle_timeout_ms": 0,
      "max_payload_bytes": 65536, "max_bad_frames": 3, "busy_policy": "wait",
      "max_waiting_clients": 2, "reset_on_connect": false,
      "max_buffered_output_beats": 1000, "log": "quiet", "engine": "4x4",
      "bounded": true})"),
                              config, "test.json");
  CHECK(config.listen_host == "0.0.0.0");
  CHECK(config.listen_port == 7100);
  CHECK(config.trace_dir == "/tmp/waves");
  CHECK(config.idle_timeout_ms == 0);
  CHECK(config.max_payload_bytes == 65536);
  CHECK(config.max_bad_frames == 3);
  CHECK(config.busy_policy == BusyPolicy::kWait);
  CHECK(config.max_waiting_clients == 2);
  CHECK_FALSE(config.reset_on_connect);
  CHECK(config.max_buffered_output_beats == 1000);
  CHECK(config.bounded);
  CHECK(config.log == LogLevel::kQuiet);
  CHECK(config.engine == "4x4");
  CHECK(config.engine_source == "test.json: key 'engine'");
  server::apply_server_config(nlohmann::json::parse(R"({"listen": "[::1]:0"})"), config, "x");
  CHECK(config.listen_host == "::1");
  CHECK(config.listen_port == 0);
}

TEST_CASE("server config: unknown keys and wrong types name the key", "[server][config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"idle_timout_ms": 5})", "unknown key 'idle_timout_ms'"},
      {R"({"idle_timeout_ms": "5"})", "key 'idle_timeout_ms' must be an integer"},
      {R"({"idle_timeout_ms": -1})", "key 'idle_timeout_ms' must be an integer"},
      {R"({"idle_timeout_ms": 1.5})", "key 'idle_timeout_ms' must be an integer"},
      {R"({"max_payload_bytes": 100})", "key 'max_payload_bytes' must be an integer in 4096.."},
      {R"({"busy_policy": "maybe"})", "key 'busy_policy' must be \"reject\" or \"wait\""},
      {R"({"reset_on_connect": 1})", "key 'reset_on_connect' must be true or false"},
      {R"({"listen": 7000})", "key 'listen' must be a string"},
      {R"({"listen": "localhost"})", "missing ':PORT'"},
      {R"({"listen": "example.com:7000"})", "is not an IP address"},
      {R"({"log": "loud"})", "key 'log' must be"},
      {R"([1, 2])", "top level must be a JSON object"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    ServerConfig config;
    CHECK_THROWS_WITH(server::apply_server_config(nlohmann::json::parse(text), config, "cfg.json"),
                      Catch::StartsWith("cfg.json") && Catch::Contains(expected));
  }
  ServerConfig config;
  CHECK_THROWS_AS(server::load_server_config("/nonexistent/tessera.json", config), InputError);
  const auto path = std::filesystem::temp_directory_path() / "tessera-test-bad.json";
  std::ofstream(path) << "{ \"listen\": ";
  CHECK_THROWS_WITH(server::load_server_config(path.string(), config),
                    Catch::Contains("invalid JSON"));
  std::filesystem::remove(path);
}

TEST_CASE("listen addresses: loopback by default, explicit otherwise", "[server][config]") {
  ServerConfig config;
  CHECK(config.listen_host == "127.0.0.1");
  std::string host;
  std::uint16_t port = 1;
  server::parse_listen("localhost:0", host, port, "--listen");
  CHECK(host == "127.0.0.1");
  CHECK(port == 0);
  CHECK_THROWS_WITH(server::parse_listen("1.2.3.4:99999", host, port, "--listen"),
                    Catch::StartsWith("--listen '1.2.3.4:99999'"));
  CHECK_THROWS_AS(server::parse_listen("::1:80", host, port, "--listen"), InputError);
}

TEST_CASE("binding a port in use is a TransportError naming the address", "[server][config]") {
  TestServer first;
  ServerConfig config = test_config();
  config.listen_port = first.port();
  FakeEngine engine;
  CHECK_THROWS_WITH(SimServer(config, engine, std::cerr),
                    Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(first.port())));
}

// ---- the real tessera-sim binary -----------------------------------------------------------
#ifdef TESSERA_SIM_BIN
namespace {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // stdout and stderr together
};

Child spawn_sim(const std::vector<std::string>& args) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<std::string> argv_text = {TESSERA_SIM_BIN};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child child;
  REQUIRE(posix_spawn(&child.pid, TESSERA_SIM_BIN, &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  child.out_fd = pipe_fds[0];
  return child;
}

// Reads output until `needle` appears (or EOF/timeout); returns all read so far.
std::string read_until(int fd, const std::string& needle, std::chrono::milliseconds timeout) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (text.find(needle) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::pair<int, std::string> run_sim(const std::vector<std::string>& args) {
  Child child = spawn_sim(args);
  std::string output = read_until(child.out_fd, "\x01never", 60s);
  ::close(child.out_fd);
  return {wait_exit(child.pid, 60s), output};
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("tessera-sim: bad usage and config files exit 2 naming the problem", "[server][binary]") {
  const auto unknown =
      run_sim({"--config", write_temp("tsr-unknown.json", R"({"idle_timout_ms": 1})")});
  CHECK(unknown.first == 2);
  CHECK_THAT(unknown.second, Catch::Contains("unknown key 'idle_timout_ms'"));
  const auto wrong =
      run_sim({"--config", write_temp("tsr-wrong.json", R"({"max_bad_frames": "8"})")});
  CHECK(wrong.first == 2);
  CHECK_THAT(wrong.second, Catch::Contains("key 'max_bad_frames' must be"));
  CHECK(run_sim({"--config", "/nonexistent.json"}).first == 2);
  CHECK(run_sim({"--listen", "nonsense"}).first == 2);
  CHECK(run_sim({"--frobnicate"}).first == 2);
  CHECK(run_sim({"--listen"}).first == 2);
  CHECK(run_sim({"--help"}).first == 0);
  std::filesystem::remove(std::filesystem::temp_directory_path() / "tsr-unknown.json");
  std::filesystem::remove(std::filesystem::temp_directory_path() / "tsr-wrong.json");
}

namespace {

// Starts tessera-sim with `args` on a free port; returns the child and its port.
std::pair<Child, std::uint16_t> start_sim(std::vector<std::string> args) {
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  Child child = spawn_sim(args);
  const std::string banner = read_until(child.out_fd, "\n", 60s);
  INFO(banner);
  const auto at = banner.find("listening on 127.0.0.1:");
  REQUIRE(at != std::string::npos);
  return {child, static_cast<std::uint16_t>(std::stoul(banner.substr(at + 23)))};
}

}  // namespace

TEST_CASE("tessera-sim serves every engine build: --engine and the config key \"engine\"",
          "[server][binary]") {
  const std::string config = write_temp("tsr-engine.json", R"({"engine": "4x4"})");
  struct Case {
    std::vector<std::string> args;
    unsigned rows;
  };
  for (const Case& c : {Case{{}, 16}, Case{{"--engine", "4x4"}, 4}, Case{{"--config", config}, 4},
                        Case{{"--config", config, "--engine", "16x16"}, 16}}) {
    auto [child, port] = start_sim(c.args);
    {
      auto transport = make_tcp_transport("127.0.0.1", port);
      Device device(*transport);
      CHECK(device.config().rows == c.rows);
      CHECK(device.config().cols == c.rows);
      const GemmProblem problem =
          random_problem(c.rows + 3, 2 * c.rows + 1, 5, c.rows, {true, false, true});
      CHECK(run_gemm(device, problem).output.data == golden_gemm(problem).data);
    }
    ::kill(child.pid, SIGTERM);
    CHECK(wait_exit(child.pid, 20s) == 0);
    ::close(child.out_fd);
  }
  const auto unknown = run_sim({"--engine", "8x8"});
  CHECK(unknown.first == 2);
  CHECK_THAT(unknown.second,
             Catch::Contains("unknown engine '8x8'") && Catch::Contains("16x16, 4x4"));
  const auto in_file =
      run_sim({"--config", write_temp("tsr-bad-engine.json", R"({"engine": "big"})")});
  CHECK(in_file.first == 2);
  CHECK_THAT(in_file.second,
             Catch::Contains("tsr-bad-engine.json: key 'engine'") && Catch::Contains("'big'"));
  std::filesystem::remove(config);
  std::filesystem::remove(std::filesystem::temp_directory_path() / "tsr-bad-engine.json");
}

TEST_CASE("tessera-sim: a port in use exits 3", "[server][binary]") {
  TestServer occupant;
  const auto result = run_sim({"--listen", "127.0.0.1:" + std::to_string(occupant.port())});
  CHECK(result.first == 3);
  CHECK_THAT(result.second, Catch::Contains("cannot listen on"));
}

TEST_CASE("tessera-sim: port 0, prints its address, serves, exits 0 on SIGTERM and SIGINT",
          "[server][binary]") {
  for (int signal_number : {SIGTERM, SIGINT}) {
    const auto trace_dir = test_trace_dir() / "bin";
    Child child = spawn_sim({"--listen", "127.0.0.1:0", "--trace-dir", trace_dir.string()});
    const std::string banner = read_until(child.out_fd, "\n", 60s);
    INFO(banner);
    const auto at = banner.find("listening on 127.0.0.1:");
    REQUIRE(at != std::string::npos);
    const auto port = static_cast<std::uint16_t>(std::stoul(banner.substr(at + 23)));
    {
      auto device = make_tcp_transport("127.0.0.1", port);
      CHECK(device->csr_read(isa::csr::kId) == isa::kIdValue);
      CHECK(device->stats().cycles > 0);
    }
    ::kill(child.pid, signal_number);
    CHECK(wait_exit(child.pid, 20s) == 0);
    ::close(child.out_fd);
  }
  std::filesystem::remove_all(test_trace_dir());
}
#endif

// ---- benchmark (hidden: run with `test_server '[.bench]'`) --------------------------------
// Numbers, not pass/fail: loopback bulk throughput and per-call costs of TcpTransport
// against the fake engine, i.e. the transport's own overhead.
TEST_CASE("loopback throughput and call costs", "[.bench]") {
  TestServer server;
  auto device = server.connect();
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  const ByteVec block = pattern(4 << 20, 3);
  constexpr int kRounds = 16;
  auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    device->stream_write(block);
    REQUIRE(device->stream_read(static_cast<std::uint32_t>(block.size() / 64), 1ull << 40).size() ==
            block.size());
  }
  const double bulk = seconds_since(start);
  const double megabytes = 2.0 * kRounds * static_cast<double>(block.size()) / 1e6;

  constexpr int kCalls = 20'000;
  start = Clock::now();
  for (int i = 0; i < kCalls; ++i) device->csr_read(0x100);
  const double round_trip = seconds_since(start) / kCalls;

  start = Clock::now();
  for (int i = 0; i < kCalls; ++i) device->csr_write(0x100, static_cast<std::uint32_t>(i));
  device->csr_read(0x100);
  const double posted = seconds_since(start) / kCalls;

  std::cout << "loopback bulk: " << megabytes << " MB in " << bulk << " s = " << megabytes / bulk
            << " MB/s (stream_write + stream_read, 4 MiB calls)\n"
            << "csr_read round trip: " << round_trip * 1e6 << " us\n"
            << "csr_write (posted): " << posted * 1e6 << " us per call" << std::endl;
}
