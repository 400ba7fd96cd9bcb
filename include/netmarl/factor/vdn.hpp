#pragma once
// factor::vdn: Q_tot = sum_i Q_i (Sunehag et al. 2018; VAST section 2.2).
#include <string>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

struct vdn {
  struct settings {};
  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool per_agent = false;  // one Q_tot regresses the team return

    model(index agents, index /*state_size*/, const settings&, rng&) : agents_(agents) {}
    index outputs() const { return 1; }

    template <class B>
    void forward(B, const_matrix_ref<T> q, const_matrix_ref<T> /*state*/, matrix<T>& q_tot) {
      NETMARL_CHECK(q.cols() == agents_, shape_error,
                    "factor::vdn: q has " + std::to_string(q.cols()) + " columns, expected " +
                        std::to_string(agents_) + " agents");
      ensure_shape(q_tot, q.rows(), 1);
      q_tot = q.rowwise().sum();
    }
    // dQ_tot/dQ_i = 1 for every agent.
    template <class B>
    void backward(B, const_matrix_ref<T> d_q_tot, matrix<T>& d_q) {
      ensure_shape(d_q, d_q_tot.rows(), agents_);
      d_q = d_q_tot.col(0).replicate(1, agents_);
    }
    void append_parameters(nn::parameter_list<T>&, const std::string&) {}

   private:
    index agents_;
  };
};

}  // namespace netmarl::factor
