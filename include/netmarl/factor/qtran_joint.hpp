#pragma once
// factor::qtran_joint: QTRAN-base's joint action-value network Q_jt(s, u), its state value
// V_jt(s), and the loss L = L_td + lambda_opt L_opt + lambda_nopt L_nopt (Son et al. 2019,
// "QTRAN", section 3; VAST section 2.2 and eq. 3), as a standalone block with explicit
// forward/backward. The factorization slot wraps it; learners call it in this order per update:
//
//   (1) forward_q(b, state, hidden, taken_actions, alive, q_jt)      Q_jt(s, u), kept for backward
//   (2) evaluate_q(b, state, hidden, greedy_actions, alive, q_bar)   Q_jt(s, u_bar): no gradient
//                                                                     (L_opt detaches it), and it
//                                                                     leaves (1)'s cache alone
//   (3) forward_v(b, state, v)                                        V(s), kept for backward
//   (4) loss(b, {.td_target = y, .greedy_utility_sum = sum_i max_a Q_i, .greedy_q_jt = q_bar,
//               .chosen_utility_sum = sum_i Q_i(u_i), .row_weight = mask}, grads)
//       returns {total, td, opt, nopt}; ACCUMULATES into every parameter's .grad and OVERWRITES
//       grads.hidden (dL/dh, [batch * agents, hidden]: only L_td reaches Q_jt), and
//       grads.greedy_utility_sum, grads.chosen_utility_sum ([batch, 1]: dL/d of the two utility
//       sums, which a learner spreads over the agents' utility networks: d/dQ_i = that value for
//       each agent's max resp. chosen action).
// The TD target y = r + gamma (1 - done) Q_jt^-(s', u') comes from evaluate_q on a target copy of
// this model (PyMARL: at the online agents' greedy actions with double_q, else the target
// agents'). forward_q + backward_q and forward_v + backward_v also work alone, for other losses.
//
// Networks (PyMARL QTranBase, qtran_arch "qtran_paper"; network_size "small" is hidden_layers 2,
// "big" 3; the activation is ReLU there, ELU in the VAST authors' networks):
//   encoder  e_i = Linear(H + A, K) -> act -> Linear(K, E) applied to [h_i, onehot(u_i)],
//            K = E = H + A by default (PyMARL's action_encoding)
//   Q_jt(s, u) = MLP([s, sum_i alive_i e_i]): S + E -> embed (x hidden_layers, act) -> 1
//   V(s)       = MLP(s):                      S     -> embed (x hidden_layers, act) -> 1
// Summing encodings makes Q_jt's input width independent of the number of agents and lets a dead
// agent (alive 0) drop out of the sum. The one-hot is never built (kernels/qtran_joint/spec.hpp).
//
// Layouts: batch B, agents N, rows r = b * N + i.
//   state [B, S]   hidden [B * N, H]   actions std::span<const int> [B * N], each in [0, A)
//   alive std::span<const T> [B * N] (empty: all alive)   q_jt, v [B, 1]
//
// authors_variant: the VAST authors' L_opt form (see qtran_loss.hpp). Their learner also regresses
// Q_jt on sum_i R_i (n R for a shared reward) and weighs all three terms 1 (lambda_nopt = 1):
// targets and lambdas are the caller's. Their joint network differs too (it reads the utilities,
// not encodings of hidden features, and V shares its trunk): that architecture is not offered here.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/qtran_loss.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/qtran_joint.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

struct qtran_joint {
  struct settings {
    index embed = 64;          // Q_jt and V hidden width (PyMARL mixing_embed_dim for QTRAN)
    index hidden_layers = 2;   // hidden layers of Q_jt and V (PyMARL network_size small 2, big 3)
    index encoder_hidden = 0;  // K, the encoder's hidden width; 0: hidden_size + actions (PyMARL)
    index encoding = 0;        // E, the width of e_i; 0: hidden_size + actions (PyMARL)
    nn::activation activation = nn::activation::relu;  // after every hidden layer of all three
    double lambda_opt = 1.0;                           // PyMARL opt_loss
    double lambda_nopt = 0.1;                          // PyMARL nopt_min_loss
    bool authors_variant = false;  // VAST authors' unsquared L_opt (qtran_loss.hpp)
  };

  template <class T>
  class model {
   public:
    using scalar = T;

