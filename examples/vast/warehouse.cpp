// VAST on Warehouse[N] (VAST section 5.1, Fig. 4; environments.md 1.2): N robots fetch items of
// orders on a grid; the metric is the orders completed per episode (a random policy completes 0).
// N = 4, 8 or 16 picks the map; other N are an error that lists the maps.
//
//   warehouse [--agents 4] [--epochs 300] [--psi qtran] [--assign meta_grad] [--eta 0.25]
//             [--flat] [--seeds 3] [--out c.csv --summary s.json --plot p.png]
#include "netmarl/env/warehouse.hpp"
#include "vast/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  nm::examples::vast::domain d;
  d.name = "Warehouse";
  d.metric = "orders";
  d.agents = 4;
  d.epochs = 300;
  d.gamma = 0.95;  // the authors' code
  return nm::examples::vast::run_example(argc, argv, d, [](nm::index agents) {
    return nm::env::warehouse({.agents = agents});
  });
}
