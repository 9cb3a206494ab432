# tessera_add_engine(NAME ROWS COLS ACT WGT ACC PARAM): one Verilated build of tsr_top,
# wrapped with the in-process transport, as the static library tsr_sim_<NAME>.
file(GLOB TESSERA_RTL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/rtl/*/*.sv)
list(FILTER TESSERA_RTL_SOURCES EXCLUDE REGEX "/pkg/")
set(TESSERA_RTL_SOURCES ${CMAKE_SOURCE_DIR}/rtl/pkg/tsr_pkg.sv ${TESSERA_RTL_SOURCES})

function(tessera_add_engine name rows cols act wgt acc param)
  set(target tsr_sim_${name})
  add_library(${target} STATIC
    ${CMAKE_SOURCE_DIR}/sim/harness.cpp
    ${CMAKE_SOURCE_DIR}/sim/sim_transport.cpp)
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/sim)
  target_link_libraries(${target} PUBLIC tessera)
  target_compile_definitions(${target} PRIVATE TSR_CONFIG_NAME="${name}")
  verilate(${target}
    SOURCES ${TESSERA_RTL_SOURCES}
    TOP_MODULE tsr_top
    PREFIX Vtsr_top
    TRACE_FST
    VERILATOR_ARGS -O3 --x-assign fast --x-initial fast
      -GRows=${rows} -GCols=${cols} -GActDepth=${act} -GWgtDepth=${wgt}
      -GAccDepth=${acc} -GParamDepth=${param})
endfunction()
