// Compiles the tests' precompiled header once (tests/CMakeLists.txt); nothing else.
