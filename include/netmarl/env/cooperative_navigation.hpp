#pragma once
// Cooperative navigation (Intention Propagation, appendix D.2 and F.3; specs/environments.md 2.2):
// MPE's "simple spread". Physics and actions follow openai/multiagent-particle-envs
// multiagent/core.py (World.step, apply_environment_force, get_collision_force, integrate_state)
// and multiagent/environment.py (_set_action); reset, reward and observation follow
// multiagent/scenarios/simple_spread.py and the large-N variants of Liu et al.
// (IouJenLiu/PIC, multiagent-particle-envs/multiagent/scenarios/simple_spread_n{15,30,200}.py).
//
// N agents (discs of radius `agent_size`) and L landmarks (points) in the plane. Reset draws every
// agent's, then every landmark's (x, y) uniformly in [-world_radius, world_radius]^2 (MPE: 1);
// velocities start at 0. Actions (MPE's discrete space, one-hot u = (a1 - a2, a3 - a4)):
// 0 no-op, 1 +x, 2 -x, 3 +y, 4 -y, a force of `accel` (5, MPE's sensitivity) along that axis.
// With settings.continuous_actions the environment is a ContinuousEnvironment instead: each agent
// gives (a_x, a_y) in [-1, 1]^2 and u = (a_x, a_y) (environment.py's _set_action, continuous
// branch: `agent.action.u = action[0]`, then `*= sensitivity`, over the Box(-u_range, u_range)
// with u_range 1), so the force is accel (a_x, a_y). num_actions() is then 0 and action_size() 2;
// in discrete mode action_size() is 0. The step overload of the other mode throws.
// One step, per MPE core.py:
//   f_i = accel u_i + sum_j contact(i, j), where contact(i, j) points along p_i - p_j with size
//         contact_force * margin * softplus(-(d_ij - 2 size) / margin) (a soft penetration;
//         landmarks do not collide in simple spread)
//   v_i <- v_i (1 - damping) + f_i / mass * dt;  p_i <- p_i + v_i dt  (no speed cap: MPE has none)
// Team reward after the move (= global_reward): -sum over landmarks of the distance to the nearest
// agent - the number of colliding agent pairs (distance < 2 size), each unordered pair once. Agent
// i receives r_i = team / N, so sum_i r_i = team (IP decomposes the team reward into r_i).
// F.3 "assumption violation": team += violation_weight * sum_{i<j} log(max(d_ij, 2 size)) (r2; the
// clamp keeps it finite). The paper says only that r2 is the log of inter-agent distances and
// dominates r1; it gives no constant, so the weight is a setting, 0 (off) by default.
//
// Observation of agent i (2 + 2 + 2 observed_landmarks + 2 observed_agents floats; 26 by
// default, the paper's size): own (x, y), own (vx, vy), then (x, y) - own (x, y) of the nearest
// `observed_landmarks` landmarks and of the nearest `observed_agents` other agents, each list
// sorted by distance, ties to the lower index. Slots beyond L landmarks or N - 1 other agents
// are zeros (a zero slot is also what an entity exactly on top of the agent gives; sizes are
// fixed per instance, so learners can tell by N and L). State: per agent (x, y, vx, vy), then per
// landmark (x, y): 4N + 2L floats. positions() is [N, 2], so graph::k_nearest<K> builds the
// paper's dynamic k-nearest graph. The episode ends after `episode_length` (25) steps.
//
// Where we differ from the sources, and why:
// - agent_size: 0.05 per the spec (IP D.2); MPE's simple_spread and PIC use 0.15.
// - collisions: MPE's per-agent reward counts the agent against itself and each pair from both
//   ends, and its shared reward then sums over agents; PIC removes the self terms but still counts
//   each pair twice. We count each unordered pair once, as the spec and IP's team reward read.
// - shared reward: MPE gives every agent the sum of all per-agent rewards (N copies of the
//   landmark term); we give r_i = team / N so that the r_i sum to the team reward.
// - observation: MPE and PIC put velocity before position; PIC keeps the nearest 6 landmarks and
//   5 agents (also 26 floats; observed_landmarks = 6, observed_agents = 5 reproduces its counts)
//   and sorts them by a distance computed from an already relative vector; we sort by the true
//   distance. PIC also draws agents in [-2.2, 2.2]^2 and landmarks by Poisson-disc sampling; we
//   keep MPE's reset (world_radius is a setting).
// - two agents at exactly the same point: MPE divides by the distance 0 (NaN); we apply no contact
//   force between them (they still count as colliding).
// - pairs farther apart than 2 size + 50 margins get no contact force: MPE's is below 2e-23 there.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"

