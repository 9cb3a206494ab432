// TcpTransport: the Transport interface over the wire protocol to tessera-sim. The
// request logic is FrameClient's (frame_client.hpp, shared with the serial transport);
// Asio is used for name resolution, connect (with a timeout) and socket ownership.

// clang-format off
#include <utility>  // first: Boost 1.74 Asio under C++20 needs std::exchange
// clang-format on
#include "tessera/tcp_transport.hpp"

#include <algorithm>
#include <boost/asio.hpp>

#include "frame_client.hpp"

namespace tessera {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

detail::LinkPolicy tcp_policy(const DeviceSpec& spec, const TcpOptions& options) {
  detail::LinkPolicy policy;
  policy.name = spec.text();
  policy.reply_timeout = options.io_timeout;
  policy.budget_cycles_per_second = options.budget_cycles_per_second;
  policy.max_payload = options.max_payload;
  policy.send_batch_bytes = options.send_batch_bytes;
  return policy;
}

class TcpTransport final : public detail::FrameClient {
 public:
  TcpTransport(const DeviceSpec& spec, const TcpOptions& options)
      : FrameClient(tcp_policy(spec, options)), options_(options), socket_(io_) {
    connect(spec);
    open_session(socket_.native_handle());
  }

  ~TcpTransport() override {
    close_session();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

 private:
  TcpOptions options_;
  asio::io_context io_;
  tcp::socket socket_;

  void connect(const DeviceSpec& spec) {
    error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(spec.host, std::to_string(spec.port), ec);
    if (ec) throw TransportError(name() + ": cannot resolve '" + spec.host + "': " + ec.message());
    bool done = false;
    error_code connect_ec;
    asio::async_connect(socket_, endpoints, [&](const error_code& e, const tcp::endpoint&) {
      connect_ec = e;
      done = true;
    });
    io_.run_for(options_.connect_timeout);
    if (!done) {
      socket_.close(ec);
      io_.restart();
      io_.run();
      throw TransportError(name() + ": connect timed out after " +
                           std::to_string(options_.connect_timeout.count()) + " ms");
    }
    if (connect_ec) {
      throw TransportError(name() + ": cannot connect: " + connect_ec.message() +
                           " (is tessera-sim listening there?)");
    }
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    if (ec) throw TransportError(name() + ": cannot configure socket: " + ec.message());
  }
};

}  // namespace

std::string DeviceSpec::text() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return "tcp://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_tcp_device_spec(const std::string& spec) { return spec.rfind("tcp://", 0) == 0; }

DeviceSpec parse_device_spec(const std::string& spec) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError("device '" + spec + "': " + why +
                      "; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:7000");
  };
  if (!is_tcp_device_spec(spec)) throw bad("unknown scheme");
  const std::string rest = spec.substr(6);
  DeviceSpec result;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) throw bad("unterminated '[' in IPv6 host");
    result.host = rest.substr(1, close - 1);
    if (close + 1 >= rest.size() || rest[close + 1] != ':') throw bad("missing ':PORT'");
    port_text = rest.substr(close + 2);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string::npos) throw bad("missing ':PORT'");
    result.host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (result.host.find(':') != std::string::npos) throw bad("put an IPv6 host in brackets");
  }
  if (result.host.empty()) throw bad("empty host");
  if (result.host.find_first_of("/?#@ ") != std::string::npos) throw bad("bad character in host");
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    throw bad("port '" + port_text + "' is not a number");
  }
  const unsigned long port = std::stoul(port_text);
  if (port == 0 || port > 65535) throw bad("port " + port_text + " is outside 1..65535");
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

std::unique_ptr<Transport> make_tcp_transport(const std::string& host, std::uint16_t port,
                                              const TcpOptions& options) {
  return std::make_unique<TcpTransport>(DeviceSpec{host, port}, options);
}

}  // namespace tessera
