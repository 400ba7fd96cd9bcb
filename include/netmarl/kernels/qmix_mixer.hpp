#pragma once
// The QMIX mixer op: includes every implementation this compiler can use, so every translation
// unit sees the same overloads: the reference (the oracle) and, on the host, the xsimd version for
// backend::simd<...> (float; other types reach the reference). The CUDA version
// (operations_cuda.cuh) joins here as an overload on its tag.
#include "netmarl/kernels/qmix_mixer/operations_generic.hpp"
#ifdef __CUDACC__
#include "netmarl/kernels/qmix_mixer/operations_cuda.cuh"
#else
#include "netmarl/kernels/qmix_mixer/operations_simd.hpp"
#endif
