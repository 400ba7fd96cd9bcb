#pragma once
// A ring buffer of joint transitions for off-policy learners. Storage is allocated once at
// construction; pushing and sampling allocate nothing. Sampling draws from one generator, so
// every agent trains on the same replay indices (LToS appendix C).
//
// Positions (spatial environments, for factor::vast with assign::spatial): a transition carries the
// agents' positions when they acted, in s. Those of s' are the next pushed transition's, which
// push() writes back into the previous slot when that transition did not end its episode; until
// then (the newest transition) and for a transition that ended its episode (whose target is
// masked by done), s's own positions stand in for those of s'.
//
// Actions: one int per agent for a discrete spec; for a continuous spec (spec.action_size > 0)
// the transition's continuous_actions, [agents * action_size] floats, as rows [capacity*N, size].
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/learn/concept.hpp"

namespace netmarl::learn {

template <class T>
class replay_buffer {
 public:
  replay_buffer(const env::spec& spec, std::int64_t capacity, bool store_graphs)
      : spec_(spec), capacity_(capacity), store_graphs_(store_graphs) {
    require(capacity >= 1, "replay_buffer: capacity must be >= 1, got " + std::to_string(capacity));
    const index n = spec.agents, c = capacity;
    observations_.resize(c * n, spec.observation_size);
    next_observations_.resize(c * n, spec.observation_size);
    states_.resize(c, spec.state_size);
    next_states_.resize(c, spec.state_size);
    rewards_.resize(c, n);
    global_rewards_.resize(c, 1);
    alive_.resize(c, n);
    next_alive_.resize(c, n);
    done_.resize(c, 1);
    if (spec.continuous_actions())
      continuous_actions_.resize(c * n, spec.action_size);
    else
      actions_.resize(static_cast<std::size_t>(c * n));
    done_before_.assign(static_cast<std::size_t>(n), 0);
    positions_.resize(c * n, 2);
    next_positions_.resize(c * n, 2);
    if (store_graphs) {
      graphs_.resize(static_cast<std::size_t>(c));
      next_graphs_.resize(static_cast<std::size_t>(c));
    }
  }

  void push(const transition& t) {
    const index n = spec_.agents, slot = next_;
    NETMARL_CHECK(t.observations.rows() == n && t.observations.cols() == spec_.observation_size,
                  shape_error,
                  "replay_buffer: observations are " + std::to_string(t.observations.rows()) + "x" +
                      std::to_string(t.observations.cols()) + ", expected " + std::to_string(n) +
                      "x" + std::to_string(spec_.observation_size));
    const index dims = spec_.action_size;
    if (spec_.continuous_actions())
      NETMARL_CHECK(static_cast<index>(t.continuous_actions.size()) == n * dims, shape_error,
                    "replay_buffer: a transition has " +
                        std::to_string(t.continuous_actions.size()) +
                        " continuous action values, expected " + std::to_string(n * dims) + " (" +
                        std::to_string(n) + " agents x " + std::to_string(dims) + ")");
    if (size_ == 0) has_positions_ = t.positions != nullptr;
    NETMARL_CHECK((t.positions != nullptr) == has_positions_, invalid_argument,
                  std::string("replay_buffer: a transition ") +
                      (has_positions_ ? "without" : "with") +
                      " positions after transitions " + (has_positions_ ? "with" : "without"));
    if (has_positions_) {
      NETMARL_CHECK(t.positions->rows() == n && t.positions->cols() == 2, shape_error,
                    "replay_buffer: positions are " + std::to_string(t.positions->rows()) + "x" +
                        std::to_string(t.positions->cols()) + ", expected " + std::to_string(n) +
                        "x2");
      // s' of the previous transition is this one's s, unless that one ended its episode.
      if (previous_continues_)
        next_positions_.middleRows(previous_ * n, n) = t.positions->template cast<T>();
      positions_.middleRows(slot * n, n) = t.positions->template cast<T>();
      next_positions_.middleRows(slot * n, n) = positions_.middleRows(slot * n, n);
    }
    observations_.middleRows(slot * n, n) = t.observations.template cast<T>();
    next_observations_.middleRows(slot * n, n) = t.next_observations.template cast<T>();
    for (index s = 0; s < spec_.state_size; ++s) {
      states_(slot, s) = static_cast<T>(t.state[static_cast<std::size_t>(s)]);
      next_states_(slot, s) = static_cast<T>(t.next_state[static_cast<std::size_t>(s)]);
    }
    for (index i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      if (dims > 0)
        for (index d = 0; d < dims; ++d)
          continuous_actions_(slot * n + i, d) =
              static_cast<T>(t.continuous_actions[static_cast<std::size_t>(i * dims + d)]);
      else
        actions_[static_cast<std::size_t>(slot * n + i)] = t.actions[k];
      rewards_(slot, i) = static_cast<T>(t.rewards[k]);
      // Done flags mark agents done *after* a step: an agent acted alive unless it was done at an
      // earlier step of this episode, and is masked from the next state once done.
      alive_(slot, i) = done_before_[k] ? T(0) : T(1);
      next_alive_(slot, i) = (done_before_[k] || t.agent_done[k]) ? T(0) : T(1);
      done_before_[k] =
          t.episode_done ? std::uint8_t{0} : std::uint8_t(done_before_[k] | t.agent_done[k]);
    }
    global_rewards_(slot, 0) = static_cast<T>(t.global_reward);
    done_(slot, 0) = t.episode_done ? T(1) : T(0);
    if (store_graphs_) {
      graphs_[static_cast<std::size_t>(slot)] = t.graph;  // reuses the slot's capacity
      next_graphs_[static_cast<std::size_t>(slot)] = t.next_graph;
    }
    previous_ = slot;
    previous_continues_ = !t.episode_done;
    next_ = (next_ + 1) % capacity_;
    size_ = std::min(size_ + 1, capacity_);
  }

