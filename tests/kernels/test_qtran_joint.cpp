// kernels::qtran_joint: the one-hot gather against the unfused reference (a dense layer over a
// materialised [h, onehot(u)]), forward and backward; the masked agent sum by hand, its strided
// output, its backward against finite differences; float against double; every SIMD op against
// the reference on each instruction set this compiler can target.
#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <random>
#include <tuple>
#include <type_traits>
#include <vector>

#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/qtran_joint.hpp"
#include "support/gradient_check.hpp"
#include "support/require_close.hpp"

namespace nm = netmarl;
namespace qj = netmarl::kernels::qtran_joint;
namespace dense = netmarl::kernels::dense;
using nm::matrix;
using idx = nm::index;  // plain `index` clashes with POSIX index()

namespace {

constexpr nm::backend::reference ref{};

std::vector<int> random_actions(idx rows, idx actions, nm::rng& g) {
  std::vector<int> u(static_cast<std::size_t>(rows));
  for (auto& a : u) a = static_cast<int>(g.uniform() * double(actions)) % int(actions);
  return u;
}

// [h, onehot(u)]: what the fused path never builds.
template <class T>
matrix<T> with_one_hot(const matrix<T>& h, const std::vector<int>& u, idx actions) {
  matrix<T> x = matrix<T>::Zero(h.rows(), h.cols() + actions);
  x.leftCols(h.cols()) = h;
  for (idx r = 0; r < h.rows(); ++r) x(r, h.cols() + u[std::size_t(r)]) = T(1);
  return x;
}

}  // namespace

TEST_CASE("qtran_joint kernel: flop counts follow the spec", "[kernels][qtran]") {
  const qj::shape s{2, 3, 4, 5, 6};
  CHECK(s.rows() == 6);
  CHECK(s.action_rows_flops() == 6.0 * 5);
  CHECK(s.action_rows_backward_flops() == 6.0 * 5);
  CHECK(s.agent_sum_flops() == 2.0 * 6 * 6);
  CHECK(s.agent_sum_backward_flops() == 6.0 * 6);
}

TEMPLATE_TEST_CASE(
    "qtran_joint kernel: the gathered first layer equals the dense layer over "
    "[h, onehot(u)], forward and backward",
    "[kernels][qtran]", float, double) {
  using T = TestType;
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const idx batch = 3, agents = 4, hidden = 5, actions = 6, width = 7;
  nm::rng g(3);
  const qj::shape s{batch, agents, actions, width, 1};
  const idx rows = s.rows();
  const matrix<T> h = nm::testing::random_matrix<T>(rows, hidden, g);
  const matrix<T> weight = nm::testing::random_matrix<T>(hidden + actions, width, g);
  const matrix<T> bias = nm::testing::random_matrix<T>(1, width, g);
  const std::vector<int> u = random_actions(rows, actions, g);
  const matrix<T> x = with_one_hot(h, u, actions);

  // Forward: unfused dense over [h, onehot(u)] with the whole weight ...
  matrix<T> unfused(rows, width);
  dense::forward(ref, dense::shape{rows, hidden + actions, width}, x.data(), weight.data(),
                 bias.data(), unfused.data());
  // ... and fused: dense over h with the first `hidden` rows, then the gather of W_a's rows.
  matrix<T> fused(rows, width);
  dense::forward(ref, dense::shape{rows, hidden, width}, h.data(), weight.data(), bias.data(),
                 fused.data());
  qj::add_action_rows(ref, s, u.data(), weight.data() + hidden * width, fused.data());
  CHECK((fused - unfused).cwiseAbs().maxCoeff() <= tolerance);

  // Backward, accumulating onto non-zero gradients as parameter gradients do.
  const matrix<T> d_pre = nm::testing::random_matrix<T>(rows, width, g);
  const matrix<T> start_dw = nm::testing::random_matrix<T>(hidden + actions, width, g);
  const matrix<T> start_db = nm::testing::random_matrix<T>(1, width, g);
  matrix<T> dw_unfused = start_dw, db_unfused = start_db, dx(rows, hidden + actions);
  dense::backward(ref, dense::shape{rows, hidden + actions, width}, x.data(), weight.data(),
                  d_pre.data(), dw_unfused.data(), db_unfused.data(), dx.data());
  matrix<T> dw_fused = start_dw, db_fused = start_db, dh(rows, hidden);
  dense::backward(ref, dense::shape{rows, hidden, width}, h.data(), weight.data(), d_pre.data(),
                  dw_fused.data(), db_fused.data(), dh.data());
  qj::add_action_rows_backward(ref, s, u.data(), d_pre.data(), dw_fused.data() + hidden * width);
  CHECK((dw_fused - dw_unfused).cwiseAbs().maxCoeff() <= tolerance);
  CHECK((db_fused - db_unfused).cwiseAbs().maxCoeff() <= tolerance);
  CHECK((dh - dx.leftCols(hidden)).cwiseAbs().maxCoeff() <= tolerance);
  // Every action that occurs got a gradient row, every other kept its start value.
  for (idx a = 0; a < actions; ++a) {
    const bool used = std::find(u.begin(), u.end(), int(a)) != u.end();
    const bool unchanged = dw_fused.row(hidden + a) == start_dw.row(hidden + a);
    CHECK(used != unchanged);
  }
}

