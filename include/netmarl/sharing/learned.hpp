#pragma once
// sharing::learned: LToS (Yi et al., "Learning to Share in Networked Multi-Agent Reinforcement
// Learning"). Each agent's high-level policy phi_i picks w_i^out, how it splits its reward over
// its neighbourhood; each agent learns from r_i^w = sum_j w_ji r_j (eq. 2) and sees w_i^in beside
// its observation. phi is trained as DDPG's actor with the low-level Q network as the critic
// (section 4.2, algorithm 1 lines 18-21):
//   V_i = max_a q_i(o_i, a; w_i^in),  g_i^in = dV / dw_i^in,
//   each component dV/dw_ji routed back to its sender j (g_j^out), theta moved along
//   (d w_j^out / d theta)^T g_j^out (ascent, plain SGD as LToS table 5).
//
// The system drives this model (system.hpp): decide() before the agents act, incoming() is
// appended to every observation the learner sees, shape() turns rewards into shaped ones with the
// weights that were acted on, record() stores the step, and end_step()/end_episode() run the
// high-level updates at their own frequency with the learner's `max_q_input_gradient` as critic.
//
// Choices where the paper leaves room (also in docs/papers.md):
// - One network shared by all agents (as the DGN low level shares), pairwise-scored so its output
//   follows any neighbourhood (sharing_policy.hpp); weights live on the symmetric closure of the
//   topology's graph (LToS's D).
// - The critic is the sum of all agents' values, V = sum_i max_a q_i: with a message-passing low
//   level q_i also reads its neighbours' w^in, and one backward pass gives the exact gradient of
//   that sum. With message::none it is exactly the paper's per-receiver g_i^in.
// - w_i^in is a fixed-width feature row (weights.hpp: slot 0 = w_ii, then the other neighbours in
//   id order, a wider neighbourhood folding into the last slot).
// - The low level's TD target reads the w^in that was acted on at t + 1 (stored with the
//   transition) rather than recomputing it with a target phi' (algorithm 1 line 15): with the
//   action interval M > 1 the two coincide within an interval, and the replay stays the
//   learner's own. So no target copy of phi is kept.
// - "Sample size" of LToS table 5 is read as the samples drawn per update round, in minibatches
//   of batch_size (so sample_size / batch_size gradient steps per round).
// - All agents' samples come from one generator: a replayed step holds every agent at the same
//   time step (LToS appendix C's unified generator).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/learn/epsilon.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/clip.hpp"
#include "netmarl/optim/sgd.hpp"
#include "netmarl/sharing/concept.hpp"
#include "netmarl/sharing/sharing_policy.hpp"
#include "netmarl/sharing/weights.hpp"

namespace netmarl::sharing {

struct learned {
  enum class noise_kind {
    ornstein_uhlenbeck,  // OU on each logit, sigma scaled by epsilon (jungle, traffic)
    epsilon_gaussian,    // with probability epsilon, N(0, sigma^2) on each logit (prisoner)
  };

  // Defaults: LToS table 5, prisoner column, except where noted.
  struct settings {
    double selfishness = 0.5;              // initial w_ii (selfishness initializer)
    index incoming_slots = 5;              // floats of w_i^in appended to each observation
    std::vector<index> encoder = {32, 32};  // phi's encoder (table 4's low-level widths)
    index pair_width = 32;                 // width of the pairwise scorer
    double learning_rate = 0.1;            // SGD
    double clip_norm = 10.0;               // gradient-norm clip (0: none)
    std::int64_t action_interval = 1;      // M: phi acts every M steps (w held in between)
    std::int64_t update_interval_steps = 1;     // update round every this many training steps
    std::int64_t update_interval_episodes = 0;  // or every this many episodes (then steps = 0)
    std::int64_t buffer_capacity = 20000;  // recent steps phi learns from
    std::int64_t sample_size = 2000;       // samples per update round
    std::int64_t batch_size = 32;          // samples per gradient step
    noise_kind noise = noise_kind::epsilon_gaussian;
    double noise_sigma = 1.0;  // Gaussian std, or OU sigma before the epsilon scale
    double ou_theta = 0.15;    // OU mean reversion
    learn::epsilon_schedule epsilon{0.8, 0.8, 0};  // noise scale / probability by training step
  };

