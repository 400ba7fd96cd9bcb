#pragma once
// The learner the RL followers share (EBPG section 4.3 and appendix B.2).
//
// head_policy: one network for the followers it is given (each follower's traits are in its
// input, learn/followers/follower_input.hpp; examples/ebpg keeps one per population member): a ReLU
// MLP input -> hidden -> hidden -> `heads` categorical heads of `choices` logits each (the heads
// are column blocks of one output layer, which is exactly independent linear heads on a shared
// trunk). It explores with the epsilon mixture q = (1 - eps) softmax + eps / choices per head, and
// learns by REINFORCE, online, one episode per update (EBPG appendix C), on the exact gradient of
// the behaviour policy:
//   loss = -(1 / R) sum_rows (G_t - b) sum_heads log q(chosen | x_t),
// R the rows recorded (steps times followers), G_t = sum_{t' >= t} gamma^(t' - t) r_t' a follower's
// return-to-go and b a running mean of the followers' episode returns G_0 (the mean of all of them
// over the first `baseline_window` trajectories, then an exponential average with rate
// 1 / baseline_window, so it tracks a follower population that improves). The baseline is taken
// before the episode it is used on, so it does not depend on that episode: the gradient stays
// unbiased. Followers have no critic (EBPG appendix B.2).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/learn/followers/follower_input.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/adam.hpp"

namespace netmarl::learn::followers {

struct follower_settings {
  index hidden = 128;    // width of both hidden layers
  double lr = 1e-3;      // Adam; followers learn faster than the leader (EBPG 4.4: 1e-3 vs 3e-4)
  double epsilon = 0.3;  // exploration mixture weight of the uniform policy (EBPG: 0.3)
  double gamma = 1.0;    // discount of the returns-to-go
  double noise = 0.0;    // probability that the executed primitive action is a random one
};

// Execution noise: with probability p the executed action becomes a uniform choice of forward,
// turn left, turn right and stop (never dig, as in the rule-based follower). The learner still
// credits the action (or goal) it chose.
inline int with_execution_noise(int action, double p, rng& g) {
  if (p <= 0 || !g.bernoulli(p)) return action;
  using rc = env::resource_collection;
  static constexpr std::array<int, 4> noisy{rc::forward, rc::turn_left, rc::turn_right, rc::stop};
  return noisy[static_cast<std::size_t>(g.below(noisy.size()))];
}

template <class T, class Backend>
class head_policy {
 public:
  static constexpr index baseline_window = 100;

  head_policy(index inputs, int heads, int choices, index max_followers, const follower_settings& s,
              rng& init, std::string who)
      : who_(std::move(who)),
        settings_(validated(s, who_)),
        heads_(checked(heads, 1, "heads")),
        choices_(checked(choices, 2, "choices")),
        inputs_(checked(inputs, 1, "inputs")),
        max_followers_(checked(max_followers, 1, "max_followers")),
        net_({inputs, s.hidden, s.hidden, index(heads) * choices}, nn::activation::relu,
             nn::activation::identity, init),
        params_(nn::parameters_of(net_)),
        optimizer_(params_, {.learning_rate = T(s.lr)}),
        act_row_(1, inputs),
        mixture_(static_cast<std::size_t>(choices)),
        return_to_go_(static_cast<std::size_t>(max_followers_)),
        has_rows_(static_cast<std::size_t>(max_followers_)) {}
  // The optimizer holds pointers into the network.
  head_policy(const head_policy&) = delete;
  head_policy& operator=(const head_policy&) = delete;

  // Forward on one input; per head, samples from the epsilon mixture (explore) or takes the
  // softmax's argmax (greedy) into chosen[head]. Records nothing.
  void act(std::span<const float> input, bool explore, rng& g, std::span<int> chosen) {
    for (index i = 0; i < inputs_; ++i) act_row_(0, i) = static_cast<T>(input[std::size_t(i)]);
    nn::forward(Backend{}, net_, act_row_, act_cache_, act_logits_);
    ensure_shape(act_probs_, 1, act_logits_.cols());
    const double eps = settings_.epsilon;
    for (int h = 0; h < heads_; ++h) {
      auto logits = act_logits_.row(0).segment(index(h) * choices_, choices_);
      auto probs = act_probs_.row(0).segment(index(h) * choices_, choices_);
      probs = (logits.array() - logits.maxCoeff()).exp().matrix();
      probs /= probs.sum();
      index best = 0;
      if (!explore) {
        probs.maxCoeff(&best);
      } else {
        for (int j = 0; j < choices_; ++j)
          mixture_[std::size_t(j)] = (1 - eps) * static_cast<double>(probs(j)) + eps / choices_;
        best = static_cast<index>(g.categorical(std::span<const double>(mixture_)));
      }
      chosen[std::size_t(h)] = static_cast<int>(best);
    }
  }

