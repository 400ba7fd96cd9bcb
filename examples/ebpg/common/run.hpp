#pragma once
// What the EBPG mains share (examples/ebpg/README.md): the flags, the leader-follower episode loop
// with progress, and the CSV / JSON / PNG outputs. The two mains differ only in the number of
// bonus levels (resource collection: 2, multi-bonus: 4) and their default budgets.
#include <cstdint>
#include <string>

namespace netmarl::examples::ebpg {

struct experiment {
  std::string tool;
  std::string description;
  std::string env_label;
  int bonus_levels = 2;
  std::int64_t episodes = 3000;
};

// Parses argv, trains every seed, writes the outputs; the process exit code.
int run_experiment(int argc, char** argv, const experiment& e);

}  // namespace netmarl::examples::ebpg
