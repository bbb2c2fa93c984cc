# Fails when a comment or document cites a text that is not in this repository: a reader of the
# repository has only what it holds, so a rule is stated in place or written into docs/.
# Run by the `references` test: cmake -DSOURCE_DIR=<checkout> -P tools/check_references.cmake
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
     ${SOURCE_DIR}/src/*.cc ${SOURCE_DIR}/src/*.h ${SOURCE_DIR}/include/*.h
     ${SOURCE_DIR}/tests/*.cc ${SOURCE_DIR}/tests/*.h ${SOURCE_DIR}/tests/*.js
     ${SOURCE_DIR}/tests/*.sh ${SOURCE_DIR}/bench/*  ${SOURCE_DIR}/tools/*.sh
     ${SOURCE_DIR}/docs/*.md ${SOURCE_DIR}/src/README.md ${SOURCE_DIR}/README.md
     ${SOURCE_DIR}/examples/*)
# Outside documents as earlier code cited them: "spec §1.2", "spec 1.6", "DESIGN.md §3", "DESIGN 2",
# "delta-protocol.md", "aqueducts-spec", a path into ../shared.
set(pattern "([Ss]pec §|[Ss]pec [0-9]+\\.[0-9]|[Ss]pec Appendix|DESIGN\\.md|DESIGN [0-9]|delta-protocol\\.md|aqueducts-spec|\\.\\./shared/)")
set(found "")
foreach(f ${files})
  if(f MATCHES "node_modules/" OR f MATCHES "check_references")
    continue()
  endif()
  file(STRINGS ${SOURCE_DIR}/${f} lines ENCODING UTF-8 REGEX "${pattern}")
  foreach(line ${lines})
    string(APPEND found "${f}: ${line}\n")
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "These lines cite documents that are not in the repository; state the "
                      "rule in place or cite docs/:\n${found}")
endif()
