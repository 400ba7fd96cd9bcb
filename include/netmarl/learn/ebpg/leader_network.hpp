#pragma once
// The EBPG leader's network (EBPG section 4.2 and appendix D.2.2), one step at a time over the K
// followers of an episode (a batch of K rows), with an explicit backward for back-propagation
// through time:
//
//   state encoder     e_t   = MLP(s_t)                              world map -> H -> H
//   follower-aware    (h, c) = LSTM(x^k_t, h, c); h^k_t = MLP(h)    history -> H -> H -> H
//                     p^k(a | s_t, h^k_t) = softmax(W [e_t, h^k_t]) trained by imitation (L_IL)
//   blend             A^k   = ReLU(W_A [e_t, p^k, h^k_t])           the paper's A(s, a_hat^k, h^k)
//   attention         w^k   = softmax_k(MLP(A^k)),  c_t = sum_k w^k A^k,  c^k_t = [c_t, A^k]
//                     (without attention, M3RL's pooling: w^k = 1/K)
//   heads on z^k = [c^k_t, omega^k_{t-1} one-hot]:
//                     beta^k = sigmoid(MLP_beta(z^k))               termination
//                     p(g | c^k) = softmax(MLP_g(z^k))              goal head
//                     p(b | g, c^k) = softmax(MLP_b([z^k, onehot g]))  bonus head after the goal
//                     (independent heads, as M3RL: the goal one-hot is left zero)
//   baselines         phi^g(c_t), phi^b(c_t)                       (appendix B.1), on a copy of c_t
//
// Everything is trained end to end by the policy gradient (appendix B.1: "the history encoder, the
// state encoder and the attention module are updated with the leader's policy gradient"), the
// path through the predicted p^k included; the imitation loss adds its own gradient. The baselines
// read c_t without sending gradient back, so they are critics of the representation the policy
// gradient shapes, not co-authors of it.
#include <string>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/lstm.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::learn::ebpg {

struct leader_network_sizes {
  index world = 0;          // state features
  index history_input = 0;  // x^k_t features
  index hidden = 128;       // H (the paper: 128 everywhere)
  index actions = 5;        // follower primitive actions (the imitation target)
  index goals = 4;
  index bonuses = 2;
  index previous_option() const { return goals + bonuses; }  // omega^k_{t-1} one-hot (zeros: none)
  index head_input() const { return 2 * hidden + previous_option(); }
};

template <class T>
struct leader_network {
  using scalar = T;
  leader_network_sizes sizes;
  nn::mlp<T> state_encoder, history_fc, action_predictor, blend, attention_score;
  nn::lstm_cell<T> history_lstm;
  nn::mlp<T> termination, goal_head, bonus_head, gain_baseline, bonus_baseline;

  leader_network(const leader_network_sizes& s, rng& g) : sizes(s) {
    using nn::activation;
    const index H = s.hidden;
    auto net = [&](std::vector<index> widths, activation out) {
      return nn::mlp<T>(widths, activation::relu, out, g);
    };
    state_encoder = net({s.world, H, H}, activation::relu);
    history_lstm = nn::lstm_cell<T>(s.history_input, H, g);
    history_fc = net({H, H, H}, activation::relu);
    action_predictor = net({2 * H, s.actions}, activation::identity);
    blend = net({2 * H + s.actions, H}, activation::relu);
    attention_score = net({H, H, 1}, activation::identity);
    termination = net({s.head_input(), H, 1}, activation::identity);
    goal_head = net({s.head_input(), H, s.goals}, activation::identity);
    bonus_head = net({s.head_input() + s.goals, H, s.bonuses}, activation::identity);
    gain_baseline = net({H, H, 1}, activation::identity);
    bonus_baseline = net({H, H, 1}, activation::identity);
  }

  // The policy side (all but the baselines), which the leader's policy optimiser moves.
  void append_policy_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
    state_encoder.append_parameters(out, prefix + "state_encoder.");
    history_lstm.append_parameters(out, prefix + "history_lstm.");
    history_fc.append_parameters(out, prefix + "history_fc.");
    action_predictor.append_parameters(out, prefix + "action_predictor.");
    blend.append_parameters(out, prefix + "blend.");
    attention_score.append_parameters(out, prefix + "attention_score.");
    termination.append_parameters(out, prefix + "termination.");
    goal_head.append_parameters(out, prefix + "goal_head.");
    bonus_head.append_parameters(out, prefix + "bonus_head.");
  }
  void append_baseline_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
    gain_baseline.append_parameters(out, prefix + "gain_baseline.");
    bonus_baseline.append_parameters(out, prefix + "bonus_baseline.");
  }
  void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
    append_policy_parameters(out, prefix);
    append_baseline_parameters(out, prefix);
  }
};