  template <class T>
  class model {
   public:
    using scalar = T;
    static constexpr bool learns_weights = true;

    model(index agents, index observation_size, const settings& s, rng& g)
        : settings_(validated(agents, s)),
          agents_(agents),
          observation_size_(observation_size),
          policy_(observation_size, s.encoder, s.pair_width, s.selfishness, g),
          params_(nn::parameters_of(policy_, "phi.")),
          optimizer_(params_, {.learning_rate = T(s.learning_rate)}),
          noise_rng_(g.split(0x6e6f697365)),
          sample_rng_(g.split(0x73616d706c65)) {
      ensure_shape(incoming_, agents, s.incoming_slots);
      incoming_.setZero();
      ou_.resize(static_cast<std::size_t>(agents));
    }

    index incoming_size() const { return settings_.incoming_slots; }
    const settings& config() const { return settings_; }
    const edge_weights& weights() const { return weights_; }
    const matrix<float>& incoming() const { return incoming_; }
    nn::parameter_list<T>& parameters() { return params_; }
    sharing_policy<T>& policy() { return policy_; }
    std::int64_t updates() const { return gradient_steps_; }
    double last_value() const { return last_value_; }  // mean V_i of the last gradient step

    // A new episode: the action interval restarts and the OU processes return to 0.
    void begin_episode() {
      step_in_episode_ = 0;
      for (auto& o : ou_) std::fill(o.begin(), o.end(), 0.0f);
    }

    // phi acts (every action_interval steps, or when the neighbourhood changed): w^out for all
    // agents from their observations, with exploration noise when `explore`; then w^in.
    void decide(const matrix<float>& observations, const graph::csr& g, bool explore) {
      check_observations(observations, "decide");
      const bool changed = weights_.rebuild(g);
      const bool due = step_in_episode_ % settings_.action_interval == 0;
      ++step_in_episode_;
      if (!due && !changed) return;
      act_x_ = observations.template cast<T>();
      noise_.assign(weights_.w.size(), 0.0f);
      if (explore) draw_noise();
      edge_weights* one = &weights_;
      policy_.forward(act_x_, std::span<edge_weights* const>(&one, 1), act_cache_,
                      explore ? std::span<const float>(noise_) : std::span<const float>());
      sharing::incoming(weights_, settings_.incoming_slots, incoming_.data(), incoming_.cols());
    }

    // LToS eq. 2 with the weights of the last decide; g must be the graph decide saw.
    void shape(const graph::csr& g, std::span<const float> rewards, std::span<float> shaped) {
      if (weights_.w.empty())
        throw invalid_argument("sharing::learned: shape called before decide");
      if (graph::num_nodes(g) != agents_)
        throw shape_error("sharing::learned: the graph has " + std::to_string(graph::num_nodes(g)) +
                          " nodes, expected " + std::to_string(agents_));
      sharing::shape(weights_, rewards, shaped);
    }

    // Stores a training step (its observations and the topology's graph) for phi's updates.
    void record(const matrix<float>& observations, const graph::csr& g) {
      check_observations(observations, "record");
      const std::int64_t cap = settings_.buffer_capacity;
      if (observations_.rows() == 0) {
        ensure_shape(observations_, cap * agents_, observation_size_);
        graphs_.resize(static_cast<std::size_t>(cap));
      }
      observations_.middleRows(next_ * agents_, agents_) = observations;
      graphs_[static_cast<std::size_t>(next_)] = g;
      next_ = (next_ + 1) % cap;
      size_ = std::min(size_ + 1, cap);
      ++steps_;
    }

    // Critic: double(const matrix<T>& x, std::span<const csr_view> graphs, matrix<T>& d_x) returns
    // the mean of max_a q over x's rows and writes d(sum of those maxima)/dx (learn::dqn's
    // max_q_input_gradient).
    template <class Critic>
    void end_step(Critic&& critic) {
      if (settings_.update_interval_steps > 0 && steps_ % settings_.update_interval_steps == 0)
        update_round(critic);
    }
    template <class Critic>
    void end_episode(Critic&& critic) {
      ++episodes_;
      if (settings_.update_interval_episodes > 0 &&
          episodes_ % settings_.update_interval_episodes == 0)
        update_round(critic);
    }

