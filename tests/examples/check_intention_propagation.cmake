# The Intention Propagation examples as a user runs them (see examples/intention_propagation/).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/expect.cmake)

foreach(program IN ITEMS ${GRID} ${NAVIGATION})
  expect(${program} 0 "--hops" --help)
  expect(${program} 2 "--method: coma not in" --method coma)
  expect(${program} 2 "--hops" --hops 0)
  expect(${program} 2 "--eval-mode: best not in" --eval-mode best)
  expect(${program} 1 "--buffer \\(8\\) must be >= --batch \\(16\\)" --buffer 8 --batch 16)
  expect(${program} 1 "simd backend only" --backend reference --quiet)
endforeach()
expect(${GRID} 1 "--agents must be a square .* got 8" --agents 8 --quiet)

# Every method on both environments, a few hundred steps each.
foreach(method IN ITEMS mean_field loopy_bp independent dgn random)
  expect(${GRID} 0 "coordination grid\\[9\\], .*final reward" --method ${method} --steps 200
         --episodes-per-epoch 50 --quiet)
  expect(${NAVIGATION} 0 "cooperative navigation\\[5\\], .*final reward" --method ${method}
         --agents 5 --steps 100 --batch 16 --buffer 100 --hidden 16 --episodes-per-epoch 2
         --eval-episodes 1 --quiet)
endforeach()
expect(${NAVIGATION} 0 "final reward" --agents 4 --landmarks 2 --violation-weight 0.5 --steps 50
       --batch 8 --buffer 50 --hidden 8 --episodes-per-epoch 2 --eval-episodes 1 --quiet)
# Continuous forces: the soft actor-critic's Gaussian head; dqn (DGN) is discrete only.
foreach(method IN ITEMS mean_field independent)
  expect(${NAVIGATION} 0 "final reward" --method ${method} --continuous-actions --agents 4
         --steps 100 --batch 16 --buffer 100 --hidden 16 --episodes-per-epoch 2 --eval-episodes 1
         --quiet)
endforeach()
expect(${NAVIGATION} 1 "continuous|discrete" --method dgn --continuous-actions --agents 4 --steps 50
       --batch 8 --buffer 50 --quiet)
expect(${GRID} 0 "final reward" --constant-observation --eval-mode sample
       --policy-neighbours sampled --steps 100 --episodes-per-epoch 50 --quiet)

# The same seed writes the same CSV; the summary has the fields scripts read.
foreach(run IN ITEMS a b)
  expect(${GRID} 0 "IP \\(mean-field, M = 2\\)" --steps 200 --seeds 2 --episodes-per-epoch 50
         --quiet --out ${WORK_DIR}/${run}.csv --summary ${WORK_DIR}/${run}.json)
endforeach()
file(READ ${WORK_DIR}/a.csv a)
file(READ ${WORK_DIR}/b.csv b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "two coordination_grid runs with the same seed wrote different CSVs")
endif()
file(READ ${WORK_DIR}/a.json summary)
foreach(key final final_std method_id hops finals evaluation)
  string(JSON value ERROR_VARIABLE missing GET "${summary}" ${key})
  if(missing)
    message(FATAL_ERROR "the summary has no '${key}':\n${summary}")
  endif()
endforeach()
