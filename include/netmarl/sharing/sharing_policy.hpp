#pragma once
// The LToS high-level policy phi: observations -> w_i^out, a softmax over agent i's neighbourhood
// (LToS section 4.2; appendix C "unordered output" and "selfishness initializer").
//
// The output must follow the neighbourhood, whatever its size and order, so each edge i -> j
// gets its own logit from a pairwise scorer over the agents' encodings (one network shared by
// all agents, DGN-style):
//   h = encoder(o)                                   MLP, ReLU after every layer
//   z_ij = ReLU(h_i A + h_j B + c)                   [pair width]
//   l_ij = z_ij . v + [j = i] (beta + log(s / (1 - s) (|N_i| - 1)))
//   w_ij = softmax_{j in N_i} l_ij
// v and beta start at zero, so at initialisation every other logit is 0 and w_ii = s exactly for
// any neighbourhood size (the paper sets the last layer's bias; a size-dependent offset is what
// makes "exactly" hold when |N_i| differs between agents or steps).
#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/sharing/weights.hpp"

namespace netmarl::sharing {

template <class T>
class sharing_policy {
 public:
  using scalar = T;

  struct cache {
    nn::mlp_cache<T> encoder;
    nn::dense_cache<T> own, other;
    matrix<T> h;          // [rows, encoder width]
    matrix<T> u, v;       // [rows, pair]: h A + c and h B + c'
    matrix<T> z;          // [edges of all samples, pair], after the ReLU
    std::vector<T> w;     // [edges of all samples] softmax weights
    std::vector<index> edge_start;  // sample s's edges start at edge_start[s]
    matrix<T> d_z, d_u, d_v, d_h;
    std::vector<T> d_logit;
  };

  // sizes: observation_size, then the encoder widths. selfishness in (0, 1).
  sharing_policy(index observation_size, const std::vector<index>& encoder_widths, index pair,
                 double selfishness, rng& g)
      : encoder_(sizes(observation_size, encoder_widths), nn::activation::relu,
                 nn::activation::relu, g),
        own_(encoder_.output_size(), pair, g),
        other_(encoder_.output_size(), pair, g),
        score_(pair, 1),
        self_bias_(1, 1),
        selfishness_(selfishness) {
    if (!(selfishness > 0 && selfishness < 1))
      throw invalid_argument("sharing_policy: selfishness must be in (0, 1) (the initializer "
                             "takes log(s / (1 - s))), got " + std::to_string(selfishness));
    if (pair < 1) throw invalid_argument("sharing_policy: pair width must be >= 1");
  }

  index observation_size() const { return encoder_.input_size(); }

  void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
    encoder_.append_parameters(out, prefix + "encoder.");
    own_.append_parameters(out, prefix + "own.");
    other_.append_parameters(out, prefix + "other.");
    out.push_back({prefix + "score", &score_});
    out.push_back({prefix + "self_bias", &self_bias_});
  }

  // x [samples * agents, observation_size]; samples[s] holds sample s's closure graph. Writes the
  // softmax weights into samples[s]->w (and c.w). `noise`, when non-empty, is added to the logits
  // (edge-aligned over all samples): exploration on the pre-softmax values (LToS appendix D).
  void forward(const_matrix_ref<T> x, std::span<edge_weights* const> samples, cache& c,
               std::span<const float> noise = {}) const {
    const backend::reference b;
    const index agents = samples.empty() ? 0 : samples.front()->agents();
    if (x.rows() != static_cast<index>(samples.size()) * agents || x.cols() != observation_size())
      throw shape_error("sharing_policy: input is " + std::to_string(x.rows()) + "x" +
                        std::to_string(x.cols()) + ", expected " +
                        std::to_string(static_cast<index>(samples.size()) * agents) + "x" +
                        std::to_string(observation_size()));
    nn::forward(b, encoder_, x, c.encoder, c.h);
    nn::forward(b, own_, c.h, c.own, c.u);
    nn::forward(b, other_, c.h, c.other, c.v);
    c.edge_start.assign(1, 0);
    for (const edge_weights* s : samples) c.edge_start.push_back(c.edge_start.back() + s->num_edges());
    const index edges = c.edge_start.back();
    if (!noise.empty() && static_cast<index>(noise.size()) != edges)
      throw shape_error("sharing_policy: " + std::to_string(noise.size()) + " noise values for " +
                        std::to_string(edges) + " edges");
    ensure_shape(c.z, edges, score_.value.rows());
    c.w.resize(static_cast<std::size_t>(edges));
    const T beta = self_bias_.value(0, 0);
    for (std::size_t s = 0; s < samples.size(); ++s) {
      edge_weights& ew = *samples[s];
      const index row0 = static_cast<index>(s) * agents, e0 = c.edge_start[s];
      for (index i = 0; i < agents; ++i) {
        const auto first = ew.graph.offsets[static_cast<std::size_t>(i)];
        const auto last = ew.graph.offsets[static_cast<std::size_t>(i) + 1];
        const index degree = last - first;
        T top = -std::numeric_limits<T>::infinity();
        for (auto e = first; e < last; ++e) {
          const index j = ew.graph.indices[static_cast<std::size_t>(e)];
          const index k = e0 + e;
          c.z.row(k) = (c.u.row(row0 + i) + c.v.row(row0 + j)).cwiseMax(T(0));
          T logit = c.z.row(k).dot(score_.value.col(0).transpose());
          if (j == i && degree > 1) logit += beta + self_offset(degree);
          if (!noise.empty()) logit += static_cast<T>(noise[static_cast<std::size_t>(k)]);
          c.w[static_cast<std::size_t>(k)] = logit;
          top = std::max(top, logit);
        }
        T sum = 0;
        for (auto e = first; e < last; ++e) {
          T& l = c.w[static_cast<std::size_t>(e0 + e)];
          l = std::exp(l - top);
          sum += l;
        }
        for (auto e = first; e < last; ++e) {
          T& l = c.w[static_cast<std::size_t>(e0 + e)];
          l /= sum;
          ew.w[static_cast<std::size_t>(e)] = static_cast<float>(l);
        }
      }
    }
  }

