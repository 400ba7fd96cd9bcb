#pragma once
// factor::qmix (Rashid et al. 2018; VAST section 2.2): a monotonic mixing network whose weights
// are made from the global state by hypernetworks,
//   Q_tot = ELU(q . W1 + b1) . W_final + V(s),   W1 = |hyper_w1(s)|,  W_final = |hyper_w_final(s)|,
//   b1 = hyper_b1(s),  V(s) = Linear(state, embed) -> act -> Linear(embed, 1).
// The absolute values make every mixing weight non-negative, so dQ_tot/dQ_i >= 0 (QMIX eq. 5), and
// with it the greedy joint action is the agents' greedy actions (IGM).
//
// Defaults are PyMARL's QMixer (embed 32, two-layer hypernetworks with 64 hidden units and ReLU).
// The VAST authors' QMIXNet is {embed = 128, hypernet_hidden = 128, hypernet_activation = elu}.
// The activation is used inside hyper_w1, hyper_w_final and V alike, as in both references.
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/qmix_mixer.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

struct qmix {
  struct settings {
    index embed = 32;            // mixing hidden width (PyMARL mixing_embed_dim)
    index hypernet_layers = 2;   // 1: hyper_w1, hyper_w_final are single linear layers
    index hypernet_hidden = 64;  // their hidden width when hypernet_layers = 2
    nn::activation hypernet_activation = nn::activation::relu;
  };

  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool per_agent = false;  // one Q_tot regresses the team return

    // The four state-conditioned networks (public, as nn layers are, so they can be inspected,
    // loaded or initialised differently). Parameters draw in this order.
    nn::mlp<T> hyper_w1;       // state -> [agents * embed], W1 before |.|
    nn::mlp<T> hyper_w_final;  // state -> [embed], W_final before |.|
    nn::mlp<T> hyper_b1;       // state -> [embed], one linear layer
    nn::mlp<T> value;          // state -> embed -> 1: V(s), the state-dependent output bias

    model(index agents, index state_size, const settings& s, rng& g)
        : hyper_w1(hypernet_sizes(validated(agents, state_size, s), state_size, agents * s.embed),
                   s.hypernet_activation, nn::activation::identity, g),
          hyper_w_final(hypernet_sizes(s, state_size, s.embed), s.hypernet_activation,
                        nn::activation::identity, g),
          hyper_b1({state_size, s.embed}, s.hypernet_activation, nn::activation::identity, g),
          value({state_size, s.embed, 1}, s.hypernet_activation, nn::activation::identity, g),
          agents_(agents),
          state_size_(state_size),
          embed_(s.embed) {}

    index outputs() const { return 1; }
    index agents() const { return agents_; }
    index state_size() const { return state_size_; }
    index embed() const { return embed_; }

    template <class B>
    void forward(B b, const_matrix_ref<T> q, const_matrix_ref<T> state, matrix<T>& q_tot) {
      const index batch = q.rows();
      NETMARL_CHECK(q.cols() == agents_, shape_error,
                    "factor::qmix: q has " + std::to_string(q.cols()) + " columns, expected " +
                        std::to_string(agents_) + " agents");
      NETMARL_CHECK(state.rows() == batch && state.cols() == state_size_, shape_error,
                    "factor::qmix: state is " + std::to_string(state.rows()) + "x" +
                        std::to_string(state.cols()) + ", expected " + std::to_string(batch) + "x" +
                        std::to_string(state_size_) + " (batch x state_size)");
      nn::forward(b, hyper_w1, state, w1_cache_, raw_w1_);
      nn::forward(b, hyper_w_final, state, w_final_cache_, raw_w_final_);
      nn::forward(b, hyper_b1, state, b1_cache_, b1_);
      nn::forward(b, value, state, value_cache_, v_);
      // Monotonicity (QMIX eq. 5): non-negative mixing weights.
      ensure_shape(w1_, batch, agents_ * embed_);
      w1_ = raw_w1_.cwiseAbs();
      ensure_shape(w_final_, batch, embed_);
      w_final_ = raw_w_final_.cwiseAbs();
      ensure_shape(q_, batch, agents_);
      q_ = q;  // contiguous, and kept for d_w1 = q^T d_pre
      ensure_shape(pre_, batch, embed_);
      ensure_shape(q_tot, batch, 1);
      kernels::qmix_mixer::forward(b, mixer_shape(), q_.data(), w1_.data(), b1_.data(),
                                   w_final_.data(), v_.data(), pre_.data(), q_tot.data());
    }

