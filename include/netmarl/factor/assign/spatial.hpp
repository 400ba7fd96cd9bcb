#pragma once
// assign::spatial (VAST table 1, X_Spatial; section 5.2): k-means on the agents' (x, y)
// positions; agents of one cluster form one sub-team.
//
// Number of clusters C: the authors' code runs KMeans(n_clusters = min(K, #agents)) at every step
// (controller.py group_agents; the K/2 it builds first is replaced before use), while the paper
// (section 5.2, fig. 6) says K/2 centroids. The default follows the code; centroids =
// half_subteams gives the paper's max(1, floor(K/2)). Either way C <= #agents.
//
// Algorithm, deterministic given the rng: k-means++ seeding (Arthur & Vassilvitskii 2007; first
// centre uniform, each next one drawn with probability proportional to the squared distance to
// the nearest chosen centre), then Lloyd iterations (assign to the nearest centre, ties to the
// lower index; move centres to their members' mean) until no label changes or max_iterations;
// the whole is run `restarts` times and the lowest inertia (sum of squared distances to the own
// centre) wins, the first on ties. Defaults follow the scikit-learn 0.24.2 KMeans the authors
// pinned (n_init = 10, max_iter = 300), whose seeding also tries 2 + log(C) candidates per centre
// (not done here). Sub-team ids are cluster ids in seeding order, which is arbitrary, as
// scikit-learn's labels are.
// Fewer distinct positions than C: seeding stops when every position is already a centre, so
// there are as many clusters as distinct positions, duplicates share a sub-team, and the
// remaining sub-teams stay empty (they contribute 0 by VAST eq. 4). A cluster that loses all its
// members during Lloyd keeps its centre (it may win members back) rather than being re-seeded.
// Buffers are kept between calls: after the first call at a given size nothing is allocated.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "netmarl/factor/assign/concept.hpp"

namespace netmarl::factor::assign {

struct spatial {
  enum class centroid_count {
    subteams,       // C = K: the authors' code (the default)
    half_subteams,  // C = max(1, floor(K / 2)): the paper, section 5.2
  };

  struct settings {
    centroid_count centroids = centroid_count::subteams;
    index max_iterations = 300;  // Lloyd cap per run (scikit-learn KMeans's max_iter)
    index restarts = 10;         // seedings tried, best kept (scikit-learn 0.24 KMeans's n_init)
  };

  template <class T>
  class model {
   public:
    using scalar = T;
    static constexpr bool learned = false;

    model() = default;
    explicit model(const settings& s) : settings_(validated(s)) {}
    model(const assignment_sizes&, const settings& s, rng&) : model(s) {}

    // Clusters for K sub-teams and N agents (0 when N = 0), before duplicates are accounted for.
    index cluster_count(index subteams, index agents) const {
      index c = settings_.centroids == centroid_count::half_subteams ? subteams / 2 : subteams;
      if (c < 1) c = 1;
      return c < agents ? c : agents;
    }
    // Of the last call's best run: the clusters actually formed (<= cluster_count), its Lloyd
    // iterations and its inertia.
    index clusters() const { return clusters_; }
    index iterations() const { return iterations_; }
    double inertia() const { return inertia_; }
    const settings& config() const { return settings_; }

    // Reads input.positions [N, 2]; throws if it is null or holds a non-finite value.
    void assign(rng& g, const assignment_input<T>& input, index subteams,
                std::span<std::int32_t> groups) {
      detail::check_assign_call("assign::spatial", input, subteams, groups);
      const index n = input.agents;
      clusters_ = 0;
      iterations_ = 0;
      inertia_ = 0;
      if (n == 0) return;
      if (input.positions == nullptr)
        throw invalid_argument(
            "assign::spatial: needs positions (assignment_input::positions is null)");
      points_.resize(static_cast<std::size_t>(2 * n));
      for (index i = 0; i < n; ++i) {
        const double x = static_cast<double>(input.positions[2 * i]);
        const double y = static_cast<double>(input.positions[2 * i + 1]);
        if (!std::isfinite(x) || !std::isfinite(y))
          throw invalid_argument("assign::spatial: positions[" + std::to_string(i) + "] = (" +
                                 detail::format_number(x) + ", " + detail::format_number(y) +
                                 ") is not finite");
        point(i)[0] = x;
        point(i)[1] = y;
      }
      const index wanted = cluster_count(subteams, n);
      labels_.resize(static_cast<std::size_t>(n));
      index best_clusters = 0, best_iterations = 0;
      for (index run = 0; run < settings_.restarts; ++run) {
        seed(g, n, wanted);
        lloyd(n);
        const double inertia = current_inertia(n);
        if (run == 0 || inertia < inertia_) {
          inertia_ = inertia;
          best_clusters = clusters_;
          best_iterations = iterations_;
          std::copy(labels_.begin(), labels_.end(), groups.begin());
        }
      }
      clusters_ = best_clusters;
      iterations_ = best_iterations;
    }

