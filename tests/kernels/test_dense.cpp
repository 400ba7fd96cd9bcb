#include <catch2/catch.hpp>

#include "support/require_close.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "netmarl/kernels/dense.hpp"

namespace dense = netmarl::kernels::dense;
namespace backend = netmarl::backend;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()

namespace {

// Every instruction set this compiler can target, so each register-blocking variant (4 x 16,
// 2 x 8 and 2 x 4 lanes per micro-kernel row) is exercised on one machine.
using archs = std::tuple<xsimd::default_arch
#if XSIMD_WITH_FMA3_AVX2
                         ,
                         xsimd::fma3<xsimd::avx2>
#endif
#if XSIMD_WITH_SSE4_2
                         ,
                         xsimd::sse4_2
#endif
                         >;

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = T(u(gen));
  return v;
}

template <class T>
std::vector<T> nan_vector(std::size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

std::size_t sz(idx n) { return static_cast<std::size_t>(n); }

using netmarl::testing::require_close;

struct problem {
  dense::shape s;
  std::vector<float> in, weight, bias, d_out, d_weight0, d_bias0;

  problem(idx batch, idx inputs, idx outputs, unsigned seed) : s{batch, inputs, outputs} {
    std::mt19937 gen(seed);
    in = random_vector<float>(sz(batch * inputs), gen);
    weight = random_vector<float>(sz(inputs * outputs), gen);
    bias = random_vector<float>(sz(outputs), gen);
    d_out = random_vector<float>(sz(batch * outputs), gen);
    // Non-zero starting gradients: backward must add to them, not overwrite.
    d_weight0 = random_vector<float>(sz(inputs * outputs), gen);
    d_bias0 = random_vector<float>(sz(outputs), gen);
  }
};

template <class Backend>
void check_against_reference(Backend b, idx batch, idx inputs, idx outputs) {
  INFO("batch " << batch << ", inputs " << inputs << ", outputs " << outputs);
  problem p(batch, inputs, outputs, unsigned(batch * 10007 + inputs * 101 + outputs));
  const auto& s = p.s;

  auto out_ref = nan_vector<float>(sz(batch * outputs)), out = out_ref;
  dense::forward(backend::reference{}, s, p.in.data(), p.weight.data(), p.bias.data(),
                 out_ref.data());
  dense::forward(b, s, p.in.data(), p.weight.data(), p.bias.data(), out.data());
  require_close(out, out_ref, 1e-5, "forward out");

  auto dw_ref = p.d_weight0, dw = p.d_weight0;
  auto db_ref = p.d_bias0, db = p.d_bias0;
  auto din_ref = nan_vector<float>(sz(batch * inputs)), din = din_ref;  // must be overwritten
  dense::backward(backend::reference{}, s, p.in.data(), p.weight.data(), p.d_out.data(),
                  dw_ref.data(), db_ref.data(), din_ref.data());
  dense::backward(b, s, p.in.data(), p.weight.data(), p.d_out.data(), dw.data(), db.data(),
                  din.data());
  require_close(din, din_ref, 1e-5, "backward d_in");
  require_close(dw, dw_ref, 1e-5, "backward d_weight");
  require_close(db, db_ref, 1e-5, "backward d_bias");

  // Without d_in (a first layer): the parameter gradients are the same.
  auto dw2 = p.d_weight0, db2 = p.d_bias0;
  dense::backward(b, s, p.in.data(), p.weight.data(), p.d_out.data(), dw2.data(), db2.data(),
                  static_cast<float*>(nullptr));
  require_close(dw2, dw_ref, 1e-5, "backward d_weight without d_in");
  require_close(db2, db_ref, 1e-5, "backward d_bias without d_in");
}

}  // namespace

TEST_CASE("dense reference: forward and backward match a naive triple loop in double",
          "[kernels][dense]") {
  for (auto [batch, inputs, outputs] : {std::tuple<idx, idx, idx>{1, 1, 1},
                                        {3, 5, 7},
                                        {17, 33, 15},
                                        {64, 100, 3},
                                        {2, 0, 4}}) {
    INFO("batch " << batch << ", inputs " << inputs << ", outputs " << outputs);
    const dense::shape s{batch, inputs, outputs};
    std::mt19937 gen(unsigned(batch + 31 * inputs + 977 * outputs));
    const auto in = random_vector<double>(sz(batch * inputs), gen);
    const auto w = random_vector<double>(sz(inputs * outputs), gen);
    const auto bias = random_vector<double>(sz(outputs), gen);
    const auto d_out = random_vector<double>(sz(batch * outputs), gen);
    const auto dw0 = random_vector<double>(sz(inputs * outputs), gen);
    const auto db0 = random_vector<double>(sz(outputs), gen);

    std::vector<double> out_naive(sz(batch * outputs)), din_naive(sz(batch * inputs));
    std::vector<double> dw_naive = dw0, db_naive = db0;
    for (idx r = 0; r < batch; ++r)
      for (idx o = 0; o < outputs; ++o) {
        double acc = bias[sz(o)];
        for (idx i = 0; i < inputs; ++i) acc += in[sz(r * inputs + i)] * w[sz(i * outputs + o)];
        out_naive[sz(r * outputs + o)] = acc;
      }
    for (idx r = 0; r < batch; ++r)
      for (idx i = 0; i < inputs; ++i) {
        double acc = 0;
        for (idx o = 0; o < outputs; ++o)
          acc += d_out[sz(r * outputs + o)] * w[sz(i * outputs + o)];
        din_naive[sz(r * inputs + i)] = acc;
      }
    for (idx i = 0; i < inputs; ++i)
      for (idx o = 0; o < outputs; ++o)
        for (idx r = 0; r < batch; ++r)
          dw_naive[sz(i * outputs + o)] += in[sz(r * inputs + i)] * d_out[sz(r * outputs + o)];
    for (idx o = 0; o < outputs; ++o)
      for (idx r = 0; r < batch; ++r) db_naive[sz(o)] += d_out[sz(r * outputs + o)];

    auto out = nan_vector<double>(sz(batch * outputs));
    dense::forward(backend::reference{}, s, in.data(), w.data(), bias.data(), out.data());
    require_close(out, out_naive, 1e-12, "reference forward");

    auto dw = dw0, db = db0;
    auto din = nan_vector<double>(sz(batch * inputs));
    dense::backward(backend::reference{}, s, in.data(), w.data(), d_out.data(), dw.data(),
                    db.data(), din.data());
    require_close(din, din_naive, 1e-12, "reference d_in");
    require_close(dw, dw_naive, 1e-12, "reference d_weight");
    require_close(db, db_naive, 1e-12, "reference d_bias");
  }
}

