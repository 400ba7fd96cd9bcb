# Builds TARGET in BUILD_DIR, expecting the build to fail with exactly one compiler error whose
# text contains EXPECTED.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(log "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but the config has a wrong slot and must not")
endif()
string(FIND "${log}" "${EXPECTED}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${TARGET} failed without the sentence '${EXPECTED}':\n${log}")
endif()
string(REGEX MATCHALL "error: " errors "${log}")
list(LENGTH errors error_count)
if(NOT error_count EQUAL 1)
  message(FATAL_ERROR "${TARGET}: expected exactly 1 compiler error, got ${error_count}:\n${log}")
endif()
message(STATUS "${TARGET}: one error, naming the slot: ${EXPECTED}")
