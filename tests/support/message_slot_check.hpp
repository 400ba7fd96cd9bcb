#pragma once
// Trains a learner with a given message model on the 2x2 coordination grid for a few hundred
// steps and reports whether the message model's parameters moved: the check that the learner
// differentiates through its message slot (IP issue: every message model plugs into every
// learner).
#include <string>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/system.hpp"

namespace netmarl::testing {

template <class Learner, class Message>
struct message_slot_config : default_config {
  using learner = Learner;
  using factor = netmarl::factor::independent;
  using message = Message;
};

// Small settings for every message model: 16 units (attention: a 16-unit encoder, 8 wide, 2
// heads).
template <class Message>
typename Message::settings small_message_settings() {
  typename Message::settings m;
  if constexpr (requires { m.heads; }) {
    m.encoder = {16};
    m.dim = 8;
    m.heads = 2;
  } else {
    m.hidden = 16;
  }
  return m;
}

struct message_slot_outcome {
  double moved = 0;          // max |change| over the message parameters
  double reward = 0;         // mean greedy reward after training (finite)
  std::size_t message_parameters = 0;
};

template <class Config, class Params>
message_slot_outcome train_and_measure(settings<Config> s, Params&& parameters_of) {
  env::coordination_grid env({.side = 2});
  system<Config> sys(env::spec_of(env), s, 3);
  auto snapshot = [&] {
    std::vector<matrix<typename Config::scalar>> values;
    for (const auto& p : parameters_of(sys.learner()))
      if (p.name.rfind("message.", 0) == 0) values.push_back(p.param->value);
    return values;
  };
  const auto before = snapshot();
  sys.train(env, steps{400});
  const auto after = snapshot();
  message_slot_outcome o;
  o.message_parameters = before.size();
  for (std::size_t i = 0; i < before.size(); ++i)
    o.moved = std::max(o.moved, double((after[i] - before[i]).cwiseAbs().maxCoeff()));
  o.reward = sys.evaluate(env, 5, learn::mode::greedy);
  return o;
}

}  // namespace netmarl::testing
