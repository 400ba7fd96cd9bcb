# The quickstart as a user runs it: --help, bad flag values (exit code 2 with a message), and
# byte-identical CSVs from two runs with the same seed.
if(TARGET quickstart)
  add_test(NAME examples/quickstart_cli
           COMMAND ${CMAKE_COMMAND} -DQUICKSTART=$<TARGET_FILE:quickstart>
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/quickstart_cli
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_quickstart.cmake)
endif()

# The VAST mains: flags, bad input, a short reproducible run of each domain, the comparison plot.
if(TARGET vast_gaussian_squeeze AND TARGET vast_warehouse AND TARGET vast_battle
   AND TARGET compare_plot)
  add_test(NAME examples/vast_cli
           COMMAND ${CMAKE_COMMAND} -DSQUEEZE=$<TARGET_FILE:vast_gaussian_squeeze>
                   -DWAREHOUSE=$<TARGET_FILE:vast_warehouse> -DBATTLE=$<TARGET_FILE:vast_battle>
                   -DCOMPARE_PLOT=$<TARGET_FILE:compare_plot>
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/vast_cli
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_vast.cmake)
endif()

# The Intention Propagation mains: flags, bad input, every method on both environments, and
# byte-identical CSVs from two runs with the same seed.
if(TARGET intention_propagation_coordination_grid AND TARGET intention_propagation_cooperative_navigation)
  add_test(NAME examples/intention_propagation_cli
           COMMAND ${CMAKE_COMMAND} -DGRID=$<TARGET_FILE:intention_propagation_coordination_grid>
                   -DNAVIGATION=$<TARGET_FILE:intention_propagation_cooperative_navigation>
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/intention_propagation_cli
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_intention_propagation.cmake)
endif()

# The LToS mains: flags, bad input, every method on every environment, reproducible CSVs, the
# selfishness trace.
if(TARGET ltos_prisoner AND TARGET ltos_jungle AND TARGET ltos_traffic)
  add_test(NAME examples/ltos_cli
           COMMAND ${CMAKE_COMMAND} -DPRISONER=$<TARGET_FILE:ltos_prisoner>
                   -DJUNGLE=$<TARGET_FILE:ltos_jungle> -DTRAFFIC=$<TARGET_FILE:ltos_traffic>
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/ltos_cli
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_ltos.cmake)
endif()

# The EBPG mains: flags, bad input, every leader with every kind of follower for a few episodes,
# reproducible CSVs and the summary's fields.
if(TARGET ebpg_resource_collection AND TARGET ebpg_multi_bonus)
  add_test(NAME examples/ebpg_cli
           COMMAND ${CMAKE_COMMAND} -DRESOURCE=$<TARGET_FILE:ebpg_resource_collection>
                   -DMULTI=$<TARGET_FILE:ebpg_multi_bonus>
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/ebpg_cli
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_ebpg.cmake)
endif()