  // Softmax of head `head` (no epsilon) at the latest act().
  std::span<const T> probabilities(int head) const {
    return {act_probs_.data() + index(head) * choices_, static_cast<std::size_t>(choices_)};
  }

  // Appends one step of follower `slot`: its input and the choice of every head.
  void record(index slot, std::span<const float> input, std::span<const int> chosen) {
    check_slot(slot);
    const std::size_t at = recorded_inputs_.size();
    recorded_inputs_.resize(at + static_cast<std::size_t>(inputs_));
    std::transform(input.begin(), input.end(), recorded_inputs_.begin() + std::ptrdiff_t(at),
                   [](float v) { return static_cast<T>(v); });
    for (int h = 0; h < heads_; ++h) {
      const int c = chosen[std::size_t(h)];
      if (c < 0 || c >= choices_)
        throw invalid_argument(who_ + ": chosen[" + std::to_string(h) + "] = " + std::to_string(c) +
                               " is out of range [0, " + std::to_string(choices_) + ")");
      recorded_choices_.push_back(c);
    }
    recorded_slots_.push_back(slot);
    recorded_rewards_.push_back(0.0);
    has_rows_[std::size_t(slot)] = 1;
  }

  // Adds r to follower `slot`'s latest recorded step.
  void reward(index slot, double r) {
    check_slot(slot);
    for (std::size_t row = recorded_slots_.size(); row-- > 0;)
      if (recorded_slots_[row] == slot) {
        recorded_rewards_[row] += r;
        return;
      }
    throw invalid_argument(who_ + ": reward for slot " + std::to_string(slot) +
                           " before any recorded decision of that slot this episode");
  }

  index recorded_steps() const { return static_cast<index>(recorded_slots_.size()); }
  // Recorded row `row`'s input, as the network reads it.
  std::span<const T> recorded_input(index row) const {
    return {recorded_inputs_.data() + row * inputs_, static_cast<std::size_t>(inputs_)};
  }

  // The surrogate loss above at the current parameters; with `gradient`, also its gradient,
  // written (not accumulated) into the parameters' .grad.
  T surrogate_loss(bool gradient) {
    const index rows = recorded_steps();
    if (rows == 0) return T(0);
    compute_returns();
    const_matrix_map<T> x(recorded_inputs_.data(), rows, inputs_);
    nn::forward(Backend{}, net_, x, batch_cache_, batch_logits_);
    ensure_shape(d_logits_, rows, batch_logits_.cols());
    const double eps = settings_.epsilon;
    double loss = 0;
    for (index r = 0; r < rows; ++r) {
      const double weight = -(returns_[std::size_t(r)] - baseline_) / static_cast<double>(rows);
      for (int h = 0; h < heads_; ++h) {
        auto logits = batch_logits_.row(r).segment(index(h) * choices_, choices_);
        auto d = d_logits_.row(r).segment(index(h) * choices_, choices_);
        const int k = recorded_choices_[std::size_t(r * heads_ + h)];
        const T max = logits.maxCoeff();
        d = (logits.array() - max).exp().matrix();  // d holds the softmax until overwritten
        const double total = static_cast<double>(d.sum());
        d /= static_cast<T>(total);
        const double p_k = static_cast<double>(d(k));
        const double q_k = (1 - eps) * p_k + eps / choices_;
        const double log_p_k = static_cast<double>(logits(k) - max) - std::log(total);
        loss += weight * (eps == 0 ? log_p_k : std::log(q_k));
        if (!gradient) continue;
        // d log q_k / d logit_j = (1 - eps) p_k (onehot_k - p)_j / q_k
        const double ratio = q_k > 0 ? (1 - eps) * p_k / q_k : 1.0;
        d = (-d.array() * static_cast<T>(weight * ratio)).matrix();
        d(k) += static_cast<T>(weight * ratio);
      }
    }
    if (gradient) {
      optimizer_.zero_grad();
      nn::backward(Backend{}, net_, batch_cache_, d_logits_, nullptr);
    }
    return static_cast<T>(loss);
  }

