// Compiles the benchmarks' precompiled header once (benchmarks/CMakeLists.txt); nothing else.
