// The EBPG experiments' loop: algorithm 1 of Li et al. 2020 (rollout of one episode, then the
// followers' and the leader's updates), with the leader, the followers and the noise chosen by
// flags. Every leader plays EBPG's game: bonuses are paid at signing (sharing::leader_incentive).
#include "ebpg/common/run.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <variant>
#include <vector>

#include "common/flags.hpp"
#include "common/plot.hpp"
#include "common/summary.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/env/resource_collection_rule_follower.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/io/learning_curve.hpp"
#include "netmarl/io/progress.hpp"
#include "netmarl/learn/ebpg/leader.hpp"
#include "netmarl/learn/followers/meta_goal_follower.hpp"
#include "netmarl/learn/followers/primitive_follower.hpp"
#include "netmarl/sharing/leader_incentive.hpp"

namespace netmarl::examples::ebpg {
namespace {

namespace lf = netmarl::learn::followers;
using leader_type = learn::ebpg::leader<float>;
using sharing_type = sharing::leader_incentive<leader_type>;

struct options {
  std::string leader = "ebpg";     // ebpg | no-ebpg | no-attention | m3rl | sparse-ebpg
  std::string followers = "rule";  // rule | vanilla-rl | abstraction-rl
  double noise = 0;
  index population = 40;
  index hidden = 128;
  index follower_hidden = 128;
  int episodes_per_point = 100;
  double betrayal_penalty = 1;
  learn::ebpg::leader_settings leader_settings;
  double follower_lr = 1e-3;
  double follower_epsilon = 0.3;
};

learn::ebpg::leader_settings leader_for(const options& o) {
  learn::ebpg::leader_settings s = o.leader_settings;
  s.hidden = o.hidden;
  if (o.leader == "no-ebpg") s.event_based = false;
  if (o.leader == "no-attention") s.attention = false;
  if (o.leader == "sparse-ebpg") s.policy_term = learn::ebpg::policy_gradient::sparse;
  if (o.leader == "m3rl") s = learn::ebpg::m3rl_style(s);
  return s;
}

// The followers of a run: M3RL's rule, or one of the two RL followers. RL followers have their own
// parameters lambda^k per population member (EBPG appendix B.2); a network shared by all 40 with
// the traits in its input did not learn trait-dependent choices (tests/learn/test_followers.cpp
// notes why), so the pool keeps one learner per member and each trains on the episodes it plays.
template <class Learner>
class rl_population {
 public:
  rl_population(const options& o, int bonus_levels, index followers, rng& init) {
    typename Learner::settings s;
    s.hidden = o.follower_hidden;
    s.lr = o.follower_lr;
    s.epsilon = o.follower_epsilon;
    s.noise = o.noise;
    for (index i = 0; i < o.population; ++i)
      members_.push_back(std::make_unique<Learner>(bonus_levels, followers, s, init));
    playing_.assign(static_cast<std::size_t>(followers), nullptr);
  }
  Learner& member(const env::resource_collection& world, index slot) {
    auto& m = *members_.at(static_cast<std::size_t>(
        world.followers()[static_cast<std::size_t>(slot)].traits.identity));
    playing_[static_cast<std::size_t>(slot)] = &m;
    return m;
  }
  void observe_reward(index slot, double r) {
    playing_[static_cast<std::size_t>(slot)]->observe_reward(slot, r);
  }
  void end_episode() {
    for (Learner* m : playing_)
      if (m) m->end_episode();  // a member plays at most one slot per episode
    std::fill(playing_.begin(), playing_.end(), nullptr);
  }

