#pragma once
// The DGN attention op: includes every implementation this compiler can use, so every translation
// unit sees the same overloads and users never choose includes. The xsimd kernels are host code:
// nvcc translation units see only the reference (and, when written, the CUDA version).
#include "netmarl/kernels/dgn_attention/operations_generic.hpp"
#ifndef __CUDACC__
#include "netmarl/kernels/dgn_attention/operations_simd.hpp"
#endif
