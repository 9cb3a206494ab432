#include "request_executor.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "tessera/errors.hpp"
#include "tessera/isa.hpp"

namespace tessera::server {
namespace {

using namespace protocol;

// A well-formed frame asking for something the server will not do.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void append_error(std::vector<std::uint8_t>& out, std::uint32_t seq, ErrorCode code,
                  std::uint8_t type, const std::string& message) {
  append_frame(out, static_cast<std::uint8_t>(MsgType::kError), 0, seq,
               encode(ErrorReply{code, type, message}));
}

}  // namespace

RequestExecutor::RequestExecutor(Transport& engine, ExecutorOptions options)
    : engine_(engine),
      options_(std::move(options)),
      decoder_(options_.max_payload_bytes),
      client_max_payload_(options_.max_payload_bytes) {
  const std::uint32_t stream = engine_.csr_read(isa::csr::kCfgStream);
  in_beat_bytes_ = static_cast<std::uint16_t>(stream & 0xFFFF);
  out_beat_bytes_ = static_cast<std::uint16_t>(stream >> 16);
  if (in_beat_bytes_ == 0 || out_beat_bytes_ == 0) {
    throw EngineError(
        "engine reports zero stream beat width (CFG_STREAM = " + std::to_string(stream) + ")");
  }
  if (std::uint64_t{out_beat_bytes_} + 8 > options_.max_payload_bytes) {
    throw InputError("max_payload_bytes " + std::to_string(options_.max_payload_bytes) +
                     " cannot hold one output beat");
  }
  if (options_.bounded && !options_.push_input) {
    throw InputError("bounded mode needs an engine that can push its input (push_input)");
  }
}

void RequestExecutor::begin_session() {
  decoder_.clear();
  posted_failure_.reset();
  consecutive_bad_ = 0;
  client_max_payload_ = options_.max_payload_bytes;
}

std::size_t RequestExecutor::discard_buffered() {
  const std::size_t dropped = decoder_.buffered();
  decoder_.clear();
  return dropped;
}

BufferLimits RequestExecutor::limits() const {
  if (!options_.bounded) return BufferLimits{};
  return BufferLimits{0, options_.output_beats};
}

void RequestExecutor::log(LogLevel level, const std::string& message) const {
  if (!options_.log || static_cast<int>(level) > static_cast<int>(options_.log_level)) return;
  options_.log(level, message);
}

std::size_t RequestExecutor::feed(std::span<const std::uint8_t> bytes) {
  return decoder_.feed(bytes);
}

std::optional<StepOutcome> RequestExecutor::step(std::vector<std::uint8_t>& out) {
  auto event = decoder_.poll();
  if (!event) return std::nullopt;
  if (!event->is_frame()) return handle_bad_frame(*event, out);
  return handle_frame(event->frame, out);
}

void RequestExecutor::process(std::span<const std::uint8_t> bytes, std::vector<std::uint8_t>& out) {
  for (;;) {
    while (step(out)) {
    }
    if (bytes.empty()) return;
    // A full decoder always yields an event, so this takes bytes on every other pass.
    bytes = bytes.subspan(feed(bytes));
  }
}

StepOutcome RequestExecutor::handle_bad_frame(const DecodeEvent& event,
                                              std::vector<std::uint8_t>& out) {
  ++consecutive_bad_;
  StepOutcome outcome;
  outcome.kind = StepOutcome::Kind::kBadFrame;
  outcome.message = event.describe();
  outcome.code = ErrorCode::kBadFrame;
  if (event.error == FrameError::kBadVersion) outcome.code = ErrorCode::kBadVersion;
  if (event.error == FrameError::kTooLarge) outcome.code = ErrorCode::kTooLarge;
  outcome.consecutive_bad_frames = consecutive_bad_;
  const std::uint32_t seq = event.header_valid ? event.seq : 0;
  append_error(out, seq, outcome.code, event.header_valid ? event.type : 0, outcome.message);
  // A lost POSTED request must still surface at the client's next synchronous call.
  if (event.header_valid && (event.flags & kFlagPosted) && !posted_failure_) {
    posted_failure_ = "request #" + std::to_string(seq) + " (" + msg_type_name(event.type) + ")";
  }
  return outcome;
}

