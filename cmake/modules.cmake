# aq_add_module(<name> [PUBLIC <targets...>] [PRIVATE <targets...>] [TEST_DEPS <targets...>])
# (DEPS <targets...> is the older spelling of PUBLIC, kept so pending branches still configure.)
# Builds src/<name>/*.cc (minus *_test.cc and *_main.cc) into the static library aq_<name>, and
# src/<name>/*_test.cc into the test binary aq_<name>_tests (one per module, as arrow does).
#
# Layering is enforced by include paths (src/README.md, "Module graph"):
# - a module's headers are reachable as "<name>/x.h" only through the include directory
#   <build>/module_include/<name>, which holds nothing but a link <name> -> src/<name>; it is a
#   PUBLIC include directory of aq_<name>, so exactly the targets that link aq_<name> (directly, or
#   through a PUBLIC dependency) can include its headers. src/ itself is on no include path.
# - PUBLIC dependencies are the modules and libraries the module's own headers include; every
#   other dependency is PRIVATE, so its headers stay invisible to the module's dependents (a
#   static library still passes its PRIVATE dependencies on to the final link).
# - include/ (the public API, "aqueducts/x.h") is visible to every module.
set(AQ_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers)
if(AQ_WERROR)
  list(APPEND AQ_WARNINGS -Werror)
endif()
set(AQ_MODULE_INCLUDE_ROOT "${CMAKE_BINARY_DIR}/module_include")

function(aq_add_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE;DEPS;TEST_DEPS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aq_add_module(${name}): unexpected ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  set(lib_srcs)
  set(test_srcs)
  foreach(s ${srcs})
    if(s MATCHES "_test\\.cc$")
      list(APPEND test_srcs ${s})
    elseif(NOT s MATCHES "_main\\.cc$")
      list(APPEND lib_srcs ${s})
    endif()
  endforeach()
  set(inc "${AQ_MODULE_INCLUDE_ROOT}/${name}")
  file(MAKE_DIRECTORY "${inc}")
  file(CREATE_LINK "${CMAKE_CURRENT_SOURCE_DIR}" "${inc}/${name}" SYMBOLIC)
  add_library(aq_${name} STATIC ${lib_srcs})
  target_include_directories(aq_${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${inc})
  target_compile_options(aq_${name} PRIVATE ${AQ_WARNINGS})
  target_link_libraries(aq_${name} PUBLIC ${ARG_PUBLIC} ${ARG_DEPS} PRIVATE ${ARG_PRIVATE})
  set_target_properties(aq_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(AQ_BUILD_TESTS AND test_srcs)
    add_executable(aq_${name}_tests ${test_srcs})
    target_compile_options(aq_${name}_tests PRIVATE ${AQ_WARNINGS})
    target_link_libraries(aq_${name}_tests PRIVATE aq_${name} aq_testing ${ARG_TEST_DEPS}
                          GTest::gtest GTest::gmock GTest::gtest_main)
    gtest_discover_tests(aq_${name}_tests WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                         DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
  endif()
endfunction()
