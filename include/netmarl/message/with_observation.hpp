#pragma once
// message::with_observation<Inner>: an Inner message model whose embedding of agent i is followed
// by i's own input row, out_i = [Inner(x, graph)_i, x_i].
//
// Why: the mean-field and loopy-BP networks (IP appendix B) sum i's input with its neighbours'
// from the first hop on, so a policy head on top no longer sees i's own observation as such, and
// observations written in each agent's own frame (cooperative navigation's relative landmark
// positions) blur into their neighbours'. DGN's Q head reads its encoder output beside the
// convolutions for the same reason. This keeps the slot's interface: any learner gets the skip
// by naming message::with_observation<message::mean_field>.
#include <span>
#include <string>

#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::message {

template <MessagePassing Inner>
struct with_observation {
  using settings = typename Inner::settings;

  template <class T>
  struct model {
    using scalar = T;
    using inner_model = typename Inner::template model<T>;
    static constexpr bool uses_graph = inner_model::uses_graph;

    struct cache {
      typename inner_model::cache inner;
      matrix<T> embedding, d_inner_x;
    };

    model(index agents, index input_size, const settings& s, rng& g)
        : inner(agents, input_size, s, g), input_size_(input_size) {}

    index output_size() const { return inner.output_size() + input_size_; }

    template <nn::HostBackend B>
    void forward(B b, const_matrix_ref<T> x, std::span<const csr_view> graphs, matrix<T>& out,
                 cache& c) const {
      nn::require_size("message::with_observation forward", "input width", input_size_, x.cols());
      inner.forward(b, x, graphs, c.embedding, c.inner);
      ensure_shape(out, x.rows(), output_size());
      out.leftCols(inner.output_size()) = c.embedding;
      out.rightCols(input_size_) = x;
    }

    // Accumulates Inner's parameter gradients; *d_x = Inner's d_x + the skip's share.
    template <nn::HostBackend B>
    void backward(B b, cache& c, const_matrix_ref<T> d_out, matrix<T>* d_x) {
      nn::require_shape("message::with_observation backward", "d_out", c.embedding.rows(),
                        output_size(), d_out.rows(), d_out.cols());
      const index inner_width = inner.output_size();
      inner.backward(b, c.inner, d_out.leftCols(inner_width), d_x ? &c.d_inner_x : nullptr);
      if (d_x) {
        ensure_shape(*d_x, d_out.rows(), input_size_);
        *d_x = c.d_inner_x + d_out.rightCols(input_size_);
      }
    }

    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      inner.append_parameters(out, prefix);
    }

    inner_model inner;

   private:
    index input_size_;
  };
};

}  // namespace netmarl::message
