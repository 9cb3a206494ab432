// The debugging features end to end, through the tessera binaries a user runs: trace
// windows and command-gated traces (checked in the FST itself), the command log, fault
// injection, and the automatic capture around the first wrong value.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "trace_file.hpp"

namespace fs = std::filesystem;
using tessera::cli::TraceFile;

namespace {

const std::string kBin4 = TESSERA_BIN_4X4;     // 4x4 engine: small and fast
const std::string kBin16 = TESSERA_BIN_16X16;  // the default build
constexpr std::uint64_t kPeriod = 10;          // FST time per cycle

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr
};

Result run(const std::string& command) {
  Result result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
  const int status = pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Every scratch directory of this process lies under one, removed when the tests end.
struct ScratchRoot {
  fs::path path = fs::temp_directory_path() / ("tessera-debug-" + std::to_string(::getpid()));
  ~ScratchRoot() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

fs::path scratch(const std::string& name) {
  static const ScratchRoot root;
  const fs::path dir = root.path / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<nlohmann::json> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::uint64_t number(const std::string& text, const std::string& pattern) {
  std::smatch match;
  INFO(text);
  REQUIRE(std::regex_search(text, match, std::regex(pattern)));
  return std::stoull(match[1]);
}

// A signal's value at each sampled time, from its change list (a step function).
struct Steps {
  std::vector<std::pair<std::uint64_t, std::string>> changes;
  std::string at(std::uint64_t time) const {
    std::string value;
    for (const auto& [t, v] : changes) {
      if (t > time) break;
      value = v;
    }
    return value;
  }
};

std::string pe(unsigned r, unsigned c, const std::string& name) {
  return "tsr.tsr_top.u_array.gen_row[" + std::to_string(r) + "].gen_col[" + std::to_string(c) +
         "].u_pe." + name;
}

}  // namespace

TEST_CASE("--trace-window holds exactly the window's cycles", "[trace]") {
  const fs::path dir = scratch("window");
  const auto result = run(kBin4 + " gemm --m 24 --k 20 --n 10 --seed 3 --trace " +
                          (dir / "w.fst").string() + " --trace-window 100:300");
  INFO(result.output);
  REQUIRE(result.code == 0);
  TraceFile trace((dir / "w.fst").string());
  // Cycle c is dumped at 10c (clock low) and 10c + 5 (after its rising edge).
  CHECK(trace.start_time() == 100 * kPeriod);
  CHECK(trace.end_time() == 299 * kPeriod + kPeriod / 2);
  const auto clock = trace.changes("tsr.clk_i");
  int rising = 0;
  for (const auto& [time, value] : clock) {
    CHECK(time >= 100 * kPeriod);
    CHECK(time <= 299 * kPeriod + kPeriod / 2);
    rising += value == "1";
  }
  CHECK(rising == 200);

  SECTION("a full trace starts at the run's cycle 0 and covers all of it") {
    const auto full =
        run(kBin4 + " gemm --m 24 --k 20 --n 10 --seed 3 --trace " + (dir / "f.fst").string());
    REQUIRE(full.code == 0);
    TraceFile whole((dir / "f.fst").string());
    CHECK(whole.start_time() == 0);
    CHECK(whole.end_time() > trace.end_time());
  }
}

TEST_CASE("the command log and --trace-kernel agree on when a command runs", "[trace]") {
  const fs::path dir = scratch("kernel");
  const std::string log = (dir / "cmds.jsonl").string();
  const auto result = run(kBin4 + " gemm --m 24 --k 20 --n 10 --seed 4 --log-commands " + log +
                          " --trace " + (dir / "k.fst").string() + " --trace-kernel 3");
  INFO(result.output);
  REQUIRE(result.code == 0);
  const auto commands = read_lines(log);
  REQUIRE(commands.size() > 4);

  // Every command retired, in order, each pushed before issued before retired; a GEMM
  // never issues before an earlier LOAD that writes its PARAM words has retired, nor
  // before one that writes its ACT or WGT words has issued (its folds then wait for
  // their own words: docs/isa.md, "Ordering"; 4x4 engine: Rows = Cols = 4).
  struct Written {
    std::string target;
    std::uint64_t lo, hi, issue, retire;
  };
  std::vector<Written> loads;
  const auto overlaps = [](std::uint64_t lo, std::uint64_t hi, const Written& w) {
    return lo < w.hi && w.lo < hi;
  };
  std::uint64_t rows_times_blocks = 0;
  int gemms = 0;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto& c = commands[i];
    INFO(c.dump());
    CHECK(c["index"] == i);
    CHECK(c["status"] == "retired");
    CHECK(c["push"].get<std::uint64_t>() < c["issue"].get<std::uint64_t>());
    CHECK(c["issue"].get<std::uint64_t>() < c["retire"].get<std::uint64_t>());
    if (i > 0) CHECK(c["issue"] >= commands[i - 1]["issue"]);
    if (c["op"] == "LOAD") {
      const auto dst = c["dst"].get<std::uint64_t>();
      loads.push_back({c["target"].get<std::string>(), dst, dst + c["count"].get<std::uint64_t>(),
                       c["issue"].get<std::uint64_t>(), c["retire"].get<std::uint64_t>()});
    } else {
      REQUIRE(c["op"] == "GEMM");
      const auto m = c["m_rows"].get<std::uint64_t>(), kt = c["kt"].get<std::uint64_t>(),
                 nt = c["nt"].get<std::uint64_t>();
      const auto act = c["act_base"].get<std::uint64_t>(), wgt = c["wgt_base"].get<std::uint64_t>(),
                 param = c["param_base"].get<std::uint64_t>();
      for (const Written& w : loads) {
        const bool read = w.target == "ACT"   ? overlaps(act, act + kt * m, w)
                          : w.target == "WGT" ? overlaps(wgt, wgt + nt * kt * 4, w)
                                              : overlaps(param, param + nt * 4, w);
        if (read)
          CHECK(c["issue"].get<std::uint64_t>() > (w.target == "PARAM" ? w.retire : w.issue));
      }
      rows_times_blocks += m * nt;
      ++gemms;
    }
  }
  CHECK(gemms >= 3);
  // N = 10 on 4 columns: the GEMMs cover three column blocks of all 24 rows.
  CHECK(rows_times_blocks == 24 * 3);

  REQUIRE(commands[3]["op"] == "GEMM");
  TraceFile trace((dir / "k.fst").string());
  CHECK(trace.start_time() == commands[3]["issue"].get<std::uint64_t>() * kPeriod);
  CHECK(trace.end_time() == commands[3]["retire"].get<std::uint64_t>() * kPeriod + kPeriod / 2);

  SECTION("a command the run does not have is an input error") {
    const auto bad = run(kBin4 + " gemm --m 4 --k 4 --n 4 --trace " + (dir / "x.fst").string() +
                         " --trace-kernel 99");
    CHECK(bad.code == 2);
    CHECK_THAT(bad.output, Catch::Contains("only 4 commands"));
  }
}

TEST_CASE("a stuck-at-0 PE is caught and captured around the first wrong value", "[capture]") {
  const fs::path dir = scratch("capture");
  const auto result = run(kBin4 +
                          " gemm --m 24 --k 20 --n 10 --seed 5 --check "
                          "--inject-fault pe:2,1:stuck0 --capture-dir " +
                          dir.string());
  INFO(result.output);
  REQUIRE(result.code == 1);
  CHECK_THAT(result.output, Catch::Contains("check: FAIL"));
  CHECK_THAT(result.output, Catch::Contains("array column 1"));
  CHECK_THAT(result.output, Catch::Contains("suspect: PE (2, 1)"));
  CHECK_THAT(result.output, Catch::Contains("reproduce: tessera gemm --m 24 --k 20 --n 10 --seed 5 "
                                            "--inject-fault pe:2,1:stuck0 --check"));

  const std::uint64_t start = number(result.output, R"(capture: cycles (\d+)\.\.)");
  const std::uint64_t end = number(result.output, R"(capture: cycles \d+\.\.(\d+))");
  const std::uint64_t beat = number(result.output, R"(output beat \d+ at cycle (\d+))");
  CHECK(start <= beat);
  CHECK(beat <= end);
  std::smatch open;
  REQUIRE(std::regex_search(result.output, open, std::regex(R"(gtkwave (\S+\.fst) (\S+\.gtkw))")));
  const std::string fst = open[1], gtkw = open[2];
  REQUIRE(fs::exists(fst));
  REQUIRE(fs::exists(gtkw));

  // The FST holds exactly the announced window...
  TraceFile trace(fst);
  CHECK(trace.start_time() == start * kPeriod);
  CHECK(trace.end_time() == end * kPeriod + kPeriod / 2);

  // ...and in it the faulty PE multiplies a nonzero activation by a nonzero weight
  // while its product reads zero: the fault acting on real data.
  Steps act{trace.changes(pe(2, 1, "act_i"))}, wgt{trace.changes(pe(2, 1, "wgt_sel"))};
  Steps product{trace.changes(pe(2, 1, "product"))},
      fault{trace.changes(pe(2, 1, "fault_stuck0_i"))};
  int faulty_cycles = 0;
  for (std::uint64_t cycle = start; cycle <= end; ++cycle) {
    const std::uint64_t t = cycle * kPeriod;
    if (fault.at(t) == "1" && tessera::cli::unsigned_value(act.at(t)) != 0 &&
        tessera::cli::unsigned_value(wgt.at(t)) != 0) {
      CHECK(tessera::cli::unsigned_value(product.at(t)) == 0);
      ++faulty_cycles;
    }
  }
  CHECK(faulty_cycles > 0);
  // A healthy PE of the same column computes real products in the same window.
  Steps healthy{trace.changes(pe(1, 1, "product"))};
  bool healthy_nonzero = false;
  for (const auto& [t, v] : healthy.changes)
    healthy_nonzero |= tessera::cli::unsigned_value(v) != 0;
  CHECK(healthy_nonzero);

  // The view opens on that window and shows column 1: every PE, accumulator and store lane.
  std::ifstream in(gtkw);
  const std::string view((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(view, Catch::Contains("[dumpfile] \"" + fs::absolute(fst).string() + "\""));
  CHECK_THAT(view, Catch::Contains("[timestart] " + std::to_string(start * kPeriod)));
  for (unsigned r = 0; r < 4; ++r) CHECK_THAT(view, Catch::Contains(pe(r, 1, "psum_o[31:0]")));
  CHECK_THAT(view, Catch::Contains("u_acc.gen_add[1].old_sum[31:0]"));
  CHECK_THAT(view, Catch::Contains("u_store.gen_lane[1].u_requant.data_o[31:0]"));
  CHECK_THAT(view, Catch::Contains("-suspect pe[2][1]"));
  const std::uint64_t marker = number(view, R"(\n\*-?[0-9.]+ (\d+) )");
  CHECK(marker >= start * kPeriod);
  CHECK(marker <= end * kPeriod + kPeriod / 2);

  SECTION("wave_png.sh renders the capture headlessly") {
    if (run("command -v xvfb-run && command -v gtkwave").code != 0) {
      WARN("xvfb-run or gtkwave missing: not rendering");
      return;
    }
    const std::string png = (dir / "capture.png").string();
    const auto render =
        run("bash " TESSERA_SOURCE_DIR "/scripts/wave_png.sh " + fst + " " + gtkw + " " + png);
    INFO(render.output);
    REQUIRE(render.code == 0);
    std::ifstream image(png, std::ios::binary);
    char magic[4] = {};
    image.read(magic, 4);
    CHECK(std::string(magic + 1, 3) == "PNG");
  }
}

TEST_CASE("the capture works on the default 16x16 build", "[capture]") {
  const fs::path dir = scratch("capture16");
  const auto result = run(kBin16 +
                          " gemm --m 40 --k 40 --n 20 --seed 1 --check "
                          "--inject-fault pe:3,5:stuck0 --capture-dir " +
                          dir.string());
  INFO(result.output);
  REQUIRE(result.code == 1);
  CHECK_THAT(result.output, Catch::Contains("array column 5"));
  CHECK_THAT(result.output, Catch::Contains("suspect: PE (3, 5)"));
  CHECK_THAT(result.output, Catch::Contains("open it: gtkwave "));
  CHECK_THAT(result.output, !Catch::Contains("warning"));
}

TEST_CASE("--no-capture leaves no files; a passing check captures nothing", "[capture]") {
  const fs::path dir = scratch("nocapture");
  const auto failing =
      run(kBin4 + " gemm --m 8 --k 8 --n 8 --check --inject-fault pe:0,0:stuck0 " +
          "--inject-fault pe:1,1:stuck0 --no-capture --capture-dir " + (dir / "a").string());
  INFO(failing.output);
  CHECK(failing.code == 1);
  CHECK_THAT(failing.output, Catch::Contains("--inject-fault pe:0,0:stuck0 --inject-fault "
                                             "pe:1,1:stuck0 --check"));
  CHECK_FALSE(fs::exists(dir / "a"));
  const auto passing =
      run(kBin4 + " gemm --m 8 --k 8 --n 8 --check --capture-dir " + (dir / "b").string());
  CHECK(passing.code == 0);
  CHECK_FALSE(fs::exists(dir / "b"));
}

TEST_CASE("dropped stream beats are caught: a short input packet, an output stall", "[faults]") {
  SECTION("input beat") {
    // The packet that lost a beat ends early (TLAST), so the engine raises STREAM at once
    // instead of its LOAD waiting for a beat that never comes.
    const auto result =
        run(kBin4 + " gemm --m 24 --k 20 --n 10 --check --inject-fault stream-in:7:drop");
    INFO(result.output);
    CHECK(result.code == 3);
    CHECK_THAT(result.output, Catch::Contains("engine error STREAM"));
    CHECK_THAT(result.output, Catch::Contains("never retired"));
  }
  SECTION("output beat") {
    const auto result =
        run(kBin4 + " gemm --m 24 --k 20 --n 10 --check --inject-fault stream-out:3:drop");
    INFO(result.output);
    CHECK(result.code == 3);
    CHECK_THAT(result.output, Catch::Contains("engine stalled"));
    CHECK_THAT(result.output, Catch::Contains("stream-out:3:drop"));
  }
}

TEST_CASE("fault specs and option combinations are checked", "[faults]") {
  const std::vector<std::string> bad = {
      "--inject-fault pe:4,0:stuck0",  // no such PE on 4x4
      "--inject-fault pe:1:stuck0",    // no column
      "--inject-fault pe:1,x:stuck0",
      "--inject-fault pe:1,1:stuck1",  // unknown fault
      "--inject-fault stream-in:-1:drop",
      "--inject-fault pe:0,0:stuck0 --device tcp://127.0.0.1:1",
      "--trace-window 10:20",  // no --trace
      "--trace x.fst --trace-window 20:10",
      "--trace x.fst --trace-window 0:10 --trace-kernel 1",
      "--trace x.fst --trace-kernel -1",
  };
  for (const auto& args : bad) {
    const auto result = run(kBin4 + " gemm --m 4 --k 4 --n 4 " + args);
    INFO(args << "\n" << result.output);
    CHECK(result.code == 2);
  }
}

TEST_CASE("the committed GTKWave views are current", "[waves]") {
  // sim/waves/*.gtkw come from `tessera waves --out sim/waves` on the 16x16 build, which
  // fails if the RTL lost a signal a view names. Regenerate them after an RTL rename.
  const fs::path dir = scratch("waves");
  const auto result = run(kBin16 + " waves --out " + dir.string());
  INFO(result.output);
  REQUIRE(result.code == 0);
  const fs::path committed = fs::path(TESSERA_SOURCE_DIR) / "sim" / "waves";
  std::size_t views = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++views;
    const fs::path mine = committed / entry.path().filename();
    INFO("stale view " << mine << ": run build/bin/tessera waves --out sim/waves");
    REQUIRE(fs::exists(mine));
    std::ifstream a(entry.path()), b(mine);
    const std::string fresh((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
    const std::string old((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
    CHECK(fresh == old);
  }
  CHECK(views == 7);
}
