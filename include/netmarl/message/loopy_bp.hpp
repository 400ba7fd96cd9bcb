#pragma once
// message::loopy_bp: the loopy belief propagation intention network (IP appendix B.2). Messages
// live on directed edges; with sigma = ReLU,
//   v_ij^m = ReLU(W1 s_i + b1 + W2 sum_{k in N(i)\j} v_ki^{m-1}),   v^0 = 0,  m = 1..M
//   mu_i   = ReLU(W3 s_i + W4 sum_{k in N(i)} v_ki^M + b2)
// and the output is mu. v_ij is the message from i to j.
//
// Choices the appendix leaves open:
// - W1, b1, W2 are shared by every round: the rounds are iterations of one fixed-point update
//   (loopy BP's message passing), not layers. W3, W4 and b2 are the readout's.
// - "W1 s" reads the sender's own input s_i, as the mean-field network reads s_i.
// - Direction. Graph row i lists N(i), the nodes i listens to, so messages flow j -> i for each
//   j != i in N(i) (the self-loop carries none). v_ji (into i from j) excludes the message j got
//   from i, which exists when row j lists i. On an undirected graph that is exactly the
//   appendix's formula; on a directed graph (k-nearest) a missing i -> j is a message never
//   sent, so nothing is excluded (the missing message counts as 0). kernels/loopy_bp_step/spec.hpp
//   gives the buffer layout.
// - The readout is one dense layer over [s_i, sum_k v_ki]: its weight stacks W3 over W4.
#include <cmath>
#include <cstdint>
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
#include "netmarl/kernels/loopy_bp_step.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/init.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::message {

struct loopy_bp {
  struct settings {
    index hops = 2;      // M, message updates
    index hidden = 128;  // width of every message and of the output
  };

  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool uses_graph = true;

    // Public, as nn layers are, so they can be inspected, loaded or initialised differently.
    // Parameters draw in this order.
    nn::dense<T> message_state;       // W1, b1: input_size -> hidden
    nn::parameter<T> message_weight;  // W2 [hidden, hidden]
    nn::dense<T> readout;             // [W3; W4], b2: input_size + hidden -> hidden

    // Everything backward needs, owned by the caller so one model can run several forwards (on s
    // and on s') and differentiate any of them. Buffers are reused: after the first call at a
    // shape, neither forward nor backward allocates. It keeps views of forward's graphs: they
    // must outlive the backward that reads this cache.
    struct cache {
      std::vector<csr_view> graphs;
      std::vector<std::int32_t> reverse;  // find_reverse_entries of each graph
      index batch = 0;
      matrix<T> x;                      // a contiguous copy of the input
      matrix<T> node_term;              // x W1 + b1
      std::vector<matrix<T>> messages;  // [m - 1]: v^m, one row per CSR entry of the batch
      matrix<T> arriving, gathered;     // kernel scratch
      matrix<T> readout_input;          // [x, sum_k v_ki^M]
      matrix<T> out;                    // mu (ReLU' is read from it)
      // Backward scratch.
      matrix<T> d_pre_readout, d_readout_input, d_arriving, d_node_term, d_pre;
      matrix<T> d_messages, d_messages_prev;
    };

    model(index agents, index input_size, const settings& s, rng& g)
        : message_state(validated(agents, input_size, s), s.hidden, g),
          message_weight(s.hidden, s.hidden),
          agents_(agents),
          input_size_(input_size),
          hidden_(s.hidden),
          hops_(s.hops) {
      // torch.nn.Linear's bound for fan-in `hidden`, as the dense layers get.
      const double bound = 1.0 / std::sqrt(static_cast<double>(s.hidden));
      nn::init::uniform(message_weight, g, -bound, bound);
      readout = nn::dense<T>(input_size + s.hidden, s.hidden, g);
    }

    index agents() const { return agents_; }
    index input_size() const { return input_size_; }
    index output_size() const { return hidden_; }
    index hop_count() const { return hops_; }

