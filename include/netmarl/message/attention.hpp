#pragma once
// message::attention: DGN (Jiang et al. 2020, "Graph Convolutional Reinforcement Learning";
// code PKU-AI-Edge/DGN, Jungle/mutli_jungle.py). Agents encode their observations, then `layers`
// graph convolutions with multi-head attention as the kernel ("relation kernel") let each agent
// read its neighbourhood N(i), itself included (graph::csr stores the self-loop):
//   h0 = encoder(x)                              an MLP with ReLU after every layer
//   per layer l = 1..layers, per head m:
//     Q = ReLU(h W_q + b_q), K = ReLU(h W_k + b_k), V = ReLU(h W_v + b_v)   (dense over all rows)
//     alpha_ij = softmax_{j in N(i)} (Q_i . K_j / sqrt(dim / heads))
//     h_l,i = ReLU(W_o concat_m sum_{j in N(i)} alpha_ij V_j + b_o)
//   (DGN section 3.2, the relation kernel: attention weights, then sigma(concat of the heads))
//   output = concat(h0, h1, ..., h_layers)   (DGN's Q network reads all of them)
// The ReLUs on Q, K, V and on the encoder's last layer follow DGN's code (Dense(..., activation
// "relu") in MultiHeadsAttModel and MLP); the paper's sigma is the output Dense with its ReLU. The
// masked attention itself is kernels::dgn_attention.
//
// Defaults are DGN's Jungle network (encoder 512 -> 128, 128 wide, 2 convolutions); heads = 4 is
// the LToS appendix's table 4 for DGN in Jungle (DGN's own Jungle code runs 8 heads of 16).
// Neighbourhoods come from the CSR, so their sizes may differ per agent and per sample, which the
// authors' TensorFlow code could not do (it fixes 4 neighbours). Weights are initialised as every
// nn::dense is (torch.nn.Linear's default); DGN's Keras code draws N(0, 0.05) with zero biases.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/dgn_attention.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::message {

struct attention {
  struct settings {
    std::vector<index> encoder = {512, 128};  // encoder widths after the input; ReLU after each
    index dim = 128;                          // width of every convolution (all heads together)
    index heads = 4;                          // attention heads; dim must be a multiple of it
    index layers = 2;                         // convolution layers (DGN stacks two)
  };

  template <class T>
  struct model {
    using scalar = T;
    static constexpr bool uses_graph = true;

    // One relation kernel (DGN's MultiHeadsAttModel): the three projections and the output dense.
    struct convolution {
      nn::dense<T> query, key, value;  // [input width, dim], ReLU after each
      nn::dense<T> output;             // [dim, dim], ReLU after it
    };

    // Everything backward needs, owned by the caller so one model can run several forwards (acting
    // step, replayed s and s') and differentiate any of them. Every buffer is resized only when a
    // shape changes: after the first call at a shape, forward and backward allocate nothing.
    struct cache {
      struct layer {
        matrix<T> query, key, value;  // [rows, dim], after their ReLUs
        matrix<T> weights;   // softmax weights [edges of all samples, heads] (kernel layout)
        matrix<T> attended;  // [rows, dim], the kernel's output: the output dense's input
        matrix<T> d_query, d_key, d_value, d_attended, d_pre;  // backward scratch, [rows, dim]
        matrix<T> d_input;  // one projection's dL/dh_l, [rows, width of h_l], added to d_hidden[l]
      };
      nn::mlp_cache<T> encoder;
      std::vector<matrix<T>> hidden;  // h0 .. h_layers, [rows, width], after their ReLUs
      std::vector<layer> layers;
      std::vector<matrix<T>> d_hidden;  // dL/dh_l, [rows, width]
      // A copy of the forward's graphs (a few ints per agent), so the caller may rebuild its graph
      // (graph::build_k_nearest does so in place) before calling backward.
      std::vector<std::int32_t> offsets, indices;
      std::vector<index> edge_starts;  // graph s's edges are [edge_starts[s], edge_starts[s + 1])
      std::vector<csr_view> graphs;    // views into offsets and indices
      index batch = 0;
    };

    nn::mlp<T> encoder;  // input -> settings.encoder..., ReLU after every layer
    std::vector<convolution> convolutions;

