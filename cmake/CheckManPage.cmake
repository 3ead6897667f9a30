# Checks clbatch(1) as cmake/ManPage.cmake wrote it (the `man_page` test in
# CMakeLists.txt, "Installing and packaging"):
#   cmake -DCLBATCH=path/to/clbatch -DPAGE=clbatch.1 -DMAN=path/to/man
#         [-DWIDTH=80] -P CheckManPage.cmake
# It renders PAGE with `man --warnings -l` at WIDTH columns and fails on
# - any warning of groff's (or anything else man says on stderr);
# - a rendered line longer than WIDTH that groff could have broken (one with a
#   space after its indent; a single long token cannot break);
# - a section that does not say its help word for word: DESCRIPTION against
#   `clbatch --help` after the usage paragraph, and the COMMANDS subsection of
#   every command that --help lists against `clbatch help COMMAND`. Only the
#   words count (what runs of white space separate), not the layout or fonts.
cmake_minimum_required(VERSION 3.20)

foreach(var CLBATCH PAGE MAN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CheckManPage.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED WIDTH)
  set(WIDTH 80)
endif()
if(NOT EXISTS "${PAGE}")
  message(FATAL_ERROR "CheckManPage.cmake: no ${PAGE} (build the clbatch_man target)")
endif()

# The environment ManPage.cmake gives the binary, so the help reads the same,
# the stand-ins for ';' '[' ']' that lines and words keep in CMake lists
# (protect, unprotect, lines_of) and run_clbatch.
include(${CMAKE_CURRENT_LIST_DIR}/ClbatchHelp.cmake)

# ASCII output (LC_ALL=C, set there) without bold or underlining, at WIDTH,
# whatever the caller's man settings.
set(ENV{MANWIDTH} "${WIDTH}")
foreach(var MAN_KEEP_FORMATTING MANOPT MANROFFOPT MANPAGER PAGER GROFF_NO_SGR)
  unset(ENV{${var}})
endforeach()
string(ASCII 8 BACKSPACE) # in overstrikes, should man still write them

