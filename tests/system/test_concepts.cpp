// Positive and negative static tests of the six slot concepts, and the models that satisfy them.
#include <catch2/catch.hpp>

#include "netmarl/backend/concept.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/factor/vdn.hpp"
#include "netmarl/learn/actor_critic.hpp"
#include "netmarl/learn/concept.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/message/none.hpp"
#include "netmarl/sharing/concept.hpp"
#include "netmarl/sharing/none.hpp"
#include "netmarl/topology/concept.hpp"
#include "netmarl/topology/models.hpp"

namespace nm = netmarl;

// Near misses: each has the right shape but one member wrong or missing.
struct sharing_without_shape {
  struct settings {};
  template <class T>
  struct model {
    model(nm::index, const settings&, nm::rng&) {}
  };
};
struct factor_without_backward {
  struct settings {};
  template <class T>
  struct model {
    static constexpr bool per_agent = false;
    model(nm::index, nm::index, const settings&, nm::rng&) {}
    nm::index outputs() const { return 1; }
    template <class B>
    void forward(B, nm::const_matrix_ref<T>, nm::const_matrix_ref<T>, nm::matrix<T>&) {}
  };
};
struct message_without_settings {
  template <class T>
  struct model {};
};
struct learner_without_end_epoch {
  struct settings {};
  template <class Slots>
  struct model {
    model(const nm::env::spec&, const nm::learn::slot_settings<Slots>&, nm::rng&) {}
    void act(const nm::learn::decision&, std::span<int>, nm::learn::mode) {}
    void observe(const nm::learn::transition&) {}
    void end_episode() {}
  };
};
struct backend_with_state {
  int stream = 0;
  static std::string name() { return "stateful"; }
  static constexpr std::size_t alignment() { return 64; }
  static constexpr bool on_host = true;
};
struct topology_without_graph {
  static constexpr bool dynamic = false;
  template <class E>
  void reset(const E&) {}
  template <class E>
  void update(const E&) {}
};

TEST_CASE("Backend: tags are backends, a stateful type is not", "[system][concepts]") {
  STATIC_REQUIRE(nm::Backend<nm::backend::reference>);
  STATIC_REQUIRE(nm::Backend<nm::backend::simd<>>);
  STATIC_REQUIRE(nm::Backend<nm::backend::cuda>);
  STATIC_REQUIRE_FALSE(nm::Backend<backend_with_state>);
  STATIC_REQUIRE_FALSE(nm::Backend<int>);
}

TEST_CASE("Topology: models and stand-in", "[system][concepts]") {
  STATIC_REQUIRE(nm::Topology<nm::graph::environment_graph>);
  STATIC_REQUIRE(nm::Topology<nm::graph::fixed>);
  STATIC_REQUIRE(nm::Topology<nm::graph::k_nearest<3>>);
  STATIC_REQUIRE_FALSE(nm::Topology<topology_without_graph>);
  STATIC_REQUIRE_FALSE(nm::Topology<int>);
}

TEST_CASE("RewardSharing: none and stand-in; a model without shape is not", "[system][concepts]") {
  STATIC_REQUIRE(nm::RewardSharing<nm::sharing::none>);
  STATIC_REQUIRE(nm::RewardSharing<nm::sharing::stand_in>);
  STATIC_REQUIRE_FALSE(nm::RewardSharing<sharing_without_shape>);
  STATIC_REQUIRE_FALSE(nm::RewardSharing<int>);
}

TEST_CASE("Factorization: independent, vdn and stand-in; one without backward is not",
          "[system][concepts]") {
  STATIC_REQUIRE(nm::Factorization<nm::factor::independent>);
  STATIC_REQUIRE(nm::Factorization<nm::factor::vdn>);
  STATIC_REQUIRE(nm::Factorization<nm::factor::stand_in>);
  STATIC_REQUIRE_FALSE(nm::Factorization<factor_without_backward>);
  STATIC_REQUIRE_FALSE(nm::Factorization<nm::sharing::none>);
}

TEST_CASE("MessagePassing: none and stand-in; one without settings is not", "[system][concepts]") {
  STATIC_REQUIRE(nm::MessagePassing<nm::message::none>);
  STATIC_REQUIRE(nm::MessagePassing<nm::message::stand_in>);
  STATIC_REQUIRE_FALSE(nm::MessagePassing<message_without_settings>);
  STATIC_REQUIRE_FALSE(nm::MessagePassing<nm::factor::vdn>);
}

TEST_CASE("Learner: actor_critic, dqn and stand-in; one without end_epoch is not",
          "[system][concepts]") {
  STATIC_REQUIRE(nm::Learner<nm::learn::actor_critic>);
  STATIC_REQUIRE(nm::Learner<nm::learn::dqn>);
  STATIC_REQUIRE(nm::Learner<nm::learn::stand_in>);
  STATIC_REQUIRE_FALSE(nm::Learner<learner_without_end_epoch>);
  STATIC_REQUIRE_FALSE(nm::Learner<nm::message::none>);
}