 private:
  std::vector<std::unique_ptr<Learner>> members_;
  std::vector<Learner*> playing_;
};

class follower_pool {
 public:
  struct decision {
    int action;
    int goal;
  };
  follower_pool(const options& o, int bonus_levels, index followers, rng& init) : noise_(o.noise) {
    if (o.followers == "abstraction-rl")
      meta_ = std::make_unique<rl_population<lf::meta_goal_follower<float>>>(o, bonus_levels,
                                                                             followers, init);
    else if (o.followers == "vanilla-rl")
      primitive_ = std::make_unique<rl_population<lf::primitive_follower<float>>>(o, bonus_levels,
                                                                                  followers, init);
  }
  decision decide(const env::resource_collection& world, index slot, const sharing::contract& c,
                  rng& g) {
    if (meta_) {
      const auto d = meta_->member(world, slot).decide(world, slot, c.goal, c.bonus, g);
      return {d.action, d.goal};
    }
    if (primitive_) {
      const auto d = primitive_->member(world, slot).decide(world, slot, c.goal, c.bonus, g);
      return {d.action, d.goal};
    }
    const auto d = env::rule_follower_decide(world, slot, c.goal, c.bonus, noise_, g);
    return {d.action, d.goal};
  }
  void observe_reward(index slot, double r) {
    if (meta_) meta_->observe_reward(slot, r);
    if (primitive_) primitive_->observe_reward(slot, r);
  }
  void end_episode() {
    if (meta_) meta_->end_episode();
    if (primitive_) primitive_->end_episode();
  }