TEST_CASE("qtran_joint kernel: a hand-computed masked agent sum into a strided block",
          "[kernels][qtran]") {
  // batch 2, agents 3, encoding 2; sample 0's agent 1 is dead, sample 1's agent 2 is half-weighted.
  const qj::shape s{2, 3, 1, 1, 2};
  const double e[] = {1, 2, 10, 20, 100, 200,  // sample 0
                      3, 4, 5,  6,  7,   8};   // sample 1
  const double alive[] = {1, 0, 1, 1, 1, 0.5};
  // Output rows of stride 4: [state, state, E_0, E_1]; the state columns must survive.
  double out[8] = {-1, -2, 99, 99, -3, -4, 99, 99};
  qj::agent_sum(ref, s, e, alive, out + 2, 4);
  const double expected[8] = {-1, -2, 101, 202, -3, -4, 3 + 5 + 3.5, 4 + 6 + 4};
  for (int k = 0; k < 8; ++k) CHECK(out[k] == Approx(expected[k]));
  // Without a mask every agent counts.
  qj::agent_sum(ref, s, e, static_cast<const double*>(nullptr), out + 2, 4);
  CHECK(out[2] == Approx(111));
  CHECK(out[7] == Approx(18));

  const double d_out[8] = {0, 0, 1, -2, 0, 0, 0.5, 4};
  double d_e[12];
  qj::agent_sum_backward(ref, s, d_out + 2, 4, alive, d_e);
  const double expected_d_e[12] = {1, -2, 0, 0, 1, -2, 0.5, 4, 0.5, 4, 0.25, 2};
  for (int k = 0; k < 12; ++k) CHECK(d_e[k] == Approx(expected_d_e[k]));
}

