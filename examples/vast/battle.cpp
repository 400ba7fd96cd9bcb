// VAST on Battle[N] (VAST section 5.1, Fig. 4; environments.md 1.3): N agents fight N scripted
// opponents; the metric is the kill count, opponents killed minus agents killed, in [-N, N] (a
// random policy scores about -19.8 at N = 20). N = 20, 40 or 80 picks the map.
//
//   battle [--agents 20] [--epochs 100] [--psi qtran] [--assign meta_grad] [--eta 0.25]
//          [--flat] [--seeds 3] [--out c.csv --summary s.json --plot p.png]
#include "netmarl/env/battle.hpp"
#include "vast/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  nm::examples::vast::domain d;
  d.name = "Battle";
  d.metric = "kills";
  d.agents = 20;
  d.epochs = 100;
  d.gamma = 0.99;  // the authors' code
  return nm::examples::vast::run_example(argc, argv, d, [](nm::index agents) {
    return nm::env::battle({.agents = agents});
  });
}