// Everything one step's forward produced and its backward needs.
template <class T>
struct leader_step {
  // inputs of the step
  matrix<T> world;            // [1, world]
  matrix<T> history_input;    // [K, history_input]
  matrix<T> previous_option;  // [K, goals + bonuses]
  // recurrent state after the step
  matrix<T> lstm_h, lstm_c;  // [K, H]
  // outputs
  matrix<T> action_logits;      // [K, actions]: p^k before the softmax
  matrix<T> action_probs;       // [K, actions]
  matrix<T> attention;          // [K, 1]: w^k
  matrix<T> context;            // [1, H]: c_t
  matrix<T> termination_logit;  // [K, 1]
  matrix<T> goal_logits;        // [K, goals]
  matrix<T> bonus_logits;       // [K, bonuses] (after bonus_forward)
  T gain_baseline = 0, bonus_baseline = 0;
  // caches
  nn::mlp_cache<T> state_cache, history_fc_cache, predictor_cache, blend_cache, score_cache,
      termination_cache, goal_cache, bonus_cache, gain_cache, bonus_baseline_cache;
  nn::lstm_cache<T> lstm_cache;
  matrix<T> encoded, history, blended, scores, head_input, bonus_input, scratch;
};

// Upstream gradients of one step (each may be left empty: zero).
template <class T>
struct leader_step_gradient {
  matrix<T> termination_logit;  // [K, 1]
  matrix<T> goal_logits;        // [K, goals]
  matrix<T> bonus_logits;       // [K, bonuses]
  matrix<T> action_logits;      // [K, actions] (imitation)
};

// Forward of one step up to the goal head and the baselines. h_prev, c_prev: [K, H] (zeros at
// t = 0). `attention` false: mean pooling.
template <class B, class T>
void step_forward(B backend, const leader_network<T>& net, leader_step<T>& s,
                  const matrix<T>& h_prev, const matrix<T>& c_prev, bool attention) {
  const index K = s.history_input.rows(), H = net.sizes.hidden, A = net.sizes.actions;
  nn::forward(backend, net.state_encoder, s.world, s.state_cache, s.encoded);
  nn::forward(backend, net.history_lstm, s.history_input, h_prev, c_prev, s.lstm_cache, s.lstm_h,
              s.lstm_c);
  nn::forward(backend, net.history_fc, s.lstm_h, s.history_fc_cache, s.history);
  // predictor input [e, h^k]
  ensure_shape(s.scratch, K, 2 * H);
  s.scratch.leftCols(H) = s.encoded.replicate(K, 1);
  s.scratch.rightCols(H) = s.history;
  nn::forward(backend, net.action_predictor, s.scratch, s.predictor_cache, s.action_logits);
  ensure_shape(s.action_probs, K, A);
  for (index k = 0; k < K; ++k) {
    const T top = s.action_logits.row(k).maxCoeff();
    s.action_probs.row(k) = (s.action_logits.row(k).array() - top).exp().matrix();
    s.action_probs.row(k) /= s.action_probs.row(k).sum();
  }
  // blend input [e, p^k, h^k]
  ensure_shape(s.scratch, K, 2 * H + A);
  s.scratch.leftCols(H) = s.encoded.replicate(K, 1);
  s.scratch.middleCols(H, A) = s.action_probs;
  s.scratch.rightCols(H) = s.history;
  nn::forward(backend, net.blend, s.scratch, s.blend_cache, s.blended);
  // attention over followers
  ensure_shape(s.attention, K, 1);
  if (attention) {
    nn::forward(backend, net.attention_score, s.blended, s.score_cache, s.scores);
    const T top = s.scores.maxCoeff();
    s.attention = (s.scores.array() - top).exp().matrix();
    s.attention /= s.attention.sum();
  } else {
    s.attention.setConstant(T(1) / static_cast<T>(K));
  }
  ensure_shape(s.context, 1, H);
  s.context = s.attention.transpose() * s.blended;
  // heads' input z^k = [c, A^k, omega_{t-1}]
  ensure_shape(s.head_input, K, net.sizes.head_input());
  s.head_input.leftCols(H) = s.context.replicate(K, 1);
  s.head_input.middleCols(H, H) = s.blended;
  s.head_input.rightCols(net.sizes.previous_option()) = s.previous_option;
  nn::forward(backend, net.termination, s.head_input, s.termination_cache, s.termination_logit);
  nn::forward(backend, net.goal_head, s.head_input, s.goal_cache, s.goal_logits);
  matrix<T> out;
  nn::forward(backend, net.gain_baseline, s.context, s.gain_cache, out);
  s.gain_baseline = out(0, 0);
  nn::forward(backend, net.bonus_baseline, s.context, s.bonus_baseline_cache, out);
  s.bonus_baseline = out(0, 0);
}

