# Action-space pairing (tests/learn/compile_fail/action_space.cpp): the control builds and runs a
# continuous-only learner on a continuous-only environment; each broken pairing must fail to
# compile with exactly one error, the system's sentence (tests/system/check_compile_fail.cmake).
set(netmarl_action_space_source ${CMAKE_CURRENT_SOURCE_DIR}/learn/compile_fail/action_space.cpp)

add_executable(action_space_control ${netmarl_action_space_source})
target_link_libraries(action_space_control PRIVATE netmarl::netmarl netmarl_dev_flags)
add_test(NAME learn/action_space_control COMMAND action_space_control)

foreach(case_and_sentence IN ITEMS
        "1|Config::learner acts only with discrete actions"
        "2|Config::learner acts only with continuous actions")
  string(REPLACE "|" ";" pair "${case_and_sentence}")
  list(GET pair 0 case)
  list(GET pair 1 sentence)
  set(target action_space_compile_fail_${case})
  add_executable(${target} EXCLUDE_FROM_ALL ${netmarl_action_space_source})
  target_link_libraries(${target} PRIVATE netmarl::netmarl netmarl_dev_flags)
  target_compile_definitions(${target} PRIVATE NETMARL_BREAK_ACTION_SPACE=${case})
  add_test(NAME learn/action_space_compile_fail_${case}
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DTARGET=${target}
                   "-DEXPECTED=${sentence}"
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/system/check_compile_fail.cmake)
  set_tests_properties(learn/action_space_compile_fail_${case}
                       PROPERTIES RESOURCE_LOCK netmarl_build_tree)
endforeach()
