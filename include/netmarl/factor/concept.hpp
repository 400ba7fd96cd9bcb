#pragma once
// The Factorization slot: how per-agent utilities Q_i make the values a critic regresses.
// A model maps the chosen-action utilities q [batch, agents] and the global state
// [batch, state_size] to `outputs()` columns: one per agent for independent learners (each Q_i
// regresses its own return), one for VDN, QMIX, QTRAN (Q_tot regresses the team return).
// Forward keeps what backward needs inside the model; backward accumulates parameter gradients
// and writes dL/dq.
#include <concepts>
#include <span>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl {

namespace factor {

// What a learner knows of the samples it is about to mix, beyond the utilities and the state:
// the per-agent inputs that VAST's assignment strategies read. Row-major buffers owned by the
// learner; null where the learner or the environment has none.
template <class T>
struct mixing_context {
  index batch = 0;                  // B samples
  index agents = 0;                 // N agents per sample
  const T* observations = nullptr;  // [B*N, observation_size]
  index observation_size = 0;
  const T* states = nullptr;  // [B, state_size]
  index state_size = 0;
  const T* positions = nullptr;  // [B*N, 2], spatial environments only
  rng* generator = nullptr;  // for strategies that draw (random, k-means seeding, meta-gradient)
};

// What a factorization that owns its critic loss (QTRAN) reads, beyond the utilities: the
// learner's per-agent batch. Row-major buffers owned by the learner; B samples of N agents, rows
// r = b * N + i. Either `actions` and `greedy_actions` (one action per row) or `action_counts` and
// `greedy_action_counts` ([B*N, A] rows of counts: the form factor::vast uses when its sub-teams
// are the rows, each row the multiset of its members' actions).
template <class T>
struct joint_batch {
  index batch = 0;          // B
  index agents = 0;         // N, the rows per sample
  index actions_count = 0;  // |A|
  const T* chosen_q = nullptr;  // [B, N] Q_i(o_i, u_i), 0 where the agent is dead
  const T* greedy_q = nullptr;  // [B, N] max_a Q_i(o_i, a), 0 where the agent is dead
  const int* actions = nullptr;         // [B*N] u_i
  const int* greedy_actions = nullptr;  // [B*N] argmax_a Q_i(o_i, a)
  const T* action_counts = nullptr;         // [B*N, A], instead of actions
  const T* greedy_action_counts = nullptr;  // [B*N, A], instead of greedy_actions
  const T* hidden = nullptr;                // [B*N, hidden_size]: the utility network's last
  index hidden_size = 0;                    //   hidden layer (QTRAN's h_i)
  const T* states = nullptr;                // [B, state_size]
  index state_size = 0;
  const T* alive = nullptr;    // [B*N] 1 alive, 0 dead; null: all alive
  const T* targets = nullptr;  // [B] what the joint value regresses (team return or TD target)
};

// dL/d of each input of a joint_batch; the model sizes them.
template <class T>
struct joint_gradients {
  matrix<T> chosen_q;  // [B, N]
  matrix<T> greedy_q;  // [B, N]
  matrix<T> hidden;    // [B*N, hidden_size]
};

// The scalar parts of an owned critic loss, for logs (QTRAN: L_td, L_opt, L_nopt).
struct joint_loss {
  double total = 0, td = 0, opt = 0, nopt = 0;
};

// The utilities' shape as an owned loss needs it: the width of h_i and |A|.
struct utility_shape {
  index hidden_size = 0;
  index actions = 0;
};

// Optional members a factorization may have; learners call these, which do nothing otherwise.
//   prepare(backend, context): before forward on a new batch (VAST: assign the sub-teams).
template <class Model, class B, class T>
void prepare(Model& m, B backend, const mixing_context<T>& context) {
  if constexpr (requires { m.prepare(backend, context); }) m.prepare(backend, context);
}
//   learn_from_advantages(backend, advantages [B*N]): after the actor's advantages
//   A_i = R - sum_a pi(a|o_i) Q_i(o_i, a) of the prepared batch are known (VAST eq. 6).
template <class Model, class B, class T>
void learn_from_advantages(Model& m, B backend, std::span<const T> advantages) {
  if constexpr (requires { m.learn_from_advantages(backend, advantages); })
    m.learn_from_advantages(backend, advantages);
}
//   bind_utilities(shape, rng): once, before the learner collects parameters; a model whose
//   networks read the utilities' hidden features (QTRAN's encoder) builds them here.
template <class Model>
void bind_utilities(Model& m, const utility_shape& shape, rng& g) {
  if constexpr (requires { m.bind_utilities(shape, g); }) m.bind_utilities(shape, g);
}
//   owns_critic_loss(): true when the learner must call critic_loss(backend, batch, grads)
//   instead of regressing forward's outputs on its targets. A static member or a run-time one
//   (a type-erased model only knows at run time).
template <class Model>
bool owns_critic_loss(const Model& m) {
  if constexpr (requires { m.owns_critic_loss(); })
    return m.owns_critic_loss();
  else
    return false;
}
//   critic_loss(backend, batch, grads): the loss, accumulating the model's parameter gradients
//   and overwriting grads.
template <class Model, class B, class T>
joint_loss critic_loss(Model& m, B backend, const joint_batch<T>& batch,
                       joint_gradients<T>& grads) {
  if constexpr (requires { m.critic_loss(backend, batch, grads); })
    return m.critic_loss(backend, batch, grads);
  else
    throw internal_error("factor::critic_loss: this factorization does not own a critic loss");
}
//   joint_value(backend, batch, out [B, 1]): an owned-loss model's joint value at the batch's
//   actions (QTRAN's Q_jt(s, u)), no gradient: what a value-based learner's TD target reads from
//   its target copy. batch needs states, hidden, actions (or counts) and alive.
template <class Model, class B, class T>
void joint_value(Model& m, B backend, const joint_batch<T>& batch, matrix<T>& out) {
  if constexpr (requires { m.joint_value(backend, batch, out); })
    m.joint_value(backend, batch, out);
  else
    throw internal_error("factor::joint_value: this factorization does not own a critic loss");
}
//   is_per_agent(): whether each output regresses its own agent's return (`per_agent`, static,
//   or a run-time member for type-erased models).
template <class Model>
bool is_per_agent(const Model& m) {
  if constexpr (requires { m.is_per_agent(); })
    return m.is_per_agent();
  else
    return Model::per_agent;
}

}  // namespace factor