  // One Adam step on the recorded episode (if any), then the baseline update, then clears.
  void end_episode() {
    if (recorded_steps() > 0) {
      last_loss_ = static_cast<double>(surrogate_loss(true));
      optimizer_.step();
      ++updates_;
      update_baseline();
    }
    recorded_inputs_.clear();
    recorded_choices_.clear();
    recorded_slots_.clear();
    recorded_rewards_.clear();
    std::fill(has_rows_.begin(), has_rows_.end(), std::uint8_t{0});
  }

  double baseline() const { return baseline_; }
  double last_loss() const { return last_loss_; }
  std::int64_t updates() const { return updates_; }
  const follower_settings& settings() const { return settings_; }
  index max_followers() const { return max_followers_; }
  index input_size() const { return inputs_; }
  nn::parameter_list<T>& parameters() { return params_; }

  void check_slot(index slot) const {
    if (slot < 0 || slot >= max_followers_)
      throw invalid_argument(who_ + ": slot " + std::to_string(slot) + " is out of range [0, " +
                             std::to_string(max_followers_) + ")");
  }

 private:
  static follower_settings validated(const follower_settings& s, const std::string& who) {
    require(s.hidden >= 1, who + ": hidden must be >= 1, got " + std::to_string(s.hidden));
    require(s.lr > 0, who + ": lr must be > 0, got " + std::to_string(s.lr));
    require(s.epsilon >= 0 && s.epsilon <= 1,
            who + ": epsilon must be in [0, 1], got " + std::to_string(s.epsilon));
    require(s.gamma >= 0 && s.gamma <= 1,
            who + ": gamma must be in [0, 1], got " + std::to_string(s.gamma));
    require(s.noise >= 0 && s.noise <= 1,
            who + ": noise must be in [0, 1], got " + std::to_string(s.noise));
    return s;
  }

  template <class I>
  I checked(I value, std::type_identity_t<I> least, const char* what) const {
    require(value >= least, who_ + ": " + what + " must be >= " + std::to_string(least) + ", got " +
                                std::to_string(value));
    return value;
  }

  // Returns-to-go per row, each follower's rows in recorded (time) order.
  void compute_returns() {
    returns_.resize(recorded_slots_.size());
    std::fill(return_to_go_.begin(), return_to_go_.end(), 0.0);
    for (std::size_t row = recorded_slots_.size(); row-- > 0;) {
      double& g = return_to_go_[std::size_t(recorded_slots_[row])];
      g = recorded_rewards_[row] + settings_.gamma * g;
      returns_[row] = g;
    }
  }

  // After compute_returns, return_to_go_[slot] is that follower's G_0.
  void update_baseline() {
    for (std::size_t slot = 0; slot < has_rows_.size(); ++slot) {
      if (!has_rows_[slot]) continue;
      ++trajectories_;
      const double rate = 1.0 / static_cast<double>(std::min(trajectories_, baseline_window));
      baseline_ += rate * (return_to_go_[slot] - baseline_);
    }
  }

  std::string who_;
  follower_settings settings_;
  int heads_, choices_;
  index inputs_, max_followers_;
  nn::mlp<T> net_;
  nn::parameter_list<T> params_;
  optim::adam<T> optimizer_;
  // act(): one row.
  matrix<T> act_row_, act_logits_, act_probs_;
  nn::mlp_cache<T> act_cache_;
  std::vector<double> mixture_;
  // The episode being recorded, row-major [rows, inputs]; capacity is kept between episodes.
  std::vector<T> recorded_inputs_;
  std::vector<int> recorded_choices_;  // [rows, heads]
  std::vector<index> recorded_slots_;
  std::vector<double> recorded_rewards_, returns_;
  std::vector<double> return_to_go_;    // per slot
  std::vector<std::uint8_t> has_rows_;  // per slot: recorded this episode
  // The update's batch.
  nn::mlp_cache<T> batch_cache_;
  matrix<T> batch_logits_, d_logits_;
  double baseline_ = 0, last_loss_ = 0;
  index trajectories_ = 0;
  std::int64_t updates_ = 0;
};

}  // namespace netmarl::learn::followers
