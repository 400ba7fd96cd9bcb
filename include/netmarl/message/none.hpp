#pragma once
// message::none: agents tell nothing; the embedding is the observation itself.
#include <span>
#include <string>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::message {

struct none {
  struct settings {};
  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool uses_graph = false;
    struct cache {};

    model(index /*agents*/, index input_size, const settings&, rng&) : size_(input_size) {}
    index output_size() const { return size_; }

    template <class B>
    void forward(B, const_matrix_ref<T> x, std::span<const csr_view>, matrix<T>& out,
                 cache&) const {
      NETMARL_CHECK(x.cols() == size_, shape_error,
                    "message::none: input has " + std::to_string(x.cols()) +
                        " features, expected " + std::to_string(size_));
      ensure_shape(out, x.rows(), x.cols());
      out = x;
    }
    template <class B>
    void backward(B, cache&, const_matrix_ref<T> d_out, matrix<T>* d_x) {
      if (d_x) {
        ensure_shape(*d_x, d_out.rows(), d_out.cols());
        *d_x = d_out;
      }
    }
    void append_parameters(nn::parameter_list<T>&, const std::string&) {}

   private:
    index size_;
  };
};

}  // namespace netmarl::message
