#pragma once
// learn::ebpg::leader: the EBPG leader (Li et al. 2020, algorithms 1 and 2, section 4, appendix
// B.1), and by switching its parts off the paper's ablations and an M3RL-style leader:
//
//   event_based       true: algorithm 2, per follower a termination draw ~ beta^k and a new option
//                     omega^k ~ mu^k only on termination; trained by the event-based policy
//                     gradient (dense or sparse, proposition 1 / remark 2).
//                     false ("w/o EBPG"): a new option every step, per-step policy gradient.
//   attention         true: follower-specific attention; false: M3RL's mean of the A^k.
//   sequential_heads  true: goal head, then the bonus head given the goal; false: independent.
//
// M3RL-style leader = {event_based false, attention false, sequential_heads false}.
//
// Online, one episode per update (appendix D.2.1): at the episode's end the advantage of step t is
// A_t = G_t - (phi^g(c_t) + phi^b(c_t)), where G_t is the leader's reward to go and the critics
// regress the gain to go and minus the bonuses to go. Appendix B.1 prints R - phi^g + phi^b with
// phi^b = -(bonuses); we read the two critics as the successor-style split of the value (Shu &
// Tian 2019) and subtract their sum, which is the baseline that makes A_t centred. The loss is
//   - sum_t A_t sum_k [ score(beta) + I'(e) ] + lambda1 beta^2 - lambda2 H(mu) + L_IL,
// where score(beta) is d log P(A_T) / d logit derived in event_gradient.hpp.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/learn/ebpg/event_gradient.hpp"
#include "netmarl/learn/ebpg/follower_history.hpp"
#include "netmarl/learn/ebpg/leader_network.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/clip.hpp"
#include "netmarl/sharing/leader_incentive.hpp"

namespace netmarl::learn::ebpg {

struct leader_settings {
  index hidden = 128;
  bool event_based = true;
  policy_gradient policy_term = policy_gradient::dense;
  bool attention = true;
  bool sequential_heads = true;
  double policy_lr = 3e-4;       // the leader's policy (appendix D.2.1)
  double critic_lr = 1e-3;       // the baselines
  double termination_l2 = 0.01;  // lambda1 on beta^2
  double entropy = 0.001;        // lambda2
  double imitation = 1.0;        // weight of L_IL
  double epsilon_start = 0.1;    // iota-greedy, decayed linearly to 0 over epsilon_episodes
  int epsilon_episodes = 5000;
  double gradient_clip = 10.0;  // global norm over the policy's parameters
  // Divide advantages by a running RMS of the returns to go (a scale, not a shift: the baselines
  // centre them), so early episodes' -100s do not drown the entropy and imitation terms.
  bool scale_advantage = true;
  // With probability epsilon a termination draw is a fair coin, so a leader whose beta has
  // collapsed still sees what re-contracting is worth (the paper's iota-greedy, applied to beta).
  bool explore_termination = true;
};

// The M3RL-style leader's switches.
inline leader_settings m3rl_style(leader_settings s = {}) {
  s.event_based = false;
  s.attention = false;
  s.sequential_heads = false;
  return s;
}

template <class T = float, class B = backend::simd<>>
class leader {
 public:
  using world = env::resource_collection;

  leader(int bonus_levels, index followers, const leader_settings& s, rng& init)
      : settings_(s),
        followers_(followers),
        bonus_levels_(bonus_levels),
        history_(followers, bonus_levels),
        net_(sizes(bonus_levels, s.hidden), init),
        policy_opt_(policy_parameters(net_),
                    optim::adam_settings<T>{.learning_rate = static_cast<T>(s.policy_lr)}),
        critic_opt_(baseline_parameters(net_),
                    optim::adam_settings<T>{.learning_rate = static_cast<T>(s.critic_lr)}) {
    if (bonus_levels < 1)
      throw invalid_argument("ebpg::leader: bonus_levels must be >= 1, got " +
                             std::to_string(bonus_levels));
    if (followers < 1)
      throw invalid_argument("ebpg::leader: needs at least one follower, got " +
                             std::to_string(followers));
    if (s.hidden < 1 || !(s.policy_lr > 0) || !(s.critic_lr > 0) || s.epsilon_start < 0 ||
        s.epsilon_start > 1)
      throw invalid_argument(
          "ebpg::leader: hidden and learning rates must be positive and "
          "epsilon_start in [0, 1]");
    offers_.assign(static_cast<std::size_t>(followers), sharing::contract{});
  }

