#pragma once
// message::mean_field: the mean-field intention propagation network (IP appendix B.1,
// structure2vec). Per agent i, with N(i) the graph row of i (the self-loop included):
//   mu_i^0 = softmax(MLP(s_i))                                         the initial intention
//   mu_i^m = ReLU(W1^m sum_{j in N(i)} s_j + W2^m sum_{j in N(i)} mu_j^{m-1} + b^m),  m = 1..M
// and the output is mu^M. The self-loop gives the appendix's "W1 (s_i + s_j) + W2 (mu_i + mu_j)".
//
// Choices the appendix leaves open:
// - Every hop has its own W1^m, W2^m, b^m: the appendix draws the network as a "2-hop (layer)
//   GNN", layers with their own weights, and mu^0 (intention_size wide) and mu^m (hidden wide)
//   differ in width anyway.
// - mu^0 is the softmax of an MLP (input -> intention_hidden, ReLU -> intention_size): in the
//   paper it is the action distribution, whose size the message slot does not know, so
//   intention_size is a setting (default 16). The policy head on top of mu^M is the learner's.
// - Sums, then one product per hop (aggregate-then-multiply): the states are summed once for all
//   hops, and each hop's W1^m and W2^m run over the whole batch in one GEMM each, whether the
//   batch shares one graph or has a graph per sample.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/mean_field_step.hpp"
#include "netmarl/kernels/neighbor_aggregate.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/init.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/nn/softmax.hpp"

namespace netmarl::message {

struct mean_field {
  struct settings {
    index hops = 2;                // M, message-passing rounds (the paper: 2)
    index hidden = 128;            // width of mu^1..mu^M and of the output (the paper: 128)
    index intention_hidden = 128;  // hidden width of the MLP that makes mu^0
    index intention_size = 16;     // width of mu^0 = softmax(MLP(s_i))
  };

  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool uses_graph = true;

    // Hop m's parameters: W1^m and b^m (`state`, reading sum_{j in N(i)} s_j) and W2^m
    // (`intention_weight` [width of mu^{m-1}, hidden], reading sum_{j in N(i)} mu_j^{m-1}).
    struct hop_layer {
      nn::dense<T> state;
      nn::parameter<T> intention_weight;
    };

    // Public, as nn layers are, so they can be inspected, loaded or initialised differently.
    // Parameters draw in this order: intention, then per hop state and intention_weight.
    nn::mlp<T> intention;  // s_i -> intention_hidden (ReLU) -> intention_size logits
    std::vector<hop_layer> hops;

    // Everything backward needs, owned by the caller so one model can run several forwards (on s
    // and on s') and differentiate any of them. Buffers are reused: after the first call at a
    // shape, neither forward nor backward allocates. It keeps views of forward's graphs: they
    // must outlive the backward that reads this cache.
    struct cache {
      std::vector<csr_view> graphs;
      index batch = 0;
      matrix<T> x;  // a contiguous copy of the input
      nn::mlp_cache<T> intention;
      matrix<T> logits;
      nn::softmax_cache<T> softmax;
      matrix<T> aggregated_state;         // sum_{j in N(i)} s_j, shared by every hop
      matrix<T> pre_state;                // scratch: hop m's W1^m term plus b^m
      std::vector<matrix<T>> mu;          // mu^0 .. mu^M
      std::vector<matrix<T>> aggregated;  // [m - 1]: sum_{j in N(i)} mu_j^{m-1}
      // Backward scratch.
      std::vector<matrix<T>> d_mu;  // [m]: dL/d mu^m
      matrix<T> d_pre, d_aggregated, d_state_hop, d_aggregated_state, d_logits, d_x_graph;
    };

    model(index agents, index input_size, const settings& s, rng& g)
        : intention({validated(agents, input_size, s), s.intention_hidden, s.intention_size},
                    nn::activation::relu, nn::activation::identity, g),
          agents_(agents),
          input_size_(input_size),
          hidden_(s.hidden) {
      hops.reserve(static_cast<std::size_t>(s.hops));
      for (index m = 0; m < s.hops; ++m) {
        const index width = m == 0 ? s.intention_size : s.hidden;
        hop_layer layer{nn::dense<T>(input_size, s.hidden, g), nn::parameter<T>(width, s.hidden)};
        // torch.nn.Linear's bound for a layer of fan-in `width`, as the state half gets.
        const double bound = 1.0 / std::sqrt(static_cast<double>(width));
        nn::init::uniform(layer.intention_weight, g, -bound, bound);
        hops.push_back(std::move(layer));
      }
    }

    index agents() const { return agents_; }
    index input_size() const { return input_size_; }
    index output_size() const { return hidden_; }
    index hop_count() const { return static_cast<index>(hops.size()); }

