# The EBPG examples as a user runs them (see examples/ebpg/).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/expect.cmake)

foreach(program IN ITEMS ${RESOURCE} ${MULTI})
  expect(${program} 0 "--leader" --help)
  expect(${program} 2 "--leader: lola not in" --leader lola)
  expect(${program} 2 "--followers: oracle not in" --followers oracle)
  expect(${program} 2 "--noise" --noise 1.5)
  expect(${program} 1 "more followers per episode .* than the population" --agents 41 --quiet)
  expect(${program} 1 "simd backend only" --backend reference --quiet)
endforeach()

# Every leader with rule-based followers, and the RL followers, a few small episodes each.
foreach(leader IN ITEMS ebpg sparse-ebpg no-ebpg no-attention m3rl)
  expect(${MULTI} 0 "multi_bonus, ${leader} leader, rule followers.*leader reward" --leader ${leader}
         --episodes 4 --hidden 8 --episodes-per-point 2 --quiet)
endforeach()
foreach(followers IN ITEMS vanilla-rl abstraction-rl)
  expect(${RESOURCE} 0 "resource_collection, ebpg leader, ${followers} followers" --followers
         ${followers} --episodes 4 --hidden 8 --follower-hidden 8 --episodes-per-point 2 --quiet)
endforeach()

# The same seed writes the same CSV; the summary has the fields scripts read.
foreach(run IN ITEMS a b)
  expect(${MULTI} 0 "leader reward" --episodes 6 --seeds 2 --hidden 8 --noise 0.3
         --episodes-per-point 3 --quiet --out ${WORK_DIR}/${run}.csv --summary ${WORK_DIR}/${run}.json)
endforeach()
file(READ ${WORK_DIR}/a.csv a)
file(READ ${WORK_DIR}/b.csv b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "two multi_bonus runs with the same seed wrote different CSVs")
endif()
file(STRINGS ${WORK_DIR}/a.csv header LIMIT_COUNT 1)
if(NOT header MATCHES "^episode,env_steps,seed,leader_reward,total_incentive,bonuses")
  message(FATAL_ERROR "unexpected CSV header '${header}'")
endif()
file(READ ${WORK_DIR}/a.json summary)
foreach(key final final_std finals total_incentive noise leader followers bonus_levels)
  string(JSON value ERROR_VARIABLE missing GET "${summary}" ${key})
  if(missing)
    message(FATAL_ERROR "the summary has no '${key}':\n${summary}")
  endif()
endforeach()