namespace netmarl::env {

namespace cooperative_navigation_detail {
// "0.5", "-3", "nan": shorter than std::to_string's fixed six decimals.
inline std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// log(1 + e^x) without overflow: numpy's logaddexp(0, x), MPE's "softmax penetration".
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
}  // namespace cooperative_navigation_detail

struct cooperative_navigation_settings {
  index agents = 15;                    // N (paper: 15, 30, 200)
  std::optional<index> landmarks = {};  // L; unset: L = N
  double agent_size = 0.05;             // agent radius (spec 0.05; MPE and PIC 0.15)
  index observed_landmarks = 5;         // nearest landmarks in an observation
  index observed_agents = 6;            // nearest other agents in an observation
  index episode_length = 25;            // time limit
  double violation_weight = 0;          // IP F.3's r2 weight (0: off; the paper gives none)
  double world_radius = 1;              // reset draws positions in [-r, r]^2 (MPE 1, PIC 2.2)
  double accel = 5;                     // force per unit action (MPE's sensitivity)
  double damping = 0.25;                // velocity lost per step (MPE core.py)
  double dt = 0.1;                      // time step
  double mass = 1;                      // agent mass
  double contact_force = 100;           // MPE's contact_force; 0 turns contacts off
  double contact_margin = 1e-3;         // MPE's contact_margin (softness of contacts)
  bool continuous_actions = false;      // (a_x, a_y) in [-1, 1]^2 per agent instead of 5 choices
  // Fixed start positions instead of random ones, [N, 2] and [L, 2] (hand-made scenes, tests).
  std::optional<matrix<double>> initial_agent_positions = {};
  std::optional<matrix<double>> initial_landmark_positions = {};
};

class cooperative_navigation {
 public:
  using settings = cooperative_navigation_settings;
  static constexpr int noop = 0, plus_x = 1, minus_x = 2, plus_y = 3, minus_y = 4;
  // MPE's benchmark_data: a landmark is occupied when its nearest agent is closer than this.
  static constexpr double occupied_distance = 0.1;
  // Pairs farther apart than 2 size + this many margins get no contact force (see the top).
  static constexpr double contact_cutoff_margins = 50;

