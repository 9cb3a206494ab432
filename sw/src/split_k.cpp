#include "split_k.hpp"

#include <algorithm>

namespace tessera {

GemmProblem k_slice(const GemmProblem& problem, std::size_t k0, std::size_t k) {
  GemmProblem part;
  part.a = Tensor<std::int8_t>(problem.m(), k);
  part.b = Tensor<std::int8_t>(k, problem.n());
  for (std::size_t m = 0; m < problem.m(); ++m) {
    for (std::size_t i = 0; i < k; ++i) part.a.at(m, i) = problem.a.at(m, k0 + i);
  }
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t n = 0; n < problem.n(); ++n) part.b.at(i, n) = problem.b.at(k0 + i, n);
  }
  return part;
}

GemmRun run_split_k(const GemmProblem& problem, std::size_t max_pass,
                    const std::function<GemmRun(const GemmProblem&)>& run_pass) {
  GemmRun total;
  total.output = Tensor<std::int32_t>(problem.m(), problem.n());
  std::vector<std::uint32_t> acc(problem.m() * problem.n(), 0);
  for (std::size_t k0 = 0; k0 < problem.k(); k0 += max_pass) {
    const std::size_t k = std::min(max_pass, problem.k() - k0);
    const GemmRun part = run_pass(k_slice(problem, k0, k));
    for (std::size_t i = 0; i < acc.size(); ++i) {
      acc[i] += static_cast<std::uint32_t>(part.output.data[i]);
    }
    total.cycles += part.cycles;
    total.commands += part.commands;
    total.sim_cycles += part.sim_cycles;
    total.perf = part.perf;
  }
  for (std::size_t m = 0; m < problem.m(); ++m) {
    for (std::size_t n = 0; n < problem.n(); ++n) {
      total.output.at(m, n) =
          golden_epilogue(static_cast<std::int32_t>(acc[m * problem.n() + n]), problem, n);
    }
  }
  return total;
}

}  // namespace tessera