    // x [batch * agents, input_size], rows agent-major within a sample; graphs: one shared by the
    // batch or one per sample, each with `agents` nodes. out [batch * agents, hidden] = mu.
    template <nn::HostBackend B>
    void forward(B b, const_matrix_ref<T> x, std::span<const csr_view> graphs, matrix<T>& out,
                 cache& c) const {
      namespace step = kernels::loopy_bp_step;
      const index batch = checked_batch(x, graphs);
      const index rows = x.rows(), H = hidden_;
      c.graphs.assign(graphs.begin(), graphs.end());
      c.batch = batch;
      const step::shape s = step_shape(batch);
      c.reverse.resize(static_cast<std::size_t>(step::reverse_entries(graphs)));
      index offset = 0;
      for (const csr_view& g : graphs) {
        step::find_reverse_entries(g, c.reverse.data() + offset);
        offset += g.edges();
      }
      const index entries = step::total_entries(s, graphs);

      ensure_shape(c.x, rows, input_size_);
      c.x = x;
      ensure_shape(c.node_term, rows, H);
      kernels::dense::forward(b, kernels::dense::shape{rows, input_size_, H}, c.x.data(),
                              message_state.weight.value.data(), message_state.bias.value.data(),
                              c.node_term.data());
      ensure_shape(c.arriving, rows, H);
      ensure_shape(c.gathered, entries, H);
      c.messages.resize(static_cast<std::size_t>(hops_));
      for (index m = 1; m <= hops_; ++m) {
        matrix<T>& v = c.messages[static_cast<std::size_t>(m - 1)];
        ensure_shape(v, entries, H);
        const T* v_prev = m == 1 ? nullptr : c.messages[static_cast<std::size_t>(m - 2)].data();
        step::forward(b, s, graphs, c.reverse.data(), c.node_term.data(), v_prev,
                      message_weight.value.data(), c.arriving.data(), c.gathered.data(), v.data());
      }
      step::incoming_sum(b, s, graphs, c.messages.back().data(), c.arriving.data());
      ensure_shape(c.readout_input, rows, input_size_ + H);
      c.readout_input.leftCols(input_size_) = c.x;
      c.readout_input.rightCols(H) = c.arriving;
      ensure_shape(c.out, rows, H);
      kernels::dense::forward(b, kernels::dense::shape{rows, input_size_ + H, H},
                              c.readout_input.data(), readout.weight.value.data(),
                              readout.bias.value.data(), c.out.data());
      c.out = c.out.cwiseMax(T(0));
      ensure_shape(out, rows, H);
      out = c.out;
    }