    // Throws invalid_argument, naming the value, for agents or input_size < 1, an empty encoder or
    // a width < 1, dim or layers < 1, heads < 1, or dim not a multiple of heads. Parameters draw in
    // order: encoder, then per convolution query, key, value, output.
    model(index agents, index input_size, const settings& s, rng& g)
        : encoder(encoder_sizes(validated(agents, input_size, s), input_size), nn::activation::relu,
                  nn::activation::relu, g),
          agents_(agents),
          input_size_(input_size),
          dim_(s.dim),
          heads_(s.heads) {
      convolutions.reserve(static_cast<std::size_t>(s.layers));
      for (index l = 0; l < s.layers; ++l) {
        const index in = l == 0 ? encoder.output_size() : dim_;
        convolution c;
        c.query = nn::dense<T>(in, dim_, g);
        c.key = nn::dense<T>(in, dim_, g);
        c.value = nn::dense<T>(in, dim_, g);
        c.output = nn::dense<T>(dim_, dim_, g);
        convolutions.push_back(std::move(c));
      }
    }

    index agents() const { return agents_; }
    index input_size() const { return input_size_; }
    index dim() const { return dim_; }
    index heads() const { return heads_; }
    index layers() const { return index(convolutions.size()); }
    // Encoder output plus every convolution's output: the width of the concatenation.
    index output_size() const { return encoder.output_size() + layers() * dim_; }

    // x [batch * agents, input_size], rows agent-major within a sample; `graphs` holds one graph
    // shared by the batch or exactly `batch` graphs (one per sample), each over `agents` nodes.
    // Writes out [batch * agents, output_size()]. Throws shape_error for other shapes or counts,
    // invalid_argument for a graph whose offsets or ids are broken.
    template <nn::HostBackend B>
    void forward(B b, const_matrix_ref<T> x, std::span<const csr_view> graphs, matrix<T>& out,
                 cache& c) const {
      NETMARL_CHECK(x.cols() == input_size_, shape_error,
                    "message::attention: input has " + std::to_string(x.cols()) +
                        " features, expected " + std::to_string(input_size_));
      NETMARL_CHECK(x.rows() % agents_ == 0, shape_error,
                    "message::attention: input has " + std::to_string(x.rows()) +
                        " rows, not a multiple of the " + std::to_string(agents_) + " agents");
      const index rows = x.rows();
      c.batch = rows / agents_;
      NETMARL_CHECK(index(graphs.size()) == 1 || index(graphs.size()) == c.batch, shape_error,
                    "message::attention: got " + std::to_string(graphs.size()) +
                        " graphs for a batch of " + std::to_string(c.batch) +
                        " samples; pass one shared graph or one per sample");
      copy_graphs(graphs, c);

      const std::size_t depth = convolutions.size();
      c.hidden.resize(depth + 1);
      c.layers.resize(depth);
      nn::forward(b, encoder, x, c.encoder, c.hidden[0]);
      for (std::size_t l = 0; l < depth; ++l) {
        const convolution& conv = convolutions[l];
        typename cache::layer& lc = c.layers[l];
        const matrix<T>& in = c.hidden[l];
        project(b, conv.query, in, lc.query);
        project(b, conv.key, in, lc.key);
        project(b, conv.value, in, lc.value);
        ensure_shape(lc.weights, c.edge_starts.back() * (c.graphs.size() == 1 ? c.batch : 1),
                     heads_);
        ensure_shape(lc.attended, rows, dim_);
        attend(b, c, lc);
        project(b, conv.output, lc.attended, c.hidden[l + 1]);
      }
      ensure_shape(out, rows, output_size());
      index column = 0;
      for (const matrix<T>& h : c.hidden) {
        out.middleCols(column, h.cols()) = h;
        column += h.cols();
      }
    }

    // Backward of the forward that filled `c`: ACCUMULATES every parameter's grad, OVERWRITES *d_x
    // (resized to x's shape) when d_x is non-null.
    template <nn::HostBackend B>
    void backward(B b, cache& c, const_matrix_ref<T> d_out, matrix<T>* d_x) {
      const std::size_t depth = convolutions.size();
      NETMARL_CHECK(c.hidden.size() == depth + 1 && c.layers.size() == depth, shape_error,
                    "message::attention backward: call forward with this cache first");
      const index rows = c.hidden[0].rows();
      nn::require_shape("message::attention backward", "d_out", rows, output_size(), d_out.rows(),
                        d_out.cols());
      // Each h_l is read by the output (its block of d_out) and, below the top, by the next
      // convolution's three projections.
      c.d_hidden.resize(depth + 1);
      index column = 0;
      for (std::size_t l = 0; l <= depth; ++l) {
        ensure_shape(c.d_hidden[l], rows, c.hidden[l].cols());
        c.d_hidden[l] = d_out.middleCols(column, c.hidden[l].cols());
        column += c.hidden[l].cols();
      }
      for (std::size_t l = depth; l-- > 0;) {
        convolution& conv = convolutions[l];
        typename cache::layer& lc = c.layers[l];
        ensure_shape(lc.d_pre, rows, dim_);
        ensure_shape(lc.d_attended, rows, dim_);
        project_backward(b, conv.output, lc.attended, c.hidden[l + 1], c.d_hidden[l + 1], lc.d_pre,
                         &lc.d_attended);
        ensure_shape(lc.d_query, rows, dim_);
        ensure_shape(lc.d_key, rows, dim_);
        ensure_shape(lc.d_value, rows, dim_);
        attend_backward(b, c, lc);
        const matrix<T>& in = c.hidden[l];
        ensure_shape(lc.d_input, rows, in.cols());  // per layer: h0 and h1 may differ in width
        project_backward(b, conv.query, in, lc.query, lc.d_query, lc.d_query, &lc.d_input);
        c.d_hidden[l] += lc.d_input;
        project_backward(b, conv.key, in, lc.key, lc.d_key, lc.d_key, &lc.d_input);
        c.d_hidden[l] += lc.d_input;
        project_backward(b, conv.value, in, lc.value, lc.d_value, lc.d_value, &lc.d_input);
        c.d_hidden[l] += lc.d_input;
      }
      nn::backward(b, encoder, c.encoder, c.d_hidden[0], d_x);
    }

