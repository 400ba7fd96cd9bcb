#include <catch2/catch.hpp>

#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/concept.hpp"
#include "netmarl/optim/rmsprop.hpp"
#include "netmarl/optim/sgd.hpp"

namespace {

// The smallest type that is an Optimizer: what a learner may rely on and nothing more.
struct minimal_optimizer {
  using scalar = float;
  void step() {}
  void zero_grad() {}
  void set_learning_rate(float) {}
  float learning_rate() const { return 0; }
  netmarl::tensor_list<float> state() { return {}; }
};

struct without_state {
  using scalar = float;
  void step() {}
  void zero_grad() {}
  void set_learning_rate(float) {}
  float learning_rate() const { return 0; }
};

struct learning_rate_of_another_type {
  using scalar = float;
  void step() {}
  void zero_grad() {}
  void set_learning_rate(float) {}
  double learning_rate() const { return 0; }
  netmarl::tensor_list<float> state() { return {}; }
};

}  // namespace

static_assert(netmarl::optim::Optimizer<minimal_optimizer>);
static_assert(netmarl::optim::Optimizer<netmarl::optim::adam<double>>);
static_assert(netmarl::optim::Optimizer<netmarl::optim::rmsprop<float>>);
static_assert(netmarl::optim::Optimizer<netmarl::optim::sgd<double>>);
static_assert(!netmarl::optim::Optimizer<without_state>, "no state(): a checkpoint could not restore it");
static_assert(!netmarl::optim::Optimizer<learning_rate_of_another_type>);
static_assert(!netmarl::optim::Optimizer<int>);

TEST_CASE("Optimizer concept: the checks above compiled", "[optim][concept]") { SUCCEED(); }
