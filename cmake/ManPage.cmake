# Writes clbatch(1) from the built binary's own help, so the page cannot drift
# from `clbatch help`. Run as a build step (CMakeLists.txt, "Installing and
# packaging"):
#   cmake -DCLBATCH=path/to/clbatch -DOUTPUT=clbatch.1 [-DGZIP=gzip] -P ManPage.cmake
# `clbatch --help` gives the synopsis, the description and the command list
# (every command under "Commands:" but `help`), `clbatch help CMD` each
# command's section and `clbatch --version` the version in the title line. With
# GZIP it also writes OUTPUT.gz (gzip -9n: no name or time stamp, as Debian
# wants). The page carries a date only when SOURCE_DATE_EPOCH is set, so two
# builds of the same sources give the same bytes.
cmake_minimum_required(VERSION 3.20)

foreach(var CLBATCH OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "ManPage.cmake: -D${var}=... is required")
  endif()
endforeach()

# The environment the binary's help is read in, the stand-ins for ';' '[' ']'
# (protect, unprotect, lines_of) and run_clbatch.
include(${CMAKE_CURRENT_LIST_DIR}/ClbatchHelp.cmake)

# Stand for a table's .TP indent and what follows a tag until the whole table
# is known (table_roff).
string(ASCII 4 TP_INDENT)
string(ASCII 5 TAG_BREAK)

# OUT = LINE as roff text that prints exactly these characters: a backslash is
# roff's escape, '-' would be a hyphen (not the minus of an option), groff
# typesets ` ' ^ ~ as curly or raised glyphs, and a leading '.' would be a
# request. The stand-ins become their characters again.
function(roff_line out line)
  string(REPLACE "\\" "\\e" line "${line}")
  string(REPLACE "-" "\\-" line "${line}")
  string(REPLACE "`" "\\(ga" line "${line}")
  string(REPLACE "'" "\\(aq" line "${line}")
  string(REPLACE "^" "\\(ha" line "${line}")
  string(REPLACE "~" "\\(ti" line "${line}")
  string(REGEX REPLACE "^\\." "\\\\&." line "${line}")
  unprotect(line "${line}")
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

# OUT = the "Usage:" paragraph of a help text (a list of lines), on one line
# without "Usage: " (empty when there is none).
function(usage_of out lines)
  set(usage "")
  set(inside FALSE)
  foreach(line IN LISTS lines)
    if(line MATCHES "^Usage: (.*)")
      set(usage "${CMAKE_MATCH_1}")
      set(inside TRUE)
    elseif(inside AND line MATCHES "^ +(.+)")
      string(APPEND usage " ${CMAKE_MATCH_1}")
    else()
      set(inside FALSE)
    endif()
  endforeach()
  set(${out} "${usage}" PARENT_SCOPE)
endfunction()

# OUT = the tag of a table entry (TAG as the help writes it) as roff. In an
# option's tag ("--model LIST", "--m M --n N --k K", "--out=FILE") the options
# are bold and their arguments italic; any other tag (a command's name, "all,
# cpu, gpu") is bold as a whole.
function(roff_tag out tag)
  if(NOT tag MATCHES "^--?[A-Za-z0-9]")
    roff_line(tag "${tag}")
    set(${out} "\\fB${tag}\\fR" PARENT_SCOPE)
    return()
  endif()
  set(roff "")
  set(separator "")
  string(REPLACE " " ";" words "${tag}")
  foreach(word IN LISTS words)
    if(word MATCHES "^(-[^=]*)=(.+)$")
      set(argument "${CMAKE_MATCH_2}")
      roff_line(option "${CMAKE_MATCH_1}")
      roff_line(argument "${argument}")
      set(word "\\fB${option}\\fR=\\fI${argument}\\fR")
    elseif(word MATCHES "^-")
      roff_line(word "${word}")
      set(word "\\fB${word}\\fR")
    else()
      roff_line(word "${word}")
      set(word "\\fI${word}\\fR")
    endif()
    string(APPEND roff "${separator}${word}")
    set(separator " ")
  endforeach()
  set(${out} "${roff}" PARENT_SCOPE)
endfunction()

