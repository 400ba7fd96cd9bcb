// EBPG on resource collection (Li et al. 2020, section 5; M3RL's task with 2 bonus levels).
#include "ebpg/common/run.hpp"

int main(int argc, char** argv) {
  return netmarl::examples::ebpg::run_experiment(
      argc, argv,
      {"resource_collection",
       "EBPG leader and followers on resource collection (2 bonus levels, 4 of 40 followers per "
       "episode)",
       "resource_collection", 2, 3000});
}