    // The networks (public, as nn layers are, to inspect, load or initialise). Parameters draw
    // in this order.
    nn::dense<T> encoder_input;   // [H + A, K]: rows [0, H) read h_i, rows [H, H + A) are W_a
    nn::dense<T> encoder_output;  // [K, E]
    nn::mlp<T> joint_q;           // [s, E] -> Q_jt
    nn::mlp<T> value;             // s -> V

    // Inputs of loss(), one value per sample ([batch, 1] columns).
    struct loss_inputs {
      const_matrix_ref<T> td_target;           // y, a constant (no gradient)
      const_matrix_ref<T> greedy_utility_sum;  // sum_i max_a Q_i(tau_i, a)
      const_matrix_ref<T> greedy_q_jt;         // Q_jt(s, u_bar) from evaluate_q: detached
      const_matrix_ref<T> chosen_utility_sum;  // sum_i Q_i(tau_i, u_i)
      std::span<const T> row_weight = {};      // [batch] mask (padded steps); empty: all 1
    };
    struct loss_gradients {
      matrix<T> hidden;              // [batch * agents, hidden]
      matrix<T> greedy_utility_sum;  // [batch, 1]
      matrix<T> chosen_utility_sum;  // [batch, 1]
    };
    struct loss_values {
      T total = 0;  // td + lambda_opt opt + lambda_nopt nopt
      T td = 0;
      T opt = 0;
      T nopt = 0;
    };

    model(index agents, index state_size, index hidden_size, index actions, const settings& s,
          rng& g)
        : encoder_input(checked_input_width(agents, state_size, hidden_size, actions, s),
                        width_or(s.encoder_hidden, hidden_size + actions), g),
          encoder_output(width_or(s.encoder_hidden, hidden_size + actions),
                         width_or(s.encoding, hidden_size + actions), g),
          joint_q(mlp_sizes(state_size + width_or(s.encoding, hidden_size + actions), s),
                  s.activation, nn::activation::identity, g),
          value(mlp_sizes(state_size, s), s.activation, nn::activation::identity, g),
          agents_(agents),
          state_size_(state_size),
          hidden_size_(hidden_size),
          actions_(actions),
          encoder_hidden_(width_or(s.encoder_hidden, hidden_size + actions)),
          encoding_(width_or(s.encoding, hidden_size + actions)),
          embed_(s.embed),
          activation_(s.activation),
          lambda_opt_(static_cast<T>(s.lambda_opt)),
          lambda_nopt_(static_cast<T>(s.lambda_nopt)),
          authors_variant_(s.authors_variant) {}

    index agents() const { return agents_; }
    index state_size() const { return state_size_; }
    index hidden_size() const { return hidden_size_; }
    index actions() const { return actions_; }
    index encoder_hidden() const { return encoder_hidden_; }
    index encoding() const { return encoding_; }
    index embed() const { return embed_; }
    nn::activation activation() const { return activation_; }
    T lambda_opt() const { return lambda_opt_; }
    T lambda_nopt() const { return lambda_nopt_; }
    bool authors_variant() const { return authors_variant_; }

    // (1) Q_jt(s, u) at the taken actions; kept for backward_q and loss.
    template <nn::HostBackend B>
    void forward_q(B b, const_matrix_ref<T> state, const_matrix_ref<T> hidden,
                   std::span<const int> actions, std::span<const T> alive, matrix<T>& q_jt) {
      run_q(b, "factor::qtran_joint forward_q", taken_, state, hidden, actions, nullptr, alive,
            q_jt);
    }

    // (2) Q_jt(s, u) with no gradient: greedy joint actions for L_opt, or a target copy's TD
    // target. Uses its own scratch, so the cache of (1) survives.
    template <nn::HostBackend B>
    void evaluate_q(B b, const_matrix_ref<T> state, const_matrix_ref<T> hidden,
                    std::span<const int> actions, std::span<const T> alive, matrix<T>& q_jt) {
      run_q(b, "factor::qtran_joint evaluate_q", evaluated_, state, hidden, actions, nullptr, alive,
            q_jt);
    }

    // (1) and (2) for rows that stand for several agents (factor::vast's sub-teams): each row's
    // actions as counts [rows, A], the multiset of its members' actions, so the first layer reads
    // [h_r, counts_r] (with one agent per row this is the one-hot form above).
    template <nn::HostBackend B>
    void forward_q(B b, const_matrix_ref<T> state, const_matrix_ref<T> hidden,
                   const_matrix_ref<T> action_counts, std::span<const T> alive, matrix<T>& q_jt) {
      run_q(b, "factor::qtran_joint forward_q", taken_, state, hidden, {}, &action_counts, alive,
            q_jt);
    }
    template <nn::HostBackend B>
    void evaluate_q(B b, const_matrix_ref<T> state, const_matrix_ref<T> hidden,
                    const_matrix_ref<T> action_counts, std::span<const T> alive, matrix<T>& q_jt) {
      run_q(b, "factor::qtran_joint evaluate_q", evaluated_, state, hidden, {}, &action_counts,
            alive, q_jt);
    }

