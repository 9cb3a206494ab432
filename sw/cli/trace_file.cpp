#include "trace_file.hpp"

#include <filesystem>

#include "gtkwave/fstapi.h"
#include "tessera/errors.hpp"

namespace tessera::cli {
namespace {

// FST variable names may carry their range ("iss_row_q [10:0]"); scopes never do.
std::string base_name(const char* name, std::uint32_t length, std::string& range) {
  std::string text(name, length);
  const auto bracket = text.find(" [");
  if (bracket != std::string::npos) {
    range = text.substr(bracket + 1);
    return text.substr(0, bracket);
  }
  range.clear();
  return text;
}

}  // namespace

TraceFile::TraceFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError("trace '" + path + "': no such file");
  }
  reader_ = fstReaderOpen(path.c_str());
  if (!reader_) throw InputError("trace '" + path + "': not an FST file");
  start_time_ = fstReaderGetStartTime(reader_);
  end_time_ = fstReaderGetEndTime(reader_);

  std::vector<std::string> scopes;
  std::string prefix;
  while (const fstHier* h = fstReaderIterateHier(reader_)) {
    if (h->htyp == FST_HT_SCOPE) {
      scopes.emplace_back(h->u.scope.name, h->u.scope.name_length);
    } else if (h->htyp == FST_HT_UPSCOPE) {
      if (!scopes.empty()) scopes.pop_back();
    } else if (h->htyp == FST_HT_VAR) {
      std::string range;
      const std::string base = base_name(h->u.var.name, h->u.var.name_length, range);
      std::string full;
      for (const auto& scope : scopes) full += scope + ".";
      full += base;
      TraceVar var;
      var.path = full;
      var.width = h->u.var.length;
      var.handle = h->u.var.handle;
      if (!range.empty()) {
        var.gtkw = full + range;
      } else if (var.width > 1) {
        var.gtkw = full + "[" + std::to_string(var.width - 1) + ":0]";
      } else {
        var.gtkw = full;
      }
      vars_.emplace(full, var);  // the first declaration wins (ports appear twice)
    }
  }
}

TraceFile::~TraceFile() {
  if (reader_) fstReaderClose(reader_);
}

const TraceVar* TraceFile::find(const std::string& path) const {
  const auto it = vars_.find(path);
  return it == vars_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::uint64_t, std::string>> TraceFile::changes(const std::string& path) {
  const TraceVar* var = find(path);
  if (!var) throw InputError("trace has no signal '" + path + "'");
  struct Collect {
    std::uint32_t handle;
    std::vector<std::pair<std::uint64_t, std::string>> out;
  } collect{var->handle, {}};
  fstReaderClrFacProcessMaskAll(reader_);
  fstReaderSetFacProcessMask(reader_, var->handle);
  fstReaderIterBlocks(
      reader_,
      [](void* user, std::uint64_t time, fstHandle handle, const unsigned char* value) {
        auto* c = static_cast<Collect*>(user);
        if (handle == c->handle) c->out.emplace_back(time, reinterpret_cast<const char*>(value));
      },
      &collect, nullptr);
  return collect.out;
}

std::uint64_t unsigned_value(const std::string& bits) {
  std::uint64_t value = 0;
  for (const char bit : bits) value = (value << 1) | (bit == '1' ? 1u : 0u);
  return value;
}

std::int64_t signed_value(const std::string& bits) {
  const std::uint64_t value = unsigned_value(bits);
  if (bits.empty() || bits.size() >= 64 || bits[0] != '1') return static_cast<std::int64_t>(value);
  return static_cast<std::int64_t>(value) - (std::int64_t{1} << bits.size());
}

}  // namespace tessera::cli