    // x [batch * agents, input_size], rows agent-major within a sample; graphs: one shared by the
    // batch or one per sample, each with `agents` nodes. out [batch * agents, hidden] = mu^M.
    template <nn::HostBackend B>
    void forward(B b, const_matrix_ref<T> x, std::span<const csr_view> graphs, matrix<T>& out,
                 cache& c) const {
      const index batch = checked_batch(x, graphs);
      const index rows = x.rows(), H = hidden_, M = hop_count();
      c.graphs.assign(graphs.begin(), graphs.end());
      c.batch = batch;
      ensure_shape(c.x, rows, input_size_);
      c.x = x;
      c.mu.resize(static_cast<std::size_t>(M + 1));
      c.aggregated.resize(static_cast<std::size_t>(M));
      nn::forward(b, intention, c.x, c.intention, c.logits);
      nn::forward(b, nn::softmax{}, c.logits, c.softmax, c.mu[0]);

      ensure_shape(c.aggregated_state, rows, input_size_);
      aggregate_states(b, c);
      ensure_shape(c.pre_state, rows, H);
      for (index m = 1; m <= M; ++m) {
        const hop_layer& layer = hops[static_cast<std::size_t>(m - 1)];
        const matrix<T>& mu_prev = c.mu[static_cast<std::size_t>(m - 1)];
        matrix<T>& aggregated = c.aggregated[static_cast<std::size_t>(m - 1)];
        matrix<T>& mu = c.mu[static_cast<std::size_t>(m)];
        kernels::dense::forward(b, kernels::dense::shape{rows, input_size_, H},
                                c.aggregated_state.data(), layer.state.weight.value.data(),
                                layer.state.bias.value.data(), c.pre_state.data());
        ensure_shape(aggregated, rows, mu_prev.cols());
        ensure_shape(mu, rows, H);
        kernels::mean_field_step::forward(
            b, step_shape(batch, mu_prev.cols()), graphs, c.pre_state.data(), mu_prev.data(),
            layer.intention_weight.value.data(), aggregated.data(), mu.data());
      }
      ensure_shape(out, rows, H);
      out = c.mu.back();
    }

    // Accumulates every parameter's grad; overwrites *d_x when d_x is non-null.
    template <nn::HostBackend B>
    void backward(B b, cache& c, const_matrix_ref<T> d_out, matrix<T>* d_x) {
      const index M = hop_count(), H = hidden_;
      NETMARL_CHECK(c.mu.size() == static_cast<std::size_t>(M + 1) && c.mu.back().cols() == H,
                    shape_error, std::string("message::mean_field backward: call forward first"));
      const index rows = c.mu[0].rows();
      nn::require_shape("message::mean_field backward", "d_out", rows, H, d_out.rows(),
                        d_out.cols());
      const std::span<const csr_view> graphs(c.graphs);
      c.d_mu.resize(static_cast<std::size_t>(M + 1));
      ensure_shape(c.d_mu.back(), rows, H);
      c.d_mu.back() = d_out;
      ensure_shape(c.d_pre, rows, H);
      ensure_shape(c.d_aggregated, rows, std::max(H, intention.output_size()));
      if (d_x) {
        ensure_shape(c.d_state_hop, rows, input_size_);
        ensure_shape(c.d_aggregated_state, rows, input_size_);
      }
      for (index m = M; m >= 1; --m) {
        hop_layer& layer = hops[static_cast<std::size_t>(m - 1)];
        const index width = c.mu[static_cast<std::size_t>(m - 1)].cols();
        matrix<T>& d_mu_prev = c.d_mu[static_cast<std::size_t>(m - 1)];
        ensure_shape(d_mu_prev, rows, width);
        kernels::mean_field_step::backward(
            b, step_shape(c.batch, width), graphs,
            c.aggregated[static_cast<std::size_t>(m - 1)].data(),
            layer.intention_weight.value.data(), c.mu[static_cast<std::size_t>(m)].data(),
            c.d_mu[static_cast<std::size_t>(m)].data(), c.d_pre.data(),
            layer.intention_weight.grad.data(), c.d_aggregated.data(), d_mu_prev.data());
        kernels::dense::backward(
            b, kernels::dense::shape{rows, input_size_, H}, c.aggregated_state.data(),
            layer.state.weight.value.data(), c.d_pre.data(), layer.state.weight.grad.data(),
            layer.state.bias.grad.data(), d_x ? c.d_state_hop.data() : nullptr);
        if (d_x) {
          if (m == M)
            c.d_aggregated_state = c.d_state_hop;
          else
            c.d_aggregated_state += c.d_state_hop;
        }
      }
      nn::backward(b, nn::softmax{}, c.softmax, c.d_mu[0], &c.d_logits);
      nn::backward(b, intention, c.intention, c.d_logits, d_x);
      if (d_x) {
        ensure_shape(c.d_x_graph, rows, input_size_);
        aggregate_states_backward(b, c);
        *d_x += c.d_x_graph;
      }
    }

