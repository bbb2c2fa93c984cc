# `cmake --install` / `make install PREFIX=...` and `cpack -G DEB` (docs/install.md).
# Layout under the prefix: bin/aqueducts, bin/aqueducts-executor, lib/libaqueducts.so* (the
# public API), lib/libduckdb.so, include/aqueducts/*.h, lib/cmake/aqueducts/ (find_package).
# Everything is relocatable: binaries and libaqueducts.so find their libraries through the
# RUNPATH $ORIGIN/../lib (cmake/dependencies.cmake), and the package config computes the prefix
# from its own location. lib/ is fixed (not GNUInstallDirs' multiarch directory) so that
# $ORIGIN/../lib holds for every prefix.
include(CMakePackageConfigHelpers)
set(AQ_INSTALL_CMAKEDIR lib/cmake/aqueducts)

install(TARGETS aqueducts aqueducts-executor RUNTIME DESTINATION bin)
# The Dask driver of `aqueducts run --dask`, found relative to the binary (docs/scale-out.md).
install(FILES ${CMAKE_SOURCE_DIR}/src/distribute/aqueducts_dask.py DESTINATION share/aqueducts)
install(TARGETS aqueducts_api EXPORT aqueductsTargets
        LIBRARY DESTINATION lib
        INCLUDES DESTINATION include)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/aqueducts DESTINATION include
        FILES_MATCHING PATTERN "*.h")
install(FILES ${AQ_DUCKDB_DIR}/lib/libduckdb.so DESTINATION lib)
install(EXPORT aqueductsTargets NAMESPACE aqueducts:: DESTINATION ${AQ_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/aqueductsConfig.cmake.in
  ${CMAKE_BINARY_DIR}/aqueductsConfig.cmake INSTALL_DESTINATION ${AQ_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/aqueductsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/aqueductsConfig.cmake
              ${CMAKE_BINARY_DIR}/aqueductsConfigVersion.cmake
        DESTINATION ${AQ_INSTALL_CMAKEDIR})

# Debian package: `make package` or `cd build && cpack -G DEB`. Installs under /usr; the
# dependencies on Debian's shared libraries come from dpkg-shlibdeps, with lib/ of the package
# itself searched for libduckdb.so and libaqueducts.so.
set(CPACK_PACKAGE_NAME aqueducts)
set(CPACK_PACKAGE_VENDOR "Aqueducts")
set(CPACK_PACKAGE_CONTACT "Aqueducts maintainers <aqueducts@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Declarative ETL pipelines on DuckDB")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${AQ_DUCKDB_DIR}/lib ${CMAKE_BINARY_DIR}/src)
# gzip: xz takes minutes over the 60 MB libduckdb.so for little gain.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
