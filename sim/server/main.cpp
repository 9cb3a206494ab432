// tessera-sim: hosts a Verilated engine and serves the wire protocol over TCP.
//   tessera-sim [--engine NAME] [--listen HOST:PORT] [--config FILE.json] [--trace-dir DIR]
//               [--bounded]
//   tessera-sim [--engine NAME] [--bounded] --pty   (serial, over a pseudo-terminal)
//   tessera-sim --board NAME --pty             (a board's FPGA top, UART at the bit level)
// Exit codes: 0 ok or stopped by SIGINT/SIGTERM, 2 bad usage or config, 3 cannot bind
// or the engine failed.
#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "board_sim.hpp"
#include "engine_builds.hpp"
#include "pty.hpp"
#include "server_config.hpp"
#include "sim_server.hpp"
#include "sim_transport.hpp"

int main(int argc, char** argv) {
  using namespace tessera;
  std::signal(SIGPIPE, SIG_IGN);  // a vanished client is an error code, not a death

  CLI::App app{
      "tessera-sim: hosts the Verilated engine and serves the wire protocol over "
      "TCP (docs/protocol.md). One client is served at a time; SIGINT/SIGTERM "
      "finish the current request and exit 0."};
  std::optional<std::string> listen;
  std::optional<std::string> config_path;
  std::optional<std::string> trace_dir;
  std::optional<std::string> engine_name;
  bool bounded = false;
  bool pty = false;
  std::optional<std::string> board_name;
  std::string choices;
  for (const auto& build : server::engine_builds()) {
    choices += (choices.empty() ? "" : ", ") + std::string(build.name);
  }
  app.add_option("--engine", engine_name,
                 "engine build to serve: " + choices + " (default 16x16; config key \"engine\")");
  app.add_option("--listen", listen,
                 "HOST:PORT to serve (default 127.0.0.1:7000; port 0 picks a free port); "
                 "prints 'listening on HOST:PORT' once ready");
  app.add_option("--config", config_path,
                 "server settings, JSON (docs/protocol.md, \"Server\"); the options here "
                 "override the file");
  app.add_option("--trace-dir", trace_dir,
                 "directory for the FST traces clients request (default .)");
  app.add_flag("--bounded", bounded,
               "serve with a board's buffers: STREAM_WRITE blocks until the engine takes "
               "it, no results held beyond the engine's FIFO (config key \"bounded\")");
  std::string boards;
  for (const auto& board : board::board_builds()) {
    boards += (boards.empty() ? "" : ", ") + std::string(board.name);
  }
  app.add_flag("--pty", pty,
               "serve over a new pseudo-terminal instead of TCP, as a board's serial port "
               "(docs/protocol.md, \"Serial\"); prints 'pty /dev/pts/N' once ready");
  app.add_option("--board", board_name,
                 "with --pty: simulate this board's FPGA top, UART bridge included, at the "
                 "bit level instead of serving the engine: " +
                     boards);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  server::ServerConfig config;
  try {
    if (config_path) server::load_server_config(*config_path, config);
    if (listen) server::parse_listen(*listen, config.listen_host, config.listen_port, "--listen");
    if (engine_name) {
      config.engine = *engine_name;
      config.engine_source = "--engine";
    }
    if (bounded) config.bounded = true;
    if (trace_dir) {
      if (trace_dir->empty()) throw InputError("--trace-dir needs a directory");
      config.trace_dir = *trace_dir;
    }
    std::error_code ec;
    std::filesystem::create_directories(config.trace_dir, ec);
    if (ec || !std::filesystem::is_directory(config.trace_dir)) {
      throw InputError("trace directory '" + config.trace_dir +
                       "' cannot be created: " + (ec ? ec.message() : "not a directory"));
    }
  } catch (const InputError& e) {
    std::cerr << "tessera-sim: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (board_name) {
    const board::BoardBuild* found = nullptr;
    for (const auto& candidate : board::board_builds()) {
      if (*board_name == candidate.name) found = &candidate;
    }
    if (!pty || found == nullptr) {
      std::cerr << "tessera-sim: --board "
                << (!pty ? "needs --pty"
                         : "'" + *board_name + "' is not built (built: " + boards + ")")
                << "\n";
      return kExitBadInput;
    }
    try {
      board::Pty terminal;
      board::serve_board(terminal, *found, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "tessera-sim: " << e.what() << "\n";
      return kExitEngine;
    }
    return kExitOk;
  }
  const sim::EngineBuild* build = nullptr;
  for (const auto& candidate : server::engine_builds()) {
    if (config.engine == candidate.name) build = &candidate;
  }
  if (build == nullptr) {
    std::cerr << "tessera-sim: " << config.engine_source << ": unknown engine '" << config.engine
              << "' (built: " << choices << ")\n";
    return kExitBadInput;
  }

  try {
    sim::SimOptions options;
    // Bounded: only the engine's own output FIFO holds results nobody has read.
    options.max_buffered_output_beats = config.bounded ? 0 : config.max_buffered_output_beats;
    auto engine = build->make(options);
    config.engine_name = std::string("tessera-sim ") + build->name;
    auto push_input = [&engine](std::uint64_t stall_cycles) { engine->push_input(stall_cycles); };
    if (pty) {
      board::serve_engine_pty(config, *engine, push_input, std::cout, std::cerr);
      return kExitOk;
    }
    server::SimServer server(config, *engine, std::cerr, push_input);
    server.enable_signals();
    std::cout << "listening on " << server.listen_address() << std::endl;
    server.run();
  } catch (const InputError& e) {
    std::cerr << "tessera-sim: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "tessera-sim: " << e.what() << "\n";
    return kExitEngine;
  }
  return kExitOk;
}