StepOutcome RequestExecutor::handle_frame(const Frame& frame, std::vector<std::uint8_t>& out) {
  consecutive_bad_ = 0;
  const bool posted = (frame.flags & kFlagPosted) != 0;
  // Built only when needed: the success path of a posted write allocates nothing.
  auto request = [&] {
    return describe_request(frame) + " [request #" + std::to_string(frame.seq) +
           (posted ? ", posted]" : "]");
  };
  StepOutcome outcome;
  if (posted_failure_) {
    outcome.kind = StepOutcome::Kind::kSkipped;
    if (posted) {
      if (options_.log_level >= LogLevel::kDebug) log(LogLevel::kDebug, "skipped " + request());
      return outcome;
    }
    outcome.code = ErrorCode::kSkipped;
    outcome.message =
        request() + " not executed: the earlier posted " + *posted_failure_ + " failed";
    append_error(out, frame.seq, ErrorCode::kSkipped, frame.type, outcome.message);
    posted_failure_.reset();
    return outcome;
  }

  ErrorCode code = ErrorCode::kInternal;
  std::string what;
  try {
    if ((frame.flags & ~kKnownFlags) != 0) {
      throw BadRequest("unknown flag bits " + std::to_string(frame.flags & ~kKnownFlags));
    }
    if ((frame.flags & kFlagMore) != 0 &&
        frame.type != static_cast<std::uint8_t>(MsgType::kStreamWrite)) {
      throw BadRequest("flag MORE applies to STREAM_WRITE only");
    }
    if (posted && !may_be_posted(frame.type)) {
      throw BadRequest(msg_type_name(frame.type) + " may not be posted (its reply carries data)");
    }
    Bytes reply = execute(frame);
    if (!posted) append_frame(out, frame.type | kReplyBit, 0, frame.seq, reply);
    return outcome;
  } catch (const BadRequest& e) {
    code = ErrorCode::kBadRequest;
    what = e.what();
  } catch (const ProtocolError& e) {  // before TransportError: it is one
    code = ErrorCode::kBadRequest;
    what = e.what();
  } catch (const EngineError& e) {
    code = ErrorCode::kEngine;
    what = e.what();
  } catch (const InputError& e) {
    code = ErrorCode::kInput;
    what = e.what();
  } catch (const TransportError& e) {
    code = ErrorCode::kTransport;
    what = e.what();
  } catch (const std::exception& e) {
    code = ErrorCode::kInternal;
    what = std::string("internal error: ") + e.what();
  }
  outcome.kind = StepOutcome::Kind::kFailed;
  outcome.code = code;
  outcome.message = request() + " failed: " + what;
  log(LogLevel::kDebug, outcome.message);
  append_error(out, frame.seq, code, frame.type, outcome.message);
  if (posted) {
    posted_failure_ = "request #" + std::to_string(frame.seq) + " " + describe_request(frame);
  }
  return outcome;
}