  explicit cooperative_navigation(settings s = {}) : settings_(std::move(s)) {
    namespace detail = cooperative_navigation_detail;
    const auto bad = [](const std::string& what) {
      throw invalid_argument("cooperative_navigation: " + what);
    };
    const auto positive = [&](double x, const char* what) {
      if (!(x > 0) || !std::isfinite(x))
        bad(std::string(what) + " must be positive and finite, got " + detail::format_number(x));
    };
    const auto non_negative = [&](double x, const char* what) {
      if (!(x >= 0) || !std::isfinite(x))
        bad(std::string(what) + " must be non-negative and finite, got " +
            detail::format_number(x));
    };
    if (settings_.agents < 1)
      bad("agents must be at least 1, got " + std::to_string(settings_.agents));
    if (settings_.landmarks && *settings_.landmarks < 1)
      bad("landmarks must be at least 1, got " + std::to_string(*settings_.landmarks));
    positive(settings_.agent_size, "agent_size");
    if (settings_.observed_landmarks < 0)
      bad("observed_landmarks must not be negative, got " +
          std::to_string(settings_.observed_landmarks));
    if (settings_.observed_agents < 0)
      bad("observed_agents must not be negative, got " + std::to_string(settings_.observed_agents));
    if (settings_.episode_length < 1)
      bad("episode_length must be at least 1, got " + std::to_string(settings_.episode_length));
    if (!std::isfinite(settings_.violation_weight))
      bad("violation_weight must be finite, got " +
          detail::format_number(settings_.violation_weight));
    positive(settings_.world_radius, "world_radius");
    non_negative(settings_.accel, "accel");
    if (!(settings_.damping >= 0 && settings_.damping <= 1))
      bad("damping must be in [0, 1], got " + detail::format_number(settings_.damping));
    positive(settings_.dt, "dt");
    positive(settings_.mass, "mass");
    non_negative(settings_.contact_force, "contact_force");
    positive(settings_.contact_margin, "contact_margin");

    agents_ = settings_.agents;
    landmarks_ = settings_.landmarks.value_or(agents_);
    check_initial(settings_.initial_agent_positions, agents_, "initial_agent_positions");
    check_initial(settings_.initial_landmark_positions, landmarks_, "initial_landmark_positions");

    const auto n2 = static_cast<std::size_t>(2 * agents_);
    position_.assign(n2, 0.0);
    velocity_.assign(n2, 0.0);
    contact_.assign(n2, 0.0);
    landmark_.assign(static_cast<std::size_t>(2 * landmarks_), 0.0);
    positions_.setZero(agents_, 2);
    velocities_.setZero(agents_, 2);
    landmark_positions_.setZero(landmarks_, 2);
    state_.assign(static_cast<std::size_t>(state_size()), 0.0f);
    const auto kept = static_cast<std::size_t>(
        std::max({settings_.observed_landmarks, settings_.observed_agents, index{1}}));
    distance_.assign(static_cast<std::size_t>(std::max(agents_, landmarks_)), 0.0);
    candidates_.assign(distance_.size(), 0);
    landmark_reach_.resize(static_cast<std::size_t>(agents_));
    agent_reach_.resize(static_cast<std::size_t>(agents_));
    moved_.assign(static_cast<std::size_t>(agents_), 0.0);
    forget_reach();
    landmark_nearest_.assign(static_cast<std::size_t>(landmarks_), 0.0);
    nearest_distance_.assign(kept, 0.0);
    nearest_index_.assign(kept, 0);
    result_.resize(agents_, observation_size());
    result_.observations.setZero();
    place(settings_.initial_agent_positions, position_);  // fixed starts show before reset too
    place(settings_.initial_landmark_positions, landmark_);
    write_outputs();
  }

  std::string name() const { return name_; }
  index num_agents() const { return agents_; }
  index num_landmarks() const { return landmarks_; }
  index observation_size() const {
    return 4 + 2 * settings_.observed_landmarks + 2 * settings_.observed_agents;
  }
  index num_actions() const { return settings_.continuous_actions ? 0 : 5; }
  index action_size() const { return settings_.continuous_actions ? 2 : 0; }
  bool continuous_actions() const { return settings_.continuous_actions; }
  index state_size() const { return 4 * agents_ + 2 * landmarks_; }
  index episode_limit() const { return settings_.episode_length; }
  const settings& config() const { return settings_; }

  const step_result& reset(rng& g) {
    time_ = 0;
    const double r = settings_.world_radius;
    // MPE's reset_world: every agent (x then y), then every landmark.
    if (settings_.initial_agent_positions)
      place(settings_.initial_agent_positions, position_);
    else
      for (double& x : position_) x = g.uniform(-r, r);
    if (settings_.initial_landmark_positions)
      place(settings_.initial_landmark_positions, landmark_);
    else
      for (double& x : landmark_) x = g.uniform(-r, r);
    std::fill(velocity_.begin(), velocity_.end(), 0.0);
    forget_reach();
    result_.begin_episode();
    update_pair_terms();
    write_outputs();
    return result_;
  }

