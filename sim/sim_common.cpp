// What every engine build shares: fault specs and the names in the command log.
#include <cctype>
#include <stdexcept>
#include <string>

#include "sim_transport.hpp"
#include "tessera/errors.hpp"

namespace tessera::sim {
namespace {

unsigned parse_unsigned(const std::string& text, const std::string& spec) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isdigit(static_cast<unsigned char>(text[0])) ||
      value > 0xFFFFFFFFull) {
    throw InputError("--inject-fault '" + spec + "': '" + text + "' is not a number");
  }
  return static_cast<unsigned>(value);
}

}  // namespace

Fault parse_fault(const std::string& spec) {
  const auto first = spec.find(':');
  const auto last = spec.rfind(':');
  const std::string usage =
      " (expected pe:ROW,COL:stuck0, stream-in:BEAT:drop or stream-out:BEAT:drop)";
  if (first == std::string::npos || first == last) {
    throw InputError("--inject-fault '" + spec + "': not a fault spec" + usage);
  }
  const std::string unit = spec.substr(0, first);
  const std::string where = spec.substr(first + 1, last - first - 1);
  const std::string what = spec.substr(last + 1);
  Fault fault;
  if (unit == "pe" && what == "stuck0") {
    const auto comma = where.find(',');
    if (comma == std::string::npos) {
      throw InputError("--inject-fault '" + spec + "': expected ROW,COL" + usage);
    }
    fault.kind = Fault::Kind::kPeStuck0;
    fault.row = parse_unsigned(where.substr(0, comma), spec);
    fault.col = parse_unsigned(where.substr(comma + 1), spec);
  } else if ((unit == "stream-in" || unit == "stream-out") && what == "drop") {
    fault.kind = unit == "stream-in" ? Fault::Kind::kStreamInDrop : Fault::Kind::kStreamOutDrop;
    fault.beat = parse_unsigned(where, spec);
  } else {
    throw InputError("--inject-fault '" + spec + "': unknown fault" + usage);
  }
  return fault;
}

std::string fault_spec(const Fault& fault) {
  switch (fault.kind) {
    case Fault::Kind::kPeStuck0:
      return "pe:" + std::to_string(fault.row) + "," + std::to_string(fault.col) + ":stuck0";
    case Fault::Kind::kStreamInDrop:
      return "stream-in:" + std::to_string(fault.beat) + ":drop";
    case Fault::Kind::kStreamOutDrop:
      return "stream-out:" + std::to_string(fault.beat) + ":drop";
  }
  return "?";
}

std::string fault_class(const Fault& fault) {
  switch (fault.kind) {
    case Fault::Kind::kPeStuck0:
      return "pe-stuck0";
    case Fault::Kind::kStreamInDrop:
      return "stream-in-drop";
    case Fault::Kind::kStreamOutDrop:
      return "stream-out-drop";
  }
  return "?";
}

const char* status_name(CommandRecord::Status status) {
  switch (status) {
    case CommandRecord::Status::kQueued:
      return "queued";
    case CommandRecord::Status::kIssued:
      return "running";
    case CommandRecord::Status::kRetired:
      return "retired";
    case CommandRecord::Status::kDropped:
      return "dropped";
    case CommandRecord::Status::kCleared:
      return "cleared";
  }
  return "?";
}

}  // namespace tessera::sim