    // Names "<prefix>encoder.0.weight", ..., "<prefix>layer0.query.weight", ...,
    // "<prefix>layer1.output.bias".
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      encoder.append_parameters(out, prefix + "encoder.");
      for (std::size_t l = 0; l < convolutions.size(); ++l) {
        const std::string name = prefix + "layer" + std::to_string(l) + ".";
        convolutions[l].query.append_parameters(out, name + "query.");
        convolutions[l].key.append_parameters(out, name + "key.");
        convolutions[l].value.append_parameters(out, name + "value.");
        convolutions[l].output.append_parameters(out, name + "output.");
      }
    }

   private:
    static const settings& validated(index agents, index input_size, const settings& s) {
      require(agents >= 1,
              "message::attention: agents must be >= 1, got " + std::to_string(agents));
      require(input_size >= 1,
              "message::attention: input_size must be >= 1, got " + std::to_string(input_size));
      require(!s.encoder.empty(),
              "message::attention: encoder must list at least one width (DGN: {512, 128})");
      for (std::size_t i = 0; i < s.encoder.size(); ++i)
        require(s.encoder[i] >= 1, "message::attention: encoder[" + std::to_string(i) +
                                       "] must be >= 1, got " + std::to_string(s.encoder[i]));
      require(s.dim >= 1, "message::attention: dim must be >= 1, got " + std::to_string(s.dim));
      require(s.heads >= 1,
              "message::attention: heads must be >= 1, got " + std::to_string(s.heads));
      require(s.dim % s.heads == 0, "message::attention: dim " + std::to_string(s.dim) +
                                        " is not a multiple of heads " + std::to_string(s.heads));
      require(s.layers >= 1,
              "message::attention: layers must be >= 1, got " + std::to_string(s.layers));
      return s;
    }

    static std::vector<index> encoder_sizes(const settings& s, index input_size) {
      std::vector<index> sizes{input_size};
      sizes.insert(sizes.end(), s.encoder.begin(), s.encoder.end());
      return sizes;
    }

    kernels::dgn_attention::shape kernel_shape(index batch) const {
      return {batch, agents_, heads_, dim_ / heads_};
    }

    // Copies and checks the graphs (node count, offsets, ids: a bad id would read out of bounds).
    void copy_graphs(std::span<const csr_view> graphs, cache& c) const {
      const std::size_t count = graphs.size();
      const auto nodes = static_cast<std::size_t>(agents_);
      c.edge_starts.resize(count + 1);
      c.edge_starts[0] = 0;
      for (std::size_t s = 0; s < count; ++s) {
        const csr_view& g = graphs[s];
        NETMARL_CHECK(g.nodes == agents_, shape_error,
                      "message::attention: graph " + std::to_string(s) + " has " +
                          std::to_string(g.nodes) + " nodes, expected " + std::to_string(agents_) +
                          " (the agents)");
        NETMARL_CHECK(g.offsets != nullptr && g.offsets[0] == 0, invalid_argument,
                      "message::attention: graph " + std::to_string(s) +
                          "'s offsets are null or do not start at 0");
        c.edge_starts[s + 1] = c.edge_starts[s] + g.edges();
      }
      c.offsets.resize(count * (nodes + 1));
      c.indices.resize(static_cast<std::size_t>(c.edge_starts[count]));
      for (std::size_t s = 0; s < count; ++s) {
        const csr_view& g = graphs[s];
        std::int32_t* offsets = c.offsets.data() + s * (nodes + 1);
        std::int32_t* indices = c.indices.data() + c.edge_starts[s];
        offsets[0] = 0;
        for (index i = 0; i < agents_; ++i) {
          NETMARL_CHECK(g.offsets[i + 1] >= g.offsets[i], invalid_argument,
                        "message::attention: graph " + std::to_string(s) +
                            "'s offsets decrease at node " + std::to_string(i));
          offsets[i + 1] = g.offsets[i + 1];
        }
        for (index e = 0; e < g.edges(); ++e) {
          NETMARL_CHECK(g.indices[e] >= 0 && g.indices[e] < agents_, invalid_argument,
                        "message::attention: graph " + std::to_string(s) + " lists node " +
                            std::to_string(g.indices[e]) + " at edge " + std::to_string(e) +
                            ", outside [0, " + std::to_string(agents_) + ")");
          indices[e] = g.indices[e];
        }
      }
      c.graphs.resize(count);
      for (std::size_t s = 0; s < count; ++s)
        c.graphs[s] = csr_view{c.offsets.data() + s * (nodes + 1),
                               c.indices.data() + c.edge_starts[s], agents_};
    }