    // (3) V(s); kept for backward_v and loss.
    template <nn::HostBackend B>
    void forward_v(B b, const_matrix_ref<T> state, matrix<T>& v) {
      check_state("factor::qtran_joint forward_v", state, state.rows());
      nn::forward(b, value, state, v_cache_, v_);
      v_batch_ = state.rows();
      ensure_shape(v, v_batch_, 1);
      v = v_;
    }

    // Through forward_q's Q_jt: accumulates the encoder's and joint_q's parameter gradients and
    // writes *d_hidden ([batch * agents, hidden]) when d_hidden is non-null.
    template <nn::HostBackend B>
    void backward_q(B b, const_matrix_ref<T> d_q_jt, nn::optional_matrix<T> d_hidden) {
      pass& p = taken_;
      NETMARL_CHECK(p.batch >= 0, shape_error,
                    "factor::qtran_joint backward_q: call forward_q first");
      nn::require_shape("factor::qtran_joint backward_q", "d_q_jt", p.batch, 1, d_q_jt.rows(),
                        d_q_jt.cols());
      const index rows = p.batch * agents_, joint_width = state_size_ + encoding_;
      nn::backward(b, joint_q, p.q_cache, d_q_jt, &d_q_in_);
      T* d_hidden_data = nullptr;
      if (d_hidden) {
        ensure_shape(*d_hidden, rows, hidden_size_);
        d_hidden_data = d_hidden->data();
      }
      // The encoder's backward, a chunk of whole samples at a time (see run_q). The state
      // columns of d_q_in_ are not needed (the state is data); E_b's columns are.
      const index chunk_samples = samples_per_chunk();
      ensure_shape(d_encodings_, std::min(rows, chunk_samples * agents_), encoding_);
      ensure_shape(d_encoder_hidden_, d_encodings_.rows(), encoder_hidden_);
      for (index b0 = 0; b0 < p.batch; b0 += chunk_samples) {
        const kernels::qtran_joint::shape ks = kernel_shape(std::min(chunk_samples, p.batch - b0));
        const index r0 = b0 * agents_, n = ks.rows();
        const T* alive = alive_of(p);
        kernels::qtran_joint::agent_sum_backward(
            b, ks, d_q_in_.data() + b0 * joint_width + state_size_, joint_width,
            alive ? alive + r0 : nullptr, d_encodings_.data());
        kernels::dense::backward(b, kernels::dense::shape{n, encoder_hidden_, encoding_},
                                 p.encoder_hidden.data() + r0 * encoder_hidden_,
                                 encoder_output.weight.value.data(), d_encodings_.data(),
                                 encoder_output.weight.grad.data(), encoder_output.bias.grad.data(),
                                 d_encoder_hidden_.data());
        auto d_pre = d_encoder_hidden_.topRows(n);
        nn::activation_backward<T>(activation_, p.encoder_hidden.middleRows(r0, n), d_pre, d_pre);
        // The h half of the first layer is a dense layer over W's first H rows; the one-hot
        // half scatters into W_a's rows.
        kernels::dense::backward(b, kernels::dense::shape{n, hidden_size_, encoder_hidden_},
                                 p.hidden.data() + r0 * hidden_size_,
                                 encoder_input.weight.value.data(), d_encoder_hidden_.data(),
                                 encoder_input.weight.grad.data(), encoder_input.bias.grad.data(),
                                 d_hidden_data ? d_hidden_data + r0 * hidden_size_ : nullptr);
        if (p.has_counts)  // d_W_a += counts^T d_pre
          action_weight(encoder_input.weight.grad).noalias() +=
              p.counts.middleRows(r0, n).transpose() * d_pre;
        else
          kernels::qtran_joint::add_action_rows_backward(b, ks, p.actions.data() + r0,
                                                         d_encoder_hidden_.data(),
                                                         action_rows(encoder_input.weight.grad));
      }
    }

