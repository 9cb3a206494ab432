// Exceptions carry what was wrong and where; the CLI catches them once and maps each
// kind to its documented exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace tessera {

enum ExitCode : int {
  kExitOk = 0,
  kExitMismatch = 1,
  kExitBadInput = 2,
  kExitEngine = 3,
};

/// Bad command line, bad file, bad field: exit 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The engine reported an error or stopped answering: exit 3.
class EngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The link to the engine failed (connection, framing, timeout): exit 3.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tessera
