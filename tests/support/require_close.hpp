#pragma once
// Kernel-against-reference comparisons: got ~ want elementwise,
// |got - want| <= rtol * max(|want|, mean |want|). The mean term keeps entries that cancel to
// nearly zero from demanding more than float's rounding of their terms. NaN never passes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace netmarl::testing {

template <class T>
void require_close(const std::vector<T>& got, const std::vector<T>& want, double rtol,
                   const std::string& what) {
  REQUIRE(got.size() == want.size());
  double mean_abs = 0;
  for (T w : want) mean_abs += std::abs(double(w));
  mean_abs = want.empty() ? 1.0 : std::max(mean_abs / double(want.size()), 1e-30);
  std::ptrdiff_t bad = -1;
  for (std::size_t e = 0; e < got.size() && bad < 0; ++e) {
    const double diff = std::abs(double(got[e]) - double(want[e]));
    if (!(diff <= rtol * std::max(std::abs(double(want[e])), mean_abs))) bad = std::ptrdiff_t(e);
  }
  const auto at = static_cast<std::size_t>(bad);
  INFO(what << ": first mismatch at " << bad << ": got " << (bad >= 0 ? double(got[at]) : 0.0)
            << ", want " << (bad >= 0 ? double(want[at]) : 0.0));
  REQUIRE(bad == -1);
}

}  // namespace netmarl::testing
