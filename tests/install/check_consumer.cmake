# Installs the build tree into a scratch prefix, then configures, builds and runs
# tests/install/consumer twice: through find_package and through add_subdirectory.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/share/netmarl/cmake/netmarlConfigVersion.cmake)
  message(FATAL_ERROR "install did not write share/netmarl/cmake/netmarlConfigVersion.cmake")
endif()

foreach(mode IN ITEMS find_package add_subdirectory)
  set(build ${WORK_DIR}/build-${mode})
  run_step("configure (${mode})" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${build}
           -DCMAKE_BUILD_TYPE=Release -DCONSUMER_MODE=${mode} -DNETMARL_SOURCE_DIR=${SOURCE_DIR}
           -DCMAKE_PREFIX_PATH=${prefix})
  run_step("build (${mode})" ${CMAKE_COMMAND} --build ${build})
  run_step("run (${mode})" ${build}/consumer)
  if(NOT step_output MATCHES "consumer ok")
    message(FATAL_ERROR "consumer (${mode}) printed:\n${step_output}")
  endif()
  message(STATUS "consumer (${mode}): ${step_output}")
endforeach()
