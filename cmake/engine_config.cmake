# tessera_add_engine(NAME ROWS COLS ACT WGT ACC PARAM): one Verilated build of tsr_top,
# wrapped with the in-process transport, as the static library tsr_sim_<NAME>.
#
# One binary may link several builds (tessera-sim serves them all), so each one's symbols
# are its own: the Verilated class is Vtsr_top_<NAME>, and the harness and transport
# compiled for it live in the namespace tessera::sim::config_<NAME>. Only
# sim/default_engine.cpp defines the unqualified entry points (sim::make_sim_engine...);
# a binary that links one build uses those, one that links several names each build's.
# NAME must therefore be an identifier tail such as 16x16.
file(GLOB TESSERA_RTL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/rtl/*/*.sv)
# rtl/board/ is the FPGA bridge around the engine, built on its own (sim/board/).
list(FILTER TESSERA_RTL_SOURCES EXCLUDE REGEX "/pkg/|/board/")
set(TESSERA_RTL_SOURCES ${CMAKE_SOURCE_DIR}/rtl/pkg/tsr_pkg.sv ${TESSERA_RTL_SOURCES})

# What every build shares: fault specs and the command log's names.
add_library(tsr_sim_common STATIC ${CMAKE_SOURCE_DIR}/sim/sim_common.cpp)
target_include_directories(tsr_sim_common PUBLIC ${CMAKE_SOURCE_DIR}/sim)
target_link_libraries(tsr_sim_common PUBLIC tessera)

function(tessera_add_engine name rows cols act wgt acc param)
  set(target tsr_sim_${name})
  add_library(${target} STATIC
    ${CMAKE_SOURCE_DIR}/sim/harness.cpp
    ${CMAKE_SOURCE_DIR}/sim/sim_transport.cpp
    ${CMAKE_SOURCE_DIR}/sim/default_engine.cpp)
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/sim)
  target_link_libraries(${target} PUBLIC tsr_sim_common)
  target_compile_definitions(${target} PRIVATE TSR_CONFIG_NAME="${name}"
    TSR_CONFIG_NS=config_${name} TSR_TOP_CLASS=Vtsr_top_${name}
    TSR_TOP_HEADER="Vtsr_top_${name}.h")
  set_property(GLOBAL APPEND PROPERTY TESSERA_ENGINE_CONFIGS ${name})
  verilate(${target}
    SOURCES ${TESSERA_RTL_SOURCES}
    TOP_MODULE tsr_top
    PREFIX Vtsr_top_${name}
    TRACE_FST
    VERILATOR_ARGS -O3 --x-assign fast --x-initial fast --assert
      -GRows=${rows} -GCols=${cols} -GActDepth=${act} -GWgtDepth=${wgt}
      -GAccDepth=${acc} -GParamDepth=${param})
endfunction()
