#include "regress_batch.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>

#include "engine_run.hpp"
#include "sim_transport.hpp"
#include "spmm_problem.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/runtime.hpp"

namespace tessera::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Outcome {
  bool completed = false;  // run_gemm or run_sparse_gemm returned
  GemmRun run;
  std::string error;       // what was thrown, if not completed
  std::string error_kind;  // "engine error" | "stall" | "timeout" | "transport error"
  std::uint64_t input_beats = 0, output_beats = 0;
};

// Every kernel runs on a fresh engine, exactly as `tessera gemm --seed S` (or, with
// `sparse`, `tessera spmm`) does, so the command a failure prints reproduces it cycle for
// cycle.
Outcome execute(const GemmProblem& problem, const std::vector<sim::Fault>& faults,
                const std::optional<SparseSpec>& sparse) {
  sim::SimOptions options;
  options.faults = faults;
  auto engine = sim::make_sim_engine(options);
  Device device(*engine);
  Outcome outcome;
  try {
    outcome.run = run_kernel(device, problem, sparse);
    outcome.completed = true;
  } catch (const EngineError& e) {
    outcome.error = e.what();
    outcome.error_kind = "engine error";
  } catch (const TransportError& e) {
    outcome.error = e.what();
    const std::string text = e.what();
    outcome.error_kind = text.find("stalled") != std::string::npos     ? "stall"
                         : text.find("timed out") != std::string::npos ? "timeout"
                                                                       : "transport error";
  }
  outcome.input_beats = engine->input_beats();
  outcome.output_beats = engine->output_beats();
  return outcome;
}

std::size_t count_mismatches(const Tensor<std::int32_t>& got, const Tensor<std::int32_t>& want) {
  if (got.shape != want.shape) return want.data.size();
  std::size_t count = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) count += got.data[i] != want.data[i];
  return count;
}

// A stuck-at-0 PE (r, c) removes exactly the products with k = r (mod Rows) and
// n = c (mod Cols): the same as zeroing those weights.
GemmProblem with_pe_stuck0(GemmProblem problem, const sim::Fault& fault, unsigned rows,
                           unsigned cols) {
  for (std::size_t k = fault.row; k < problem.k(); k += rows) {
    for (std::size_t n = fault.col; n < problem.n(); n += cols) problem.b.at(k, n) = 0;
  }
  return problem;
}

// Rows and columns of the engine this binary links.
std::pair<unsigned, unsigned> array_shape() {
  static const std::pair<unsigned, unsigned> shape = [] {
    auto probe = sim::make_sim_engine();
    return std::pair{probe->rows(), probe->cols()};
  }();
  return shape;
}

// A sparse job's operand, format and density as the spmm flags they stand for: B
// unstructured --density D, B N:M --nm N:M (no density: the pattern fixes it), A
// (unstructured only) --a-density D.
PatternOptions pattern_options(const json& job) {
  const std::string operand = job.at("operand"), format = job.at("format");
  std::optional<double> density;
  if (job.contains("density") && !job.at("density").is_null()) density = job.at("density");
  PatternOptions options;
  if (operand != "a" && operand != "b") {
    throw InputError("operand: expected \"a\" or \"b\", got \"" + operand + "\"");
  }
  if (format == "unstructured") {
    if (!density) throw InputError("an unstructured sparse job needs a density");
    (operand == "a" ? options.a_density : options.density) = density;
  } else if (operand == "a") {
    throw InputError("a sparse A is unstructured, got format \"" + format + "\"");
  } else if (density) {
    throw InputError("an N:M sparse job takes no density (format \"" + format + "\")");
  } else {
    options.nm = format;
  }
  return options;
}

