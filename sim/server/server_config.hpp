// tessera-sim settings: defaults, the strict JSON config file (--config), and the
// listen address syntax. Every problem is an InputError naming the file and key, which
// main() maps to exit 2.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "tessera/protocol.hpp"

namespace tessera::server {

enum class BusyPolicy {
  kReject,  // a second client gets an ERROR BUSY frame and is closed (the default)...
            // ...unless the first leaves within busy_grace_ms, so back-to-back runs
            // never race the server noticing the previous client's close
  kWait,    // a second client is queued (up to max_waiting_clients) and served later
};
enum class LogLevel { kQuiet, kInfo, kDebug };

struct ServerConfig {
  // JSON keys are the field names.
  std::string listen_host = "127.0.0.1";  // "listen": "HOST:PORT", loopback by default
  std::uint16_t listen_port = 7000;       // 0 picks a free port
  std::string trace_dir = ".";            // FST files go here (file name from the client)
  std::uint32_t idle_timeout_ms = 60000;  // drop a client silent this long; 0 never
  std::uint32_t max_payload_bytes = protocol::kDefaultMaxPayload;
  std::uint32_t max_bad_frames = 8;  // consecutive bad frames before a drop
  BusyPolicy busy_policy = BusyPolicy::kReject;
  std::uint32_t busy_grace_ms = 1000;     // "reject": how long a second client may wait
  std::uint32_t max_waiting_clients = 4;  // clients held (waiting or in grace) at once
  bool reset_on_connect = true;           // each client starts from a reset engine
  std::uint64_t max_buffered_output_beats = 1u << 20;  // passed to the in-process engine
  // The board's discipline (docs/protocol.md, "Bounded buffers"): STREAM_WRITE blocks
  // until the engine takes its beats, no output is held beyond the engine's FIFO, and
  // LIMITS says so (tessera-sim --bounded).
  bool bounded = false;
  LogLevel log = LogLevel::kInfo;          // "quiet" | "info" | "debug"
  std::string engine = "16x16";            // engine build to serve (tessera-sim --engine)
  std::string engine_source = "--engine";  // where `engine` was set, for error messages

  // Not settable from JSON.
  std::string engine_name = "engine";  // reported in HELLO, e.g. "tessera-sim 16x16"
  std::uint32_t linger_ms = 1000;      // how long a closing socket drains its input
};

// Parses "HOST:PORT" ("[v6]:PORT" for IPv6; "localhost" means 127.0.0.1; port 0..65535).
// `where` prefixes error messages (e.g. "--listen").
void parse_listen(const std::string& text, std::string& host, std::uint16_t& port,
                  const std::string& where);
std::string listen_text(const std::string& host, std::uint16_t port);

// Applies every key of `config` (a JSON object) over `settings`. Unknown keys and wrong
// types throw InputError("<source>: key '<key>' ...").
void apply_server_config(const nlohmann::json& config, ServerConfig& settings,
                         const std::string& source);
// Reads and applies a JSON file over `settings`.
void load_server_config(const std::string& path, ServerConfig& settings);

const char* busy_policy_name(BusyPolicy policy);

}  // namespace tessera::server
