#include "server_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tessera::server {
namespace {

using nlohmann::json;

std::string type_of(const json& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) return "a negative integer";
  if (value.is_number_float()) return "a floating-point number";
  return std::string("a ") + value.type_name();
}

class KeyReader {
 public:
  KeyReader(const std::string& source, const std::string& key, const json& value)
      : source_(source), key_(key), value_(value) {}

  [[noreturn]] void fail(const std::string& expected) const {
    throw InputError(source_ + ": key '" + key_ + "' must be " + expected + ", got " +
                     type_of(value_) + " (" + value_.dump() + ")");
  }

  std::uint64_t unsigned_in(std::uint64_t lo, std::uint64_t hi) const {
    const std::string range = "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    if (!value_.is_number_unsigned()) fail(range);
    const auto v = value_.get<std::uint64_t>();
    if (v < lo || v > hi) {
      throw InputError(source_ + ": key '" + key_ + "' must be " + range + ", got " +
                       std::to_string(v));
    }
    return v;
  }

  std::string string() const {
    if (!value_.is_string()) fail("a string");
    return value_.get<std::string>();
  }

  bool boolean() const {
    if (!value_.is_boolean()) fail("true or false");
    return value_.get<bool>();
  }

  std::string one_of(std::initializer_list<const char*> choices) const {
    std::string list;
    for (const char* c : choices) list += std::string(list.empty() ? "" : " or ") + "\"" + c + "\"";
    if (!value_.is_string()) fail(list);
    const auto v = value_.get<std::string>();
    for (const char* c : choices) {
      if (v == c) return v;
    }
    throw InputError(source_ + ": key '" + key_ + "' must be " + list + ", got \"" + v + "\"");
  }

 private:
  const std::string& source_;
  const std::string& key_;
  const json& value_;
};

constexpr const char* kKnownKeys =
    "listen, trace_dir, idle_timeout_ms, max_payload_bytes, max_bad_frames, busy_policy, "
    "busy_grace_ms, max_waiting_clients, reset_on_connect, max_buffered_output_beats, "
    "bounded, log, engine";

}  // namespace

const char* busy_policy_name(BusyPolicy policy) {
  return policy == BusyPolicy::kWait ? "wait" : "reject";
}

std::string listen_text(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void parse_listen(const std::string& text, std::string& host, std::uint16_t& port,
                  const std::string& where) {
  auto bad = [&](const std::string& why) {
    return InputError(where + " '" + text + "': " + why +
                      "; expected HOST:PORT, e.g. 127.0.0.1:7000");
  };
  std::string host_text;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw bad("IPv6 addresses are written [ADDR]:PORT");
    }
    host_text = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) throw bad("missing ':PORT'");
    host_text = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host_text == "localhost") host_text = "127.0.0.1";
  unsigned char address[16];
  const bool v4 = ::inet_pton(AF_INET, host_text.c_str(), address) == 1;
  const bool v6 = ::inet_pton(AF_INET6, host_text.c_str(), address) == 1;
  if (!v4 && !v6) throw bad("host '" + host_text + "' is not an IP address");
  if (v6 && text.front() != '[') throw bad("IPv6 addresses are written [ADDR]:PORT");
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    throw bad("port '" + port_text + "' is not a number");
  }
  const unsigned long value = std::stoul(port_text);
  if (value > 65535) throw bad("port " + port_text + " is outside 0..65535");
  host = host_text;
  port = static_cast<std::uint16_t>(value);
}

void apply_server_config(const json& config, ServerConfig& settings, const std::string& source) {
  if (!config.is_object()) {
    throw InputError(source + ": the top level must be a JSON object, got " + type_of(config));
  }
  for (const auto& [key, value] : config.items()) {
    const KeyReader read(source, key, value);
    if (key == "listen") {
      parse_listen(read.string(), settings.listen_host, settings.listen_port,
                   source + ": key 'listen'");
    } else if (key == "trace_dir") {
      settings.trace_dir = read.string();
      if (settings.trace_dir.empty()) {
        throw InputError(source + ": key 'trace_dir' must be a non-empty directory path");
      }
    } else if (key == "idle_timeout_ms") {
      settings.idle_timeout_ms = static_cast<std::uint32_t>(read.unsigned_in(0, 86'400'000));
    } else if (key == "max_payload_bytes") {
      settings.max_payload_bytes = static_cast<std::uint32_t>(
          read.unsigned_in(protocol::kMinMaxPayload, protocol::kMaxMaxPayload));
    } else if (key == "max_bad_frames") {
      settings.max_bad_frames = static_cast<std::uint32_t>(read.unsigned_in(1, 1'000'000));
    } else if (key == "busy_policy") {
      settings.busy_policy =
          read.one_of({"reject", "wait"}) == "wait" ? BusyPolicy::kWait : BusyPolicy::kReject;
    } else if (key == "busy_grace_ms") {
      settings.busy_grace_ms = static_cast<std::uint32_t>(read.unsigned_in(0, 600'000));
    } else if (key == "max_waiting_clients") {
      settings.max_waiting_clients = static_cast<std::uint32_t>(read.unsigned_in(1, 64));
    } else if (key == "reset_on_connect") {
      settings.reset_on_connect = read.boolean();
    } else if (key == "max_buffered_output_beats") {
      settings.max_buffered_output_beats = read.unsigned_in(1, std::uint64_t{1} << 32);
    } else if (key == "bounded") {
      settings.bounded = read.boolean();
    } else if (key == "log") {
      const std::string level = read.one_of({"quiet", "info", "debug"});
      settings.log = level == "quiet"   ? LogLevel::kQuiet
                     : level == "debug" ? LogLevel::kDebug
                                        : LogLevel::kInfo;
    } else if (key == "engine") {
      // Which builds exist is main()'s to check: this library links none.
      settings.engine = read.string();
      settings.engine_source = source + ": key 'engine'";
    } else {
      throw InputError(source + ": unknown key '" + key + "' (known keys: " + kKnownKeys + ")");
    }
  }
}

void load_server_config(const std::string& path, ServerConfig& settings) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open config file");
  json config;
  try {
    config = json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": invalid JSON: " + e.what());
  }
  apply_server_config(config, settings, path);
}

}  // namespace tessera::server