    // One update round: ceil(sample_size / batch_size) gradient steps (none before a batch fits).
    template <class Critic>
    void update_round(Critic&& critic) {
      if (size_ < settings_.batch_size) return;
      const std::int64_t steps =
          (settings_.sample_size + settings_.batch_size - 1) / settings_.batch_size;
      for (std::int64_t k = 0; k < steps; ++k) gradient_step(critic);
    }

    // The high level's objective on given observations and weights, and its gradient with respect
    // to every weight (edge-aligned with `ew`): J = sum_i max_a q_i(o_i, a; w_i^in), d_w[j -> i] =
    // dJ/dw_ji, found at receiver i and routed back to sender j. One sample; what gradient_step
    // does per sample, exposed for tests and analysis.
    template <class Critic>
    double value_and_weight_gradient(const matrix<float>& observations, const graph::csr& topology,
                                     const edge_weights& ew, Critic&& critic,
                                     std::vector<T>& d_w) {
      x_ = observations.template cast<T>();
      augment(x_, std::span<const edge_weights>(&ew, 1));
      const csr_view view = topology.view();
      const double mean = critic(x_aug_, std::span<const csr_view>(&view, 1), d_x_);
      d_w.assign(ew.w.size(), T(0));
      route(ew, settings_.incoming_slots, d_x_.data() + observation_size_, d_x_.cols(),
            std::span<T>(d_w));
      return mean * static_cast<double>(agents_);
    }

   private:
    static settings validated(index agents, const settings& s) {
      const std::string who = "sharing::learned: ";
      require(agents >= 1, who + "agents must be >= 1");
      require(s.selfishness > 0 && s.selfishness < 1,
              who + "selfishness must be in (0, 1), got " + std::to_string(s.selfishness));
      require(s.incoming_slots >= 1,
              who + "incoming_slots must be >= 1, got " + std::to_string(s.incoming_slots));
      require(s.learning_rate > 0, who + "learning_rate must be positive");
      require(s.clip_norm >= 0, who + "clip_norm must be >= 0");
      require(s.action_interval >= 1,
              who + "action_interval must be >= 1, got " + std::to_string(s.action_interval));
      require(s.update_interval_steps >= 0 && s.update_interval_episodes >= 0 &&
                  (s.update_interval_steps > 0) != (s.update_interval_episodes > 0),
              who + "set exactly one of update_interval_steps and update_interval_episodes "
                    "(got " + std::to_string(s.update_interval_steps) + " and " +
                  std::to_string(s.update_interval_episodes) + ")");
      require(s.batch_size >= 1 && s.sample_size >= 1,
              who + "batch_size and sample_size must be >= 1");
      require(s.buffer_capacity >= s.batch_size,
              who + "buffer_capacity (" + std::to_string(s.buffer_capacity) +
                  ") must be >= batch_size (" + std::to_string(s.batch_size) + ")");
      require(s.noise_sigma >= 0, who + "noise_sigma must be >= 0");
      require(s.ou_theta >= 0 && s.ou_theta <= 1, who + "ou_theta must be in [0, 1]");
      s.epsilon.validate("sharing::learned");
      return s;
    }

    void check_observations(const matrix<float>& o, const char* where) const {
      if (o.rows() != agents_ || o.cols() != observation_size_)
        throw shape_error(std::string("sharing::learned::") + where + ": observations are " +
                          std::to_string(o.rows()) + "x" + std::to_string(o.cols()) +
                          ", expected " + std::to_string(agents_) + "x" +
                          std::to_string(observation_size_));
    }

    // Exploration noise on the logits, edge-aligned with weights_ (appendix D).
    void draw_noise() {
      const double eps = settings_.epsilon.at(steps_);
      const double sigma = settings_.noise_sigma;
      for (index i = 0; i < agents_; ++i) {
        const auto first = static_cast<std::size_t>(weights_.graph.offsets[static_cast<std::size_t>(i)]);
        const auto last = static_cast<std::size_t>(weights_.graph.offsets[static_cast<std::size_t>(i) + 1]);
        auto& state = ou_[static_cast<std::size_t>(i)];
        state.resize(last - first, 0.0f);
        if (settings_.noise == noise_kind::epsilon_gaussian) {
          if (noise_rng_.uniform() >= eps) continue;
          for (std::size_t e = first; e < last; ++e)
            noise_[e] = static_cast<float>(sigma * noise_rng_.normal());
        } else {
          for (std::size_t e = first; e < last; ++e) {
            float& x = state[e - first];
            x += static_cast<float>(-settings_.ou_theta * x + eps * sigma * noise_rng_.normal());
            noise_[e] = x;
          }
        }
      }
    }

