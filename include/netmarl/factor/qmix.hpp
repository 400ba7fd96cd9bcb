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
#include <cstddef>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/qmix_mixer.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/dense.hpp"
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
      ensure_shape(state_, batch, state_size_);
      state_ = state;  // the one copy all four networks read, now and in backward
      const matrix<T>& raw_w1 = network_forward(b, hyper_w1, state_, w1_cache_);
      const matrix<T>& raw_w_final = network_forward(b, hyper_w_final, state_, w_final_cache_);
      const matrix<T>& b1 = network_forward(b, hyper_b1, state_, b1_cache_);
      const matrix<T>& v = network_forward(b, value, state_, value_cache_);
      // Monotonicity (QMIX eq. 5): non-negative mixing weights.
      ensure_shape(w1_, batch, agents_ * embed_);
      w1_ = raw_w1.cwiseAbs();
      ensure_shape(w_final_, batch, embed_);
      w_final_ = raw_w_final.cwiseAbs();
      ensure_shape(q_, batch, agents_);
      q_ = q;  // contiguous, and kept for d_w1 = q^T d_pre
      ensure_shape(pre_, batch, embed_);
      ensure_shape(q_tot, batch, 1);
      kernels::qmix_mixer::forward(b, mixer_shape(), q_.data(), w1_.data(), b1.data(),
                                   w_final_.data(), v.data(), pre_.data(), q_tot.data());
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
      through_abs(w1_cache_.outputs.back(), d_w1_);
      through_abs(w_final_cache_.outputs.back(), d_w_final_);
      network_backward(b, hyper_w1, state_, w1_cache_, d_w1_);
      network_backward(b, hyper_w_final, state_, w_final_cache_, d_w_final_);
      network_backward(b, hyper_b1, state_, b1_cache_, d_b1_);
      network_backward(b, value, state_, value_cache_, d_v_);
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
    // A plain select loop rather than cwiseSign (whose NaN handling kept it scalar: it was 15% of
    // a B = 32, N = 20 backward); the compiler vectorises this one.
    static void through_abs(const matrix<T>& raw, matrix<T>& grad) {
      const T* r = raw.data();
      T* g = grad.data();
      for (index i = 0, n = grad.size(); i < n; ++i)
        g[i] = r[i] > T(0) ? g[i] : (r[i] < T(0) ? -g[i] : T(0));
    }
    // nn::forward and nn::backward for one of the four networks, minus their copies: the input is
    // the model's one copy of the state (nn::forward copies its input into each cache: at N = 800,
    // B = 1600 that is 82 MB per network), and the output stays in cache.outputs.back()
    // (cache.outputs[0] is left empty). Same kernels and activations, layer by layer.
    template <class B>
    static const matrix<T>& network_forward(B b, const nn::mlp<T>& net, const matrix<T>& in,
                                            nn::mlp_cache<T>& cache) {
      const index batch = in.rows();
      cache.outputs.resize(net.depth() + 1);
      for (std::size_t i = 0; i < net.depth(); ++i) {
        const nn::dense<T>& layer = net.layers[i];
        matrix<T>& y = cache.outputs[i + 1];
        ensure_shape(y, batch, layer.output_size());
        kernels::dense::forward(b, {batch, layer.input_size(), layer.output_size()},
                                i == 0 ? in.data() : cache.outputs[i].data(),
                                layer.weight.value.data(), layer.bias.value.data(), y.data());
        nn::activate<T>(net.activation_after(i), y, y);
      }
      return cache.outputs.back();
    }
    // Accumulates the network's parameter gradients; d_out (the gradient w.r.t. its output) is
    // used as scratch. No input gradient: the state needs none.
    template <class B>
    static void network_backward(B b, nn::mlp<T>& net, const matrix<T>& in, nn::mlp_cache<T>& cache,
                                 matrix<T>& d_out) {
      const index batch = in.rows();
      const std::size_t depth = net.depth();
      nn::activation_backward<T>(net.activation_after(depth - 1), cache.outputs[depth], d_out,
                                 d_out);
      cache.gradients.resize(depth + 1);
      const T* d_y = d_out.data();
      for (std::size_t i = depth; i-- > 0;) {
        nn::dense<T>& layer = net.layers[i];
        T* d_x = nullptr;
        if (i > 0) {
          ensure_shape(cache.gradients[i], batch, layer.input_size());
          d_x = cache.gradients[i].data();
        }
        kernels::dense::backward(b, {batch, layer.input_size(), layer.output_size()},
                                 i == 0 ? in.data() : cache.outputs[i].data(),
                                 layer.weight.value.data(), d_y, layer.weight.grad.data(),
                                 layer.bias.grad.data(), d_x);
        if (i > 0) {
          nn::activation_backward<T>(net.activation_after(i - 1), cache.outputs[i],
                                     cache.gradients[i], cache.gradients[i]);
          d_y = d_x;
        }
      }
    }
    kernels::qmix_mixer::shape mixer_shape() const { return {q_.rows(), agents_, embed_}; }

    index agents_;
    index state_size_;
    index embed_;
    // Forward results kept for backward, and backward scratch: reused, so no allocation once
    // the batch size stops changing.
    nn::mlp_cache<T> w1_cache_, w_final_cache_, b1_cache_, value_cache_;
    matrix<T> state_, w1_, w_final_, q_, pre_;
    matrix<T> d_out_, d_w1_, d_b1_, d_w_final_, d_v_;
  };
};

}  // namespace netmarl::factor