 private:
  double noise_;
  std::unique_ptr<rl_population<lf::meta_goal_follower<float>>> meta_;
  std::unique_ptr<rl_population<lf::primitive_follower<float>>> primitive_;
};

struct episode_totals {
  double leader_reward = 0, incentive = 0, bonuses = 0, follower_reward = 0;
  double signings = 0, betrayals = 0, collected = 0, changes = 0, imitation = 0, beta = 0;
  double attention_max = 0;
  int steps = 0;
};

struct seed_result {
  std::vector<episode_totals> episodes;
  double wall_seconds = 0;
};

seed_result train_seed(const options& o, const experiment& e, index followers,
                       std::int64_t episodes, std::uint64_t seed, io::progress_bar& bar) {
  const auto start = std::chrono::steady_clock::now();
  env::resource_collection_settings es;
  es.bonus_levels = e.bonus_levels;
  es.population = o.population;
  es.followers = followers;
  env::resource_collection world(es);
  rng root(seed);
  rng init = root.split(1), env_rng = root.split(2), leader_rng = root.split(3),
      follower_rng = root.split(4);
  leader_type leader(e.bonus_levels, followers, leader_for(o), init);
  follower_pool pool(o, e.bonus_levels, followers, init);
  typename sharing_type::settings ss;
  ss.bonus_levels = e.bonus_levels;
  ss.betrayal_penalty = o.betrayal_penalty;
  typename sharing_type::template model<float> share(followers + 1, ss, init);
  const graph::csr star = graph::star(followers + 1);

  const auto K = static_cast<std::size_t>(followers);
  std::vector<int> actions(K), pursued(K);
  std::vector<float> raw(K + 1), shaped(K + 1);
  seed_result out;
  out.episodes.reserve(static_cast<std::size_t>(episodes));
  double recent = 0;
  for (std::int64_t ep = 0; ep < episodes; ++ep) {
    world.reset(env_rng);
    leader.begin_episode();
    share.begin_episode();
    episode_totals tot;
    while (!world.done()) {
      const auto offers = leader.decide(world, leader_rng);
      for (std::size_t k = 0; k < K; ++k) {
        const auto d = pool.decide(world, static_cast<index>(k), offers[k], follower_rng);
        actions[k] = d.action;
        pursued[k] = d.goal;
      }
      const auto& outcome = world.step(actions, env_rng);
      share.settle(offers, pursued, outcome.collected);
      raw[0] = 0;
      const auto traits = world.followers();
      for (std::size_t k = 0; k < K; ++k)
        raw[k + 1] = outcome.collected[k] >= 0 && outcome.collected[k] == traits[k].traits.desire
                         ? 1.0f
                         : 0.0f;
      share.shape(star, raw, shaped);
      const auto& ledger = share.last();
      leader.observe(actions, ledger, outcome, shaped[0]);
      for (std::size_t k = 0; k < K; ++k) {
        pool.observe_reward(static_cast<index>(k), shaped[k + 1]);
        tot.bonuses += ledger.bonus_paid[k];
        tot.incentive += ledger.gain[k];
        tot.follower_reward += shaped[k + 1];
        tot.signings += ledger.signing[k];
        tot.betrayals += ledger.betrayed[k];
        tot.collected += outcome.collected[k] >= 0 ? 1 : 0;
      }
      const auto w = leader.attention();
      if (!w.empty()) tot.attention_max += *std::max_element(w.begin(), w.end());
      tot.leader_reward += shaped[0];
      ++tot.steps;
    }
    pool.end_episode();
    const auto st = leader.end_episode();
    tot.changes = st.changes_per_step;
    tot.imitation = st.imitation_loss;
    tot.beta = st.mean_beta;
    tot.follower_reward /= static_cast<double>(K);
    tot.attention_max /= std::max(1, tot.steps);
    out.episodes.push_back(tot);
    recent = 0.98 * recent + 0.02 * tot.leader_reward;
    if ((ep + 1) % 10 == 0 || ep + 1 == episodes)
      bar.update(ep + 1, {{"leader_reward~", recent}, {"incentive", tot.incentive}});
  }
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// The mean of a field over the last `window` episodes.
template <class F>
double tail_mean(const std::vector<episode_totals>& eps, std::size_t window, F field) {
  window = std::min(window, eps.size());
  double sum = 0;
  for (std::size_t i = eps.size() - window; i < eps.size(); ++i) sum += field(eps[i]);
  return window ? sum / static_cast<double>(window) : 0.0;
}

}  // namespace

int run_experiment(int argc, char** argv, const experiment& e) {
  CLI::App app{e.description};
  app.name(e.tool);
  common_options o;
  o.agents = 4;
  options m;
  std::int64_t episodes = e.episodes;
  add_common_flags(app, o, budget_flags::none);
  app.add_option("--episodes", episodes, "training episodes per seed (one update per episode)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--leader", m.leader,
                 "ebpg (event-based PG, attention, sequential heads), sparse-ebpg, no-ebpg "
                 "(per-step PG), no-attention (mean of features), m3rl (all three off)")
      ->check(CLI::IsMember({"ebpg", "sparse-ebpg", "no-ebpg", "no-attention", "m3rl"}))
      ->capture_default_str();
  app.add_option("--followers", m.followers,
                 "rule (M3RL's rule-based workers), vanilla-rl (policy over primitive actions), "
                 "abstraction-rl (meta-policy over goals + path planner, lemma 3)")
      ->check(CLI::IsMember({"rule", "vanilla-rl", "abstraction-rl"}))
      ->capture_default_str();
  app.add_option("--noise", m.noise, "probability a follower takes a random action (table 1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--population", m.population,
                 "followers generated once; --agents are drawn per episode")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--hidden", m.hidden, "the leader's hidden width (paper: 128)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--follower-hidden", m.follower_hidden, "RL followers' hidden width")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--leader-lr", m.leader_settings.policy_lr, "leader policy Adam learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--critic-lr", m.leader_settings.critic_lr, "leader baselines' learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--follower-lr", m.follower_lr,
                 "RL followers' learning rate (two time scales: "
                 "faster than the leader)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--follower-epsilon", m.follower_epsilon, "RL followers' exploration")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--leader-epsilon", m.leader_settings.epsilon_start,
                 "leader exploration at the start, decayed linearly to 0")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--leader-epsilon-episodes", m.leader_settings.epsilon_episodes,
                 "episodes over which the leader's exploration decays")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--entropy", m.leader_settings.entropy, "lambda2: entropy bonus of mu")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--beta-l2", m.leader_settings.termination_l2, "lambda1: beta^2 regulariser")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--betrayal-penalty", m.betrayal_penalty,
                 "paid by a follower that drops a signed contract")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--episodes-per-point", m.episodes_per_point,
                 "episodes averaged into one curve point")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (int rc = parse_flags(app, argc, argv); rc >= 0) return rc;
  try {
    if (o.backend != "simd")
      throw invalid_argument(
          "the EBPG examples are built for the simd backend only (the "
          "reference kernels are the tests' oracle), got --backend " +
          o.backend);
    if (o.agents > m.population)
      throw invalid_argument("more followers per episode (--agents " + std::to_string(o.agents) +
                             ") than the population (--population " + std::to_string(m.population) +
                             ")");
    const std::string method =
        m.leader + " leader, " + m.followers + " followers, noise " + io::format_number(m.noise);
    io::learning_curve curve("episode", "leader_reward",
                             {"total_incentive", "bonuses", "follower_reward", "signings",
                              "betrayals", "option_changes", "imitation_loss"});
    std::vector<double> finals, incentives, follower_finals;
    const auto start = std::chrono::steady_clock::now();
    const std::size_t window = static_cast<std::size_t>(std::max<std::int64_t>(1, episodes / 10));
    for (std::uint64_t seed : seed_list(o)) {
      io::progress_bar bar(episodes, "seed " + std::to_string(seed), std::cerr, !o.quiet);
      const seed_result r = train_seed(m, e, o.agents, episodes, seed, bar);
      bar.finish();
      const auto& eps = r.episodes;
      const auto P = static_cast<std::size_t>(m.episodes_per_point);
      for (std::size_t i = 0; i + P <= eps.size(); i += P) {
        std::vector<episode_totals> block(eps.begin() + static_cast<std::ptrdiff_t>(i),
                                          eps.begin() + static_cast<std::ptrdiff_t>(i + P));
        auto mean = [&](auto f) { return tail_mean(block, P, f); };
        std::int64_t steps = 0;
        for (std::size_t j = 0; j < i + P; ++j) steps += eps[j].steps;
        curve.add(seed, static_cast<std::int64_t>(i + P), steps,
                  mean([](const auto& x) { return x.leader_reward; }),
                  {mean([](const auto& x) { return x.incentive; }),
                   mean([](const auto& x) { return x.bonuses; }),
                   mean([](const auto& x) { return x.follower_reward; }),
                   mean([](const auto& x) { return x.signings; }),
                   mean([](const auto& x) { return x.betrayals; }),
                   mean([](const auto& x) { return x.changes; }),
                   mean([](const auto& x) { return x.imitation; })});
      }
      finals.push_back(tail_mean(eps, window, [](const auto& x) { return x.leader_reward; }));
      incentives.push_back(tail_mean(eps, window, [](const auto& x) { return x.incentive; }));
      follower_finals.push_back(
          tail_mean(eps, window, [](const auto& x) { return x.follower_reward; }));
      std::printf(
          "seed %llu: leader reward %.3f, total incentive %.3f, follower reward %.3f "
          "(mean of the last %zu episodes; %.1f s)\n",
          static_cast<unsigned long long>(seed), finals.back(), incentives.back(),
          follower_finals.back(), window, r.wall_seconds);
      std::fflush(stdout);
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto stats = io::mean_and_std(finals);
    const auto inc = io::mean_and_std(incentives);
    const auto fol = io::mean_and_std(follower_finals);
    std::printf(
        "%s, %s: leader reward %.3f +- %.3f, total incentive %.3f +- %.3f over %d seed(s); "
        "%lld episodes; %.1f s\n",
        e.env_label.c_str(), method.c_str(), stats.mean, stats.std, inc.mean, inc.std, o.seeds,
        static_cast<long long>(episodes), wall);
    if (!o.out_csv.empty()) curve.write_csv(o.out_csv);
    if (!o.summary_json.empty()) {
      run_summary s;
      s.env = e.env_label;
      s.method = method;
      s.metric = "leader_reward";
      s.final = stats.mean;
      s.final_std = stats.std;
      s.seeds = o.seeds;
      s.budget = format_budget({{episodes, "episodes"}});
      s.wall_seconds = wall;
      s.extra["leader"] = m.leader;
      s.extra["followers"] = m.followers;
      s.extra["noise"] = m.noise;
      s.extra["bonus_levels"] = e.bonus_levels;
      s.extra["final_window_episodes"] = window;
      s.extra["finals"] = finals;
      s.extra["total_incentive"] = inc.mean;
      s.extra["total_incentive_std"] = inc.std;
      s.extra["total_incentives"] = incentives;
      s.extra["follower_reward"] = fol.mean;
      s.extra["hidden"] = m.hidden;
      write_summary(o.summary_json, s);
    }
    if (!o.plot_png.empty())
      plot_learning_curve(curve, o.plot_png, e.env_label + ", " + method, "episode",
                          "leader_reward", reference_line{0.0, "zero"});
    return 0;
  } catch (const error& x) {
    std::cerr << e.tool << ": " << x.what() << "\n";
    return 1;
  }
}

}  // namespace netmarl::examples::ebpg
