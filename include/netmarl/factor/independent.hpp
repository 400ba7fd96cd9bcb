#pragma once
// factor::independent (IL): no Q_tot; each agent's Q_i regresses its own return.
#include <string>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

struct independent {
  struct settings {};
  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool per_agent = true;  // targets are per-agent returns

    model(index agents, index /*state_size*/, const settings&, rng&) : agents_(agents) {}
    index outputs() const { return agents_; }

    template <class B>
    void forward(B, const_matrix_ref<T> q, const_matrix_ref<T> /*state*/, matrix<T>& out) {
      NETMARL_CHECK(q.cols() == agents_, shape_error,
                    "factor::independent: q has " + std::to_string(q.cols()) +
                        " columns, expected " + std::to_string(agents_) + " agents");
      ensure_shape(out, q.rows(), q.cols());
      out = q;
    }
    template <class B>
    void backward(B, const_matrix_ref<T> d_out, matrix<T>& d_q) {
      ensure_shape(d_q, d_out.rows(), d_out.cols());
      d_q = d_out;
    }
    void append_parameters(nn::parameter_list<T>&, const std::string&) {}

   private:
    index agents_;
  };
};

}  // namespace netmarl::factor
