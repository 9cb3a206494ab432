// Conv2D lowered to one GEMM per group (im2col) gives the definition's answer: both
// layouts, strides, padding (filled with the input zero point), dilation, groups,
// depthwise, uint8 and int8, with and without zero points and requantization.
#include <catch2/catch.hpp>
#include <random>

#include "tessera/conv.hpp"
#include "tessera/errors.hpp"

using namespace tessera;

namespace {

// The lowered path as the runtime takes it, with the engine's part from its golden model.
Tensor<std::int32_t> lowered_result(const QuantizedConv2d& conv) {
  std::vector<Tensor<std::int32_t>> outputs;
  for (const QuantizedGemm& gemm : conv_gemms(conv)) {
    const LoweredGemm lowered = lower(gemm);
    outputs.push_back(lowered.finish(golden_gemm(lowered.engine)));
  }
  return conv_output(conv, outputs);
}

}  // namespace

TEST_CASE("conv2d: a hand-worked 3x3 input, 2x2 kernel, padding and stride", "[conv]") {
  QuantizedConv2d conv;  // NHWC, one channel
  conv.input.shape = {1, 3, 3, 1};
  conv.input.data = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  conv.input_zero_point = 1;  // the padding reads 1: (1 - 1) adds nothing
  conv.weight.shape = {1, 2, 2, 1};
  conv.weight.data = {1, 0, 0, -1};  // x[y, x] - x[y+1, x+1] after the zero point
  conv.pads = {1, 1, 0, 0};
  conv.strides = {2, 2};
  // Windows start at padded rows/cols -1 and 1; each output is (x[y, x] - 1) - (x[y+1,
  // x+1] - 1) with the padding at 0: 0 - 0, 0 - 2, 0 - 6, 4 - 8.
  const Tensor<std::int32_t> want = golden_conv2d(conv);
  CHECK(want.shape == std::vector<std::size_t>{1, 2, 2, 1});
  CHECK(want.data == std::vector<std::int32_t>{0, -2, -6, -4});
  CHECK(lowered_result(conv).data == want.data);
}

TEST_CASE("conv2d: random convolutions lower to GEMMs bit-exactly", "[conv]") {
  std::mt19937_64 rng(20261129);
  const auto uniform = [&rng](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int depthwise = 0, grouped = 0;
  for (int trial = 0; trial < 400; ++trial) {
    QuantizedConv2d conv;
    conv.layout = uniform(0, 1) ? Layout::kNchw : Layout::kNhwc;
    const std::size_t group = std::array<std::size_t, 4>{1, 1, 2, 3}[uniform(0, 3)];
    const std::size_t cg = uniform(1, 3), n = uniform(1, 2), h = uniform(3, 8), w = uniform(3, 8);
    const std::size_t c = cg * group;
    const bool is_depthwise = group > 1 && cg == 1;
    const std::size_t oc = group * static_cast<std::size_t>(uniform(1, 3));
    const std::size_t kh = uniform(1, 3), kw = uniform(1, 3);
    conv.group = group;
    conv.strides = {static_cast<std::size_t>(uniform(1, 2)), static_cast<std::size_t>(uniform(1, 2))};
    conv.dilations = {static_cast<std::size_t>(uniform(1, 2)), static_cast<std::size_t>(uniform(1, 2))};
    for (auto& p : conv.pads) p = uniform(0, 2);
    conv.input.shape = conv.layout == Layout::kNhwc ? std::vector<std::size_t>{n, h, w, c}
                                                    : std::vector<std::size_t>{n, c, h, w};
    conv.weight.shape = conv.layout == Layout::kNhwc ? std::vector<std::size_t>{oc, kh, kw, cg}
                                                     : std::vector<std::size_t>{oc, cg, kh, kw};
    conv.input_type = uniform(0, 1) ? DType::kUint8 : DType::kInt8;
    conv.weight_type = uniform(0, 1) ? DType::kUint8 : DType::kInt8;
    const auto value = [&](DType t) { return uniform(dtype_min(t), dtype_max(t)); };
    conv.input.data.resize(n * c * h * w);
    for (auto& v : conv.input.data) v = value(conv.input_type);
    conv.weight.data.resize(oc * cg * kh * kw);
    for (auto& v : conv.weight.data) v = value(conv.weight_type);
    conv.input_zero_point = value(conv.input_type);
    if (uniform(0, 2) == 0) {
      for (std::size_t i = 0; i < oc; ++i) conv.weight_zero_point.push_back(value(conv.weight_type));
    }
    if (uniform(0, 1)) {
      conv.bias.resize(oc);
      for (auto& b : conv.bias) b = uniform(-3000, 3000);
    }
    if (uniform(0, 3) != 0) {
      conv.requant = Requant{{1 << 30}, {-uniform(5, 9)}, 0,
                             uniform(0, 1) ? Rounding::kSingle : Rounding::kDouble};
      conv.out_type = uniform(0, 1) ? DType::kUint8 : DType::kInt8;
      conv.requant->zero_point = value(conv.out_type);
    }
    try {
      conv.dims();
    } catch (const InputError&) {
      continue;  // the kernel spans more than the padded input: drawn again
    }
    depthwise += is_depthwise;
    grouped += group > 1 && !is_depthwise;
    INFO("trial " << trial << (conv.layout == Layout::kNhwc ? " nhwc" : " nchw") << " group "
                  << group << " c " << c << " oc " << oc << " k " << kh << "x" << kw);
    REQUIRE(lowered_result(conv).data == golden_conv2d(conv).data);
  }
  CHECK(depthwise > 20);
  CHECK(grouped > 20);
}

TEST_CASE("conv2d: shapes that do not fit are refused by name", "[conv]") {
  QuantizedConv2d conv;
  conv.input.shape = {1, 4, 4, 6};
  conv.input.data.assign(96, 0);
  conv.weight.shape = {4, 3, 3, 4};  // C/group = 4 does not divide 6
  conv.weight.data.assign(4 * 3 * 3 * 4, 0);
  CHECK_THROWS_WITH(validate(conv), Catch::Contains("group 1"));
  conv.weight.shape = {4, 5, 5, 6};
  conv.weight.data.assign(4 * 5 * 5 * 6, 0);
  CHECK_THROWS_WITH(validate(conv), Catch::Contains("kernel spans 5x5"));
  conv.pads = {1, 1, 1, 1};
  CHECK_NOTHROW(validate(conv));
  conv.strides = {0, 1};
  CHECK_THROWS_WITH(validate(conv), Catch::Contains("strides"));
}
