// RequestExecutor: the server side of the wire protocol (docs/protocol.md) without any
// I/O, shared by every server that hosts an engine behind a byte stream: tessera-sim's
// TCP server (sim_server.cpp) and its serial/pseudo-terminal server. It decodes request
// frames, runs them against a Transport (the engine), and encodes the reply frames:
// posted requests (no reply on success; an error with the failed seq, later posted
// requests dropped, the next synchronous one answered SKIPPED), error replies with the
// exception's code, exact payload sizes, HELLO, LIMITS, CTRL.CLEAR (a CSR_WRITE: the
// engine Transport does the host's part), and in bounded mode the board bridge's
// STREAM_WRITE (blocks until the engine has taken every beat).
//
// API. One executor per engine; it serves one client (session) at a time.
//
//   RequestExecutor executor(engine, options);   // reads the beat widths (CFG_STREAM)
//   executor.begin_session();                    // a new client: decoder, posted state and
//                                                // the client's HELLO limit start over
//   // A byte-stream loop (pty): everything received in, every reply frame out.
//   std::vector<std::uint8_t> out;
//   executor.process(received, out);             // appends reply frames to `out`
//   write_all(out); out.clear();
//
//   // Step by step, for a server that acts on each outcome (logs, counts, drops):
//   std::size_t taken = executor.feed(bytes);    // what fits in the decoder (<= all)
//   while (auto outcome = executor.step(out)) { ... }  // one frame or decode error each
//
// Memory is bounded: the decoder holds at most one maximal frame; one step appends at
// most one reply (<= max_payload_bytes) and at most one error frame (~1 KiB). Nothing is
// thread-safe: call it from one thread. Engine exceptions never escape step/process;
// they become error replies. Policy (dropping a client after too many bad frames or an
// oversize length) is the caller's, from the outcomes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "server_config.hpp"
#include "tessera/protocol.hpp"
#include "tessera/transport.hpp"

namespace tessera::server {

struct ExecutorOptions {
  std::uint32_t max_payload_bytes = protocol::kDefaultMaxPayload;  // HELLO, frame limit
  std::string server_name = "engine";  // HELLO, e.g. "tessera-sim 16x16"
  // TRACE_START writes its file here (only the requested file name is used); nullopt:
  // TRACE_START and TRACE_STOP are BAD_REQUEST, as on a board.
  std::optional<std::string> trace_dir = ".";
  // Bounded mode (docs/protocol.md, "Bounded buffers"): STREAM_WRITE calls push_input
  // after queueing its beats, LIMITS answers {0, output_beats}. push_input must clock
  // the engine until it has taken every queued input beat, and throw TransportError
  // naming the likely cause when it takes none for `stall_cycles` (dropping the rest).
  bool bounded = false;
  std::uint32_t output_beats = 8;  // bounded: the engine's output FIFO (tsr_store_unit)
  std::uint64_t stall_cycles = std::uint64_t{1} << 24;
  std::function<void(std::uint64_t stall_cycles)> push_input;
  // Log lines (without a prefix); may be empty.
  std::function<void(LogLevel, const std::string&)> log;
  LogLevel log_level = LogLevel::kInfo;  // what `log` wants; kDebug lines cost a string
};

// What one step did, for the caller's log, statistics and policy.
struct StepOutcome {
  enum class Kind {
    kExecuted,  // a request ran; a synchronous one got its reply
    kFailed,    // a request was answered with an error (`code`, `message`)
    kSkipped,   // not executed: an earlier posted request failed (a posted one: nothing sent)
    kBadFrame,  // a decode error was answered (`code`, `message`)
  };
  Kind kind = Kind::kExecuted;
  protocol::ErrorCode code = protocol::ErrorCode::kInternal;
  std::string message;
  std::uint32_t consecutive_bad_frames = 0;  // kBadFrame: this one included
};

class RequestExecutor {
 public:
  // Reads the engine's beat widths (CFG_STREAM). Throws EngineError for zero widths,
  // InputError for a max_payload_bytes that cannot hold one output beat or a bounded
  // executor without push_input.
  RequestExecutor(Transport& engine, ExecutorOptions options);

  void begin_session();

  std::size_t feed(std::span<const std::uint8_t> bytes);
  std::optional<StepOutcome> step(std::vector<std::uint8_t>& out);
  // feed + step until every byte is consumed and no complete frame is left.
  void process(std::span<const std::uint8_t> bytes, std::vector<std::uint8_t>& out);

  // Executes one decoded frame / answers one decode error, appending to `out`.
  StepOutcome handle_frame(const protocol::Frame& frame, std::vector<std::uint8_t>& out);
  StepOutcome handle_bad_frame(const protocol::DecodeEvent& event, std::vector<std::uint8_t>& out);

  // Stops a trace a client left running (the client left, the server stops); logs why.
  void stop_trace(const std::string& why);

  std::size_t buffered() const { return decoder_.buffered(); }
  // Drops a partial frame (a serial link that went quiet mid-frame) and returns how
  // many bytes it held; unlike begin_session(), a posted failure still answers the next
  // synchronous request SKIPPED.
  std::size_t discard_buffered();
  std::uint16_t in_beat_bytes() const { return in_beat_bytes_; }
  std::uint16_t out_beat_bytes() const { return out_beat_bytes_; }
  const ExecutorOptions& options() const { return options_; }
  BufferLimits limits() const;

 private:
  protocol::Bytes execute(const protocol::Frame& frame);
  std::string resolve_trace_path(const std::string& requested) const;
  void log(LogLevel level, const std::string& message) const;

  Transport& engine_;
  ExecutorOptions options_;
  std::uint16_t in_beat_bytes_ = 0;
  std::uint16_t out_beat_bytes_ = 0;
  protocol::FrameDecoder decoder_;
  std::uint32_t client_max_payload_;
  std::uint32_t consecutive_bad_ = 0;
  bool trace_active_ = false;
  // Set when a POSTED request fails: later posted requests are dropped and the next
  // synchronous one is answered SKIPPED (docs/protocol.md, "Posted requests").
  std::optional<std::string> posted_failure_;
};

}  // namespace tessera::server
