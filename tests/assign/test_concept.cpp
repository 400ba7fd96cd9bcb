// factor/assign/concept.hpp: K = ceil(eta N) (VAST section 4.1), its errors, and the
// AssignmentStrategy concept with positive and negative static checks.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "netmarl/factor/assign/concept.hpp"
#include "netmarl/factor/assign/fixed.hpp"
#include "netmarl/factor/assign/meta_grad.hpp"
#include "netmarl/factor/assign/random.hpp"
#include "netmarl/factor/assign/spatial.hpp"

namespace nm = netmarl;
namespace assign = netmarl::factor::assign;
using idx = nm::index;

namespace {

// Negative models: one without assign, one whose model does not say whether it learns.
struct no_assign {
  struct settings {};
  template <class T>
  struct model {
    static constexpr bool learned = false;
    model(const assign::assignment_sizes&, const settings&, nm::rng&) {}
  };
};
struct no_learned_flag {
  struct settings {};
  template <class T>
  struct model {
    model(const assign::assignment_sizes&, const settings&, nm::rng&) {}
    void assign(nm::rng&, const assign::assignment_input<T>&, idx, std::span<std::int32_t>) {}
  };
};

}  // namespace

static_assert(assign::AssignmentStrategy<assign::random>);
static_assert(assign::AssignmentStrategy<assign::fixed>);
static_assert(assign::AssignmentStrategy<assign::spatial>);
static_assert(assign::AssignmentStrategy<assign::spatial, float>);
static_assert(assign::AssignmentStrategy<assign::meta_grad>);
static_assert(assign::AssignmentStrategy<assign::meta_grad, float>);
static_assert(!assign::AssignmentStrategy<no_assign>);
static_assert(!assign::AssignmentStrategy<no_learned_flag>);
static_assert(!assign::AssignmentStrategy<int>);
static_assert(!assign::random::model<double>::learned && !assign::fixed::model<double>::learned &&
              !assign::spatial::model<double>::learned &&
              assign::meta_grad::model<double>::learned);
// DESIGN.md's spelling netmarl::assign::meta_grad names the same type.
static_assert(std::is_same_v<nm::assign::meta_grad, assign::meta_grad>);

TEST_CASE("subteam_count: K = ceil(eta N) for the paper's ratios", "[assign][subteam_count]") {
  const idx agents[] = {4, 8, 16, 20, 200};
  const idx quarter[] = {1, 2, 4, 5, 50};
  const idx half[] = {2, 4, 8, 10, 100};
  for (int i = 0; i < 5; ++i) {
    INFO("N = " << agents[i]);
    CHECK(assign::subteam_count(0.25, agents[i]) == quarter[i]);
    CHECK(assign::subteam_count(0.5, agents[i]) == half[i]);
    CHECK(assign::subteam_count(1.0, agents[i]) == agents[i]);
  }
  // Rounding up, and eta below 1/N still gives one sub-team.
  CHECK(assign::subteam_count(0.25, 5) == 2);
  CHECK(assign::subteam_count(0.5, 3) == 2);
  CHECK(assign::subteam_count(0.25, 1) == 1);
  CHECK(assign::subteam_count(1e-9, 10) == 1);
  CHECK(assign::subteam_count(1.0 / 3.0, 9) == 3);
  // 0.1 * 30 is 3.0000000000000004 in double: still 3 sub-teams, not 4.
  CHECK(assign::subteam_count(0.1, 30) == 3);
  CHECK(assign::subteam_count(0.1 + 1e-6, 30) == 4);
}

TEST_CASE("subteam_count: eta outside (0, 1] and agents < 1 are rejected with the value",
          "[assign][subteam_count]") {
  using Catch::Matchers::Message;
  REQUIRE_THROWS_MATCHES(assign::subteam_count(0.0, 8), nm::invalid_argument,
                         Message("subteam_count: eta must be in (0, 1], got 0"));
  REQUIRE_THROWS_MATCHES(assign::subteam_count(-1.0, 8), nm::invalid_argument,
                         Message("subteam_count: eta must be in (0, 1], got -1"));
  REQUIRE_THROWS_MATCHES(assign::subteam_count(1.5, 8), nm::invalid_argument,
                         Message("subteam_count: eta must be in (0, 1], got 1.5"));
  REQUIRE_THROWS_MATCHES(assign::subteam_count(std::numeric_limits<double>::quiet_NaN(), 8),
                         nm::invalid_argument,
                         Message("subteam_count: eta must be in (0, 1], got nan"));
  REQUIRE_THROWS_MATCHES(assign::subteam_count(std::numeric_limits<double>::infinity(), 8),
                         nm::invalid_argument,
                         Message("subteam_count: eta must be in (0, 1], got inf"));
  REQUIRE_THROWS_MATCHES(assign::subteam_count(0.5, 0), nm::invalid_argument,
                         Message("subteam_count: agents must be >= 1, got 0"));
}