Bytes RequestExecutor::execute(const Frame& frame) {
  const std::span<const std::uint8_t> p = frame.payload;
  switch (static_cast<MsgType>(frame.type)) {
    case MsgType::kHello: {
      const HelloRequest hello = decode_hello_request(p);
      client_max_payload_ = std::clamp(hello.max_payload, kMinMaxPayload, kMaxMaxPayload);
      return encode(HelloReply{options_.max_payload_bytes, in_beat_bytes_, out_beat_bytes_,
                               options_.server_name});
    }
    case MsgType::kLimits: {
      expect_empty(p, "LIMITS");
      const BufferLimits limits = this->limits();
      return encode(LimitsReply{limits.input_ahead_bytes, limits.output_beats});
    }
    case MsgType::kCsrWrite: {
      const CsrWriteRequest write = decode_csr_write(p);
      engine_.csr_write(write.addr, write.data);
      return {};
    }
    case MsgType::kCsrRead:
      return encode_u32(engine_.csr_read(decode_u32(p, "CSR_READ")));
    case MsgType::kStreamWrite:
      engine_.stream_write(p, (frame.flags & kFlagMore) == 0);
      if (options_.bounded && !p.empty()) {
        // As on a board: the beats go into the engine now, or the request fails.
        try {
          options_.push_input(options_.stall_cycles);
        } catch (const TransportError& e) {
          throw TransportError(std::string(e.what()) +
                               " (bounded server: no input is held ahead of its LOAD and no "
                               "results beyond the engine's output FIFO; docs/protocol.md, "
                               "\"Bounded buffers\")");
        }
      }
      return {};
    case MsgType::kStreamRead: {
      const StreamReadRequest read = decode_stream_read(p);
      const std::uint64_t limit = std::min(options_.max_payload_bytes, client_max_payload_) - 8u;
      const std::uint64_t bytes = std::uint64_t{read.beats} * out_beat_bytes_;
      if (bytes > limit) {
        throw BadRequest("reply of " + std::to_string(bytes) + " bytes exceeds the " +
                         std::to_string(limit) + "-byte limit; split the read");
      }
      const std::uint64_t before = engine_.stats().cycles;
      StreamReadReply reply;
      reply.data = engine_.stream_read(read.beats, read.cycle_budget);
      reply.cycles = engine_.stats().cycles - before;
      if (reply.data.size() > limit) {
        throw std::runtime_error("engine returned " + std::to_string(reply.data.size()) + " bytes");
      }
      return encode(reply);
    }
    case MsgType::kWaitIdle:
      return encode_u64(engine_.wait_idle(decode_u64(p, "WAIT_IDLE")));
    case MsgType::kWaitStatus: {
      const WaitStatusRequest wait = decode_wait_status(p);
      return encode_u64(engine_.wait_status(wait.mask, wait.max_fifo_level, wait.cycle_budget));
    }
    case MsgType::kReset:
      expect_empty(p, "RESET");
      engine_.reset();
      return {};
    case MsgType::kTraceStart: {
      if (!options_.trace_dir) throw BadRequest("this server cannot trace");
      TraceRequest trace = decode_trace_start(p);
      trace.path = resolve_trace_path(trace.path);
      engine_.trace_start(trace);
      trace_active_ = true;
      log(LogLevel::kInfo, "trace started: " + trace.path);
      return {};
    }
    case MsgType::kTraceStop:
      if (!options_.trace_dir) throw BadRequest("this server cannot trace");
      expect_empty(p, "TRACE_STOP");
      engine_.trace_stop();
      trace_active_ = false;
      return {};
    case MsgType::kStats:
      expect_empty(p, "STATS");
      return encode_u64(engine_.stats().cycles);
    case MsgType::kPing:
      expect_empty(p, "PING");
      return {};
    default:
      throw BadRequest("unknown request type " + msg_type_name(frame.type));
  }
}

void RequestExecutor::stop_trace(const std::string& why) {
  if (!trace_active_) return;
  trace_active_ = false;
  try {
    engine_.trace_stop();
    log(LogLevel::kInfo, "trace stopped: " + why);
  } catch (const std::exception& e) {
    log(LogLevel::kInfo, std::string("trace stop failed: ") + e.what());
  }
}

std::string RequestExecutor::resolve_trace_path(const std::string& requested) const {
  // Clients name the file; where it goes is the server's choice (--trace-dir), so a
  // remote client cannot write outside that directory.
  const std::filesystem::path name = std::filesystem::path(requested).filename();
  if (name.empty() || name == "." || name == "..") {
    throw InputError("trace path '" + requested + "' names no file");
  }
  return (std::filesystem::path(*options_.trace_dir) / name).string();
}

}  // namespace tessera::server
