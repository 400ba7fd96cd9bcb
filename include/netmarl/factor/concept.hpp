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
  { F::template model<double>::per_agent } -> std::convertible_to<bool>;
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