# OUT = BLOCK (consecutive indented lines of a help text) as a roff list of
# .TP items, or "" when BLOCK is no table: then it stays verbatim (examples,
# anything else). A table's entries all start at the block's indent: "TAG  TEXT"
# (the tag ends at the first run of two or more spaces; TEXT starts the
# description's column), or an option's tag alone (too long for the column:
# its description follows). Lines indented deeper, at least to the column,
# continue the description; the help broke them only for a terminal, so they
# are filled as one paragraph. A table of other tags than options (the command
# list, the values of --device) needs two entries and one column. A narrow
# column (the command list) keeps the tags beside their descriptions and the
# entries without blank lines, as the help does; wider ones put each tag on a
# line of its own (.br), so the descriptions keep most of the page's width.
function(table_roff out block)
  set(${out} "" PARENT_SCOPE)
  list(GET block 0 first)
  string(REGEX MATCH "^ +" lead "${first}")
  string(LENGTH "${lead}" indent)
  set(roff "")
  set(entries 0)
  set(columns "")
  set(other_tags FALSE)
  foreach(line IN LISTS block)
    string(REGEX REPLACE " +$" "" line "${line}")
    string(REGEX MATCH "^ +" lead "${line}")
    string(LENGTH "${lead}" depth)
    string(SUBSTRING "${line}" ${depth} -1 text)
    if(depth EQUAL indent)
      if(text MATCHES "^([^ ]+( [^ ]+)*)  +([^ ].*)$")
        set(tag "${CMAKE_MATCH_1}")
        set(description "${CMAKE_MATCH_3}")
        string(LENGTH "${line}" line_length)
        string(LENGTH "${description}" description_length)
        math(EXPR column "${line_length} - ${description_length}")
        list(APPEND columns ${column})
      elseif(text MATCHES "^--?[A-Za-z0-9]")
        set(tag "${text}")
        set(description "")
        set(column -1) # not known before the first continuation line
      else()
        return()
      endif()
      if(NOT tag MATCHES "^--?[A-Za-z0-9]")
        set(other_tags TRUE)
      endif()
      math(EXPR entries "${entries} + 1")
      roff_tag(tag "${tag}")
      string(APPEND roff ".TP${TP_INDENT}\n${tag}\n${TAG_BREAK}")
      if(NOT description STREQUAL "")
        roff_line(description "${description}")
        string(APPEND roff "${description}\n")
      endif()
    elseif(depth GREATER indent AND entries GREATER 0)
      if(column EQUAL -1)
        set(column ${depth})
        list(APPEND columns ${column})
      elseif(depth LESS column)
        return()
      endif()
      roff_line(text "${text}")
      string(APPEND roff "${text}\n")
    else()
      return()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES columns)
  list(LENGTH columns column_count)
  if(other_tags AND (entries LESS 2 OR NOT column_count EQUAL 1))
    return()
  endif()
  set(tp_indent "")
  set(tag_break ".br\n") # even a tag narrower than .TP's indent
  if(column_count EQUAL 1)
    math(EXPR width "${columns} - ${indent}")
    if(width LESS_EQUAL 16)
      set(tp_indent " ${width}n")
      set(tag_break "")
      set(roff ".PD 0\n${roff}.PD\n")
    endif()
  endif()
  string(REPLACE "${TP_INDENT}" "${tp_indent}" roff "${roff}")
  string(REPLACE "${TAG_BREAK}" "${tag_break}" roff "${roff}")
  set(${out} "${roff}" PARENT_SCOPE)
endfunction()

