// actor_critic trains every message model: their parameters move (the policy gradient reaches them through
// the learner's backward).
#include <catch2/catch.hpp>
#include <cmath>

#include "netmarl/learn/actor_critic.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/message/loopy_bp.hpp"
#include "netmarl/message/mean_field.hpp"
#include "support/message_slot_check.hpp"

namespace nm = netmarl;

TEMPLATE_TEST_CASE("actor_critic trains the message model", "[learn][actor_critic][message]",
                   nm::message::mean_field, nm::message::loopy_bp, nm::message::attention) {
  using config = nm::testing::message_slot_config<nm::learn::actor_critic, TestType>;
  nm::settings<config> s;
  s.message = nm::testing::small_message_settings<TestType>();
  s.learner.hidden = 16;
  s.episodes_per_epoch = 10;
  s.evaluation_episodes = 0;
  const auto o = nm::testing::train_and_measure(
      s, [](auto& learner) -> const auto& { return learner.actor_parameters(); });
  INFO("moved " << o.moved << " over " << o.message_parameters << " message tensors");
  CHECK(o.message_parameters > 0);
  CHECK(o.moved > 1e-4);
  CHECK(std::isfinite(o.reward));
}
