# What ManPage.cmake (writes clbatch(1) from the binary's help) and
# CheckManPage.cmake (the `man_page` test, which checks the page against that
# help) share, so both read the same help the same way. Included by both
# (script mode, -P); including it pins the environment the binary runs in.

# The help must not depend on who builds: `clbatch help tune` names the tuned
# parameters file, which this turns into the usual ~/.cache/clbatch/tuned.conf.
# No .icd folder: --version asks only the ICD loader, and no driver needs to
# load at build time. No leak check: a sanitized build (CLBATCH_SANITIZE) runs
# this too, and the OpenCL stack's leaks are the test suite's business.
set(ENV{HOME} "~")
unset(ENV{XDG_CACHE_HOME})
unset(ENV{CLBATCH_TUNE_FILE})
set(ENV{OCL_ICD_VENDORS} "${CMAKE_CURRENT_BINARY_DIR}/no-such-icd-folder")
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
set(ENV{LC_ALL} C)

# CMake lists split on ';' but not inside unbalanced '[' ']', and the help has
# both ("[,val_accuracy]]", "(default none; ..."). Lines and words become
# lists with these stand-ins in place (protect), and unprotect puts the
# characters back.
string(ASCII 1 SEMICOLON)
string(ASCII 2 LBRACKET)
string(ASCII 3 RBRACKET)

function(protect out text)
  string(REPLACE ";" "${SEMICOLON}" text "${text}")
  string(REPLACE "[" "${LBRACKET}" text "${text}")
  string(REPLACE "]" "${RBRACKET}" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(unprotect out text)
  string(REPLACE "${SEMICOLON}" ";" text "${text}")
  string(REPLACE "${LBRACKET}" "[" text "${text}")
  string(REPLACE "${RBRACKET}" "]" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# OUT = TEXT as a list of lines (trailing newlines dropped), protected.
function(lines_of out text)
  protect(text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# OUT = stdout of `clbatch ARGN` (-DCLBATCH); a failure or an empty answer
# stops the script, naming it.
function(run_clbatch out)
  execute_process(COMMAND "${CLBATCH}" ${ARGN}
    OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc STREQUAL "0" OR text STREQUAL "")
    get_filename_component(script "${CMAKE_SCRIPT_MODE_FILE}" NAME)
    message(FATAL_ERROR "${script}: `clbatch ${ARGN}` failed (${rc}): ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()
