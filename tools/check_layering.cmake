# Checks the layering the build enforces (src/README.md, "Module graph"); run by ctest as
# `layering` (so by `make test` and .ci/run):
#   cmake -DSOURCE_DIR=<repo> -DBUILD_DIR=<build> -P tools/check_layering.cmake
# 1. No source file outside src/engine/ includes a DuckDB header. The one exception is
#    bench/duckdb_sql.c, the plain-DuckDB baseline of the benchmarks (docs/benchmarks.md).
# 2. No compile command outside src/engine/ (and that baseline) has DuckDB's include directory.
# 3. Probes compiled with the real flags of a module's files: what a module may include compiles,
#    what it may not (DuckDB outside the engine, a module it does not depend on, the modules
#    behind the public API from the CLI) fails with "No such file".
# Exits non-zero naming every violation.
cmake_minimum_required(VERSION 3.25)
foreach(var SOURCE_DIR BUILD_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_layering: -D${var}=... is required")
  endif()
endforeach()
set(duckdb_baseline "bench/duckdb_sql.c")
set(failures "")

# 1. Sources.
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
     "${SOURCE_DIR}/src/*" "${SOURCE_DIR}/include/*" "${SOURCE_DIR}/tests/*"
     "${SOURCE_DIR}/examples/*" "${SOURCE_DIR}/bench/*" "${SOURCE_DIR}/tools/*")
set(checked 0)
foreach(f ${files})
  if(NOT f MATCHES "\\.(c|cc|cpp|cxx|h|hh|hpp)$" OR f MATCHES "^src/engine/" OR
     f STREQUAL duckdb_baseline OR f MATCHES "/\\.deps/")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  file(STRINGS "${SOURCE_DIR}/${f}" hits REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]duckdb[./]")
  foreach(h ${hits})
    string(STRIP "${h}" h)
    list(APPEND failures "${f} includes DuckDB (${h}): only src/engine/ may")
  endforeach()
endforeach()
if(checked LESS 50)
  list(APPEND failures "only ${checked} source files found under ${SOURCE_DIR}: wrong SOURCE_DIR?")
endif()

# 2. Compile commands.
file(READ "${BUILD_DIR}/compile_commands.json" db)
string(JSON n LENGTH "${db}")
math(EXPR last "${n} - 1")
set(duckdb_inc "${SOURCE_DIR}/third_party/duckdb/include")
foreach(i RANGE ${last})
  string(JSON file GET "${db}" ${i} file)
  string(JSON command GET "${db}" ${i} command)
  file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
  set(flags_${rel} "${command}")
  # The engine's own files, and its precompiled header's generated source in the build tree.
  if(rel MATCHES "^src/engine/" OR rel STREQUAL duckdb_baseline OR
     file MATCHES "/CMakeFiles/aq_engine(_tests)?\\.dir/")
    continue()
  endif()
  string(FIND "${command}" "${duckdb_inc}" at)
  if(at GREATER -1)
    list(APPEND failures "${rel} is compiled with DuckDB's include directory")
  endif()
endforeach()

# 3. Probes: compile `#include <header>` with the flags of `module_file`.
set(probe_dir "${BUILD_DIR}/layering_probes")
file(MAKE_DIRECTORY "${probe_dir}")
function(probe module_file header expect)
  if(NOT DEFINED flags_${module_file})
    list(APPEND failures "no compile command for ${module_file}")
    set(failures "${failures}" PARENT_SCOPE)
    return()
  endif()
  separate_arguments(args UNIX_COMMAND "${flags_${module_file}}")
  list(GET args 0 compiler)
  set(keep "")
  set(take_next FALSE)
  foreach(a ${args})
    if(take_next)
      list(APPEND keep "${a}")
      set(take_next FALSE)
    elseif(a MATCHES "^-(I|D|std=)" AND NOT a STREQUAL "-I")
      list(APPEND keep "${a}")
    elseif(a STREQUAL "-isystem" OR a STREQUAL "-I")
      list(APPEND keep "${a}")
      set(take_next TRUE)
    endif()
  endforeach()
  string(MAKE_C_IDENTIFIER "${module_file}_${header}" id)
  file(WRITE "${probe_dir}/${id}.cc" "#include ${header}\n")
  execute_process(COMMAND ${compiler} ${keep} -fsyntax-only "${probe_dir}/${id}.cc"
                  WORKING_DIRECTORY "${BUILD_DIR}" RESULT_VARIABLE rc ERROR_VARIABLE err
                  OUTPUT_QUIET)
  if(expect STREQUAL "ok" AND NOT rc EQUAL 0)
    list(APPEND failures "${module_file} cannot include ${header}, but should: ${err}")
  elseif(expect STREQUAL "hidden" AND rc EQUAL 0)
    list(APPEND failures "${module_file} can include ${header}, but must not")
  elseif(expect STREQUAL "hidden" AND NOT err MATCHES "No such file")
    list(APPEND failures "${module_file} including ${header} failed for another reason: ${err}")
  else()
    message(STATUS "${module_file}: #include ${header} -> ${expect} (as required)")
  endif()
  set(failures "${failures}" PARENT_SCOPE)
endfunction()

probe(src/engine/session.cc "<duckdb.h>" ok)
probe(src/io/file_source.cc "<duckdb.h>" hidden)
probe(src/io/file_source.cc "\"engine/session.h\"" ok)
probe(src/io/file_source.cc "\"runner/endpoints.h\"" hidden)
probe(src/io/file_source.cc "\"delta/log.h\"" hidden)
probe(src/delta/log.cc "\"io/file_source.h\"" hidden)
probe(src/model/loader.cc "\"engine/session.h\"" hidden)
probe(src/runner/endpoints.cc "\"io/file_source.h\"" ok)
probe(src/runner/endpoints.cc "<duckdb.h>" hidden)
probe(src/cli/app.cc "\"aqueducts/run.h\"" ok)
probe(src/cli/app.cc "\"runner/endpoints.h\"" hidden)
probe(src/cli/app.cc "\"executor/config.h\"" hidden)
probe(src/cli/app.cc "<duckdb.h>" hidden)
probe(src/executor/config.cc "\"cli/app.h\"" hidden)
probe(src/executor/config.cc "\"protocol/events.h\"" ok)
probe(src/protocol/events.cc "\"engine/session.h\"" hidden)

if(failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "layering violations:\n  ${text}")
endif()
message(STATUS "layering: ok (${checked} source files, ${n} compile commands)")
