#pragma once
// The netmarl error hierarchy: bad input from a user throws one of these, with a message that says
// what was wrong and with which value. Internal invariants use NETMARL_ASSERT (core/assert.hpp).
#include <stdexcept>
#include <string>

namespace netmarl {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A value outside its allowed range or set (an action out of range, eta outside (0, 1], ...).
struct invalid_argument : error {
  using error::error;
};

// Text that does not parse (an edge-list line, a command-line value).
struct parse_error : invalid_argument {
  using invalid_argument::invalid_argument;
};

// Sizes that do not fit together (a matrix of the wrong shape, a checkpoint for another model).
struct shape_error : error {
  using error::error;
};

// Files: missing, truncated, corrupted, wrong version.
struct io_error : error {
  using error::error;
};

// A broken internal invariant: a bug in netmarl, not in the caller's input.
struct internal_error : error {
  using error::error;
};

}  // namespace netmarl
