#pragma once
// The Factorization slot: how per-agent utilities Q_i make the values a critic regresses.
// A model maps the chosen-action utilities q [batch, agents] and the global state
// [batch, state_size] to `outputs()` columns: one per agent for independent learners (each Q_i
// regresses its own return), one for VDN, QMIX, QTRAN (Q_tot regresses the team return).
// Forward keeps what backward needs inside the model; backward accumulates parameter gradients
// and writes dL/dq.
#include <concepts>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl {

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
