#pragma once
// The DGN attention op: includes every implementation this compiler can use, so every translation
// unit sees the same overloads and users never choose includes. Only the reference exists so far;
// operations_simd.hpp (host, not under __CUDACC__) and operations_cuda.cuh come with the kernels
// issue, written against spec.hpp and tested against the reference.
#include "netmarl/kernels/dgn_attention/operations_generic.hpp"
