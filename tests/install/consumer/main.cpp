// A user's first program: a system with the default config trained for two epochs.
#include <iostream>
#include <netmarl/env/gaussian_squeeze.hpp>
#include <netmarl/system.hpp>

int main() {
  netmarl::env::gaussian_squeeze env({.agents = 8, .mu = 16, .sigma = 8});
  netmarl::system<netmarl::default_config> sys(netmarl::env::spec_of(env), {}, 1);
  const auto result = sys.train(env, netmarl::epochs{2});
  std::cout << "consumer ok: " << result.curve.size() << " epochs, GS "
            << result.curve.back().metric << "\n";
  return 0;
}