  // Discrete mode: one action in [0, 5) per agent.
  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    if (settings_.continuous_actions)
      throw invalid_argument(name_ +
                             ": step was given discrete (int) actions but settings."
                             "continuous_actions is true; pass agents x 2 floats in [-1, 1]");
    check_actions(actions, agents_, num_actions(), name_);
    // environment.py: u = (a1 - a2, a3 - a4) * sensitivity for a one-hot action.
    return advance([&](index i, double& ux, double& uy) {
      const int a = actions[static_cast<std::size_t>(i)];
      ux = a == plus_x ? 1.0 : a == minus_x ? -1.0 : 0.0;
      uy = a == plus_y ? 1.0 : a == minus_y ? -1.0 : 0.0;
    });
  }

  // Continuous mode: (a_x, a_y) in [-1, 1]^2 per agent, agent-major; u = (a_x, a_y).
  const step_result& step(std::span<const float> actions) {
    result_.check_can_step(name_);
    if (!settings_.continuous_actions)
      throw invalid_argument(name_ +
                             ": step was given continuous (float) actions but settings."
                             "continuous_actions is false; pass one int in [0, 5) per agent");
    check_continuous_actions(actions, agents_, action_size(), name_);
    return advance([&](index i, double& ux, double& uy) {
      ux = static_cast<double>(actions[static_cast<std::size_t>(2 * i)]);
      uy = static_cast<double>(actions[static_cast<std::size_t>(2 * i + 1)]);
    });
  }

  // Per agent (x, y, vx, vy), then per landmark (x, y).
  std::span<const float> state() const { return state_; }
  // Agent (x, y), [N, 2].
  const matrix<float>& positions() const { return positions_; }
  // Agent (vx, vy), [N, 2].
  const matrix<float>& velocities() const { return velocities_; }
  // Landmark (x, y), [L, 2].
  const matrix<float>& landmark_positions() const { return landmark_positions_; }

  // The reward's parts at the current positions (after the last reset or step).
  // Agent pairs closer than 2 size, each unordered pair once.
  index colliding_pairs() const { return colliding_pairs_; }
  // Sum over landmarks of the distance to the nearest agent.
  double landmark_distance() const { return landmark_distance_; }
  // Landmarks whose nearest agent is closer than occupied_distance (MPE's benchmark_data).
  index occupied_landmarks() const { return occupied_landmarks_; }
  // sum_{i<j} log(max(d_ij, 2 size)); computed only when violation_weight != 0, else 0.
  double log_distance_sum() const { return log_distance_sum_; }

 private:
  // One step with agent i's unscaled force u_i given by control(i, ux, uy) (MPE core.py).
  template <class Control>
  const step_result& advance(Control&& control) {
    const double keep = 1 - settings_.damping;
    const double impulse = settings_.dt / settings_.mass;
    max_moved_ = 0;
    for (index i = 0; i < agents_; ++i) {
      double ux = 0, uy = 0;
      control(i, ux, uy);
      const auto k = static_cast<std::size_t>(2 * i);
      // contact_ holds the contact forces at the positions this step starts from.
      velocity_[k] = velocity_[k] * keep + (settings_.accel * ux + contact_[k]) * impulse;
      velocity_[k + 1] =
          velocity_[k + 1] * keep + (settings_.accel * uy + contact_[k + 1]) * impulse;
      position_[k] += velocity_[k] * settings_.dt;
      position_[k + 1] += velocity_[k + 1] * settings_.dt;
      moved_[static_cast<std::size_t>(i)] =
          std::sqrt(velocity_[k] * velocity_[k] + velocity_[k + 1] * velocity_[k + 1]) *
          settings_.dt;
      max_moved_ = std::max(max_moved_, moved_[static_cast<std::size_t>(i)]);
    }
    update_pair_terms();
    write_outputs();  // also the landmark term

    double team = -landmark_distance_ - static_cast<double>(colliding_pairs_);
    if (settings_.violation_weight != 0) team += settings_.violation_weight * log_distance_sum_;
    ++time_;
    result_.global_reward = static_cast<float>(team);
    std::fill(result_.rewards.begin(), result_.rewards.end(),
              static_cast<float>(team / static_cast<double>(agents_)));
    result_.episode_done = time_ >= settings_.episode_length;
    if (result_.episode_done)
      std::fill(result_.agent_done.begin(), result_.agent_done.end(), std::uint8_t{1});
    return result_;
  }