# OUT = TEXT as a list of words (protected).
function(words_of out text)
  protect(text "${text}")
  string(REGEX REPLACE "[ \t\r\n]+" ";" text "${text}")
  string(REGEX REPLACE "^;|;$" "" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(failures "")

# --- Rendering -----------------------------------------------------------------
execute_process(COMMAND "${MAN}" --warnings -l "${PAGE}"
  OUTPUT_VARIABLE rendered ERROR_VARIABLE warnings RESULT_VARIABLE rc)
if(NOT rc STREQUAL "0" OR rendered STREQUAL "")
  message(FATAL_ERROR "CheckManPage.cmake: `man -l ${PAGE}` failed (${rc}): ${warnings}")
endif()
if(NOT warnings STREQUAL "")
  string(APPEND failures "man --warnings (MANWIDTH=${WIDTH}) says:\n${warnings}\n")
endif()
# Overstrikes, should a man still use them: X^HX is bold, _^HX underlined.
string(REGEX REPLACE ".${BACKSPACE}" "" rendered "${rendered}")
lines_of(rendered_lines "${rendered}")

# Long lines, and the rendered text of each section: DESCRIPTION, and each
# "clbatch COMMAND" subsection (indented 3) of COMMANDS. A line at the margin
# (a section heading, the footer) ends a section.
set(section "")
set(number 0)
foreach(line IN LISTS rendered_lines)
  math(EXPR number "${number} + 1")
  unprotect(plain "${line}")
  string(LENGTH "${plain}" length)
  if(length GREATER WIDTH)
    string(STRIP "${plain}" stripped)
    if(stripped MATCHES " ")
      string(APPEND failures "rendered line ${number} has ${length} > ${WIDTH} columns "
        "but could break:\n${plain}\n")
    endif()
  endif()
  if(line MATCHES "^[^ ]")
    set(section "")
    if(line STREQUAL "DESCRIPTION")
      set(section description)
    elseif(line STREQUAL "COMMANDS")
      set(in_commands TRUE)
    else()
      set(in_commands FALSE)
    endif()
  elseif(in_commands AND line MATCHES "^   clbatch ([a-z][a-z0-9_-]*)$")
    set(section "command_${CMAKE_MATCH_1}")
    set(seen_${section} TRUE)
  elseif(NOT section STREQUAL "")
    string(APPEND text_${section} "${line}\n")
  endif()
endforeach()

# FAILURES gets a note when the words of the page's SECTION (its rendered text)
# are not the words of HELP, in order.
function(compare_words section what help)
  words_of(expected "${help}")
  words_of(actual "${text_${section}}")
  list(LENGTH expected expected_count)
  list(LENGTH actual actual_count)
  set(index 0)
  while(index LESS expected_count AND index LESS actual_count)
    list(GET expected ${index} want)
    list(GET actual ${index} have)
    if(NOT want STREQUAL have)
      break()
    endif()
    math(EXPR index "${index} + 1")
  endwhile()
  if(index EQUAL expected_count AND index EQUAL actual_count)
    return()
  endif()
  # Where they part: the help's words from a few before, and the page's.
  set(from 0)
  if(index GREATER 6)
    math(EXPR from "${index} - 6")
  endif()
  math(EXPR to "${index} + 8")
  foreach(side expected actual)
    set(context "")
    set(k ${from})
    while(k LESS ${side}_count AND k LESS to)
      list(GET ${side} ${k} word)
      string(APPEND context " ${word}")
      math(EXPR k "${k} + 1")
    endwhile()
    unprotect(${side}_context "${context}")
  endforeach()
  math(EXPR word_number "${index} + 1")
  set(failures "${failures}the man page's ${what} differs from its help at word \
${word_number} (help ${expected_count} words, page ${actual_count}):\n\
  help:${expected_context}\n  page:${actual_context}\n" PARENT_SCOPE)
endfunction()

# --- What the help says ----------------------------------------------------------
run_clbatch(usage_text --help)
lines_of(usage_lines "${usage_text}")
# DESCRIPTION is --help after its usage paragraph; the commands are the
# "Commands:" table but `help` (as ManPage.cmake reads them).
set(description "")
set(commands "")
set(state usage)
foreach(line IN LISTS usage_lines)
  if(state STREQUAL "usage")
    if(line STREQUAL "")
      set(state body)
    endif()
    continue()
  endif()
  string(APPEND description "${line}\n")
  if(line STREQUAL "Commands:")
    set(state commands)
  elseif(state STREQUAL "commands" AND line MATCHES "^  ([a-z][a-z0-9_-]*)  ")
    if(NOT CMAKE_MATCH_1 STREQUAL "help")
      list(APPEND commands "${CMAKE_MATCH_1}")
    endif()
  else()
    set(state body)
  endif()
endforeach()
if(commands STREQUAL "")
  message(FATAL_ERROR "CheckManPage.cmake: no \"Commands:\" list in `clbatch --help`")
endif()
unprotect(description "${description}")
compare_words(description "DESCRIPTION (clbatch --help)" "${description}")
foreach(command IN LISTS commands)
  if(NOT seen_command_${command})
    string(APPEND failures "the man page has no section \"clbatch ${command}\"\n")
    continue()
  endif()
  run_clbatch(help_text help ${command})
  compare_words(command_${command} "section \"clbatch ${command}\" (clbatch help ${command})"
    "${help_text}")
endforeach()

if(NOT failures STREQUAL "")
  unprotect(failures "${failures}")
  message(FATAL_ERROR "CheckManPage.cmake: ${PAGE}:\n${failures}")
endif()
list(LENGTH commands command_count)
message(STATUS "${PAGE}: no warnings, no breakable line over ${WIDTH} columns; "
  "DESCRIPTION and ${command_count} command sections say their help word for word")
