// EBPG on multi-bonus resource collection (Li et al. 2020, section 5 and table 1: 4 bonus levels).
#include "ebpg/common/run.hpp"

int main(int argc, char** argv) {
  return netmarl::examples::ebpg::run_experiment(
      argc, argv,
      {"multi_bonus",
       "EBPG leader and followers on multi-bonus resource collection (4 bonus levels, 4 of 40 "
       "followers per episode)",
       "multi_bonus", 4, 3000});
}