TEST_CASE("qtran_joint kernel: agent_sum_backward is the gradient of agent_sum",
          "[kernels][qtran]") {
  const qj::shape s{3, 4, 1, 1, 5};
  nm::rng g(8);
  matrix<double> e = nm::testing::random_matrix(s.rows(), s.encoding, g);
  const matrix<double> alive = nm::testing::random_matrix(s.rows(), 1, g, 0.0, 1.0);
  const matrix<double> weights = nm::testing::random_matrix(s.batch, s.encoding, g);
  auto loss = [&] {
    matrix<double> out(s.batch, s.encoding);
    qj::agent_sum(ref, s, e.data(), alive.data(), out.data(), s.encoding);
    return (weights.array() * out.array()).sum();
  };
  matrix<double> d_e(s.rows(), s.encoding);
  qj::agent_sum_backward(ref, s, weights.data(), s.encoding, alive.data(), d_e.data());
  const auto report = nm::testing::check_gradient(e, d_e, loss, "encodings");
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("qtran_joint kernel: float and double agree", "[kernels][qtran]") {
  const qj::shape s{4, 3, 5, 6, 7};
  nm::rng g(21);
  const matrix<double> pre_d = nm::testing::random_matrix(s.rows(), s.width, g);
  const matrix<double> w_a_d = nm::testing::random_matrix(s.actions, s.width, g);
  const matrix<double> e_d = nm::testing::random_matrix(s.rows(), s.encoding, g);
  const matrix<double> alive_d = nm::testing::random_matrix(s.rows(), 1, g, 0.0, 1.0);
  const std::vector<int> u = random_actions(s.rows(), s.actions, g);
  matrix<double> pre_out_d = pre_d, sum_d(s.batch, s.encoding);
  qj::add_action_rows(ref, s, u.data(), w_a_d.data(), pre_out_d.data());
  qj::agent_sum(ref, s, e_d.data(), alive_d.data(), sum_d.data(), s.encoding);
  matrix<float> pre_out_f = pre_d.cast<float>(), sum_f(s.batch, s.encoding);
  const matrix<float> w_a_f = w_a_d.cast<float>(), e_f = e_d.cast<float>(),
                      alive_f = alive_d.cast<float>();
  qj::add_action_rows(ref, s, u.data(), w_a_f.data(), pre_out_f.data());
  qj::agent_sum(ref, s, e_f.data(), alive_f.data(), sum_f.data(), s.encoding);
  CHECK((pre_out_f.cast<double>() - pre_out_d).cwiseAbs().maxCoeff() <= 1e-5);
  CHECK((sum_f.cast<double>() - sum_d).cwiseAbs().maxCoeff() <= 1e-5);
}

namespace {

// Every instruction set this compiler can target (as in test_dense.cpp), so each vector width's
// tails are exercised on one machine.
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

using nm::testing::require_close;

std::size_t sz(idx n) { return static_cast<std::size_t>(n); }

std::vector<float> random_floats(idx n, std::mt19937& gen, float low = -1.0f, float high = 1.0f) {
  std::uniform_real_distribution<float> u(low, high);
  std::vector<float> v(sz(n));
  for (auto& x : v) x = u(gen);
  return v;
}

// Alive weights with exact zeros (dead agents) and ones among fractional values.
std::vector<float> random_alive(idx n, std::mt19937& gen) {
  std::vector<float> v = random_floats(n, gen, 0.0f, 1.0f);
  for (std::size_t r = 0; r < v.size(); ++r)
    if (r % 3 == 0)
      v[r] = 0.0f;
    else if (r % 5 == 1)
      v[r] = 1.0f;
  return v;
}

template <class Backend>
void check_simd_against_reference(Backend b, const qj::shape& s, bool masked) {
  INFO("backend " << b.name() << ", batch " << s.batch << ", agents " << s.agents << ", actions "
                  << s.actions << ", width " << s.width << ", encoding " << s.encoding
                  << (masked ? ", masked" : ", unmasked"));
  const nm::backend::reference ref_b;
  const idx rows = s.rows();
  std::mt19937 gen(unsigned(1 + s.batch * 7 + s.agents * 131 + s.width * 17 + s.encoding));
  std::vector<int> actions(sz(rows));
  std::uniform_int_distribution<int> pick(0, int(s.actions) - 1);
  for (int& a : actions) a = pick(gen);
  const auto action_weight = random_floats(s.actions * s.width, gen);
  const auto pre0 = random_floats(rows * s.width, gen);
  const auto d_pre = random_floats(rows * s.width, gen);
  const auto d_action_weight0 = random_floats(s.actions * s.width, gen);
  const auto encodings = random_floats(rows * s.encoding, gen);
  const auto alive_values = random_alive(rows, gen);
  const float* alive = masked ? alive_values.data() : nullptr;

  // add_action_rows and its backward accumulate onto non-zero buffers.
  auto pre_ref = pre0, pre = pre0;
  qj::add_action_rows(ref_b, s, actions.data(), action_weight.data(), pre_ref.data());
  qj::add_action_rows(b, s, actions.data(), action_weight.data(), pre.data());
  require_close(pre, pre_ref, 1e-6, "add_action_rows");
  auto dw_ref = d_action_weight0, dw = d_action_weight0;
  qj::add_action_rows_backward(ref_b, s, actions.data(), d_pre.data(), dw_ref.data());
  qj::add_action_rows_backward(b, s, actions.data(), d_pre.data(), dw.data());
  require_close(dw, dw_ref, 1e-6, "add_action_rows_backward");

  // agent_sum OVERWRITES its block of a strided row (NaN-prefilled) and leaves the columns
  // before and after it alone.
  const idx before = 3, after = 2, stride = before + s.encoding + after;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> sum_ref(sz(s.batch * stride), nan);
  for (idx b_i = 0; b_i < s.batch; ++b_i)
    for (idx c = 0; c < stride; ++c)
      if (c < before || c >= before + s.encoding) sum_ref[sz(b_i * stride + c)] = float(c + 1);
  auto sum = sum_ref;
  qj::agent_sum(ref_b, s, encodings.data(), alive, sum_ref.data() + before, stride);
  qj::agent_sum(b, s, encodings.data(), alive, sum.data() + before, stride);
  require_close(sum, sum_ref, 1e-5, "agent_sum");

  // agent_sum_backward OVERWRITES every d_e entry.
  const auto d_sum = random_floats(s.batch * stride, gen);
  std::vector<float> d_e_ref(sz(rows * s.encoding), nan), d_e = d_e_ref;
  qj::agent_sum_backward(ref_b, s, d_sum.data() + before, stride, alive, d_e_ref.data());
  qj::agent_sum_backward(b, s, d_sum.data() + before, stride, alive, d_e.data());
  require_close(d_e, d_e_ref, 1e-6, "agent_sum_backward");
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("qtran_joint simd: matches the reference, tails included",
                        "[kernels][qtran][simd]", archs) {
  const nm::backend::simd<TestType> b;
  // {batch, agents, actions, width, encoding}: widths below, at and past one vector of every
  // instruction set, PyMARL's 80, and one agent per sample (a sum of one row).
  for (const qj::shape s :
       {qj::shape{3, 4, 6, 7, 5}, qj::shape{2, 5, 16, 80, 80}, qj::shape{4, 1, 3, 33, 17},
        qj::shape{5, 3, 2, 16, 8}, qj::shape{1, 7, 4, 1, 1}, qj::shape{32, 20, 16, 80, 80},
        qj::shape{3, 2, 5, 129, 257}})
    for (bool masked : {false, true}) check_simd_against_reference(b, s, masked);
}

TEMPLATE_LIST_TEST_CASE("qtran_joint simd: a many-agent sample and degenerate sizes",
                        "[kernels][qtran][simd]", archs) {
  const nm::backend::simd<TestType> b;
  for (bool masked : {false, true}) {
    // A hub-like sample: hundreds of rows summed into one.
    check_simd_against_reference(b, qj::shape{2, 300, 5, 150, 131}, masked);
    // No agents: every E_b is zero (still written); an empty batch touches nothing.
    check_simd_against_reference(b, qj::shape{3, 0, 4, 9, 21}, masked);
    check_simd_against_reference(b, qj::shape{0, 4, 4, 9, 21}, masked);
  }
}

TEST_CASE("qtran_joint simd: double delegates to the reference", "[kernels][qtran][simd]") {
  const qj::shape s{3, 4, 5, 6, 7};
  nm::rng g(4);
  const matrix<double> e = nm::testing::random_matrix(s.rows(), s.encoding, g);
  const matrix<double> alive = nm::testing::random_matrix(s.rows(), 1, g, 0.0, 1.0);
  matrix<double> want(s.batch, s.encoding), got(s.batch, s.encoding);
  qj::agent_sum(ref, s, e.data(), alive.data(), want.data(), s.encoding);
  qj::agent_sum(nm::backend::simd<>{}, s, e.data(), alive.data(), got.data(), s.encoding);
  CHECK(got == want);
}