template <class F>
concept Factorization = requires {
  typename F::settings;
  typename F::template model<double>;
}
&&std::constructible_from<typename F::template model<double>, index, index,
                          const typename F::settings&,
                          rng&>&& requires(typename F::template model<double>& m,
                                           const matrix<double>& q, matrix<double>& out) {
  { m.outputs() } -> std::convertible_to<index>;
  requires(requires { { F::template model<double>::per_agent } -> std::convertible_to<bool>; } ||
           requires { { m.is_per_agent() } -> std::convertible_to<bool>; });
  m.forward(backend::reference{}, q, q, out);
  m.backward(backend::reference{}, q, out);
};

namespace factor {
// The smallest Factorization (independent utilities): the system's stand-in for a wrong slot.
struct stand_in {
  struct settings {};
  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool per_agent = true;
    model(index agents, index, const settings&, rng&) : agents_(agents) {}
    index outputs() const { return agents_; }
    template <class B>
    void forward(B, const_matrix_ref<T> q, const_matrix_ref<T>, matrix<T>& out) {
      out = q;
    }
    template <class B>
    void backward(B, const_matrix_ref<T> d_out, matrix<T>& d_q) {
      d_q = d_out;
    }
    index agents_;
  };
};
}  // namespace factor

}  // namespace netmarl