  void check_initial(const std::optional<matrix<double>>& given, index rows,
                     const char* what) const {
    if (!given) return;
    if (given->rows() != rows || given->cols() != 2)
      throw shape_error("cooperative_navigation: settings." + std::string(what) + " must be [" +
                        std::to_string(rows) + ", 2], got [" + std::to_string(given->rows()) +
                        ", " + std::to_string(given->cols()) + "]");
    for (index i = 0; i < rows; ++i)
      if (!std::isfinite((*given)(i, 0)) || !std::isfinite((*given)(i, 1)))
        throw invalid_argument("cooperative_navigation: settings." + std::string(what) + " row " +
                               std::to_string(i) + " is not finite (" +
                               cooperative_navigation_detail::format_number((*given)(i, 0)) + ", " +
                               cooperative_navigation_detail::format_number((*given)(i, 1)) + ")");
  }

  void forget_reach() {
    std::fill(landmark_reach_.begin(), landmark_reach_.end(),
              std::numeric_limits<double>::infinity());
    std::fill(agent_reach_.begin(), agent_reach_.end(), std::numeric_limits<double>::infinity());
  }

  static void place(const std::optional<matrix<double>>& given, std::vector<double>& xy) {
    if (!given) return;
    for (index i = 0; i < given->rows(); ++i) {
      xy[static_cast<std::size_t>(2 * i)] = (*given)(i, 0);
      xy[static_cast<std::size_t>(2 * i + 1)] = (*given)(i, 1);
    }
  }

  // One pass over agent pairs at the current positions: the contact forces the next step applies
  // (MPE computes them at the start of that step, from these same positions), the collision count
  // and, for the F.3 variant, the log-distance sum.
  void update_pair_terms() {
    std::fill(contact_.begin(), contact_.end(), 0.0);
    colliding_pairs_ = 0;
    log_distance_sum_ = 0;
    const double touch = 2 * settings_.agent_size;  // MPE: dist_min = size_a + size_b
    const double margin = settings_.contact_margin;
    const bool contacts = settings_.contact_force > 0;
    const double reach = touch + (contacts ? contact_cutoff_margins * margin : 0.0);
    const double reach2 = reach * reach;
    const double touch2 = touch * touch;
    const bool violation = settings_.violation_weight != 0;
    const double* p = position_.data();
    double* f = contact_.data();
    for (index i = 0; i < agents_; ++i) {
      const double xi = p[2 * i], yi = p[2 * i + 1];
      for (index j = i + 1; j < agents_; ++j) {
        const double dx = xi - p[2 * j], dy = yi - p[2 * j + 1];
        const double d2 = dx * dx + dy * dy;
        if (violation) log_distance_sum_ += 0.5 * std::log(std::max(d2, touch2));
        if (!(d2 < reach2)) continue;
        const double d = std::sqrt(d2);
        if (d < touch) ++colliding_pairs_;
        if (!contacts || d == 0) continue;  // coincident: no direction (MPE: NaN)
        const double penetration =
            margin * cooperative_navigation_detail::softplus(-(d - touch) / margin);
        const double scale = settings_.contact_force * penetration / d;
        f[2 * i] += scale * dx;
        f[2 * i + 1] += scale * dy;
        f[2 * j] -= scale * dx;
        f[2 * j + 1] -= scale * dy;
      }
    }
  }

  // Squared distances from (x, y) to each of the `count` points of `xy` into distance_ (a loop
  // the compiler vectorises; the selection below then only compares).
  void squared_distances(const std::vector<double>& xy, index count, double x, double y) {
    const double* p = xy.data();
    double* out = distance_.data();
    for (index j = 0; j < count; ++j) {
      const double dx = p[2 * j] - x, dy = p[2 * j + 1] - y;
      out[j] = dx * dx + dy * dy;
    }
  }