# Appends a help text (a list of lines) as roff to the variable PAGE_VAR names.
# Prose lines (not indented) are filled, so they reflow to the reader's width;
# an empty line starts a new paragraph. A paragraph's first line that ends in
# ':' right before indented lines is a heading ("What to measure:"), in bold.
# Indented lines that form a table (options, the command list) become a list
# (table_roff); any other indented lines keep the help's layout (.nf). The
# "Usage:" paragraph is joined and filled: its continuation is only aligned
# for a terminal.
function(append_help page_var lines)
  set(roff "")
  list(LENGTH lines count)
  set(i 0)
  set(paragraph_start TRUE)
  set(after_table FALSE)
  while(i LESS count)
    list(GET lines ${i} line)
    math(EXPR i "${i} + 1")
    set(next "")
    if(i LESS count)
      list(GET lines ${i} next)
    endif()
    if(line STREQUAL "")
      string(APPEND roff ".PP\n")
      set(paragraph_start TRUE)
      set(after_table FALSE)
      continue()
    endif()
    if(line MATCHES "^ ")
      set(block "${line}")
      while(i LESS count)
        list(GET lines ${i} next)
        if(NOT next MATCHES "^ ")
          break()
        endif()
        list(APPEND block "${next}")
        math(EXPR i "${i} + 1")
      endwhile()
      table_roff(table "${block}")
      if(table STREQUAL "")
        string(APPEND roff ".nf\n")
        foreach(block_line IN LISTS block)
          roff_line(block_line "${block_line}")
          string(APPEND roff "${block_line}\n")
        endforeach()
        string(APPEND roff ".fi\n")
      else()
        string(APPEND roff "${table}")
        set(after_table TRUE)
      endif()
      set(paragraph_start FALSE)
      continue()
    endif()
    if(after_table) # prose right after a table: back to the margin
      string(APPEND roff ".PP\n")
      set(after_table FALSE)
    endif()
    if(line MATCHES "^Usage: ")
      roff_line(line "${line}")
      string(APPEND roff "${line}\n")
      while(i LESS count)
        list(GET lines ${i} next)
        if(next STREQUAL "")
          break()
        endif()
        string(REGEX REPLACE "^ +" "" next "${next}")
        roff_line(next "${next}")
        string(APPEND roff "${next}\n")
        math(EXPR i "${i} + 1")
      endwhile()
    elseif(paragraph_start AND line MATCHES ":$" AND next MATCHES "^ ")
      roff_line(line "${line}")
      string(APPEND roff "\\fB${line}\\fR\n")
    else()
      roff_line(line "${line}")
      string(APPEND roff "${line}\n")
    endif()
    set(paragraph_start FALSE)
  endwhile()
  set(${page_var} "${${page_var}}${roff}" PARENT_SCOPE)
endfunction()

# --- What the binary says -----------------------------------------------------
run_clbatch(version_text --version)
if(NOT version_text MATCHES "^clbatch ([^ ,\n]+)")
  message(FATAL_ERROR "ManPage.cmake: no version in `clbatch --version`: ${version_text}")
endif()
set(version "${CMAKE_MATCH_1}")

run_clbatch(usage_text --help)
lines_of(usage_lines "${usage_text}")
usage_of(synopsis "${usage_lines}")

# The description is the first paragraph after "Usage:" (the NAME line without
# its full stop); the command list is the "Commands:" table.
set(summary "")
set(commands "")
set(state usage)
foreach(line IN LISTS usage_lines)
  if(state STREQUAL "usage" AND line STREQUAL "")
    set(state summary)
  elseif(state STREQUAL "summary" AND NOT line STREQUAL "")
    string(APPEND summary "${summary_sep}${line}")
    set(summary_sep " ")
  elseif(state STREQUAL "summary")
    set(state body)
  elseif(line STREQUAL "Commands:")
    set(state commands)
  elseif(state STREQUAL "commands" AND line MATCHES "^  ([a-z][a-z0-9_-]*)  ")
    if(NOT CMAKE_MATCH_1 STREQUAL "help")
      list(APPEND commands "${CMAKE_MATCH_1}")
    endif()
  elseif(state STREQUAL "commands")
    set(state body)
  endif()
endforeach()
if(summary STREQUAL "" OR commands STREQUAL "" OR synopsis STREQUAL "")
  message(FATAL_ERROR "ManPage.cmake: `clbatch --help` has no usage, description or "
    "\"Commands:\" list:\n${usage_text}")
endif()
string(REGEX REPLACE "\\.$" "" summary "${summary}")

# --- The page --------------------------------------------------------------
set(date "")
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  string(TIMESTAMP date "%Y-%m-%d" UTC) # reads SOURCE_DATE_EPOCH itself
endif()

