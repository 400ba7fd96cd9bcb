# The CUDA backend's test binary, built only when a CUDA compiler is found (check_language), so a
# machine without nvcc configures and builds exactly as before. Included from the top-level
# CMakeLists.txt after the tests: it needs netmarl_test_main, and enable_language(CUDA) must run
# in the top directory's scope.
#
# The library target stays header-only and language-neutral: a user's .cu files include
# netmarl/kernels/<op>/operations_cuda.cuh and link CUDA::cudart and CUDA::cublas themselves.
option(NETMARL_CUDA "Build the CUDA backend's tests when a CUDA compiler is found" ON)
if(NOT NETMARL_CUDA OR NOT NETMARL_BUILD_TESTS)
  return()
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "netmarl: no CUDA compiler found; the CUDA backend's tests are not built")
  return()
endif()

# sm_90 (H100/H200) machine code plus its PTX, which newer GPUs JIT-compile. One architecture
# keeps nvcc's time small; pass -DCMAKE_CUDA_ARCHITECTURES=... (or set CUDAARCHS) for others.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
message(STATUS "netmarl: CUDA ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")

# The nvcc half: host-data wrappers around the CUDA kernels. An object library of its own because
# netmarl_dev_flags carries g++ options (-Wall, -march=native) that nvcc rejects; the same
# warnings reach the host compiler through -Xcompiler instead.
add_library(netmarl_cuda_test_kernels OBJECT ${PROJECT_SOURCE_DIR}/tests/cuda/cuda_kernels_device.cu)
set_target_properties(netmarl_cuda_test_kernels PROPERTIES CUDA_RUNTIME_LIBRARY Shared)
target_include_directories(netmarl_cuda_test_kernels PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(netmarl_cuda_test_kernels PRIVATE netmarl::netmarl CUDA::cudart CUDA::cublas)
# Same assertion setting as the g++ half, so shared inline code has one meaning in both.
target_compile_definitions(netmarl_cuda_test_kernels PRIVATE NETMARL_ENABLE_ASSERTS=1)
# C++20 by flag: CMake before 3.26 knows no CUDA_STANDARD 20 for nvcc.
target_compile_options(netmarl_cuda_test_kernels PRIVATE -std=c++20
  -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter
  # Eigen 3.4 marks defaulted special members __host__ __device__, which nvcc >= 12 reports as
  # ignored (warning 20012) even from a system header; and it calls constexpr host functions
  # from host-device ones, which needs relaxed constexpr.
  -diag-suppress=20012 --expt-relaxed-constexpr)
if(NETMARL_NATIVE)
  # The host code of both halves sees the same xsimd::default_arch.
  target_compile_options(netmarl_cuda_test_kernels PRIVATE -Xcompiler=-march=native)
endif()

# The g++ half: Catch2 tests against the reference. Not named test_*.cpp, so tests/CMakeLists.txt's
# glob does not build it a second time.
add_executable(test_cuda_kernels ${PROJECT_SOURCE_DIR}/tests/cuda/cuda_kernels_host.cpp)
target_link_libraries(test_cuda_kernels PRIVATE netmarl_test_main netmarl_cuda_test_kernels
                                                CUDA::cudart CUDA::cublas)
# One CUDA runtime in the process: the shared one CUDA::cudart names, for both halves.
set_target_properties(test_cuda_kernels PROPERTIES CUDA_RUNTIME_LIBRARY Shared)
target_precompile_headers(test_cuda_kernels REUSE_FROM netmarl_test_pch)
add_test(NAME cuda/kernels COMMAND test_cuda_kernels)
