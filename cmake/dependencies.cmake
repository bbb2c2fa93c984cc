# Third-party dependencies. DuckDB comes from third_party/duckdb (tools/setup.sh fetches it).
set(AQ_DUCKDB_DIR "${CMAKE_SOURCE_DIR}/third_party/duckdb")
if(NOT EXISTS "${AQ_DUCKDB_DIR}/lib/libduckdb.so")
  message(FATAL_ERROR "DuckDB not found in ${AQ_DUCKDB_DIR}: run tools/setup.sh (or make setup)")
endif()
add_library(duckdb SHARED IMPORTED GLOBAL)
set_target_properties(duckdb PROPERTIES
  IMPORTED_LOCATION "${AQ_DUCKDB_DIR}/lib/libduckdb.so"
  IMPORTED_SONAME libduckdb.so)
target_include_directories(duckdb SYSTEM INTERFACE "${AQ_DUCKDB_DIR}/include")
# Binaries find libduckdb.so without LD_LIBRARY_PATH: in the build tree through an absolute
# rpath, once installed through $ORIGIN/../lib.
set(CMAKE_BUILD_RPATH "${AQ_DUCKDB_DIR}/lib")
set(CMAKE_INSTALL_RPATH "$ORIGIN/../lib")

find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(OpenSSL REQUIRED)  # src/storage: request signing
find_package(CURL REQUIRED)     # src/storage: the object-store HTTP client
pkg_check_modules(ODBC REQUIRED IMPORTED_TARGET odbc)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)  # src/engine: regexp_match
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)  # src/server: the PostgreSQL store
find_package(roaring REQUIRED)
if(AQ_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(AQ_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
