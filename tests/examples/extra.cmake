# The quickstart as a user runs it: --help, bad flag values (exit code 2 with a message), and
# byte-identical CSVs from two runs with the same seed.
if(TARGET quickstart)
  add_test(NAME examples/quickstart_cli
           COMMAND ${CMAKE_COMMAND} -DQUICKSTART=$<TARGET_FILE:quickstart>
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/quickstart_cli
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_quickstart.cmake)
endif()
