// After a warm-up call at a given batch size, no layer or loss may touch the heap. This file
// counts every heap allocation two ways: a replaced global operator new (std::vector, strings,
// anything C++ allocates) and Eigen's own malloc hook (EIGEN_RUNTIME_NO_MALLOC: Eigen allocates
// with malloc, not new). Both must be set up before anything includes Eigen, so they come first.
#include <cstddef>
#include <cstdlib>
#include <new>

namespace allocation_counter {
inline long cpp_allocations = 0;    // operator new calls
inline long eigen_allocations = 0;  // Eigen heap allocations while they are forbidden
inline void eigen_assert_failed(const char*) { ++eigen_allocations; }
}  // namespace allocation_counter

// Only Eigen's "malloc forbidden" check matters here; any other failed Eigen assertion would
// also be counted, which fails the test loudly rather than hiding a bug.
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) ((x) ? (void)0 : ::allocation_counter::eigen_assert_failed(#x))

void* operator new(std::size_t size) {
  ++allocation_counter::cpp_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  ++allocation_counter::cpp_allocations;
  const auto a = static_cast<std::size_t>(alignment);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return ::operator new(size, alignment);
}
// GCC cannot see that the replaced operator new above allocates with malloc, so it would call
// free() here "mismatched"; it is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/gru.hpp"
#include "netmarl/nn/loss.hpp"
#include "netmarl/nn/lstm.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/softmax.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;

namespace {

struct allocation_counts {
  long cpp = 0, eigen = 0;
};

// Runs `step` once to warm up, then again while counting heap allocations.
template <class Step>
allocation_counts allocations_after_warm_up(Step&& step) {
  step();
  allocation_counter::cpp_allocations = 0;
  allocation_counter::eigen_allocations = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  step();
  Eigen::internal::set_is_malloc_allowed(true);
  return {allocation_counter::cpp_allocations, allocation_counter::eigen_allocations};
}

// Batch and widths of a typical agent network; products stay below Eigen's 128 KiB stack limit
// for packing buffers (EIGEN_STACK_ALLOCATION_LIMIT), above which Eigen's gemm itself allocates.
constexpr netmarl::index batch = 32;

template <class B>
void check_layers(B b) {
  rng g(71);
  const matrix<float> x = testing::random_matrix<float>(batch, 24, g);

  SECTION("dense") {
    nn::dense<float> layer(24, 64, g);
    nn::dense_cache<float> cache;
    matrix<float> y, dx;
    const matrix<float> d_out = testing::random_matrix<float>(batch, 64, g);
    const auto n = allocations_after_warm_up([&] {
      nn::forward(b, layer, x, cache, y);
      nn::backward(b, layer, cache, d_out, &dx);
    });
    REQUIRE(n.cpp == 0);
    REQUIRE(n.eigen == 0);
  }
  SECTION("mlp") {
    nn::mlp<float> net({24, 64, 64, 5}, nn::activation::relu, nn::activation::tanh, g);
    nn::mlp_cache<float> cache;
    matrix<float> y, dx;
    const matrix<float> d_out = testing::random_matrix<float>(batch, 5, g);
    const auto n = allocations_after_warm_up([&] {
      nn::forward(b, net, x, cache, y);
      nn::backward(b, net, cache, d_out, &dx);
      nn::backward(b, net, cache, d_out);  // without an input gradient
    });
    REQUIRE(n.cpp == 0);
    REQUIRE(n.eigen == 0);
  }
  SECTION("gru_cell") {
    nn::gru_cell<float> cell(24, 32, g);
    nn::gru_cache<float> cache;
    matrix<float> h = testing::random_matrix<float>(batch, 32, g), dh, dx;
    const matrix<float> d_out = testing::random_matrix<float>(batch, 32, g);
    const auto n = allocations_after_warm_up([&] {
      nn::forward(b, cell, x, h, cache, h);
      dh = d_out;
      nn::backward(b, cell, cache, dh, &dx, &dh);
    });
    REQUIRE(n.cpp == 0);
    REQUIRE(n.eigen == 0);
  }
  SECTION("lstm_cell") {
    nn::lstm_cell<float> cell(24, 32, g);
    nn::lstm_cache<float> cache;
    matrix<float> h = testing::random_matrix<float>(batch, 32, g), c = h, dh, dc, dx;
    const matrix<float> d_out = testing::random_matrix<float>(batch, 32, g);
    const auto n = allocations_after_warm_up([&] {
      nn::forward(b, cell, x, h, c, cache, h, c);
      dh = d_out;
      nn::backward(b, cell, cache, dh, dc, &dx, &dh, &dc);
    });
    REQUIRE(n.cpp == 0);
    REQUIRE(n.eigen == 0);
  }
  SECTION("activations and softmax") {
    nn::activation_cache<float> activation_cache;
    nn::softmax_cache<float> softmax_cache;
    matrix<float> y, dx;
    const auto n = allocations_after_warm_up([&] {
      for (auto a : {nn::activation::relu, nn::activation::elu, nn::activation::tanh,
                     nn::activation::sigmoid, nn::activation::identity}) {
        nn::forward(b, a, x, activation_cache, y);
        nn::backward(b, a, activation_cache, x, &dx);
      }
      nn::forward(b, nn::softmax{}, x, softmax_cache, y);
      nn::backward(b, nn::softmax{}, softmax_cache, x, &dx);
      nn::forward(b, nn::log_softmax{}, x, softmax_cache, y);
      nn::backward(b, nn::log_softmax{}, softmax_cache, x, &dx);
    });
    REQUIRE(n.cpp == 0);
    REQUIRE(n.eigen == 0);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("no heap allocation after warm-up: layers", "[nn][allocation]",
                   backend::reference, backend::simd<>) {
  check_layers(TestType{});
}

TEST_CASE("no heap allocation after warm-up: losses", "[nn][allocation]") {
  rng g(72);
  const matrix<float> pred = testing::random_matrix<float>(batch, 6, g);
  const matrix<float> target = testing::random_matrix<float>(batch, 6, g);
  std::vector<int> actions(batch);
  for (auto& a : actions) a = static_cast<int>(g.below(6));
  const std::vector<float> weights(batch, 0.5f);
  matrix<float> d;
  column_vector<float> per_row;
  float sink = 0;
  const auto n = allocations_after_warm_up([&] {
    sink += nn::mse(pred, target, d);
    sink += nn::mse(pred, target, weights, d);
    sink += nn::huber(pred, target, d);
    sink += nn::huber(pred, target, 0.5, weights, d);
    sink += nn::smooth_l1(pred, target, 2.0, d);
    sink += nn::cross_entropy(pred, actions, d);
    sink += nn::policy_gradient_loss(pred, actions, weights, d);
    sink += nn::mean_entropy(pred, d);
    nn::categorical_log_prob(pred, actions, per_row);
    nn::categorical_log_prob_backward(pred, actions, weights, d);
    nn::categorical_entropy(pred, per_row);
    nn::categorical_entropy_backward(pred, weights, d);
  });
  REQUIRE(std::isfinite(sink));
  REQUIRE(n.cpp == 0);
  REQUIRE(n.eigen == 0);
}

TEST_CASE("no heap allocation: the counters do see allocations", "[nn][allocation]") {
  // Without this, a broken counter would make every test above pass vacuously.
  const auto eigen = allocations_after_warm_up([] {
    matrix<float> m(8, 8);
    m.setZero();
  });
  REQUIRE(eigen.eigen > 0);
  const auto cpp = allocations_after_warm_up([] { std::vector<int> v(100, 1); });
  REQUIRE(cpp.cpp > 0);
  // A new batch size is a new shape: the layer reallocates its cache once, and that is seen.
  rng g(73);
  nn::dense<float> layer(4, 3, g);
  nn::dense_cache<float> cache;
  matrix<float> y;
  matrix<float> x = testing::random_matrix<float>(5, 4, g);
  nn::forward(backend::reference{}, layer, x, cache, y);
  x = testing::random_matrix<float>(7, 4, g);
  allocation_counter::eigen_allocations = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  nn::forward(backend::reference{}, layer, x, cache, y);
  Eigen::internal::set_is_malloc_allowed(true);
  REQUIRE(allocation_counter::eigen_allocations > 0);
}

TEST_CASE("no heap allocation: buffers keep their addresses across calls", "[nn][allocation]") {
  rng g(74);
  nn::mlp<double> net({3, 8, 2}, nn::activation::tanh, nn::activation::identity, g);
  nn::mlp_cache<double> cache;
  matrix<double> y, dx;
  const matrix<double> x = testing::random_matrix(4, 3, g), d_out = testing::random_matrix(4, 2, g);
  nn::forward(backend::reference{}, net, x, cache, y);
  nn::backward(backend::reference{}, net, cache, d_out, &dx);
  std::vector<const double*> before{y.data(), dx.data()};
  for (auto& m : cache.outputs) before.push_back(m.data());
  for (auto& m : cache.gradients) before.push_back(m.data());
  nn::forward(backend::reference{}, net, x, cache, y);
  nn::backward(backend::reference{}, net, cache, d_out, &dx);
  std::vector<const double*> after{y.data(), dx.data()};
  for (auto& m : cache.outputs) after.push_back(m.data());
  for (auto& m : cache.gradients) after.push_back(m.data());
  REQUIRE(before == after);
}
