// What the CLI tests share: running the real `tessera` binary in a directory of its own
// and looking at what it left there.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#ifndef TESSERA_CLI
#error "TESSERA_CLI must name the tessera binary (set by tests/cli/CMakeLists.txt)"
#endif

namespace tessera::cli_test {

namespace fs = std::filesystem;

// Nothing here should take more than a few seconds; a child that hangs is killed by
// SIGALRM (an alarm survives exec) and the test reports the signal.
inline constexpr unsigned kChildTimeoutSeconds = 60;

// ---------------------------------------------------------------------------------------
// Running the binary

struct CliResult {
  int exit_code = -1;      // 128 + signal when the child was killed
  std::string output;      // stdout and stderr, interleaved as the user sees them
  std::string transcript;  // command, output and exit code, for failure messages
};

inline CliResult run_cli(const std::vector<std::string>& args, const fs::path& cwd) {
  // Everything the child needs is built before fork: after fork only async-signal-safe
  // calls are allowed.
  std::vector<std::string> argv_strings = {TESSERA_CLI};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string cwd_string = cwd.string();

  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copies
    ::dup2(fds[1], STDERR_FILENO);
    if (::chdir(cwd_string.c_str()) != 0) ::_exit(126);
    ::alarm(kChildTimeoutSeconds);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);

  CliResult result;
  char buffer[4096];
  while (true) {
    const ssize_t got = ::read(fds[0], buffer, sizeof buffer);
    if (got > 0) {
      result.output.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
    result.output += "\n[killed by signal " + std::to_string(WTERMSIG(status)) + "]";
  }

  std::string command = "$ cd " + cwd_string + " && tessera";
  for (const std::string& a : args) command += " " + a;
  result.transcript =
      command + "\n" + result.output + "[exit " + std::to_string(result.exit_code) + "]";
  return result;
}

// ---------------------------------------------------------------------------------------
// Files

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tessera-cli-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every entry under `root`, recursively, as paths relative to it: the "nothing stray left
// behind" check compares these sets before and after a run.
inline std::set<std::string> list_tree(const fs::path& root) {
  std::set<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    names.insert(fs::relative(entry.path(), root).string());
  }
  return names;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace tessera::cli_test