    // out = ReLU(in . W + b).
    template <class B>
    static void project(B b, const nn::dense<T>& layer, const matrix<T>& in, matrix<T>& out) {
      ensure_shape(out, in.rows(), layer.output_size());
      const kernels::dense::shape s{in.rows(), layer.input_size(), layer.output_size()};
      kernels::dense::forward(b, s, in.data(), layer.weight.value.data(), layer.bias.value.data(),
                              out.data());
      nn::activate<T>(nn::activation::relu, out, out);
    }

    // Backward of project: d_pre = d_out * ReLU'(out) (d_pre may be d_out), then the dense's
    // parameter gradients (accumulated) and *d_in (overwritten).
    template <class B>
    static void project_backward(B b, nn::dense<T>& layer, const matrix<T>& in,
                                 const matrix<T>& out, const matrix<T>& d_out, matrix<T>& d_pre,
                                 matrix<T>* d_in) {
      nn::activation_backward<T>(nn::activation::relu, out, d_out, d_pre);
      const kernels::dense::shape s{in.rows(), layer.input_size(), layer.output_size()};
      kernels::dense::backward(b, s, in.data(), layer.weight.value.data(), d_pre.data(),
                               layer.weight.grad.data(), layer.bias.grad.data(),
                               d_in ? d_in->data() : nullptr);
    }

    // One kernel call for a shared graph; one per sample otherwise (each sample's edges and
    // attention weights start at edge_starts[s]).
    template <class B>
    void attend(B b, const cache& c, typename cache::layer& lc) const {
      if (c.graphs.size() == 1) {
        kernels::dgn_attention::forward(b, kernel_shape(c.batch), c.graphs[0], lc.query.data(),
                                        lc.key.data(), lc.value.data(), lc.weights.data(),
                                        lc.attended.data());
        return;
      }
      const index stride = agents_ * dim_;
      for (std::size_t s = 0; s < c.graphs.size(); ++s) {
        const index first = index(s) * stride;  // the sample's first entry
        kernels::dgn_attention::forward(b, kernel_shape(1), c.graphs[s], lc.query.data() + first,
                                        lc.key.data() + first, lc.value.data() + first,
                                        lc.weights.data() + c.edge_starts[s] * heads_,
                                        lc.attended.data() + first);
      }
    }

    template <class B>
    void attend_backward(B b, const cache& c, typename cache::layer& lc) const {
      if (c.graphs.size() == 1) {
        kernels::dgn_attention::backward(b, kernel_shape(c.batch), c.graphs[0], lc.query.data(),
                                         lc.key.data(), lc.value.data(), lc.weights.data(),
                                         lc.attended.data(), lc.d_attended.data(),
                                         lc.d_query.data(), lc.d_key.data(), lc.d_value.data());
        return;
      }
      const index stride = agents_ * dim_;
      for (std::size_t s = 0; s < c.graphs.size(); ++s) {
        const index first = index(s) * stride;
        kernels::dgn_attention::backward(
            b, kernel_shape(1), c.graphs[s], lc.query.data() + first, lc.key.data() + first,
            lc.value.data() + first, lc.weights.data() + c.edge_starts[s] * heads_,
            lc.attended.data() + first, lc.d_attended.data() + first, lc.d_query.data() + first,
            lc.d_key.data() + first, lc.d_value.data() + first);
      }
    }

    index agents_;
    index input_size_;
    index dim_;
    index heads_;
  };
};

}  // namespace netmarl::message