TEMPLATE_LIST_TEST_CASE("dense simd: matches the reference on every small shape, tails included",
                        "[kernels][dense][simd]", archs) {
  const backend::simd<TestType> b;
  INFO("backend " << b.name());
  const idx sizes[] = {1, 3, 15, 17, 33, 100};
  for (idx batch : sizes)
    for (idx inputs : sizes)
      for (idx outputs : sizes) check_against_reference(b, batch, inputs, outputs);
}

TEMPLATE_LIST_TEST_CASE("dense simd: matches the reference at layer shapes and across blocks",
                        "[kernels][dense][simd]", archs) {
  const backend::simd<TestType> b;
  INFO("backend " << b.name());
  // The layers' shapes; then sizes past one k-chunk (128), one row block (192), one n-chunk
  // (256) and one backward row chunk (256), with tails.
  for (auto [batch, inputs, outputs] : {std::tuple<idx, idx, idx>{32, 128, 128},
                                        {32, 64, 64},
                                        {49 * 2, 64, 64},
                                        {257, 128, 128},
                                        {300, 257, 65},
                                        {70, 600, 31},
                                        {40, 31, 530},
                                        {513, 300, 270}})
    check_against_reference(b, batch, inputs, outputs);
}

TEMPLATE_LIST_TEST_CASE("dense simd: degenerate sizes", "[kernels][dense][simd]", archs) {
  const backend::simd<TestType> b;
  // No inputs: out is the bias, d_in is empty, d_weight is empty, d_bias still sums.
  check_against_reference(b, 5, 0, 19);
  // No outputs: d_in is zero.
  check_against_reference(b, 5, 19, 0);
  // An empty batch changes nothing.
  problem p(0, 7, 9, 1);
  auto dw = p.d_weight0, db = p.d_bias0;
  dense::forward(b, p.s, p.in.data(), p.weight.data(), p.bias.data(), static_cast<float*>(nullptr));
  dense::backward(b, p.s, p.in.data(), p.weight.data(), p.d_out.data(), dw.data(), db.data(),
                  static_cast<float*>(nullptr));
  REQUIRE(dw == p.d_weight0);
  REQUIRE(db == p.d_bias0);
}

TEST_CASE("dense simd: double delegates to the reference", "[kernels][dense][simd]") {
  const dense::shape s{9, 17, 33};
  std::mt19937 gen(5);
  const auto in = random_vector<double>(sz(9 * 17), gen);
  const auto w = random_vector<double>(sz(17 * 33), gen);
  const auto bias = random_vector<double>(sz(33), gen);
  const auto d_out = random_vector<double>(sz(9 * 33), gen);
  std::vector<double> out_ref(sz(9 * 33)), out(sz(9 * 33));
  dense::forward(backend::reference{}, s, in.data(), w.data(), bias.data(), out_ref.data());
  dense::forward(backend::simd<>{}, s, in.data(), w.data(), bias.data(), out.data());
  // Close, not equal: Eigen's vectorised sums peel by the destination's alignment, which differs
  // between the two buffers.
  require_close(out, out_ref, 1e-14, "forward");
  std::vector<double> dw_ref(sz(17 * 33)), db_ref(33), din_ref(sz(9 * 17));
  auto dw = dw_ref, db = db_ref, din = din_ref;
  dense::backward(backend::reference{}, s, in.data(), w.data(), d_out.data(), dw_ref.data(),
                  db_ref.data(), din_ref.data());
  dense::backward(backend::simd<>{}, s, in.data(), w.data(), d_out.data(), dw.data(), db.data(),
                  din.data());
  require_close(din, din_ref, 1e-14, "d_in");
  require_close(dw, dw_ref, 1e-14, "d_weight");
  require_close(db, db_ref, 1e-14, "d_bias");
}