json run_job(const json& job) {
  json result = {{"id", job.at("id")}};
  const std::string kind = job.value("kind", "dense");
  if (kind != "dense" && kind != "sparse") throw InputError("unknown kernel kind '" + kind + "'");
  const std::size_t m = job.at("m"), k = job.at("k"), n = job.at("n");
  const std::uint64_t seed = job.at("seed");
  const bool requant = job.value("requant", false), relu = job.value("relu", false);
  const Rounding rounding = parse_rounding(job.value("rounding", "double"), "rounding");
  std::optional<SparseSpec> sparse;
  GemmProblem problem;
  if (kind == "sparse") {
    const SparsePattern pattern = sparse_pattern(pattern_options(job));
    problem = random_sparse_problem(m, k, n, seed, pattern, {requant, relu, true, rounding});
    sparse = pattern_spec(pattern);
  } else {
    problem = random_problem(m, k, n, seed, {requant, relu, true, rounding});
  }
  const Tensor<std::int32_t> want = golden_gemm(problem);

  std::vector<sim::Fault> faults;
  if (job.contains("inject")) {
    for (const auto& spec : job.at("inject")) faults.push_back(sim::parse_fault(spec));
  }
  const std::string mutant = job.contains("mutant") && job.at("mutant").is_string()
                                 ? job.at("mutant").get<std::string>()
                                 : "";

  const auto start = Clock::now();
  bool equivalent = false;
  // Mutants are dense kernels: the pe-stuck0 fault model (with_pe_stuck0) is the dense
  // array's mapping of products to PEs, which the sparse lanes do not share.
  if (!mutant.empty() && sparse) throw InputError("mutants run on dense kernels only");
  if (!mutant.empty()) {
    // Pick a site the kernel exercises, from the seed: a PE the data passes through, a
    // beat the run actually sends.
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 0x5bd1e995);
    sim::Fault fault;
    if (mutant == "pe-stuck0") {
      const auto [rows, cols] = array_shape();
      fault.kind = sim::Fault::Kind::kPeStuck0;
      fault.row = static_cast<unsigned>(rng() % std::min<std::size_t>(k, rows));
      fault.col = static_cast<unsigned>(rng() % std::min<std::size_t>(n, cols));
      equivalent = golden_gemm(with_pe_stuck0(problem, fault, rows, cols)).data == want.data;
    } else if (mutant == "stream-in-drop" || mutant == "stream-out-drop") {
      const Outcome clean = execute(problem, {}, sparse);
      const bool in = mutant == "stream-in-drop";
      const std::uint64_t beats = in ? clean.input_beats : clean.output_beats;
      fault.kind = in ? sim::Fault::Kind::kStreamInDrop : sim::Fault::Kind::kStreamOutDrop;
      fault.beat = beats ? rng() % beats : 0;
    } else {
      throw InputError("unknown mutant class '" + mutant + "'");
    }
    faults.push_back(fault);
    result["fault"] = sim::fault_spec(fault);
    result["fault_class"] = mutant;
  }

  const Outcome outcome = execute(problem, faults, sparse);
  result["wall_s"] = std::chrono::duration<double>(Clock::now() - start).count();
  std::size_t mismatches = 0;
  if (outcome.completed) {
    mismatches = count_mismatches(outcome.run.output, want);
    result["cycles"] = outcome.run.cycles;
    result["sim_cycles"] = outcome.run.sim_cycles;
    result["mismatches"] = mismatches;
  } else {
    result["cycles"] = nullptr;
    result["message"] = outcome.error;
  }

  if (!mutant.empty()) {
    const bool caught = !outcome.completed || mismatches > 0;
    if (outcome.completed && faults.back().kind == sim::Fault::Kind::kPeStuck0) {
      // The engine must be wrong in exactly the way the fault predicts, no more.
      const auto [rows, cols] = array_shape();
      result["matches_fault_model"] =
          golden_gemm(with_pe_stuck0(problem, faults.back(), rows, cols)).data ==
          outcome.run.output.data;
    }
    result["caught"] = caught;
    result["detected_by"] = outcome.completed ? (caught ? "mismatch" : "") : outcome.error_kind;
    result["equivalent"] = equivalent;
    result["result"] = caught || equivalent ? "pass" : "fail";
    if (!caught && !equivalent) {
      result["message"] = "fault " + result["fault"].get<std::string>() +
                          " survived: the output matched the golden reference";
    }
  } else if (!outcome.completed) {
    result["result"] = "error";
  } else if (mismatches > 0) {
    result["result"] = "fail";
    result["message"] = std::to_string(mismatches) + " of " + std::to_string(want.data.size()) +
                        " values differ from the golden reference";
  } else {
    result["result"] = "pass";
  }
  return result;
}

}  // namespace

int regress_batch(std::istream& in, std::ostream& out) {
  std::string line;
  int code = 0;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json result;
    try {
      const json job = json::parse(line);
      try {
        result = run_job(job);
      } catch (const std::exception& e) {
        result = {{"id", job.value("id", json())}, {"result", "error"}, {"message", e.what()}};
      }
    } catch (const json::exception& e) {
      result = {{"id", nullptr},
                {"result", "error"},
                {"message", std::string("bad job line: ") + e.what()}};
      code = 2;
    }
    out << result.dump() << std::endl;
  }
  return code;
}

}  // namespace tessera::cli
