// Reads FST traces (the ones Harness writes) through the FST reader that ships inside
// Verilator's runtime: the signal list with widths, the time span, and the value
// changes of chosen signals. The capture flow uses it to name signals in .gtkw files
// exactly as GTKWave expects them; the tests use it to check what a trace holds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tessera::cli {

struct TraceVar {
  std::string path;  // hierarchical name without a range: tsr.tsr_top.u_exec.active_q
  std::string gtkw;  // the name GTKWave uses: ranged for vectors, e.g. ...iss_row_q[10:0]
  unsigned width = 1;
  std::uint32_t handle = 0;
};

class TraceFile {
 public:
  // Throws InputError if `path` is missing or not an FST file.
  explicit TraceFile(const std::string& path);
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  // First and last dumped times, in trace units (Harness: 10 per cycle).
  std::uint64_t start_time() const { return start_time_; }
  std::uint64_t end_time() const { return end_time_; }
  const std::map<std::string, TraceVar>& vars() const { return vars_; }
  // nullptr if the trace has no such signal.
  const TraceVar* find(const std::string& path) const;
  // Every value change of the signal (time, bits msb first), in time order; the first
  // entry is its value at start_time(). Throws InputError for an unknown signal.
  std::vector<std::pair<std::uint64_t, std::string>> changes(const std::string& path);

 private:
  void* reader_ = nullptr;
  std::uint64_t start_time_ = 0, end_time_ = 0;
  std::map<std::string, TraceVar> vars_;
};

// Two's-complement value of a bit string (msb first, at most 64 bits; x/z read as 0).
std::int64_t signed_value(const std::string& bits);
std::uint64_t unsigned_value(const std::string& bits);

}  // namespace tessera::cli
