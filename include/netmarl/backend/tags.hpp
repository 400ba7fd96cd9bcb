#pragma once
// Backends are empty tag types with static facts. A kernel is a free function overloaded on the tag
// (passed first). backend::simd derives from backend::reference, so overload resolution falls back
// to the reference kernel wherever no SIMD version exists. backend::cuda deliberately does not:
// a missing CUDA kernel must fail to compile, never run host loops over device memory.
#include <cstddef>
#include <string>
#include <xsimd/xsimd.hpp>

namespace netmarl::backend {

// Portable loops and Eigen: the oracle every other backend is tested against.
struct reference {
  static std::string name() { return "reference"; }
  static constexpr std::size_t alignment() { return 64; }
  static constexpr bool on_host = true;
};

// Hand-written xsimd kernels for instruction set `Arch` (xsimd::avx512f, xsimd::avx2, ...).
template <class Arch = xsimd::default_arch>
struct simd : reference {
  using arch = Arch;
  static std::string name() { return std::string("simd<") + Arch::name() + ">"; }
  static constexpr std::size_t alignment() { return Arch::alignment(); }
};

// NVIDIA GPUs through CUDA: kernels come with the kernels issue; streams and cuBLAS handles live in
// a host-side context object, not in this tag.
struct cuda {
  static std::string name() { return "cuda"; }
  static constexpr std::size_t alignment() { return 256; }
  static constexpr bool on_host = false;
};

}  // namespace netmarl::backend
