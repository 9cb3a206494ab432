// GTKWave views of the engine: named signal groups per subsystem, written as .gtkw save
// files. The committed files in sim/waves/ come from `tessera waves --out sim/waves`
// (hidden command), and the mismatch capture writes one for the column it points at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace_file.hpp"

namespace tessera::cli {

enum class WaveFormat { kBinary, kHex, kDecimal, kSigned };

struct WaveTrace {
  // Hierarchical path without range, e.g. tsr.tsr_top.u_exec.active_q; "a|b" names
  // alternatives (the first in the trace is used) for signals the RTL has renamed.
  std::string signal;
  std::string alias;  // the readable name shown in GTKWave
  WaveFormat format = WaveFormat::kHex;
  bool highlight = false;
};

struct WaveGroup {
  std::string name;
  std::vector<WaveTrace> traces;
  bool closed = false;
};

struct WaveView {
  std::string name;   // file stem: sim/waves/<name>.gtkw
  std::string title;  // one line for the file's header comment
  std::vector<WaveGroup> groups;
};

// The committed per-subsystem views: command queue, load/execute/store, array edges,
// accumulators, store unit, AXI ports, and an overview.
std::vector<WaveView> subsystem_views(unsigned rows, unsigned cols);

// The capture view for a wrong value in array column `col`: every PE of that column,
// the accumulator and store lanes, the output port; the suspect PE first if known.
WaveView column_view(unsigned rows, unsigned cols, unsigned col,
                     std::optional<unsigned> suspect_row);

struct SaveFileOptions {
  std::string note;                         // an extra header comment line
  std::string dumpfile;                     // absolute path of the trace, or empty
  std::optional<std::uint64_t> time_start;  // left edge of the view
  std::optional<std::uint64_t> time_span;   // width of the view (sets the zoom)
  std::optional<std::uint64_t> marker;      // primary marker
  std::vector<std::pair<char, std::uint64_t>> named_markers;  // 'A'..'Z'
};

// Writes `view` as a save file, naming each signal as `trace` declares it (GTKWave needs
// the exact ranged name). Returns the signals the trace lacks; they are left out.
std::vector<std::string> write_save_file(const std::string& path, const WaveView& view,
                                         const TraceFile& trace, const SaveFileOptions& options);

}  // namespace tessera::cli
