// dqn trains every message model: their parameters move (the TD loss reaches them through
// the learner's backward).
#include <catch2/catch.hpp>
#include <cmath>

#include "netmarl/learn/dqn.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/message/loopy_bp.hpp"
#include "netmarl/message/mean_field.hpp"
#include "support/message_slot_check.hpp"

namespace nm = netmarl;

TEMPLATE_TEST_CASE("dqn trains the message model", "[learn][dqn][message]",
                   nm::message::mean_field, nm::message::loopy_bp, nm::message::attention) {
  using config = nm::testing::message_slot_config<nm::learn::dqn, TestType>;
  nm::settings<config> s;
  s.message = nm::testing::small_message_settings<TestType>();
  s.learner.hidden = 16;
  s.learner.batch_size = 16;
  s.learner.buffer_capacity = 400;
  s.learner.learning_rate = 1e-3;
  s.evaluation_episodes = 0;
  const auto o = nm::testing::train_and_measure(
      s, [](auto& learner) -> const auto& { return learner.parameters(); });
  INFO("moved " << o.moved << " over " << o.message_parameters << " message tensors");
  CHECK(o.message_parameters > 0);
  CHECK(o.moved > 1e-4);
  CHECK(std::isfinite(o.reward));
}
