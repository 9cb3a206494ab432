// Quantized GEMMs (uint8, zero points, float scales): the lowering onto the engine's int8
// GEMM gives the definition's answer, for every operand and output type.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "tessera/errors.hpp"
#include "tessera/quantized.hpp"

using namespace tessera;

namespace {

struct Draw {
  std::mt19937_64 rng;
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  bool chance(int percent) { return uniform(0, 99) < percent; }
  DType dtype() { return chance(50) ? DType::kUint8 : DType::kInt8; }
  std::int32_t value(DType t) { return uniform(dtype_min(t), dtype_max(t)); }
};

QuantizedGemm random_gemm(Draw& d) {
  QuantizedGemm q;
  const std::size_t m = d.uniform(1, 9), k = d.uniform(1, 40), n = d.uniform(1, 9);
  q.a_type = d.dtype();
  q.b_type = d.dtype();
  q.a = Tensor<std::int32_t>(m, k);
  q.b = Tensor<std::int32_t>(k, n);
  for (auto& v : q.a.data) v = d.value(q.a_type);
  for (auto& v : q.b.data) v = d.value(q.b_type);
  q.a_zero_point = d.value(q.a_type);
  switch (d.uniform(0, 3)) {
    case 0: break;  // none
    case 1: q.b_zero_point = {q.b_type == DType::kUint8 ? 128 : 0}; break;  // symmetric
    case 2: q.b_zero_point = {d.value(q.b_type)}; break;
    default:
      for (std::size_t i = 0; i < n; ++i) q.b_zero_point.push_back(d.value(q.b_type));
  }
  if (d.chance(70)) {
    q.bias.resize(n);
    for (auto& v : q.bias) v = d.uniform(-50000, 50000);
  }
  if (d.chance(80)) {
    Requant rq;
    const std::size_t channels = d.chance(50) ? n : 1;
    for (std::size_t i = 0; i < channels; ++i) {
      const QuantizedMultiplier qm = quantize_multiplier(std::ldexp(1.0 + d.uniform(0, 999) / 1000.0,
                                                                    -d.uniform(6, 14)), "scale");
      rq.multiplier.push_back(qm.multiplier);
      rq.shift.push_back(qm.shift);
    }
    rq.rounding = d.chance(50) ? Rounding::kSingle : Rounding::kDouble;
    q.out_type = d.dtype();
    rq.zero_point = d.value(q.out_type);
    q.requant = rq;
    if (d.chance(30)) {
      q.clamp_lo = rq.zero_point;  // ReLU
      q.clamp_hi = dtype_max(q.out_type);
    }
  }
  return q;
}

}  // namespace

TEST_CASE("quantized: the lowering gives the definition's answer for every dtype", "[quantized]") {
  Draw d{std::mt19937_64(20261128)};
  int host_epilogue = 0, in_window = 0, total = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const QuantizedGemm q = random_gemm(d);
    const LoweredGemm lowered = lower(q);
    host_epilogue += lowered.host_epilogue;
    // The engine's part exactly as the engine computes it (its golden reference).
    const Tensor<std::int32_t> got = lowered.finish(golden_gemm(lowered.engine));
    const Tensor<std::int32_t> want = golden_quantized_gemm(q);
    INFO("trial " << trial << ": a " << dtype_name(q.a_type) << " za " << q.a_zero_point << ", b "
                  << dtype_name(q.b_type) << " zb x" << q.b_zero_point.size() << ", out "
                  << dtype_name(q.out_type) << (q.requant ? "" : " raw"));
    REQUIRE(got.data == want.data);
    for (std::int32_t v : want.data) {
      ++total;
      in_window += q.requant && v > q.lo() && v < q.hi();
    }
  }
  // Both lowerings are exercised, and the results are not all clamped.
  CHECK(host_epilogue > 500);
  CHECK(host_epilogue < 2500);
  CHECK(in_window > total / 4);
}

