// VAST on GaussianSqueeze[N] (VAST section 5.1, Fig. 4 left; environments.md 1.1): N agents each
// add 0..9 to zeta; the team reward GS = zeta exp(-(zeta - mu)^2 / sigma^2) peaks at mu = 400
// (sigma 200, as the authors' code keeps for every N). The dashed line is the analytic optimum.
//
//   gaussian_squeeze [--agents 200] [--epochs 600] [--psi qtran] [--assign meta_grad]
//                    [--eta 0.25] [--flat] [--seeds 3] [--out c.csv --summary s.json --plot p.png]
#include "netmarl/env/gaussian_squeeze.hpp"
#include "vast/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  nm::examples::vast::domain d;
  d.name = "GaussianSqueeze";
  d.metric = "GS";
  d.agents = 200;
  d.epochs = 600;
  d.gamma = 1.0;  // one-step episodes (the authors' code)
  d.reference = [](nm::index agents) {
    return std::optional<nm::examples::reference_line>(nm::examples::reference_line{
        nm::env::gaussian_squeeze_optimum(agents, 10, 400, 200).value, "optimum"});
  };
  return nm::examples::vast::run_example(argc, argv, d, [](nm::index agents) {
    return nm::env::gaussian_squeeze({.agents = agents, .mu = 400, .sigma = 200});
  });
}
