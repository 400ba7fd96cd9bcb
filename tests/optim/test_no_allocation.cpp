// step(), clipping and target updates run inside every training step, so they must not touch the
// heap. Two counters catch allocations: Eigen's own (EIGEN_RUNTIME_NO_MALLOC, reported through a
// recording eigen_assert, since Release builds compile the stock one out) and global operator new
// (std::vector, std::string, ...).
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

namespace {
std::atomic<long> eigen_allocations{0};
std::atomic<long> new_allocations{0};
std::atomic<bool> counting{false};
}  // namespace

#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) ((x) ? static_cast<void>(0) : static_cast<void>(++eigen_allocations))

#include <catch2/catch.hpp>

#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/clip.hpp"
#include "netmarl/optim/rmsprop.hpp"
#include "netmarl/optim/sgd.hpp"
#include "netmarl/optim/target.hpp"

void* operator new(std::size_t size) {
  if (counting) ++new_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using netmarl::nn::parameter;
using netmarl::nn::parameter_list;

namespace {

struct allocation_guard {
  allocation_guard() {
    eigen_allocations = 0;
    new_allocations = 0;
    Eigen::internal::set_is_malloc_allowed(false);
    counting = true;
  }
  ~allocation_guard() {
    counting = false;
    Eigen::internal::set_is_malloc_allowed(true);
  }
};

struct model {
  parameter<float> w{16, 33}, b{1, 33}, w2{33, 5};
  model() {
    w.value.setConstant(0.5f);
    w.grad.setConstant(0.25f);
    b.grad.setConstant(-1.0f);
    w2.grad.setConstant(3.0f);
  }
  parameter_list<float> params() { return {{"w", &w}, {"b", &b}, {"w2", &w2}}; }
};

template <class Optimizer>
void require_steps_allocate_nothing(Optimizer& opt) {
  {
    allocation_guard guard;
    for (int i = 0; i < 3; ++i) opt.step();
    opt.zero_grad();
    opt.set_learning_rate(opt.learning_rate());
  }
  CHECK(eigen_allocations == 0);
  CHECK(new_allocations == 0);
}

}  // namespace

TEST_CASE("the allocation counters work", "[optim][allocation]") {
  {
    allocation_guard guard;
    netmarl::matrix<float> m(3, 3);
    m.setZero();
  }
  CHECK(eigen_allocations == 1);
  {
    allocation_guard guard;
    volatile std::size_t size = 8;  // volatile: keeps the compiler from eliding the allocation
    std::vector<int> v(size);
  }
  CHECK(new_allocations == 1);
}

TEST_CASE("optimizer steps allocate nothing", "[optim][allocation]") {
  model m;
  SECTION("adam") {
    netmarl::optim::adam<float> opt(m.params(), {.weight_decay = 0.01f});
    require_steps_allocate_nothing(opt);
  }
  SECTION("rmsprop, every buffer") {
    netmarl::optim::rmsprop<float> opt(m.params(), {.weight_decay = 0.01f, .momentum = 0.9f, .centered = true});
    require_steps_allocate_nothing(opt);
  }
  SECTION("rmsprop, plain") {
    netmarl::optim::rmsprop<float> opt(m.params());
    require_steps_allocate_nothing(opt);
  }
  SECTION("sgd with nesterov momentum") {
    netmarl::optim::sgd<float> opt(m.params(), {.momentum = 0.9f, .nesterov = true, .weight_decay = 0.01f});
    require_steps_allocate_nothing(opt);
  }
  SECTION("sgd, plain") {
    netmarl::optim::sgd<float> opt(m.params());
    require_steps_allocate_nothing(opt);
  }
}

TEST_CASE("clipping and target updates allocate nothing", "[optim][allocation]") {
  model source, target;
  const auto source_params = source.params();
  const auto target_params = target.params();
  {
    allocation_guard guard;
    netmarl::optim::clip_grad_norm(source_params, 1.0f);
    netmarl::optim::clip_grad_value(source_params, 0.1f);
    netmarl::optim::polyak_update(target_params, source_params, 0.005f);
    netmarl::optim::hard_update(target_params, source_params);
  }
  CHECK(eigen_allocations == 0);
  CHECK(new_allocations == 0);
}
