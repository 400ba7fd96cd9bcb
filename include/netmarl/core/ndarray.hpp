#pragma once
// N-dimensional arrays (replay storage [capacity, agents, features], grid maps [H, W, C]).
#include <xtensor/xtensor.hpp>

namespace netmarl {

template <class T, std::size_t Rank>
using ndarray = xt::xtensor<T, Rank>;

}  // namespace netmarl
