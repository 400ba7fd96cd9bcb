#pragma once
// A seeded counter-based generator (Philox4x32-10, Salmon et al. 2011). The output is a pure
// function of (seed, stream, position), so `split` gives independent per-agent streams that are
// the same on every run, every platform and every standard library: netmarl draws every random
// number through this type and its own distributions, never through <random>'s distributions,
// whose algorithms differ between library implementations.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "netmarl/core/error.hpp"

namespace netmarl {

class rng {
 public:
  using result_type = std::uint64_t;

  explicit rng(std::uint64_t seed = 0, std::uint64_t stream = 0) noexcept
      : seed_(seed), stream_(stream) {}

  // An independent generator for sub-stream `id` (an agent, a worker, an environment copy).
  // Splitting is deterministic: the same parent and id always give the same child.
  [[nodiscard]] rng split(std::uint64_t id) const noexcept {
    return rng(seed_, mix(stream_ ^ mix(id + 0x9E3779B97F4A7C15ull)));
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    if (used_ >= 2) refill();
    return buffer_[used_++];
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n must be positive.
  std::uint64_t below(std::uint64_t n) {
    if (n == 0) throw invalid_argument("rng::below: n must be positive, got 0");
    for (;;) {
      const unsigned __int128 product = static_cast<unsigned __int128>((*this)()) * n;
      const auto low = static_cast<std::uint64_t>(product);
      if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(product >> 64);
    }
  }

  // Standard normal by Box-Muller (both values used: the second is cached).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * 3.14159265358979323846 * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }
  double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }

  bool bernoulli(double p) noexcept { return uniform() < p; }

  // Index drawn with probability proportional to `weights` (non-negative, not all zero).
  template <class T>
  std::size_t categorical(std::span<const T> weights) {
    double total = 0;
    for (T w : weights) total += static_cast<double>(w);
    if (!(total > 0)) throw invalid_argument("rng::categorical: weights must have a positive sum");
    double u = uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      u -= static_cast<double>(weights[i]);
      if (u < 0) return i;
    }
    for (std::size_t i = weights.size(); i-- > 0;)  // rounding left u >= 0: take the last non-zero
      if (weights[i] > 0) return i;
    return 0;
  }

  // Fisher-Yates shuffle of any random-access range.
  template <class Range>
  void shuffle(Range& range) {
    const auto n = static_cast<std::uint64_t>(std::size(range));
    for (std::uint64_t i = n; i > 1; --i) {
      const auto j = below(i);
      using std::swap;
      swap(range[i - 1], range[j]);
    }
  }

  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t stream() const noexcept { return stream_; }
  // How many 128-bit blocks have been drawn; with seed and stream it fixes the state.
  std::uint64_t position() const noexcept { return counter_; }

 private:
  static constexpr std::uint64_t mix(std::uint64_t z) noexcept {  // splitmix64 finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  static constexpr void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                std::uint32_t& lo) noexcept {
    const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
    hi = static_cast<std::uint32_t>(p >> 32);
    lo = static_cast<std::uint32_t>(p);
  }

  // One Philox4x32-10 block: counter = (position, stream), key = seed.
  void refill() noexcept {
    std::array<std::uint32_t, 4> c{
        static_cast<std::uint32_t>(counter_), static_cast<std::uint32_t>(counter_ >> 32),
        static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32)};
    std::array<std::uint32_t, 2> k{static_cast<std::uint32_t>(seed_),
                                   static_cast<std::uint32_t>(seed_ >> 32)};
    for (int round = 0; round < 10; ++round) {
      std::uint32_t hi0, lo0, hi1, lo1;
      mulhilo(0xD2511F53u, c[0], hi0, lo0);
      mulhilo(0xCD9E8D57u, c[2], hi1, lo1);
      c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
      k[0] += 0x9E3779B9u;
      k[1] += 0xBB67AE85u;
    }
    buffer_[0] = (static_cast<std::uint64_t>(c[1]) << 32) | c[0];
    buffer_[1] = (static_cast<std::uint64_t>(c[3]) << 32) | c[2];
    ++counter_;
    used_ = 0;
  }

  std::uint64_t seed_;
  std::uint64_t stream_;
  std::uint64_t counter_ = 0;
  std::array<std::uint64_t, 2> buffer_{};
  unsigned used_ = 2;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace netmarl