  std::int64_t size() const { return size_; }
  std::int64_t capacity() const { return capacity_; }

  // Fills `indices` with uniform draws (with replacement) from the stored transitions.
  void sample(rng& g, std::vector<std::int64_t>& indices) const {
    NETMARL_ASSERT(size_ > 0, "sampling an empty replay buffer");
    for (auto& i : indices)
      i = static_cast<std::int64_t>(g.below(static_cast<std::uint64_t>(size_)));
  }

  const env::spec& spec() const { return spec_; }
  const matrix<T>& observations() const { return observations_; }            // [capacity*N, F]
  const matrix<T>& next_observations() const { return next_observations_; }  // [capacity*N, F]
  const matrix<T>& states() const { return states_; }
  const matrix<T>& next_states() const { return next_states_; }
  const matrix<T>& rewards() const { return rewards_; }
  const matrix<T>& global_rewards() const { return global_rewards_; }
  const matrix<T>& alive() const { return alive_; }
  const matrix<T>& next_alive() const { return next_alive_; }
  const matrix<T>& done() const { return done_; }
  // [capacity*N, 2] agent positions in s and in s' (see the header), when has_positions().
  bool has_positions() const { return has_positions_; }
  const matrix<T>& positions() const { return positions_; }
  const matrix<T>& next_positions() const { return next_positions_; }
  int action(std::int64_t slot, index agent) const {
    NETMARL_ASSERT(!spec_.continuous_actions(), "replay_buffer::action on continuous actions");
    return actions_[static_cast<std::size_t>(slot * spec_.agents + agent)];
  }
  // [capacity*N, action_size]: row slot * N + agent; empty for a discrete spec.
  const matrix<T>& continuous_actions() const { return continuous_actions_; }
  const graph::csr& graph(std::int64_t slot) const {
    return graphs_[static_cast<std::size_t>(slot)];
  }
  const graph::csr& next_graph(std::int64_t slot) const {
    return next_graphs_[static_cast<std::size_t>(slot)];
  }

 private:
  env::spec spec_;
  std::int64_t capacity_, next_ = 0, size_ = 0, previous_ = 0;
  bool store_graphs_, has_positions_ = false, previous_continues_ = false;
  matrix<T> observations_, next_observations_, states_, next_states_, rewards_, global_rewards_,
      alive_, next_alive_, done_, positions_, next_positions_, continuous_actions_;
  std::vector<int> actions_;
  std::vector<std::uint8_t> done_before_;  // per agent: done at an earlier step of this episode
  std::vector<graph::csr> graphs_, next_graphs_;
};

}  // namespace netmarl::learn