    // Accumulates every parameter's grad; overwrites *d_x when d_x is non-null.
    template <nn::HostBackend B>
    void backward(B b, cache& c, const_matrix_ref<T> d_out, matrix<T>* d_x) {
      namespace step = kernels::loopy_bp_step;
      const index H = hidden_;
      NETMARL_CHECK(c.messages.size() == static_cast<std::size_t>(hops_) && c.out.cols() == H,
                    shape_error, std::string("message::loopy_bp backward: call forward first"));
      const index rows = c.out.rows(), entries = c.messages.back().rows();
      nn::require_shape("message::loopy_bp backward", "d_out", rows, H, d_out.rows(), d_out.cols());
      const std::span<const csr_view> graphs(c.graphs);
      const step::shape s = step_shape(c.batch);

      ensure_shape(c.d_pre_readout, rows, H);
      c.d_pre_readout = (c.out.array() > T(0)).select(d_out.array(), T(0)).matrix();
      ensure_shape(c.d_readout_input, rows, input_size_ + H);
      kernels::dense::backward(b, kernels::dense::shape{rows, input_size_ + H, H},
                               c.readout_input.data(), readout.weight.value.data(),
                               c.d_pre_readout.data(), readout.weight.grad.data(),
                               readout.bias.grad.data(), c.d_readout_input.data());
      ensure_shape(c.d_arriving, rows, H);
      c.d_arriving = c.d_readout_input.rightCols(H);
      ensure_shape(c.d_messages, entries, H);
      step::incoming_sum_backward(b, s, graphs, c.d_arriving.data(), c.d_messages.data());

      ensure_shape(c.d_node_term, rows, H);
      c.d_node_term.setZero();
      ensure_shape(c.d_messages_prev, entries, H);
      ensure_shape(c.d_pre, entries, H);
      for (index m = hops_; m >= 1; --m) {
        const T* v_prev = m == 1 ? nullptr : c.messages[static_cast<std::size_t>(m - 2)].data();
        step::backward(b, s, graphs, c.reverse.data(), v_prev, message_weight.value.data(),
                       c.messages[static_cast<std::size_t>(m - 1)].data(), c.d_messages.data(),
                       c.d_node_term.data(), message_weight.grad.data(),
                       m == 1 ? nullptr : c.d_messages_prev.data(), c.arriving.data(),
                       c.gathered.data(), c.d_pre.data());
        std::swap(c.d_messages, c.d_messages_prev);  // same shapes: swaps buffers, no copy
      }
      if (d_x) ensure_shape(*d_x, rows, input_size_);
      kernels::dense::backward(b, kernels::dense::shape{rows, input_size_, H}, c.x.data(),
                               message_state.weight.value.data(), c.d_node_term.data(),
                               message_state.weight.grad.data(), message_state.bias.grad.data(),
                               d_x ? d_x->data() : nullptr);
      if (d_x) *d_x += c.d_readout_input.leftCols(input_size_);
    }

    // Names "<prefix>message_state.weight", "<prefix>message_state.bias",
    // "<prefix>message_weight", "<prefix>readout.weight" ([W3; W4]), "<prefix>readout.bias".
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      message_state.append_parameters(out, prefix + "message_state.");
      out.push_back({prefix + "message_weight", &message_weight});
      readout.append_parameters(out, prefix + "readout.");
    }

   private:
    static index validated(index agents, index input_size, const settings& s) {
      require(agents >= 1, "message::loopy_bp: agents must be >= 1, got " + std::to_string(agents));
      require(input_size >= 1,
              "message::loopy_bp: input_size must be >= 1, got " + std::to_string(input_size));
      require(s.hops >= 1, "message::loopy_bp: hops must be >= 1, got " + std::to_string(s.hops));
      require(s.hidden >= 1,
              "message::loopy_bp: hidden must be >= 1, got " + std::to_string(s.hidden));
      return input_size;
    }

    // The batch size x and graphs describe; throws shape_error when they do not fit together.
    index checked_batch(const_matrix_ref<T> x, std::span<const csr_view> graphs) const {
      NETMARL_CHECK(x.cols() == input_size_, shape_error,
                    "message::loopy_bp: x has " + std::to_string(x.cols()) +
                        " features, expected input_size " + std::to_string(input_size_));
      NETMARL_CHECK(x.rows() % agents_ == 0, shape_error,
                    "message::loopy_bp: x has " + std::to_string(x.rows()) +
                        " rows, not a multiple of " + std::to_string(agents_) + " agents");
      const index batch = x.rows() / agents_;
      NETMARL_CHECK(graphs.size() == 1 || index(graphs.size()) == batch, shape_error,
                    "message::loopy_bp: expected 1 graph (shared) or " + std::to_string(batch) +
                        " (one per sample), got " + std::to_string(graphs.size()));
      for (std::size_t k = 0; k < graphs.size(); ++k)
        NETMARL_CHECK(graphs[k].nodes == agents_, shape_error,
                      "message::loopy_bp: graph " + std::to_string(k) + " has " +
                          std::to_string(graphs[k].nodes) + " nodes, expected " +
                          std::to_string(agents_) + " agents");
      return batch;
    }

    kernels::loopy_bp_step::shape step_shape(index batch) const {
      return {batch, agents_, hidden_};
    }

    index agents_;
    index input_size_;
    index hidden_;
    index hops_;
  };
};

}  // namespace netmarl::message