   private:
    static const settings& validated(const settings& s) {
      if (s.max_iterations < 1)
        throw invalid_argument("assign::spatial: max_iterations must be >= 1, got " +
                               std::to_string(s.max_iterations));
      if (s.restarts < 1)
        throw invalid_argument("assign::spatial: restarts must be >= 1, got " +
                               std::to_string(s.restarts));
      return s;
    }

    double* point(index i) { return points_.data() + 2 * i; }
    double* centre(index c) { return centres_.data() + 2 * c; }
    static double squared_distance(const double* a, const double* b) {
      const double dx = a[0] - b[0], dy = a[1] - b[1];
      return dx * dx + dy * dy;
    }

    // k-means++ seeding; stops early when every point already coincides with a centre.
    void seed(rng& g, index n, index wanted) {
      centres_.resize(static_cast<std::size_t>(2 * wanted));
      nearest_.resize(static_cast<std::size_t>(n));
      const auto first = static_cast<index>(g.below(static_cast<std::uint64_t>(n)));
      add_centre(0, first, n);
      clusters_ = 1;
      for (index c = 1; c < wanted; ++c) {
        double total = 0;
        for (double d : nearest_) total += d;
        if (!(total > 0)) break;  // fewer distinct positions than clusters
        const auto chosen = static_cast<index>(g.categorical(std::span<const double>(nearest_)));
        add_centre(c, chosen, n);
        clusters_ = c + 1;
      }
    }

    void add_centre(index c, index from_point, index n) {
      centre(c)[0] = point(from_point)[0];
      centre(c)[1] = point(from_point)[1];
      for (index i = 0; i < n; ++i) {
        const double d = squared_distance(point(i), centre(c));
        auto& nearest = nearest_[static_cast<std::size_t>(i)];
        if (c == 0 || d < nearest) nearest = d;
      }
    }

    double current_inertia(index n) {
      double total = 0;
      for (index i = 0; i < n; ++i)
        total += squared_distance(point(i), centre(labels_[static_cast<std::size_t>(i)]));
      return total;
    }

    // Lloyd iterations from the seeded centres; labels_ ends consistent with centres_.
    void lloyd(index n) {
      auto& labels = labels_;
      const auto k = static_cast<std::size_t>(clusters_);
      sums_.resize(2 * k);
      counts_.resize(k);
      for (auto& l : labels) l = -1;
      for (iterations_ = 1;; ++iterations_) {
        bool changed = false;
        for (index i = 0; i < n; ++i) {
          std::int32_t best = 0;
          double best_distance = std::numeric_limits<double>::infinity();
          for (index c = 0; c < clusters_; ++c) {
            const double d = squared_distance(point(i), centre(c));
            if (d < best_distance) {
              best_distance = d;
              best = static_cast<std::int32_t>(c);
            }
          }
          auto& label = labels[static_cast<std::size_t>(i)];
          if (label != best) {
            label = best;
            changed = true;
          }
        }
        if (!changed || iterations_ >= settings_.max_iterations) return;
        std::fill(sums_.begin(), sums_.end(), 0.0);
        std::fill(counts_.begin(), counts_.end(), index(0));
        for (index i = 0; i < n; ++i) {
          const auto c = static_cast<std::size_t>(labels[static_cast<std::size_t>(i)]);
          sums_[2 * c] += point(i)[0];
          sums_[2 * c + 1] += point(i)[1];
          ++counts_[c];
        }
        for (std::size_t c = 0; c < k; ++c)
          if (counts_[c] > 0) {  // an emptied cluster keeps its centre
            centres_[2 * c] = sums_[2 * c] / static_cast<double>(counts_[c]);
            centres_[2 * c + 1] = sums_[2 * c + 1] / static_cast<double>(counts_[c]);
          }
      }
    }

    settings settings_{};
    index clusters_ = 0;
    index iterations_ = 0;
    double inertia_ = 0;
    // Reused between calls: points as doubles [N, 2], centres [C, 2], squared distance to the
    // nearest seeded centre [N], per-cluster coordinate sums [C, 2] and member counts [C], the
    // current run's labels [N].
    std::vector<double> points_, centres_, nearest_, sums_;
    std::vector<index> counts_;
    std::vector<std::int32_t> labels_;
  };
};

}  // namespace netmarl::factor::assign
