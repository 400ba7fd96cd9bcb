// Built twice per slot by tests/system/extra.cmake: without NETMARL_BREAK_SLOT it must compile
// (proving the harness), with it the config puts `int` in that slot and the build must fail with
// exactly one error, the sentence that names the slot.
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/system.hpp"

struct config : netmarl::default_config {
#ifdef NETMARL_BREAK_SLOT
  using NETMARL_BREAK_SLOT = int;
#endif
};

int main() {
  netmarl::env::gaussian_squeeze env({.agents = 4});
  netmarl::system<config> sys(netmarl::env::spec_of(env), {}, 0);
  sys.train(env, netmarl::epochs{1});
  return 0;
}