    // Names "<prefix>intention.0.weight", ..., "<prefix>hop1.state.weight",
    // "<prefix>hop1.state.bias", "<prefix>hop1.intention_weight", "<prefix>hop2. ...".
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      intention.append_parameters(out, prefix + "intention.");
      for (std::size_t m = 0; m < hops.size(); ++m) {
        const std::string hop = prefix + "hop" + std::to_string(m + 1) + ".";
        hops[m].state.append_parameters(out, hop + "state.");
        out.push_back({hop + "intention_weight", &hops[m].intention_weight});
      }
    }

   private:
    static index validated(index agents, index input_size, const settings& s) {
      require(agents >= 1,
              "message::mean_field: agents must be >= 1, got " + std::to_string(agents));
      require(input_size >= 1,
              "message::mean_field: input_size must be >= 1, got " + std::to_string(input_size));
      require(s.hops >= 1, "message::mean_field: hops must be >= 1, got " + std::to_string(s.hops));
      require(s.hidden >= 1,
              "message::mean_field: hidden must be >= 1, got " + std::to_string(s.hidden));
      require(s.intention_hidden >= 1, "message::mean_field: intention_hidden must be >= 1, got " +
                                           std::to_string(s.intention_hidden));
      require(s.intention_size >= 1, "message::mean_field: intention_size must be >= 1, got " +
                                         std::to_string(s.intention_size));
      return input_size;
    }

    // The batch size x and graphs describe; throws shape_error when they do not fit together.
    index checked_batch(const_matrix_ref<T> x, std::span<const csr_view> graphs) const {
      NETMARL_CHECK(x.cols() == input_size_, shape_error,
                    "message::mean_field: x has " + std::to_string(x.cols()) +
                        " features, expected input_size " + std::to_string(input_size_));
      NETMARL_CHECK(x.rows() % agents_ == 0, shape_error,
                    "message::mean_field: x has " + std::to_string(x.rows()) +
                        " rows, not a multiple of " + std::to_string(agents_) + " agents");
      const index batch = x.rows() / agents_;
      NETMARL_CHECK(graphs.size() == 1 || index(graphs.size()) == batch, shape_error,
                    "message::mean_field: expected 1 graph (shared) or " + std::to_string(batch) +
                        " (one per sample), got " + std::to_string(graphs.size()));
      for (std::size_t k = 0; k < graphs.size(); ++k)
        NETMARL_CHECK(graphs[k].nodes == agents_, shape_error,
                      "message::mean_field: graph " + std::to_string(k) + " has " +
                          std::to_string(graphs[k].nodes) + " nodes, expected " +
                          std::to_string(agents_) + " agents");
      return batch;
    }

    kernels::mean_field_step::shape step_shape(index batch, index width) const {
      return {batch, agents_, width, hidden_};
    }

    // c.aggregated_state = A c.x, once for a shared graph or sample by sample.
    template <class B>
    void aggregate_states(B b, cache& c) const {
      namespace na = kernels::neighbor_aggregate;
      if (c.graphs.size() == 1) {
        na::forward(b, na::shape{c.batch, agents_, input_size_}, c.graphs[0], na::reduction::sum,
                    c.x.data(), c.aggregated_state.data());
        return;
      }
      const index stride = agents_ * input_size_;
      for (index k = 0; k < c.batch; ++k)
        na::forward(b, na::shape{1, agents_, input_size_}, c.graphs[static_cast<std::size_t>(k)],
                    na::reduction::sum, c.x.data() + k * stride,
                    c.aggregated_state.data() + k * stride);
    }

    // c.d_x_graph = A^T c.d_aggregated_state.
    template <class B>
    void aggregate_states_backward(B b, cache& c) const {
      namespace na = kernels::neighbor_aggregate;
      if (c.graphs.size() == 1) {
        na::backward(b, na::shape{c.batch, agents_, input_size_}, c.graphs[0], na::reduction::sum,
                     c.d_aggregated_state.data(), c.d_x_graph.data());
        return;
      }
      const index stride = agents_ * input_size_;
      for (index k = 0; k < c.batch; ++k)
        na::backward(b, na::shape{1, agents_, input_size_}, c.graphs[static_cast<std::size_t>(k)],
                     na::reduction::sum, c.d_aggregated_state.data() + k * stride,
                     c.d_x_graph.data() + k * stride);
    }

    index agents_;
    index input_size_;
    index hidden_;
  };
};

}  // namespace netmarl::message