  // Backward of the forward that filled `c`, from d_w (dL/dw, edge-aligned over all samples).
  // Accumulates every parameter's gradient.
  void backward(cache& c, std::span<edge_weights* const> samples, std::span<const T> d_w) {
    const backend::reference b;
    const index agents = samples.empty() ? 0 : samples.front()->agents();
    const index edges = c.edge_start.back();
    c.d_logit.assign(static_cast<std::size_t>(edges), T(0));
    ensure_shape(c.d_u, c.u.rows(), c.u.cols());
    ensure_shape(c.d_v, c.v.rows(), c.v.cols());
    c.d_u.setZero();
    c.d_v.setZero();
    ensure_shape(c.d_z, edges, c.z.cols());
    for (std::size_t s = 0; s < samples.size(); ++s) {
      const edge_weights& ew = *samples[s];
      const index row0 = static_cast<index>(s) * agents, e0 = c.edge_start[s];
      for (index i = 0; i < agents; ++i) {
        const auto first = ew.graph.offsets[static_cast<std::size_t>(i)];
        const auto last = ew.graph.offsets[static_cast<std::size_t>(i) + 1];
        T dot = 0;  // softmax backward: dl_e = w_e (dw_e - sum_f w_f dw_f)
        for (auto e = first; e < last; ++e)
          dot += c.w[static_cast<std::size_t>(e0 + e)] * d_w[static_cast<std::size_t>(e0 + e)];
        for (auto e = first; e < last; ++e) {
          const index k = e0 + e;
          const index j = ew.graph.indices[static_cast<std::size_t>(e)];
          const T dl = c.w[static_cast<std::size_t>(k)] * (d_w[static_cast<std::size_t>(k)] - dot);
          c.d_logit[static_cast<std::size_t>(k)] = dl;
          if (j == i && last - first > 1) self_bias_.grad(0, 0) += dl;
          score_.grad.col(0) += dl * c.z.row(k).transpose();
          c.d_z.row(k) = (c.z.row(k).array() > T(0)).select(dl * score_.value.col(0).transpose().array(), T(0));
          c.d_u.row(row0 + i) += c.d_z.row(k);
          c.d_v.row(row0 + j) += c.d_z.row(k);
        }
      }
    }
    nn::backward(b, own_, c.own, c.d_u, &c.d_h);
    d_h_other_.resize(0, 0);
    nn::backward(b, other_, c.other, c.d_v, &d_h_other_);
    c.d_h += d_h_other_;
    nn::backward(b, encoder_, c.encoder, c.d_h, nullptr);
  }

  // The offset that makes w_ii = s at initialisation for a neighbourhood of `degree` (self
  // included, degree >= 2).
  T self_offset(index degree) const {
    return static_cast<T>(std::log(selfishness_ / (1.0 - selfishness_) *
                                   static_cast<double>(degree - 1)));
  }

 private:
  static std::vector<index> sizes(index observation_size, const std::vector<index>& widths) {
    if (observation_size < 1)
      throw invalid_argument("sharing_policy: observation_size must be >= 1, got " +
                             std::to_string(observation_size));
    if (widths.empty()) throw invalid_argument("sharing_policy: the encoder needs a layer");
    std::vector<index> out{observation_size};
    for (const index w : widths) {
      if (w < 1) throw invalid_argument("sharing_policy: encoder widths must be >= 1");
      out.push_back(w);
    }
    return out;
  }

  nn::mlp<T> encoder_;
  nn::dense<T> own_, other_;
  nn::parameter<T> score_, self_bias_;
  double selfishness_;
  matrix<T> d_h_other_;
};

}  // namespace netmarl::sharing