  const leader_settings& settings() const { return settings_; }
  std::span<const sharing::contract> offers() const { return offers_; }
  leader_network<T>& network() { return net_; }
  bool training = true;

  void begin_episode() {
    history_.reset();
    std::fill(offers_.begin(), offers_.end(), sharing::contract{});
    t_ = 0;  // record_ keeps its steps' buffers from episode to episode
    h_ = matrix<T>::Zero(followers_, settings_.hidden);
    c_ = h_;
  }

  double epsilon() const {
    if (!training || settings_.epsilon_episodes <= 0) return 0.0;
    const double left = 1.0 - static_cast<double>(episodes_) / settings_.epsilon_episodes;
    return settings_.epsilon_start * std::max(0.0, left);
  }

  // Algorithm 2: this step's options for every follower.
  std::span<const sharing::contract> decide(const world& env, rng& g) {
    if (record_.size() <= t_) record_.emplace_back();
    step_record& r = record_[t_];
    leader_step<T>& s = r.step;
    ensure_shape(s.world, 1, world::world_features);
    world_buffer_.resize(static_cast<std::size_t>(world::world_features));
    env.world_observation(world_buffer_);
    for (index i = 0; i < world::world_features; ++i)
      s.world(0, i) = static_cast<T>(world_buffer_[static_cast<std::size_t>(i)]);
    history_.write(env, s.history_input);
    const index P = net_.sizes.previous_option();
    s.previous_option = matrix<T>::Zero(followers_, P);
    for (index k = 0; k < followers_; ++k) {
      const auto& o = offers_[static_cast<std::size_t>(k)];
      if (o.goal >= 0) {
        s.previous_option(k, o.goal) = 1;
        s.previous_option(k, net_.sizes.goals + o.bonus) = 1;
      }
    }
    const double eps = epsilon();
    const matrix<T> h_prev = h_, c_prev = c_;
    step_forward(B{}, net_, s, h_prev, c_prev, settings_.attention);
    h_ = s.lstm_h;
    c_ = s.lstm_c;

    const auto K = static_cast<std::size_t>(followers_);
    r.terminated.assign(K, 0);
    r.forced.assign(K, 0);
    r.epsilon = eps;
    r.goal.assign(K, -1);
    r.bonus.assign(K, 0);
    r.beta.assign(K, 1.0);
    for (std::size_t k = 0; k < K; ++k) {
      const bool first = offers_[k].goal < 0;
      const double beta =
          1.0 /
          (1.0 + std::exp(-static_cast<double>(s.termination_logit(static_cast<index>(k), 0))));
      r.beta[k] = beta;
      const bool coin = settings_.explore_termination && eps > 0 && g.bernoulli(eps);
      const bool terminate =
          first || !settings_.event_based || (coin ? g.bernoulli(0.5) : g.bernoulli(beta));
      r.terminated[k] = terminate;
      r.forced[k] = first || !settings_.event_based;
      r.goal[k] =
          terminate ? sample(s.goal_logits.row(static_cast<index>(k)), eps, g) : offers_[k].goal;
    }
    bonus_goal_ = r.goal;
    if (!settings_.sequential_heads) std::fill(bonus_goal_.begin(), bonus_goal_.end(), -1);
    bonus_forward(B{}, net_, s, bonus_goal_);
    for (std::size_t k = 0; k < K; ++k) {
      r.bonus[k] = r.terminated[k] ? sample(s.bonus_logits.row(static_cast<index>(k)), eps, g)
                                   : offers_[k].bonus;
      offers_[k] = sharing::contract{r.goal[k], r.bonus[k]};
    }
    return offers_;
  }

  // After the world stepped: the followers' actions (imitation targets), the sharing ledger, the
  // env's step outcome and the leader's shaped reward.
  template <class Ledger>
  void observe(std::span<const int> actions, const Ledger& ledger,
               const world::step_outcome& outcome, double leader_reward) {
    step_record& r = record_.at(t_);
    r.actions.assign(actions.begin(), actions.end());
    r.reward = leader_reward;
    r.gain = 0;
    r.paid = 0;
    for (std::size_t k = 0; k < static_cast<std::size_t>(followers_); ++k) {
      r.gain += ledger.gain[k];
      r.paid += ledger.bonus_paid[k];
    }
    history_.record(offers_, actions, ledger.signed_now, outcome.dug, outcome.collected);
    ++t_;
  }