    // Through forward_v's V: accumulates value's parameter gradients.
    template <nn::HostBackend B>
    void backward_v(B b, const_matrix_ref<T> d_v) {
      NETMARL_CHECK(v_batch_ >= 0, shape_error,
                    "factor::qtran_joint backward_v: call forward_v first");
      nn::require_shape("factor::qtran_joint backward_v", "d_v", v_batch_, 1, d_v.rows(),
                        d_v.cols());
      nn::backward(b, value, v_cache_, d_v, nullptr);
    }

    // (4) L = L_td + lambda_opt L_opt + lambda_nopt L_nopt (QTRAN section 3; PyMARL
    // qtran_learner.py) on the Q_jt(s, u) of forward_q and the V(s) of forward_v. Q_jt(s, u) in
    // L_nopt and greedy_q_jt in L_opt are detached: only L_td reaches Q_jt's networks and the
    // hidden features; L_opt and L_nopt reach V and the two utility sums.
    template <nn::HostBackend B>
    loss_values loss(B b, const loss_inputs& in, loss_gradients& grads) {
      NETMARL_CHECK(taken_.batch >= 0, shape_error,
                    "factor::qtran_joint loss: call forward_q (at the taken actions) first");
      NETMARL_CHECK(v_batch_ == taken_.batch, shape_error,
                    "factor::qtran_joint loss: call forward_v on the batch of forward_q first (V "
                    "has " +
                        std::to_string(v_batch_) + " rows, Q_jt " + std::to_string(taken_.batch) +
                        ")");
      loss_values out;
      out.td = qtran_loss::td<T>(taken_.q_jt, in.td_target, in.row_weight, d_q_jt_);
      out.opt = qtran_loss::opt<T>(in.greedy_utility_sum, in.greedy_q_jt, v_, authors_variant_,
                                   in.row_weight, grads.greedy_utility_sum, d_v_opt_);
      out.nopt = qtran_loss::nopt<T>(in.chosen_utility_sum, taken_.q_jt, v_, in.row_weight,
                                     grads.chosen_utility_sum, d_v_nopt_);
      out.total = out.td + lambda_opt_ * out.opt + lambda_nopt_ * out.nopt;
      grads.greedy_utility_sum *= lambda_opt_;
      grads.chosen_utility_sum *= lambda_nopt_;
      ensure_shape(d_v_, v_batch_, 1);
      d_v_ = lambda_opt_ * d_v_opt_ + lambda_nopt_ * d_v_nopt_;
      backward_q(b, d_q_jt_, &grads.hidden);
      backward_v(b, d_v_);
      return out;
    }

    // Names "<prefix>encoder.0.weight", "<prefix>encoder.0.bias", "<prefix>encoder.1.weight",
    // ..., "<prefix>joint_q.0.weight", ..., "<prefix>value.<last>.bias".
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      encoder_input.append_parameters(out, prefix + "encoder.0.");
      encoder_output.append_parameters(out, prefix + "encoder.1.");
      joint_q.append_parameters(out, prefix + "joint_q.");
      value.append_parameters(out, prefix + "value.");
    }

   private:
    // One evaluation of Q_jt and what its backward needs.
    struct pass {
      index batch = -1;  // -1: never run
      matrix<T> hidden;  // [rows, H], a contiguous copy
      std::vector<int> actions;
      matrix<T> counts;  // [rows, A], used instead of actions when has_counts
      bool has_counts = false;
      matrix<T> alive;  // [rows, 1], read only when has_alive
      bool has_alive = false;
      matrix<T> encoder_hidden;  // [rows, K], after the activation
      matrix<T> encodings;       // [chunk rows, E]: scratch (backward does not read it)
      matrix<T> q_in;            // [B, S + E] = [s_b, E_b]
      nn::mlp_cache<T> q_cache;
      matrix<T> q_jt;  // [B, 1]
    };

