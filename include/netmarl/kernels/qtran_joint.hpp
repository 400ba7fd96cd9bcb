#pragma once
// The QTRAN joint-network op (one-hot gather and agent sum): includes every implementation this
// compiler can use, so every translation unit sees the same overloads. Only the reference exists
// so far; backend::simd<...> reaches it through the tag's base class. The xsimd
// (operations_simd.hpp, under #ifndef __CUDACC__) and CUDA (operations_cuda.cuh) versions join
// here as overloads on their tags.
#include "netmarl/kernels/qtran_joint/operations_generic.hpp"
