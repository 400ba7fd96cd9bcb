#pragma once
// NETMARL_ASSERT(cond, message): checks an internal invariant. On in debug builds and in tests
// (NETMARL_ENABLE_ASSERTS); compiled out in release builds. Throws so tests can observe it.
#include <string>

#include "netmarl/core/error.hpp"

#if !defined(NDEBUG) && !defined(NETMARL_ENABLE_ASSERTS)
#define NETMARL_ENABLE_ASSERTS 1
#endif

#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
#define NETMARL_ASSERT(cond, message)                                                          \
  do {                                                                                         \
    if (!(cond))                                                                               \
      throw ::netmarl::internal_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                      ": assertion `" #cond "` failed: " + (message));         \
  } while (0)
#else
#define NETMARL_ASSERT(cond, message) \
  do {                                \
  } while (0)
#endif

// NETMARL_CHECK(cond, error_type, message): for user input on hot paths, always on. The message
// expression is evaluated only when the check fails, so a passing check allocates nothing.
#define NETMARL_CHECK(cond, error_type, message) \
  do {                                           \
    if (!(cond)) throw error_type(message);      \
  } while (0)

namespace netmarl {

// Throws E with `message` unless `cond` holds: for user input on cold paths (constructors,
// settings). The caller builds the message before the call: in a per-step path use NETMARL_CHECK.
template <class E = invalid_argument>
inline void require(bool cond, const std::string& message) {
  if (!cond) throw E(message);
}

}  // namespace netmarl
