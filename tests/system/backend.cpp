#include "backend.hpp"

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "pty.hpp"
#include "request_executor.hpp"
#include "sim_server.hpp"
#include "sim_transport.hpp"
#include "tessera/serial_transport.hpp"
#include "tessera/tcp_transport.hpp"

namespace tessera::test {
namespace {

// A TcpTransport that owns the server it talks to: the engine, the server thread and the
// client live and die together, so a test can treat it like any other Transport.
// Bounded: the server keeps a board's discipline (tessera-sim --bounded). Serial: the
// server is the request executor behind a pseudo-terminal (tessera-sim --pty), reached
// through SerialTransport, as a board's UART bridge would be.
class ServedTransport : public Transport {
 public:
  ServedTransport(sim::SimOptions options, bool bounded, bool serial = false) {
    if (bounded) options.max_buffered_output_beats = 0;  // as tessera-sim --bounded
    engine_ = sim::make_sim_engine(options);
    server::ServerConfig config;
    config.listen_port = 0;
    config.log = server::LogLevel::kQuiet;
    config.bounded = bounded;
    if (serial) {
      server::ExecutorOptions executor;
      executor.bounded = bounded;
      executor.push_input = [this](std::uint64_t stall_cycles) {
        engine_->push_input(stall_cycles);
      };
      executor_ = std::make_unique<server::RequestExecutor>(*engine_, std::move(executor));
      pty_ = std::make_unique<board::Pty>();
      thread_ = std::thread([this] { board::serve_executor(*pty_, *executor_, log_, &stop_); });
      client_ = make_serial_transport(SerialDeviceSpec{pty_->path()});
      return;
    }
    server_ = std::make_unique<server::SimServer>(
        config, *engine_, log_,
        [this](std::uint64_t stall_cycles) { engine_->push_input(stall_cycles); });
    thread_ = std::thread([this] { server_->run(); });
    client_ = make_tcp_transport("127.0.0.1", server_->port());
  }
  ~ServedTransport() override {
    client_.reset();  // the server sees the close before it stops
    if (server_) server_->stop();
    stop_ = true;
    thread_.join();
  }
  ServedTransport(const ServedTransport&) = delete;
  ServedTransport& operator=(const ServedTransport&) = delete;

  void csr_write(std::uint32_t addr, std::uint32_t data) override {
    client_->csr_write(addr, data);
  }
  std::uint32_t csr_read(std::uint32_t addr) override { return client_->csr_read(addr); }
  void stream_write(std::span<const std::uint8_t> bytes, bool ends_packet) override {
    client_->stream_write(bytes, ends_packet);
  }
  std::vector<std::uint8_t> stream_read(std::uint32_t beats, std::uint64_t cycle_budget) override {
    return client_->stream_read(beats, cycle_budget);
  }
  std::uint64_t wait_idle(std::uint64_t cycle_budget) override {
    return client_->wait_idle(cycle_budget);
  }
  std::uint64_t wait_status_clear(std::uint32_t mask, std::uint64_t cycle_budget) override {
    return client_->wait_status_clear(mask, cycle_budget);
  }
  void reset() override { client_->reset(); }
  void trace_start(const TraceRequest& request) override { client_->trace_start(request); }
  void trace_stop() override { client_->trace_stop(); }
  SimStats stats() override { return client_->stats(); }
  BufferLimits limits() override { return client_->limits(); }

 private:
  std::unique_ptr<sim::SimTransport> engine_;
  std::ostringstream log_;
  std::unique_ptr<server::SimServer> server_;
  std::unique_ptr<server::RequestExecutor> executor_;  // serial
  std::unique_ptr<board::Pty> pty_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::unique_ptr<Transport> client_;
};

}  // namespace

std::string test_backend() {
  const char* env = std::getenv("TESSERA_TEST_BACKEND");
  const std::string backend = env != nullptr && *env != '\0' ? env : "sim";
  if (backend != "sim" && backend != "tcp" && backend != "tcp-bounded" && backend != "serial") {
    throw std::invalid_argument("TESSERA_TEST_BACKEND=" + backend +
                                ": expected sim, tcp, tcp-bounded or serial");
  }
  return backend;
}

std::unique_ptr<Transport> make_test_transport(const sim::SimOptions& options) {
  const std::string backend = test_backend();
  if (backend == "tcp") return std::make_unique<ServedTransport>(options, false);
  if (backend == "tcp-bounded") return std::make_unique<ServedTransport>(options, true);
  if (backend == "serial") return std::make_unique<ServedTransport>(options, true, true);
  return sim::make_sim_transport(options);
}

std::unique_ptr<Transport> make_bounded_tcp_transport(const sim::SimOptions& options) {
  return std::make_unique<ServedTransport>(options, true);
}

}  // namespace tessera::test