  struct update_stats {
    double policy_loss = 0, imitation_loss = 0, baseline_loss = 0, mean_beta = 0;
    double changes_per_step = 0;  // options changed per follower and step
  };

  // Algorithm 1's training stage on the episode just played.
  update_stats end_episode() {
    update_stats st;
    if (!training) return st;
    ++episodes_;
    const std::size_t T_ = t_;
    if (T_ == 0) return st;
    // rewards to go
    std::vector<double> gain_to_go(T_ + 1, 0.0), paid_to_go(T_ + 1, 0.0);
    for (std::size_t t = T_; t-- > 0;) {
      gain_to_go[t] = gain_to_go[t + 1] + record_[t].gain;
      paid_to_go[t] = paid_to_go[t + 1] + record_[t].paid;
      const double ret = gain_to_go[t] - paid_to_go[t];
      return_square_ = return_square_ * 0.999 + 0.001 * ret * ret;
      return_weight_ = return_weight_ * 0.999 + 0.001;
    }
    const double scale =
        settings_.scale_advantage ? 1.0 / (std::sqrt(return_square_ / return_weight_) + 1e-3) : 1.0;
    const index K = followers_, G = net_.sizes.goals, L = net_.sizes.bonuses,
                A = net_.sizes.actions;
    matrix<T> d_h, d_c;
    leader_step_gradient<T> d;
    double changes = 0, beta_sum = 0;
    for (std::size_t t = T_; t-- > 0;) {
      step_record& r = record_[t];
      leader_step<T>& s = r.step;
      const double ret = gain_to_go[t] - paid_to_go[t];
      const double advantage = scale * (ret - (s.gain_baseline + s.bonus_baseline));
      st.baseline_loss += 0.5 * (std::pow(s.gain_baseline - gain_to_go[t], 2) +
                                 std::pow(s.bonus_baseline + paid_to_go[t], 2));
      d.termination_logit = matrix<T>::Zero(K, 1);
      d.goal_logits = matrix<T>::Zero(K, G);
      d.bonus_logits = matrix<T>::Zero(K, L);
      d.action_logits = matrix<T>::Zero(K, A);
      for (index k = 0; k < K; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const bool terminated = r.terminated[kk];
        changes += terminated ? 1 : 0;
        beta_sum += r.beta[kk];
        if (settings_.event_based && !r.forced[kk]) {
          const double beta = r.beta[kk];
          // The draw was beta with probability 1 - eps and a fair coin otherwise: the score of
          // that mixture q = (1 - eps) beta + eps / 2 (at eps = 0, event_gradient's derived form).
          const double e = settings_.explore_termination ? r.epsilon : 0.0;
          const double q = (1 - e) * beta + e / 2;
          const double score = e == 0 ? termination_logit_score(beta, terminated)
                                      : (1 - e) * beta * (1 - beta) / (terminated ? q : -(1 - q));
          d.termination_logit(k, 0) = static_cast<T>(
              -score * advantage + settings_.termination_l2 * 2 * beta * beta * (1 - beta));
        }
        const bool active = !settings_.event_based || r.forced[kk] ||
                            policy_term_active(settings_.policy_term, terminated);
        add_policy_gradient(s.goal_logits.row(k), r.goal[kk], active ? advantage : 0.0,
                            d.goal_logits.row(k), st.policy_loss);
        add_policy_gradient(s.bonus_logits.row(k), r.bonus[kk], active ? advantage : 0.0,
                            d.bonus_logits.row(k), st.policy_loss);
        // imitation: cross entropy of p^k against the follower's actual action
        const int a = r.actions[kk];
        d.action_logits.row(k) = s.action_probs.row(k) * static_cast<T>(settings_.imitation / K);
        d.action_logits(k, a) -= static_cast<T>(settings_.imitation / K);
        st.imitation_loss -= std::log(std::max<double>(s.action_probs(k, a), 1e-12)) / K;
      }
      baseline_backward(B{}, net_, s, static_cast<T>(gain_to_go[t]),
                        static_cast<T>(-paid_to_go[t]));
      step_backward(B{}, net_, s, d, d_h, d_c, settings_.attention);
    }
    const auto policy = policy_parameters(net_);
    optim::clip_grad_norm(policy, static_cast<T>(settings_.gradient_clip));
    policy_opt_.step();
    critic_opt_.step();
    nn::zero_grad(policy);
    nn::zero_grad(baseline_parameters(net_));
    st.mean_beta = beta_sum / static_cast<double>(T_ * static_cast<std::size_t>(K));
    st.changes_per_step = changes / static_cast<double>(T_ * static_cast<std::size_t>(K));
    st.imitation_loss /= static_cast<double>(T_);
    return st;
  }