roff_line(summary_roff "${summary}")
set(page "\
.\\\" clbatch(1), written by cmake/ManPage.cmake from `clbatch --help`,
.\\\" `clbatch help COMMAND` and `clbatch --version`. Do not edit.
.TH CLBATCH 1 \"${date}\" \"clbatch ${version}\" \"User Commands\"
.nh
.ad l
.SH NAME
clbatch \\- ${summary_roff}
.SH SYNOPSIS
")

# One line per usage: clbatch's own, then each command's (bold command words).
set(usages "${synopsis}")
set(help_texts "")
foreach(command IN LISTS commands)
  run_clbatch(help_text help ${command})
  lines_of(help_lines_${command} "${help_text}")
  usage_of(command_usage "${help_lines_${command}}")
  if(NOT command_usage STREQUAL "")
    list(APPEND usages "${command_usage}")
  endif()
endforeach()
set(first TRUE)
foreach(usage IN LISTS usages)
  if(NOT first)
    string(APPEND page ".br\n")
  endif()
  set(first FALSE)
  string(REGEX MATCH "^clbatch( [a-z][a-z0-9_-]*)?" words "${usage}")
  string(LENGTH "${words}" words_length)
  string(SUBSTRING "${usage}" ${words_length} -1 rest)
  string(STRIP "${rest}" rest)
  roff_line(rest "${rest}")
  string(APPEND page ".B ${words}\n${rest}\n")
endforeach()

# DESCRIPTION: everything --help says after its usage line.
string(APPEND page ".SH DESCRIPTION\n")
set(body_lines "")
set(skipping TRUE)
foreach(line IN LISTS usage_lines)
  if(skipping AND line STREQUAL "")
    set(skipping FALSE)
  elseif(NOT skipping)
    list(APPEND body_lines "${line}")
  endif()
endforeach()
append_help(page "${body_lines}")

string(APPEND page ".SH COMMANDS\n")
foreach(command IN LISTS commands)
  string(APPEND page ".SS clbatch ${command}\n")
  append_help(page "${help_lines_${command}}")
endforeach()

# What the help leaves out: who reads which variable, and where files live.
string(APPEND page [=[
.SH ENVIRONMENT
.TP
.B CLBATCH_TUNE_FILE
The file where \fBclbatch tune\fR stores the tuned CLBlast parameters and
from which later runs apply them.
.TP
.BR XDG_CACHE_HOME ", " HOME
Where that file is when \fBCLBATCH_TUNE_FILE\fR is unset:
\fI$XDG_CACHE_HOME/clbatch/tuned.conf\fR, else \fI\(ti/.cache/clbatch/tuned.conf\fR.
.TP
.B OCL_ICD_VENDORS
A folder of \fI.icd\fR files the OpenCL ICD loader reads instead of
\fI/etc/OpenCL/vendors\fR, to register a driver without root.
.TP
.B POCL_CACHE_DIR
Where PoCL keeps the kernels it compiles; a lasting folder spares
recompiling them on every run.
.SH FILES
.TP
.I /etc/OpenCL/vendors/*.icd
The OpenCL drivers the ICD loader registers.
.TP
.I \(ti/.cache/clbatch/tuned.conf
Tuned CLBlast parameters, per device, driver, precision and kernel.
.TP
.I results/local/run\-HOST\-TIME.csv
Where \fBclbatch run\fR writes without \fB\-\-out\fR, relative to the current
directory.
.TP
.I share/doc/clbatch/SCHEMA.md
Under the installation prefix (\fI/usr\fR for the Debian package): the columns
of the results CSV, next to the README.
.SH SEE ALSO
.BR clinfo (1),
.BR gnuplot (1)
]=])

file(WRITE "${OUTPUT}.tmp" "${page}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
if(GZIP)
  execute_process(COMMAND "${GZIP}" -9nc "${OUTPUT}" OUTPUT_FILE "${OUTPUT}.gz.tmp"
    RESULT_VARIABLE rc)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "ManPage.cmake: ${GZIP} failed (${rc})")
  endif()
  file(RENAME "${OUTPUT}.gz.tmp" "${OUTPUT}.gz")
endif()
