# The VAST examples as a user runs them (see examples/vast/README.md).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/expect.cmake)

foreach(program IN ITEMS ${SQUEEZE} ${WAREHOUSE} ${BATTLE})
  expect(${program} 0 "--assign" --help)
  expect(${program} 2 "--eta: must be in \\(0, 1\\], got 0" --eta 0)
  expect(${program} 2 "--eta: must be in \\(0, 1\\], got 1.5" --eta 1.5)
  expect(${program} 2 "--psi: coma not in" --psi coma)
  expect(${program} 2 "--assign: greedy not in" --assign greedy)
endforeach()
expect(${SQUEEZE} 2 "--sigma" --sigma 0)
expect(${SQUEEZE} 0 "final GS" --agents 8 --mu 16 --sigma 8 --epochs 2 --quiet)
# An N the layout cannot host is a clear error (exit 1), not a crash.
expect(${WAREHOUSE} 1 "warehouse: .*5" --agents 5 --epochs 1 --quiet)
expect(${BATTLE} 1 "battle: .*21" --agents 21 --epochs 1 --quiet)

# Every operator and strategy runs; the same seed writes the same CSV.
foreach(run IN ITEMS a b)
  expect(${SQUEEZE} 0 "GaussianSqueeze\\[12\\], VAST\\(QTRAN, meta_grad, eta 0.5\\) \\(K = 6\\)"
         --agents 12 --epochs 5 --seeds 2 --eta 0.5 --quiet --out ${WORK_DIR}/${run}.csv
         --summary ${WORK_DIR}/${run}.json)
endforeach()
file(READ ${WORK_DIR}/a.csv a)
file(READ ${WORK_DIR}/b.csv b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "two VAST runs with the same seed wrote different CSVs")
endif()
file(READ ${WORK_DIR}/a.json summary)
foreach(key psi assign eta subteams finals)
  string(JSON value ERROR_VARIABLE missing GET "${summary}" ${key})
  if(missing)
    message(FATAL_ERROR "the summary has no '${key}':\n${summary}")
  endif()
endforeach()
foreach(psi IN ITEMS il vdn qmix qtran)
  foreach(assign IN ITEMS random fixed spatial meta_grad)
    expect(${WAREHOUSE} 0 "final orders" --epochs 1 --episodes-per-epoch 1 --quiet --psi ${psi}
           --assign ${assign} --eta 0.5)
  endforeach()
  expect(${BATTLE} 0 "final kills" --epochs 1 --episodes-per-epoch 1 --quiet --psi ${psi} --flat)
endforeach()
expect(${COMPARE_PLOT} 0 "seeds" --title t --metric GS --out ${WORK_DIR}/cmp.png
       "one=${WORK_DIR}/a.csv" "two=${WORK_DIR}/b.csv")
if(NOT EXISTS ${WORK_DIR}/cmp.png.dat)
  message(FATAL_ERROR "compare_plot wrote no ${WORK_DIR}/cmp.png.dat")
endif()
expect(${COMPARE_PLOT} 1 "expected LABEL=FILE.csv" --title t --out ${WORK_DIR}/x.png nolabel)
