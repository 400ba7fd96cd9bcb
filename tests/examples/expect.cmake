# Shared by the check_*.cmake scripts (run with `cmake -P`), which include() it.
# expect(<program> <exit code> <regex the output must match> args...)
function(expect program code pattern)
  execute_process(COMMAND ${program} ${ARGN} RESULT_VARIABLE result
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL code)
    message(FATAL_ERROR "${program} ${ARGN}: exit ${result}, expected ${code}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "${program} ${ARGN}: output does not match '${pattern}':\n${out}${err}")
  endif()
endfunction()
