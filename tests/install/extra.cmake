# A consumer project builds and runs against netmarl two ways: an installed copy found with
# find_package(netmarl CONFIG REQUIRED), and add_subdirectory of the source tree.
add_test(NAME install/consumer
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBUILD_DIR=${CMAKE_BINARY_DIR}
                 -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/install/check_consumer.cmake)
set_tests_properties(install/consumer PROPERTIES TIMEOUT 600)
