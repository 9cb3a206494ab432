// A checked GEMM through the installed package: the in-process engine by default, or
// the device spec given as the first argument (tcp://HOST:PORT, serial://PATH).
#include <cstdio>
#include <exception>
#include <tessera/tessera.hpp>

int main(int argc, char** argv) {
  try {
    auto transport = tessera::open_transport(argc > 1 ? argv[1] : "sim");
    tessera::Device device(*transport);
    // Awkward sizes, bias and per-channel requantization: several column and row blocks.
    const tessera::GemmProblem problem =
        tessera::random_problem(37, 50, 29, 2024, {true, false, true});
    const tessera::GemmRun run = tessera::run_gemm(device, problem);
    const bool exact = run.output.data == tessera::golden_gemm(problem).data;
    // The same weights again, resident: only activations are sent.
    const tessera::ResidentWeights weights = tessera::upload_weights(
        device, problem.b, problem.bias, problem.requant, problem.clamp_lo, problem.clamp_hi);
    const bool resident_exact = tessera::run_gemm(device, problem.a, weights).output.data ==
                                tessera::golden_gemm(problem).data;
    std::printf("consumer: %ux%u engine, ISA %s, 37x50x29 GEMM in %llu cycles: %s\n",
                device.config().rows, device.config().cols,
                tessera::isa::version_text(device.config().version).c_str(),
                static_cast<unsigned long long>(run.cycles),
                exact && resident_exact ? "PASS" : "FAIL");
    return exact && resident_exact ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 3;
  }
}