    // Checks every size and setting, then returns the encoder's input width H + A: called first
    // in the member initialiser list, so nothing is built from a bad value.
    static index checked_input_width(index agents, index state_size, index hidden_size,
                                     index actions, const settings& s) {
      const std::string where = "factor::qtran_joint: ";
      require(agents >= 1, where + "agents must be >= 1, got " + std::to_string(agents));
      require(state_size >= 1,
              where + "state_size must be >= 1 (Q_jt and V read the global state), got " +
                  std::to_string(state_size));
      require(hidden_size >= 1,
              where + "hidden_size must be >= 1, got " + std::to_string(hidden_size));
      require(actions >= 1, where + "actions must be >= 1, got " + std::to_string(actions));
      require(s.embed >= 1, where + "embed must be >= 1, got " + std::to_string(s.embed));
      require(s.hidden_layers >= 1,
              where + "hidden_layers must be >= 1, got " + std::to_string(s.hidden_layers));
      require(s.encoder_hidden >= 0,
              where + "encoder_hidden must be >= 0 (0: hidden_size + actions), got " +
                  std::to_string(s.encoder_hidden));
      require(s.encoding >= 0, where + "encoding must be >= 0 (0: hidden_size + actions), got " +
                                   std::to_string(s.encoding));
      require(std::isfinite(s.lambda_opt) && s.lambda_opt >= 0,
              where + "lambda_opt must be finite and >= 0, got " + std::to_string(s.lambda_opt));
      require(std::isfinite(s.lambda_nopt) && s.lambda_nopt >= 0,
              where + "lambda_nopt must be finite and >= 0, got " + std::to_string(s.lambda_nopt));
      return hidden_size + actions;
    }
    static index width_or(index width, index fallback) { return width > 0 ? width : fallback; }
    static std::vector<index> mlp_sizes(index inputs, const settings& s) {
      std::vector<index> sizes{inputs};
      for (index l = 0; l < s.hidden_layers; ++l) sizes.push_back(s.embed);
      sizes.push_back(1);
      return sizes;
    }

    // Samples per chunk of the encoder's pipeline: about 512 rows (a few hundred KiB per
    // intermediate at PyMARL's widths, L2-resident), and at least one whole sample.
    index samples_per_chunk() const { return std::max<index>(1, 512 / agents_); }

    kernels::qtran_joint::shape kernel_shape(index batch) const {
      return {batch, agents_, actions_, encoder_hidden_, encoding_};
    }
    // W_a: the last A rows of the first layer's [H + A, K] weight (or of its gradient).
    T* action_rows(matrix<T>& weight) const {
      return weight.data() + hidden_size_ * encoder_hidden_;
    }
    const T* action_rows(const matrix<T>& weight) const {
      return weight.data() + hidden_size_ * encoder_hidden_;
    }
    static const T* alive_of(const pass& p) { return p.has_alive ? p.alive.data() : nullptr; }
    // W_a (or its gradient) as an [A, K] matrix.
    matrix_map<T> action_weight(matrix<T>& weight) const {
      return matrix_map<T>(action_rows(weight), actions_, encoder_hidden_);
    }
    const_matrix_map<T> action_weight(const matrix<T>& weight) const {
      return const_matrix_map<T>(action_rows(weight), actions_, encoder_hidden_);
    }

    void check_state(const char* where, const const_matrix_ref<T>& state, index batch) const {
      if (state.rows() != batch || state.cols() != state_size_)
        throw shape_error(std::string(where) + ": state is " + std::to_string(state.rows()) + "x" +
                          std::to_string(state.cols()) + ", expected " + std::to_string(batch) +
                          "x" + std::to_string(state_size_) + " (batch x state_size)");
    }