    // x_aug_ = [x_, w^in of each sample].
    void augment(const matrix<T>& x, std::span<const edge_weights> samples) {
      const index k = settings_.incoming_slots;
      ensure_shape(x_aug_, x.rows(), observation_size_ + k);
      x_aug_.leftCols(observation_size_) = x;
      for (std::size_t s = 0; s < samples.size(); ++s)
        sharing::incoming(samples[s], k, x_aug_.data() + static_cast<index>(s) * agents_ * x_aug_.cols() +
                                    observation_size_,
                 x_aug_.cols());
    }

    template <class Critic>
    void gradient_step(Critic& critic) {
      const index b = settings_.batch_size;
      batch_.resize(static_cast<std::size_t>(b));
      pointers_.resize(static_cast<std::size_t>(b));
      views_.resize(static_cast<std::size_t>(b));
      ensure_shape(x_, b * agents_, observation_size_);
      for (index s = 0; s < b; ++s) {
        const auto slot = static_cast<std::int64_t>(sample_rng_.below(static_cast<std::uint64_t>(size_)));
        x_.middleRows(s * agents_, agents_) =
            observations_.middleRows(slot * agents_, agents_).template cast<T>();
        const graph::csr& g = graphs_[static_cast<std::size_t>(slot)];
        batch_[static_cast<std::size_t>(s)].rebuild(g);
        pointers_[static_cast<std::size_t>(s)] = &batch_[static_cast<std::size_t>(s)];
        views_[static_cast<std::size_t>(s)] = g.view();
      }
      const std::span<edge_weights* const> samples(pointers_);
      policy_.forward(x_, samples, cache_);
      augment(x_, std::span<const edge_weights>(batch_));
      last_value_ = critic(x_aug_, std::span<const csr_view>(views_), d_x_);
      // Ascent on J = sum V_i, averaged per agent and sample: the SGD step descends on -J.
      const T scale = T(-1) / static_cast<T>(b * agents_);
      d_w_.assign(static_cast<std::size_t>(cache_.edge_start.back()), T(0));
      for (index s = 0; s < b; ++s) {
        const edge_weights& ew = batch_[static_cast<std::size_t>(s)];
        const auto e0 = static_cast<std::size_t>(cache_.edge_start[static_cast<std::size_t>(s)]);
        route(ew, settings_.incoming_slots,
              d_x_.data() + s * agents_ * d_x_.cols() + observation_size_, d_x_.cols(),
              std::span<T>(d_w_).subspan(e0, ew.w.size()));
      }
      for (T& d : d_w_) d *= scale;
      optimizer_.zero_grad();
      policy_.backward(cache_, samples, std::span<const T>(d_w_));
      if (settings_.clip_norm > 0) optim::clip_grad_norm(params_, T(settings_.clip_norm));
      optimizer_.step();
      ++gradient_steps_;
    }

    settings settings_;
    index agents_, observation_size_;
    sharing_policy<T> policy_;
    nn::parameter_list<T> params_;
    optim::sgd<T> optimizer_;
    rng noise_rng_, sample_rng_;
    edge_weights weights_;  // the weights acted on
    matrix<float> incoming_;
    std::vector<std::vector<float>> ou_;  // per agent, per neighbour position
    std::vector<float> noise_;
    std::int64_t step_in_episode_ = 0, steps_ = 0, episodes_ = 0, gradient_steps_ = 0;
    double last_value_ = 0;
    // phi's replay: observations [capacity * agents, obs] and the topology's graph per step.
    matrix<float> observations_;
    std::vector<graph::csr> graphs_;
    std::int64_t next_ = 0, size_ = 0;
    // Scratch.
    matrix<T> act_x_, x_, x_aug_, d_x_;
    typename sharing_policy<T>::cache act_cache_, cache_;
    std::vector<edge_weights> batch_;
    std::vector<edge_weights*> pointers_;
    std::vector<csr_view> views_;
    std::vector<T> d_w_;
  };
};

}  // namespace netmarl::sharing
