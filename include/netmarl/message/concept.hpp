#pragma once
// The MessagePassing slot: what agents tell each other before acting. A model maps per-agent input
// features x [batch * agents, input_size] (rows agent-major within a sample) and the
// communication graph of each sample to embeddings [batch * agents, output_size()]. `graphs` holds
// either one graph shared by the whole batch or one per sample (dynamic topologies).
//
// What backward needs lives in a caller-owned `cache`, not in the model: a learner runs the same
// network on s and on s' (or on the acting step and a replayed batch) and differentiates whichever
// it needs. Buffers in a cache are reused, so after warm-up no call allocates.
#include <concepts>
#include <span>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl {

template <class M>
concept MessagePassing = requires {
  typename M::settings;
  typename M::template model<double>;
  typename M::template model<double>::cache;
}
&&std::constructible_from<typename M::template model<double>, index, index,
                          const typename M::settings&,
                          rng&>&& requires(typename M::template model<double>& m,
                                           const typename M::template model<double>& cm,
                                           typename M::template model<double>::cache& c,
                                           const matrix<double>& x,
                                           std::span<const csr_view> graphs, matrix<double>& out,
                                           matrix<double>* d_x) {
  { cm.output_size() } -> std::convertible_to<index>;
  { M::template model<double>::uses_graph } -> std::convertible_to<bool>;
  cm.forward(backend::reference{}, x, graphs, out, c);
  m.backward(backend::reference{}, c, x, d_x);
};

namespace message {
// The smallest MessagePassing (identity): the system's stand-in for a wrong slot.
struct stand_in {
  struct settings {};
  template <class T>
  struct model {
    static constexpr bool uses_graph = false;
    struct cache {};
    model(index, index input_size, const settings&, rng&) : size_(input_size) {}
    index output_size() const { return size_; }
    template <class B>
    void forward(B, const_matrix_ref<T> x, std::span<const csr_view>, matrix<T>& out,
                 cache&) const {
      out = x;
    }
    template <class B>
    void backward(B, cache&, const_matrix_ref<T> d_out, matrix<T>* d_x) {
      if (d_x) *d_x = d_out;
    }
    index size_;
  };
};
}  // namespace message

}  // namespace netmarl
