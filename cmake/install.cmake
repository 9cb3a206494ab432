# What `cmake --install build --prefix P` puts under P, for programs that embed Tessera:
#   include/tessera/*.hpp              the public API (<tessera/tessera.hpp> brings it all)
#   lib/libtessera.so.1                tessera::tessera: runtime, golden reference, transports
#   lib/libtessera_sim.so.1            tessera::sim: the in-process 16x16 engine model and
#                                      open_transport("sim" | "tcp://..." | "serial://...")
#   lib/cmake/tessera/                 find_package(tessera 1.0) (SameMajorVersion)
#   lib/pkgconfig/tessera.pc, tessera-sim.pc
# The engine model is the Verilated RTL, compiled into a static archive for the in-tree
# tools (tsr_sim_16x16); libtessera_sim takes the whole archive in.
include(CMakePackageConfigHelpers)

add_library(tessera_sim SHARED ${CMAKE_SOURCE_DIR}/sim/libtessera_sim.cpp)
add_library(tessera::sim ALIAS tessera_sim)
set_target_properties(tessera_sim PROPERTIES EXPORT_NAME sim VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  # Installed, it finds libtessera beside itself whatever the consumer's search path.
  INSTALL_RPATH "$ORIGIN")
target_link_libraries(tessera_sim
  PUBLIC tessera
  PRIVATE $<LINK_LIBRARY:WHOLE_ARCHIVE,tsr_sim_16x16>)

# The public headers: every one but onnx.hpp, whose library (libtessera_onnx, protobuf)
# stays in the tree.
file(GLOB TESSERA_PUBLIC_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/sw/include/tessera/*.hpp)
list(FILTER TESSERA_PUBLIC_HEADERS EXCLUDE REGEX "/onnx\\.hpp$")
install(FILES ${TESSERA_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)

install(TARGETS tessera tessera_sim EXPORT tesseraTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(TESSERA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
install(EXPORT tesseraTargets NAMESPACE tessera:: DESTINATION ${TESSERA_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/tesseraConfig.cmake.in
  ${CMAKE_BINARY_DIR}/tesseraConfig.cmake INSTALL_DESTINATION ${TESSERA_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/tesseraConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/tesseraConfig.cmake
  ${CMAKE_BINARY_DIR}/tesseraConfigVersion.cmake DESTINATION ${TESSERA_CMAKE_DIR})

# The .pc files find the prefix from where they lie, so any --prefix works.
file(RELATIVE_PATH TESSERA_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
foreach(pc tessera tessera-sim)
  configure_file(${CMAKE_SOURCE_DIR}/cmake/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