    // Writes d_q = dL/dq and accumulates the gradients of all four networks' parameters.
    template <class B>
    void backward(B b, const_matrix_ref<T> d_q_tot, matrix<T>& d_q) {
      const index batch = q_.rows();
      NETMARL_CHECK(pre_.cols() == embed_, shape_error,
                    "factor::qmix backward: call forward first");
      NETMARL_CHECK(d_q_tot.rows() == batch && d_q_tot.cols() == 1, shape_error,
                    "factor::qmix backward: d_q_tot is " + std::to_string(d_q_tot.rows()) + "x" +
                        std::to_string(d_q_tot.cols()) + ", expected " + std::to_string(batch) +
                        "x1");
      ensure_shape(d_out_, batch, 1);
      d_out_ = d_q_tot;  // d_q_tot may be a strided column of a wider matrix
      ensure_shape(d_q, batch, agents_);
      ensure_shape(d_w1_, batch, agents_ * embed_);
      ensure_shape(d_b1_, batch, embed_);
      ensure_shape(d_w_final_, batch, embed_);
      ensure_shape(d_v_, batch, 1);
      kernels::qmix_mixer::backward(b, mixer_shape(), q_.data(), w1_.data(), w_final_.data(),
                                    pre_.data(), d_out_.data(), d_q.data(), d_w1_.data(),
                                    d_b1_.data(), d_w_final_.data(), d_v_.data());
      // Through |x|: d x = sign(x) d|x|, with sign(0) = 0 as torch.abs's gradient.
      through_abs(raw_w1_, d_w1_);
      through_abs(raw_w_final_, d_w_final_);
      nn::backward(b, hyper_w1, w1_cache_, d_w1_, nullptr);
      nn::backward(b, hyper_w_final, w_final_cache_, d_w_final_, nullptr);
      nn::backward(b, hyper_b1, b1_cache_, d_b1_, nullptr);
      nn::backward(b, value, value_cache_, d_v_, nullptr);
    }

    // Names "<prefix>hyper_w1.0.weight", ..., "<prefix>value.1.bias".
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      hyper_w1.append_parameters(out, prefix + "hyper_w1.");
      hyper_w_final.append_parameters(out, prefix + "hyper_w_final.");
      hyper_b1.append_parameters(out, prefix + "hyper_b1.");
      value.append_parameters(out, prefix + "value.");
    }

   private:
    static const settings& validated(index agents, index state_size, const settings& s) {
      require(agents >= 1, "factor::qmix: agents must be >= 1, got " + std::to_string(agents));
      require(state_size >= 1,
              "factor::qmix: state_size must be >= 1 (the hypernetworks read the global state), "
              "got " +
                  std::to_string(state_size));
      require(s.embed >= 1, "factor::qmix: embed must be >= 1, got " + std::to_string(s.embed));
      require(
          s.hypernet_layers == 1 || s.hypernet_layers == 2,
          "factor::qmix: hypernet_layers must be 1 or 2, got " + std::to_string(s.hypernet_layers));
      require(
          s.hypernet_layers == 1 || s.hypernet_hidden >= 1,
          "factor::qmix: hypernet_hidden must be >= 1, got " + std::to_string(s.hypernet_hidden));
      return s;
    }
    // PyMARL: hypernet_layers = 1 is one linear layer, 2 adds a hidden layer of hypernet_hidden.
    static std::vector<index> hypernet_sizes(const settings& s, index in, index out) {
      if (s.hypernet_layers == 1) return {in, out};
      return {in, s.hypernet_hidden, out};
    }
    static void through_abs(const matrix<T>& raw, matrix<T>& grad) {
      grad = grad.cwiseProduct(raw.cwiseSign());
    }
    kernels::qmix_mixer::shape mixer_shape() const { return {q_.rows(), agents_, embed_}; }

    index agents_;
    index state_size_;
    index embed_;
    // Forward results kept for backward, and backward scratch: reused, so no allocation once
    // the batch size stops changing.
    nn::mlp_cache<T> w1_cache_, w_final_cache_, b1_cache_, value_cache_;
    matrix<T> raw_w1_, raw_w_final_, w1_, w_final_, b1_, v_, q_, pre_;
    matrix<T> d_out_, d_w1_, d_b1_, d_w_final_, d_v_;
  };
};

}  // namespace netmarl::factor