  // The k smallest of distance_[0, count), `skip` excluded, sorted into nearest_index_ (ties to
  // the lower index). Returns how many were kept (min(k, available)). An insertion into k sorted
  // slots behind a threshold. When `bound` is finite, the points closer than it are gathered
  // first (without branches) and selected among, if there are at least k of them: every other
  // point is farther than all of those, so the result is the same as a full scan's; otherwise
  // the full scan runs.
  index select_nearest(index count, index skip, index k, double bound) {
    const index available = count - (skip >= 0 && skip < count ? 1 : 0);
    const index want = std::min(k, available);
    if (want == 0) return 0;
    const double* d2s = distance_.data();
    double* best = nearest_distance_.data();
    std::int32_t* ids = nearest_index_.data();
    index kept = 0;
    double worst = std::numeric_limits<double>::infinity();  // the k-th kept once k are kept
    // Candidates come in index order, so an equal distance never displaces a kept one.
    const auto offer = [&](index j) {
      const double d2 = d2s[j];
      if (!(d2 < worst)) return;
      index at = kept < want ? kept++ : want - 1;
      for (; at > 0 && best[at - 1] > d2; --at) {
        best[at] = best[at - 1];
        ids[at] = ids[at - 1];
      }
      best[at] = d2;
      ids[at] = static_cast<std::int32_t>(j);
      if (kept == want) worst = best[want - 1];
    };
    if (want < available && bound < std::numeric_limits<double>::infinity()) {
      std::int32_t* near = candidates_.data();
      index found = 0;
      for (index j = 0; j < count; ++j) {
        near[found] = static_cast<std::int32_t>(j);
        found += static_cast<index>(d2s[j] < bound) & static_cast<index>(j != skip);
      }
      if (found >= want) {
        for (index m = 0; m < found; ++m) offer(near[m]);
        return kept;
      }
    }
    for (index j = 0; j < count; ++j)
      if (j != skip) offer(j);
    return kept;
  }

  // The k-th selected distance when select_nearest kept k > 0 points, else infinite (unknown).
  double reach_of(index kept, index k) const {
    return kept > 0 && kept == k ? std::sqrt(nearest_distance_[static_cast<std::size_t>(k - 1)])
                                 : std::numeric_limits<double>::infinity();
  }

  // A squared radius likely to hold k points again, from last step's k-th distance `reach` and
  // how far things moved since (triangle inequality, with slack against rounding). Infinite
  // after a reset.
  static double likely_bound(double reach, double moved) {
    const double r = 1.01 * (reach + moved) + 1e-9;
    return r * r;
  }

