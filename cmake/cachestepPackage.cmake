# Install and package rules of the cachestep CMake package (included by the top-level CMakeLists.txt after the
# libraries are defined). The libraries and headers install themselves (sigv4/ and engine/CMakeLists.txt,
# export set cachestepTargets); this writes the package files beside the exported targets:
#   <prefix>/lib/cmake/cachestep/cachestepConfig.cmake         find_dependency() of what the interface needs
#   <prefix>/lib/cmake/cachestep/cachestepConfigVersion.cmake  SameMajorVersion
#   <prefix>/lib/cmake/cachestep/cachestepTargets*.cmake       cachestep::sigv4, cachestep::engine, cachestep::archive
# so that a consumer writes find_package(cachestep 0.1 REQUIRED) and links cachestep::engine
# (examples/embed is such a consumer; tests/package/check_install.sh builds it against an install).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CACHESTEP_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cachestep)

# The config file asks for the engine's private dependencies only when the libraries are static.
get_target_property(_cachestep_engine_type cachestep_engine TYPE)
if(_cachestep_engine_type STREQUAL "STATIC_LIBRARY")
  set(CACHESTEP_PACKAGE_STATIC ON)
else()
  set(CACHESTEP_PACKAGE_STATIC OFF)
  # Installed shared: libcachestep_engine.so needs libcachestep_sigv4.so, and a program's DT_RUNPATH does not
  # serve its libraries' own dependencies, so the engine looks beside itself.
  set_target_properties(cachestep_engine PROPERTIES INSTALL_RPATH "$ORIGIN")
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cachestepConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cachestepConfig.cmake
  INSTALL_DESTINATION ${CACHESTEP_CMAKE_INSTALL_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cachestepConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)

install(EXPORT cachestepTargets
  NAMESPACE cachestep::
  DESTINATION ${CACHESTEP_CMAKE_INSTALL_DIR}
  COMPONENT development)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cachestepConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/cachestepConfigVersion.cmake
  DESTINATION ${CACHESTEP_CMAKE_INSTALL_DIR}
  COMPONENT development)
