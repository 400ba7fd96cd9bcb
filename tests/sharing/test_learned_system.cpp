// sharing::learned inside a system: the learner is built for observations widened by w^in, phi
// updates at its own frequency against the dqn critic, its parameters move, and a run is
// reproducible from its seed.
#include <catch2/catch.hpp>
#include <cmath>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/sharing/learned.hpp"
#include "netmarl/system.hpp"

namespace nm = netmarl;
using idx = nm::index;

namespace {

struct ltos_config : nm::default_config {
  using sharing = nm::sharing::learned;
  using factor = nm::factor::independent;
  using message = nm::message::attention;
  using learner = nm::learn::dqn;
  using backend = nm::backend::reference;
};

nm::settings<ltos_config> small_settings() {
  nm::settings<ltos_config> s;
  s.message.encoder = {16};
  s.message.dim = 8;
  s.message.heads = 2;
  s.learner.hidden = 16;
  s.learner.batch_size = 8;
  s.learner.buffer_capacity = 500;
  s.sharing.incoming_slots = 3;
  s.sharing.encoder = {8};
  s.sharing.pair_width = 8;
  s.sharing.update_interval_steps = 0;
  s.sharing.update_interval_episodes = 5;
  s.sharing.sample_size = 16;
  s.sharing.batch_size = 8;
  s.sharing.learning_rate = 0.05;
  s.episodes_per_epoch = 10;
  s.evaluation_episodes = 2;
  return s;
}

std::vector<nm::matrix<float>> phi_values(nm::system<ltos_config>& sys) {
  std::vector<nm::matrix<float>> v;
  for (const auto& p : sys.sharing().parameters()) v.push_back(p.param->value);
  return v;
}

}  // namespace

TEST_CASE("a system with learned sharing widens observations and trains phi", "[sharing][ltos]") {
  nm::env::coordination_grid env({.side = 2, .episode_length = 5});  // 4 agents on a square
  nm::system<ltos_config> sys(nm::env::spec_of(env), small_settings(), 9);
  CHECK(sys.spec().observation_size == 4);
  CHECK(sys.learner().parameters().front().param->value.rows() == 4 + 3);  // encoder reads o + w^in
  const auto before = phi_values(sys);
  const auto result = sys.train(env, nm::epochs{3});
  REQUIRE(result.curve.size() == 3);
  // 30 episodes, an update round every 5: 6 rounds of ceil(16 / 8) = 2 steps
  CHECK(sys.sharing().updates() == 12);
  const auto after = phi_values(sys);
  double moved = 0;
  for (std::size_t k = 0; k < before.size(); ++k)
    moved = std::max(moved, double((after[k] - before[k]).cwiseAbs().maxCoeff()));
  CHECK(moved > 1e-6);
  CHECK(std::isfinite(sys.sharing().last_value()));
  // The weights acted on are a distribution per agent.
  const auto& ew = sys.sharing().weights();
  for (idx i = 0; i < 4; ++i) {
    double row = 0;
    for (auto e = ew.graph.offsets[static_cast<std::size_t>(i)];
         e < ew.graph.offsets[static_cast<std::size_t>(i) + 1]; ++e)
      row += ew.w[static_cast<std::size_t>(e)];
    CHECK(row == Approx(1.0).margin(1e-5));
  }
}

TEST_CASE("learned sharing runs are reproducible from the seed", "[sharing][ltos]") {
  nm::env::coordination_grid env({.side = 2, .episode_length = 5});
  auto run = [&] {
    nm::system<ltos_config> sys(nm::env::spec_of(env), small_settings(), 4);
    const auto r = sys.train(env, nm::epochs{2});
    return std::make_pair(r.curve.back().metric, phi_values(sys));
  };
  const auto a = run(), b = run();
  CHECK(a.first == b.first);
  REQUIRE(a.second.size() == b.second.size());
  for (std::size_t k = 0; k < a.second.size(); ++k) CHECK(a.second[k] == b.second[k]);
}
