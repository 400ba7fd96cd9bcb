# The LToS examples as a user runs them (see examples/ltos/).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/expect.cmake)

foreach(program IN ITEMS ${PRISONER} ${JUNGLE} ${TRAFFIC})
  expect(${program} 0 "--high-lr" --help)
  expect(${program} 2 "--method: coma not in" --method coma)
  expect(${program} 2 "--noise: pink not in" --noise pink)
  expect(${program} 1 "--buffer \\(8\\) must be >= --batch \\(16\\)" --buffer 8 --batch 16)
  expect(${program} 1 "simd backend only" --backend reference)
  expect(${program} 1 "exactly one of --high-update-steps" --high-update-steps 5
         --high-update-episodes 5)
endforeach()
expect(${PRISONER} 1 "prisoner has 2 agents" --agents 3)
expect(${PRISONER} 1 "--corridor must be odd" --corridor 8)
expect(${TRAFFIC} 1 "--agents \\(9\\) must equal --rows x --cols \\(16\\)" --agents 9)

# Every method on every environment, a few steps each.
foreach(method IN ITEMS dqn dgn fixed ltos qmix)
  expect(${PRISONER} 0 "prisoner\\[2\\], .*final return" --method ${method} --steps 300
         --episodes-per-epoch 50 --eval-episodes 2 --high-sample 32 --quiet)
  expect(${JUNGLE} 0 "jungle\\[4\\], .*final reward_per_agent_step" --method ${method} --agents 4
         --foods 2 --map 8 --episode 10 --steps 60 --units 16 8 --batch 8 --episodes-per-epoch 2
         --eval-episodes 1 --high-update-episodes 2 --high-sample 16 --high-batch 8 --quiet)
  expect(${TRAFFIC} 0 "traffic\\[4\\], .*final red_lights_per_intersection" --method ${method}
         --rows 2 --cols 2 --agents 4 --steps 720 --episodes-per-epoch 1 --eval-episodes 1
         --high-update-episodes 1 --high-sample 40 --quiet)
endforeach()

# The same seed writes the same CSV; the summary has the fields scripts read; the selfishness
# trace has one column per agent.
foreach(run IN ITEMS a b)
  expect(${PRISONER} 0 "LToS" --steps 300 --seeds 2 --episodes-per-epoch 50 --eval-episodes 2
         --high-sample 32 --quiet --out ${WORK_DIR}/${run}.csv --summary ${WORK_DIR}/${run}.json)
endforeach()
file(READ ${WORK_DIR}/a.csv a)
file(READ ${WORK_DIR}/b.csv b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "two prisoner runs with the same seed wrote different CSVs")
endif()
file(READ ${WORK_DIR}/a.json summary)
foreach(key final final_std method_id finals lower_is_better)
  string(JSON value ERROR_VARIABLE missing GET "${summary}" ${key})
  if(missing)
    message(FATAL_ERROR "the summary has no '${key}':\n${summary}")
  endif()
endforeach()
expect(${TRAFFIC} 0 "LToS" --rows 2 --cols 2 --agents 4 --steps 720 --episodes-per-epoch 1
       --eval-episodes 1 --high-update-episodes 1 --high-sample 40 --quiet
       --selfishness-plot ${WORK_DIR}/w.png)
file(STRINGS ${WORK_DIR}/w.csv header LIMIT_COUNT 1)
if(NOT header STREQUAL "step,agent_0,agent_1,agent_2,agent_3")
  message(FATAL_ERROR "the selfishness CSV header is '${header}'")
endif()
