# Compile-fail tests: a config with a wrong slot must fail at the system boundary with exactly one
# error that names the slot. Each slot gets an EXCLUDE_FROM_ALL target with the slot broken, and a
# CTest test that builds it and checks the compiler's output (tests/system/check_compile_fail.cmake).
set(netmarl_compile_fail_source ${CMAKE_CURRENT_SOURCE_DIR}/system/compile_fail/wrong_slot.cpp)

# The unbroken config must build: otherwise a failure below would prove nothing.
add_executable(compile_fail_control ${netmarl_compile_fail_source})
target_link_libraries(compile_fail_control PRIVATE netmarl::netmarl netmarl_dev_flags)

foreach(slot_and_concept IN ITEMS topology:Topology sharing:RewardSharing factor:Factorization
                                  message:MessagePassing learner:Learner backend:Backend)
  string(REPLACE ":" ";" pair ${slot_and_concept})
  list(GET pair 0 slot)
  list(GET pair 1 concept)
  set(target compile_fail_${slot})
  add_executable(${target} EXCLUDE_FROM_ALL ${netmarl_compile_fail_source})
  target_link_libraries(${target} PRIVATE netmarl::netmarl netmarl_dev_flags)
  target_compile_definitions(${target} PRIVATE NETMARL_BREAK_SLOT=${slot})
  add_test(NAME system/compile_fail_${slot}
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DTARGET=${target}
                   "-DEXPECTED=Config::${slot} is not a ${concept}"
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/system/check_compile_fail.cmake)
  # Builds in the shared build tree run one at a time.
  set_tests_properties(system/compile_fail_${slot} PROPERTIES RESOURCE_LOCK netmarl_build_tree)
endforeach()