  // w^k of the latest decided step (for the attention figure).
  std::span<const T> attention() const {
    if (t_ == 0 || record_.empty()) return {};
    const auto& a = record_[t_ - 1].step.attention;
    return {a.data(), static_cast<std::size_t>(a.size())};
  }
  int episodes_trained() const { return episodes_; }

 private:
  struct step_record {
    leader_step<T> step;
    std::vector<std::uint8_t> terminated, forced;  // forced: the first option, or w/o EBPG
    std::vector<int> goal, bonus, actions;
    std::vector<double> beta;
    double reward = 0, gain = 0, paid = 0, epsilon = 0;
  };

  static leader_network_sizes sizes(int bonus_levels, index hidden) {
    leader_network_sizes z;
    z.world = world::world_features;
    z.history_input = follower_history::features(bonus_levels);
    z.hidden = hidden;
    z.actions = world::actions;
    z.goals = world::resource_types;
    z.bonuses = bonus_levels;
    return z;
  }
  static nn::parameter_list<T> policy_parameters(leader_network<T>& n) {
    nn::parameter_list<T> out;
    n.append_policy_parameters(out, "");
    return out;
  }
  static nn::parameter_list<T> baseline_parameters(leader_network<T>& n) {
    nn::parameter_list<T> out;
    n.append_baseline_parameters(out, "");
    return out;
  }

  // A draw from softmax(logits), or with probability eps a uniform one.
  template <class Row>
  static int sample(const Row& logits, double eps, rng& g) {
    const index n = logits.size();
    if (eps > 0 && g.bernoulli(eps))
      return static_cast<int>(g.below(static_cast<std::uint64_t>(n)));
    const double top = static_cast<double>(logits.maxCoeff());
    double total = 0;
    for (index i = 0; i < n; ++i) total += std::exp(static_cast<double>(logits(i)) - top);
    double u = g.uniform() * total;
    for (index i = 0; i < n; ++i) {
      u -= std::exp(static_cast<double>(logits(i)) - top);
      if (u < 0) return static_cast<int>(i);
    }
    return static_cast<int>(n - 1);
  }

  // d/dlogits of -A log p(choice) - lambda2 H(p), accumulated into `out`.
  template <class Row, class OutRow>
  void add_policy_gradient(const Row& logits, int choice, double advantage, OutRow out,
                           double& loss) {
    const index n = logits.size();
    const double top = static_cast<double>(logits.maxCoeff());
    double total = 0;
    for (index i = 0; i < n; ++i) total += std::exp(static_cast<double>(logits(i)) - top);
    double entropy = 0;
    std::vector<double>& p = probabilities_;
    std::vector<double>& logp = log_probabilities_;
    p.resize(static_cast<std::size_t>(n));
    logp.resize(static_cast<std::size_t>(n));
    for (index i = 0; i < n; ++i) {
      const auto ii = static_cast<std::size_t>(i);
      logp[ii] = static_cast<double>(logits(i)) - top - std::log(total);
      p[ii] = std::exp(logp[ii]);
      entropy -= p[ii] * logp[ii];
    }
    for (index i = 0; i < n; ++i) {
      const auto ii = static_cast<std::size_t>(i);
      double grad = advantage * (p[ii] - (i == choice ? 1.0 : 0.0));
      grad += settings_.entropy * p[ii] * (logp[ii] + entropy);
      out(i) += static_cast<T>(grad);
    }
    loss += -advantage * logp[static_cast<std::size_t>(choice)] - settings_.entropy * entropy;
  }

  leader_settings settings_;
  index followers_;
  int bonus_levels_;
  follower_history history_;
  leader_network<T> net_;
  optim::adam<T> policy_opt_, critic_opt_;
  std::vector<sharing::contract> offers_;
  std::vector<step_record> record_;
  // per-step scratch, kept so a step does not allocate
  std::vector<float> world_buffer_;
  std::vector<int> bonus_goal_;
  std::vector<double> probabilities_, log_probabilities_;
  std::size_t t_ = 0;
  int episodes_ = 0;
  double return_square_ = 0, return_weight_ = 0;  // running mean of G_t^2 (bias-corrected)
  matrix<T> h_, c_;
};

}  // namespace netmarl::learn::ebpg