    template <class B>
    void run_q(B b, const char* where, pass& p, const_matrix_ref<T> state,
               const_matrix_ref<T> hidden, std::span<const int> actions,
               const const_matrix_ref<T>* counts, std::span<const T> alive, matrix<T>& q_jt) {
      const index batch = state.rows();
      check_state(where, state, batch);
      const kernels::qtran_joint::shape ks = kernel_shape(batch);
      const index rows = ks.rows();
      if (hidden.rows() != rows || hidden.cols() != hidden_size_)
        throw shape_error(std::string(where) + ": hidden is " + std::to_string(hidden.rows()) +
                          "x" + std::to_string(hidden.cols()) + ", expected " +
                          std::to_string(rows) + "x" + std::to_string(hidden_size_) +
                          " (batch * agents x hidden_size)");
      if (counts) {
        if (counts->rows() != rows || counts->cols() != actions_)
          throw shape_error(std::string(where) + ": action_counts is " +
                            std::to_string(counts->rows()) + "x" + std::to_string(counts->cols()) +
                            ", expected " + std::to_string(rows) + "x" + std::to_string(actions_) +
                            " (batch * rows x actions)");
      } else if (static_cast<index>(actions.size()) != rows) {
        throw shape_error(std::string(where) + ": actions has " + std::to_string(actions.size()) +
                          " entries, expected " + std::to_string(rows) + " (batch * agents)");
      }
      if (!alive.empty() && static_cast<index>(alive.size()) != rows)
        throw shape_error(std::string(where) + ": alive has " + std::to_string(alive.size()) +
                          " entries, expected " + std::to_string(rows) +
                          " (batch * agents) or none");
      for (index r = 0; !counts && r < rows; ++r)
        if (actions[r] < 0 || actions[r] >= actions_)
          throw invalid_argument(std::string(where) + ": actions[" + std::to_string(r) +
                                 "] = " + std::to_string(actions[r]) + " is out of range [0, " +
                                 std::to_string(actions_) + ")");
      // Copies: backward needs contiguous rows and the values as they were.
      p.batch = -1;  // until this pass completes
      ensure_shape(p.hidden, rows, hidden_size_);
      p.actions.assign(actions.begin(), actions.end());
      p.has_counts = counts != nullptr;
      if (p.has_counts) {
        ensure_shape(p.counts, rows, actions_);
        p.counts = *counts;
      }
      p.has_alive = !alive.empty();
      if (p.has_alive) {
        ensure_shape(p.alive, rows, 1);
        for (index r = 0; r < rows; ++r) p.alive(r, 0) = alive[r];
      }
      const index joint_width = state_size_ + encoding_;
      ensure_shape(p.q_in, batch, joint_width);
      p.q_in.leftCols(state_size_) = state;
      // The encoder and the agent sum, a chunk of whole samples at a time, so each chunk's
      // intermediates stay in L2 between the steps instead of making a pass over memory each:
      // [h, onehot(u)] . W + c = h . W_h + c + W_a[u], then act, then Linear(K, E), then E_b
      // written straight into Q_jt's input row [s_b, E_b]. Only the activated first layer is
      // kept (backward reads it); the encodings live in a chunk-sized scratch.
      const index chunk_samples = samples_per_chunk();
      ensure_shape(p.encoder_hidden, rows, encoder_hidden_);
      ensure_shape(p.encodings, std::min(rows, chunk_samples * agents_), encoding_);
      for (index b0 = 0; b0 < batch; b0 += chunk_samples) {
        const kernels::qtran_joint::shape ks = kernel_shape(std::min(chunk_samples, batch - b0));
        const index r0 = b0 * agents_, n = ks.rows();
        p.hidden.middleRows(r0, n) = hidden.middleRows(r0, n);
        T* pre = p.encoder_hidden.data() + r0 * encoder_hidden_;
        kernels::dense::forward(b, kernels::dense::shape{n, hidden_size_, encoder_hidden_},
                                p.hidden.data() + r0 * hidden_size_,
                                encoder_input.weight.value.data(), encoder_input.bias.value.data(),
                                pre);
        auto pre_rows = p.encoder_hidden.middleRows(r0, n);
        if (p.has_counts)
          pre_rows.noalias() +=
              p.counts.middleRows(r0, n) * action_weight(encoder_input.weight.value);
        else
          kernels::qtran_joint::add_action_rows(b, ks, p.actions.data() + r0,
                                                action_rows(encoder_input.weight.value), pre);
        nn::activate<T>(activation_, pre_rows, pre_rows);
        kernels::dense::forward(b, kernels::dense::shape{n, encoder_hidden_, encoding_}, pre,
                                encoder_output.weight.value.data(),
                                encoder_output.bias.value.data(), p.encodings.data());
        kernels::qtran_joint::agent_sum(
            b, ks, p.encodings.data(), p.has_alive ? p.alive.data() + r0 : nullptr,
            p.q_in.data() + b0 * joint_width + state_size_, joint_width);
      }
      nn::forward(b, joint_q, p.q_in, p.q_cache, p.q_jt);
      p.batch = batch;
      ensure_shape(q_jt, batch, 1);
      q_jt = p.q_jt;
    }

    index agents_, state_size_, hidden_size_, actions_, encoder_hidden_, encoding_, embed_;
    nn::activation activation_;
    T lambda_opt_, lambda_nopt_;
    bool authors_variant_;
    // Forward results kept for backward, and backward scratch: reused, so no allocation once the
    // batch size stops changing.
    pass taken_, evaluated_;
    nn::mlp_cache<T> v_cache_;
    matrix<T> v_;
    index v_batch_ = -1;
    matrix<T> d_q_in_, d_encodings_, d_encoder_hidden_, d_q_jt_, d_v_, d_v_opt_, d_v_nopt_;
  };
};

}  // namespace netmarl::factor