TEST_CASE("quantized: a uint8 output is the engine's int8 one moved by 128", "[quantized]") {
  QuantizedGemm q;
  q.a = Tensor<std::int32_t>(1, 2);
  q.a.data = {200, 10};
  q.a_type = DType::kUint8;
  q.a_zero_point = 10;
  q.b = Tensor<std::int32_t>(2, 1);
  q.b.data = {3, -1};
  q.requant = Requant{{1 << 30}, {0}, 130};  // x/2 + 130
  q.out_type = DType::kUint8;
  // (200 - 10)·3 + 0 = 570; 285 + 130 = 415, clamped to 255.
  CHECK(golden_quantized_gemm(q).data == std::vector<std::int32_t>{255});
  const LoweredGemm lowered = lower(q);
  CHECK_FALSE(lowered.host_epilogue);
  CHECK(lowered.engine.requant->zero_point == 2);
  CHECK(lowered.engine.clamp_lo == -128);
  CHECK(lowered.engine.clamp_hi == 127);
  CHECK(lowered.finish(golden_gemm(lowered.engine)).data == std::vector<std::int32_t>{255});
  q.requant->zero_point = 0;
  q.a.data = {10, 12};  // (0)·3 + 2·(-1) = -2 -> -1, clamped to 0
  CHECK(golden_quantized_gemm(q).data == std::vector<std::int32_t>{0});
}

TEST_CASE("quantized: out-of-range zero points and values are refused by name", "[quantized]") {
  QuantizedGemm q;
  q.a = Tensor<std::int32_t>(1, 1);
  q.b = Tensor<std::int32_t>(1, 1);
  q.a_zero_point = 200;  // int8 a
  CHECK_THROWS_WITH(validate(q), Catch::Contains("a_zero_point = 200") &&
                                     Catch::Contains("int8 range [-128, 127]"));
  q.a_zero_point = 0;
  q.b_type = DType::kUint8;
  q.b_zero_point = {-1};
  CHECK_THROWS_WITH(validate(q), Catch::Contains("b_zero_point = -1") && Catch::Contains("uint8"));
  q.b_zero_point = {1, 2};
  CHECK_THROWS_WITH(validate(q), Catch::Contains("b_zero_point has 2 values"));
  q.b_zero_point = {};
  q.requant = Requant{{1 << 30}, {0}, -3};
  q.out_type = DType::kUint8;
  CHECK_THROWS_WITH(validate(q), Catch::Contains("requant.zero_point = -3"));
}

TEST_CASE("quantized: QuantizeMultiplier as TFLite rounds and clamps", "[quantized]") {
  const auto qm = [](double real) { return quantize_multiplier(real, "s"); };
  CHECK(qm(0.5).multiplier == 1 << 30);
  CHECK(qm(0.5).shift == 0);
  CHECK(qm(0.25).shift == -1);
  CHECK(qm(1.0).multiplier == 1 << 30);
  CHECK(qm(1.0).shift == 1);
  // 0.75 = 0.75·2^0: 0.75·2^31 = 1610612736.
  CHECK(qm(0.75).multiplier == 1610612736);
  // Just below 1: the fraction rounds to 2^31 and becomes 2^30 with the shift one up.
  CHECK(qm(std::nextafter(1.0, 0.0)).multiplier == 1 << 30);
  CHECK(qm(std::nextafter(1.0, 0.0)).shift == 1);
  CHECK(qm(0.0).multiplier == 0);
  CHECK(qm(std::ldexp(1.0, -40)).multiplier == 0);  // below 2^-32: nothing representable
  CHECK(qm(std::ldexp(1.0, 40)).shift == 30);       // above: the largest there is
  CHECK(qm(std::ldexp(1.0, 40)).multiplier == 2147483647);
  CHECK_THROWS_AS(qm(-0.1), InputError);
  CHECK_THROWS_AS(qm(std::nan("")), InputError);
}