// The bonus head for the goal each follower's option has this step (goal[k] in [0, goals); -1
// leaves the goal one-hot zero, which is also how independent heads call it).
template <class B, class T>
void bonus_forward(B backend, const leader_network<T>& net, leader_step<T>& s,
                   std::span<const int> goal) {
  const index K = s.head_input.rows(), Z = net.sizes.head_input();
  ensure_shape(s.bonus_input, K, Z + net.sizes.goals);
  s.bonus_input.leftCols(Z) = s.head_input;
  s.bonus_input.rightCols(net.sizes.goals).setZero();
  for (index k = 0; k < K; ++k)
    if (goal[static_cast<std::size_t>(k)] >= 0)
      s.bonus_input(k, Z + goal[static_cast<std::size_t>(k)]) = 1;
  nn::forward(backend, net.bonus_head, s.bonus_input, s.bonus_cache, s.bonus_logits);
}

// Backward of one step. d_h, d_c: on entry the gradient w.r.t. this step's (lstm_h, lstm_c) from
// later steps (empty at the last step); on exit the gradient w.r.t. h_prev, c_prev.
template <class B, class T>
void step_backward(B backend, leader_network<T>& net, leader_step<T>& s,
                   const leader_step_gradient<T>& d, matrix<T>& d_h, matrix<T>& d_c,
                   bool attention) {
  const index K = s.history_input.rows(), H = net.sizes.hidden, A = net.sizes.actions,
              Z = net.sizes.head_input();
  matrix<T> d_z = matrix<T>::Zero(K, Z), tmp;
  if (d.termination_logit.size()) {
    nn::backward(backend, net.termination, s.termination_cache, d.termination_logit, &tmp);
    d_z += tmp;
  }
  if (d.goal_logits.size()) {
    nn::backward(backend, net.goal_head, s.goal_cache, d.goal_logits, &tmp);
    d_z += tmp;
  }
  if (d.bonus_logits.size()) {
    nn::backward(backend, net.bonus_head, s.bonus_cache, d.bonus_logits, &tmp);
    d_z += tmp.leftCols(Z);
  }
  // z = [c (broadcast), A^k, omega]
  matrix<T> d_blended = d_z.middleCols(H, H);
  const matrix<T> d_context = d_z.leftCols(H).colwise().sum();  // [1, H]
  d_blended += s.attention * d_context;                         // c = sum_k w^k A^k
  if (attention) {
    // d w^k = A^k . d_c; softmax backward to the scores
    const matrix<T> d_w = s.blended * d_context.transpose();  // [K, 1]
    const T mean = (s.attention.array() * d_w.array()).sum();
    const matrix<T> d_scores = (s.attention.array() * (d_w.array() - mean)).matrix();
    nn::backward(backend, net.attention_score, s.score_cache, d_scores, &tmp);
    d_blended += tmp;
  }
  matrix<T> d_encoded = matrix<T>::Zero(1, H);
  matrix<T> d_history = matrix<T>::Zero(K, H);
  nn::backward(backend, net.blend, s.blend_cache, d_blended, &tmp);
  d_encoded += tmp.leftCols(H).colwise().sum();
  d_history += tmp.rightCols(H);
  // through p^k = softmax(action logits) into the predictor, with the imitation gradient
  const matrix<T> d_probs = tmp.middleCols(H, A);
  const auto dot = (s.action_probs.array() * d_probs.array()).rowwise().sum();
  matrix<T> d_logits = (s.action_probs.array() * (d_probs.array().colwise() - dot)).matrix();
  if (d.action_logits.size()) d_logits += d.action_logits;
  nn::backward(backend, net.action_predictor, s.predictor_cache, d_logits, &tmp);
  d_encoded += tmp.leftCols(H).colwise().sum();
  d_history += tmp.rightCols(H);
  nn::backward(backend, net.state_encoder, s.state_cache, d_encoded, nullptr);
  nn::backward(backend, net.history_fc, s.history_fc_cache, d_history, &tmp);
  if (d_h.size()) tmp += d_h;
  const matrix<T> d_h_total = tmp;
  const matrix<T> d_c_next = d_c;  // may be empty: zero
  nn::backward(backend, net.history_lstm, s.lstm_cache, d_h_total, d_c_next, nullptr, &d_h, &d_c);
}

// Baseline regression: accumulates the gradients of 1/2 (phi - target)^2 for both critics.
template <class B, class T>
void baseline_backward(B backend, leader_network<T>& net, leader_step<T>& s, T gain_target,
                       T bonus_target) {
  matrix<T> d(1, 1);
  d(0, 0) = s.gain_baseline - gain_target;
  nn::backward(backend, net.gain_baseline, s.gain_cache, d, nullptr);
  d(0, 0) = s.bonus_baseline - bonus_target;
  nn::backward(backend, net.bonus_baseline, s.bonus_baseline_cache, d, nullptr);
}

}  // namespace netmarl::learn::ebpg
