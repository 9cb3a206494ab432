// SerialTransport: the wire protocol over a serial device. Asio opens the port and sets
// its line (raw 8N1, baud, no flow control); FrameClient (frame_client.hpp) does the
// rest on the descriptor, with the lossy-link policy of docs/protocol.md "Serial".

// clang-format off
#include <utility>  // first: Boost 1.74 Asio under C++20 needs std::exchange
// clang-format on
#include "tessera/serial_transport.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <boost/asio.hpp>

#include "frame_client.hpp"

namespace tessera {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr unsigned kMinBaud = 300;
constexpr unsigned kMaxBaud = 12'000'000;

detail::LinkPolicy serial_policy(const SerialDeviceSpec& spec, const SerialOptions& options) {
  detail::LinkPolicy policy;
  policy.name = spec.text();
  policy.reply_timeout = options.reply_timeout;
  policy.max_payload = options.max_payload;
  policy.send_batch_bytes = options.send_batch_bytes;
  policy.lossy = true;
  return policy;
}

class SerialTransport final : public detail::FrameClient {
 public:
  SerialTransport(const SerialDeviceSpec& spec, const SerialOptions& options)
      : FrameClient(serial_policy(spec, options)), port_(io_) {
    error_code ec;
    port_.open(spec.path, ec);
    if (ec) {
      throw TransportError(name() + ": cannot open " + spec.path + ": " + ec.message() +
                           " (is the board plugged in, or tessera-sim --pty running?)");
    }
    using port = asio::serial_port;
    port_.set_option(port::baud_rate(spec.baud), ec);
    if (ec)
      throw TransportError(name() + ": cannot set " + std::to_string(spec.baud) +
                           " baud: " + ec.message());
    port_.set_option(port::character_size(8), ec);
    if (!ec) port_.set_option(port::parity(port::parity::none), ec);
    if (!ec) port_.set_option(port::stop_bits(port::stop_bits::one), ec);
    if (!ec) port_.set_option(port::flow_control(port::flow_control::none), ec);
    if (ec) throw TransportError(name() + ": cannot configure 8N1: " + ec.message());
    const int fd = port_.native_handle();
    ::ioctl(fd, TIOCEXCL);  // one client at a time, as a board's bridge serves one
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      throw TransportError(name() + ": cannot make " + spec.path + " non-blocking");
    }
    open_session(fd);
  }

  ~SerialTransport() override {
    close_session();
    error_code ignored;
    port_.close(ignored);
  }

 private:
  asio::io_context io_;
  asio::serial_port port_;
};

}  // namespace

std::string SerialDeviceSpec::text() const {
  std::string text = "serial://" + path;
  if (baud != SerialOptions{}.baud) text += "?baud=" + std::to_string(baud);
  return text;
}

bool is_serial_device_spec(const std::string& spec) { return spec.rfind("serial://", 0) == 0; }

SerialDeviceSpec parse_serial_device_spec(const std::string& spec) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError("device '" + spec + "': " + why +
                      "; expected serial://PATH[?baud=N], e.g. serial:///dev/ttyUSB1?baud=1000000");
  };
  if (!is_serial_device_spec(spec)) throw bad("unknown scheme");
  std::string rest = spec.substr(9);
  SerialDeviceSpec result;
  const std::size_t query = rest.find('?');
  if (query != std::string::npos) {
    const std::string option = rest.substr(query + 1);
    rest.resize(query);
    if (option.rfind("baud=", 0) != 0) throw bad("unknown option '" + option + "' (only baud=N)");
    const std::string number = option.substr(5);
    if (number.empty() || number.size() > 8 ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      throw bad("baud '" + number + "' is not a number");
    }
    result.baud = static_cast<unsigned>(std::stoul(number));
    if (result.baud < kMinBaud || result.baud > kMaxBaud) {
      throw bad("baud " + number + " is outside " + std::to_string(kMinBaud) + ".." +
                std::to_string(kMaxBaud));
    }
  }
  if (rest.empty()) throw bad("no device path");
  if (rest.front() != '/') throw bad("the device path must be absolute (serial:///dev/...)");
  result.path = rest;
  return result;
}

std::unique_ptr<Transport> make_serial_transport(const SerialDeviceSpec& spec,
                                                 SerialOptions options) {
  return std::make_unique<SerialTransport>(spec, options);
}

}  // namespace tessera