  // Observations, state, the float copies of positions and the landmark term (each landmark's
  // nearest agent comes from the same agent-to-landmark distances the observations use).
  void write_outputs() {
    const index observed_landmarks = settings_.observed_landmarks;
    const index observed_agents = settings_.observed_agents;
    std::fill(landmark_nearest_.begin(), landmark_nearest_.end(),
              std::numeric_limits<double>::infinity());
    for (index i = 0; i < agents_; ++i) {
      const auto k = static_cast<std::size_t>(2 * i);
      const double x = position_[k], y = position_[k + 1];
      positions_(i, 0) = static_cast<float>(x);
      positions_(i, 1) = static_cast<float>(y);
      velocities_(i, 0) = static_cast<float>(velocity_[k]);
      velocities_(i, 1) = static_cast<float>(velocity_[k + 1]);
      float* state = state_.data() + 4 * i;
      state[0] = positions_(i, 0);
      state[1] = positions_(i, 1);
      state[2] = velocities_(i, 0);
      state[3] = velocities_(i, 1);

      float* obs = result_.observations.row(i).data();
      obs[0] = positions_(i, 0);
      obs[1] = positions_(i, 1);
      obs[2] = velocities_(i, 0);
      obs[3] = velocities_(i, 1);
      squared_distances(landmark_, landmarks_, x, y);
      for (index l = 0; l < landmarks_; ++l)
        landmark_nearest_[static_cast<std::size_t>(l)] = std::min(
            landmark_nearest_[static_cast<std::size_t>(l)], distance_[static_cast<std::size_t>(l)]);
      const auto u = static_cast<std::size_t>(i);
      const index near_landmarks = select_nearest(landmarks_, -1, observed_landmarks,
                                                  likely_bound(landmark_reach_[u], moved_[u]));
      landmark_reach_[u] = reach_of(near_landmarks, observed_landmarks);
      write_relative(obs + 4, landmark_, near_landmarks, observed_landmarks, x, y);
      index near_agents = 0;
      if (observed_agents > 0) {
        squared_distances(position_, agents_, x, y);
        near_agents = select_nearest(agents_, i, observed_agents,
                                     likely_bound(agent_reach_[u], moved_[u] + max_moved_));
        agent_reach_[u] = reach_of(near_agents, observed_agents);
      }
      write_relative(obs + 4 + 2 * observed_landmarks, position_, near_agents, observed_agents, x,
                     y);
    }
    landmark_distance_ = 0;
    occupied_landmarks_ = 0;
    float* state = state_.data() + 4 * agents_;
    for (index l = 0; l < landmarks_; ++l) {
      const auto k = static_cast<std::size_t>(2 * l);
      landmark_positions_(l, 0) = static_cast<float>(landmark_[k]);
      landmark_positions_(l, 1) = static_cast<float>(landmark_[k + 1]);
      state[2 * l] = landmark_positions_(l, 0);
      state[2 * l + 1] = landmark_positions_(l, 1);
      const double d = std::sqrt(landmark_nearest_[static_cast<std::size_t>(l)]);
      landmark_distance_ += d;
      if (d < occupied_distance) ++occupied_landmarks_;
    }
  }

  // (x, y) - own (x, y) of the `kept` selected points, then zeros up to `slots`.
  void write_relative(float* out, const std::vector<double>& xy, index kept, index slots, double x,
                      double y) const {
    for (index m = 0; m < kept; ++m) {
      const auto j = static_cast<std::size_t>(nearest_index_[static_cast<std::size_t>(m)]);
      out[2 * m] = static_cast<float>(xy[2 * j] - x);
      out[2 * m + 1] = static_cast<float>(xy[2 * j + 1] - y);
    }
    std::fill(out + 2 * kept, out + 2 * slots, 0.0f);
  }

  // Held, not built per call: check_actions takes the name as a view, but a std::string longer
  // than the small-string buffer would allocate if built every step.
  std::string name_ = "cooperative_navigation";
  settings settings_;
  index agents_ = 0;
  index landmarks_ = 0;
  std::vector<double> position_;  // [2N] (x, y) per agent, double as MPE's numpy state
  std::vector<double> velocity_;  // [2N]
  std::vector<double> contact_;   // [2N] contact forces at the current positions
  std::vector<double> landmark_;  // [2L]
  matrix<float> positions_;
  matrix<float> velocities_;
  matrix<float> landmark_positions_;
  std::vector<float> state_;
  std::vector<double> distance_;          // [max(N, L)] squared distances from one agent
  std::vector<double> landmark_nearest_;  // [L] squared distance to each landmark's nearest agent
  std::vector<double> nearest_distance_;  // select_nearest's sorted squared distances
  std::vector<std::int32_t> nearest_index_;  // and their indices
  std::vector<std::int32_t> candidates_;     // [max(N, L)] points inside select_nearest's bound
  // Per agent: distance to its k-th observed landmark / agent at the last output (infinite when
  // unknown) and how far it moved this step; they bound the next selection (select_nearest).
  std::vector<double> landmark_reach_;
  std::vector<double> agent_reach_;
  std::vector<double> moved_;
  double max_moved_ = 0;
  step_result result_;
  index time_ = 0;
  index colliding_pairs_ = 0;
  double landmark_distance_ = 0;
  index occupied_landmarks_ = 0;
  double log_distance_sum_ = 0;
};

static_assert(SpatialEnvironment<cooperative_navigation>);
static_assert(SelectsActionSpace<cooperative_navigation>);

}  // namespace netmarl::env
