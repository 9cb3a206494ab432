// NumPy .npy reading and writing (format versions 1.0, 2.0 and 3.0, C order, little
// endian). The header is a Python dict literal; this is a small parser for the subset
// NumPy writes, strict enough that a file it accepts means what the caller thinks.
//
// Why our own: the maintained C++ readers were weighed and none fits. xtensor's xnpy
// (Debian's libxtensor-dev 0.24) reads into its own xt::xarray (a second tensor type and
// the xtl dependency for one function), rejects valid headers whose keys are not in
// NumPy's usual order, knows no format 3.0, cannot tell a file's dtype before reading it
// (the kernel runner picks int8/uint8/int32 paths by it), throws std::runtime_error
// without the file's name, and writes in place, so a failed write leaves half a file.
// cnpy and libnpy are not packaged in Debian. What this file must do (exact dtype
// checks with messages that name the file, truncation checks, atomic replace) is what
// the ~300 lines below are.
#include "tessera/tensor.hpp"

#include <atomic>
#include <bit>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tessera/errors.hpp"

namespace tessera {

std::string format_shape(const std::vector<std::size_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "\x93NUMPY";
// NumPy pads the preamble plus header to this many bytes so the data is aligned.
constexpr std::size_t kHeaderAlignment = 64;

template <typename T>
struct NpyDtype;

template <>
struct NpyDtype<std::int8_t> {
  static constexpr std::string_view name = "int8";
  static constexpr std::string_view descr = "|i1";
  // Byte order means nothing for one byte; NumPy writes '|', some writers '<'.
  static bool accepts(std::string_view d) { return d == "|i1" || d == "<i1"; }
};

template <>
struct NpyDtype<std::uint8_t> {
  static constexpr std::string_view name = "uint8";
  static constexpr std::string_view descr = "|u1";
  static bool accepts(std::string_view d) { return d == "|u1" || d == "<u1"; }
};

template <>
struct NpyDtype<std::int32_t> {
  static constexpr std::string_view name = "int32";
  static constexpr std::string_view descr = "<i4";
  static bool accepts(std::string_view d) { return d == "<i4"; }
};

template <>
struct NpyDtype<std::int64_t> {
  static constexpr std::string_view name = "int64";
  static constexpr std::string_view descr = "<i8";
  static bool accepts(std::string_view d) { return d == "<i8"; }
};

template <>
struct NpyDtype<float> {
  static constexpr std::string_view name = "float32";
  static constexpr std::string_view descr = "<f4";
  static bool accepts(std::string_view d) { return d == "<f4"; }
};

template <>
struct NpyDtype<double> {
  static constexpr std::string_view name = "float64";
  static constexpr std::string_view descr = "<f8";
  static bool accepts(std::string_view d) { return d == "<f8"; }
};


// Number of elements, or nullopt when the product does not fit in size_t (a corrupt
// header must not wrap around into a small, plausible size).
std::optional<std::size_t> element_count(const std::vector<std::size_t>& shape) {
  std::size_t count = 1;
  for (std::size_t dim : shape) {
    if (dim != 0 && count > std::numeric_limits<std::size_t>::max() / dim) {
      return std::nullopt;
    }
    count *= dim;
  }
  return count;
}

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

// Recursive-descent parser for the header dict, e.g.
//   {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path)
      : text_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() != '\'' && peek() != '"') {
          fail("structured dtypes are not supported ('descr' must be a string)");
        }
        header.descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        seen_fortran = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        seen_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;  // '}'
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the closing '}'");
    if (!seen_descr) fail("missing key 'descr'");
    if (!seen_fortran) fail("missing key 'fortran_order'");
    if (!seen_shape) fail("missing key 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(path_ + ": malformed .npy header at offset " + std::to_string(pos_) +
                     ": " + what);
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    // The header ends in spaces and '\n' padding; NumPy also accepts other whitespace.
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }

  bool parse_bool() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::string_view w = word;
      if (text_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        return value;
      }
    }
    fail("'fortran_order' must be True or False");
  }

  std::vector<std::size_t> parse_shape() {
    std::vector<std::size_t> shape;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      shape.push_back(parse_dim());
      skip_space();
      // Python 2 wrote long integers with an 'L' suffix.
      if (peek() == 'L') ++pos_;
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in 'shape'");
    }
    ++pos_;  // ')'
    return shape;
  }

  std::size_t parse_dim() {
    if (!std::isdigit(static_cast<unsigned char>(peek()))) {
      fail("'shape' must hold non-negative integers");
    }
    std::size_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const std::size_t digit = static_cast<std::size_t>(peek() - '0');
      if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
        fail("dimension in 'shape' is too large");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    return value;
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

std::string read_file(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw InputError(path + ": no such file");
  if (fs::is_directory(status)) {
    throw InputError(path + ": is a directory, not an .npy file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path + ": read error");
  return bytes;
}

std::uint32_t read_le(std::string_view bytes, std::size_t offset, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::uint32_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
  }
  return value;
}

// A whole file in memory: its parsed header and where in `bytes` the data starts.
struct NpyFile {
  std::string bytes;
  NpyHeader header;
  std::size_t data_offset = 0;
};

NpyFile read_npy(const std::string& path) {
  NpyFile file;
  file.bytes = read_file(path);
  const std::string_view bytes = file.bytes;

  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    throw InputError(path + ": not a NumPy .npy file (bad magic; expected \\x93NUMPY)");
  }
  if (bytes.size() < kMagic.size() + 2) {
    throw InputError(path + ": truncated header (file ends inside the version bytes)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  // 1.0 has a 2-byte header length; 2.0 widened it to 4 bytes; 3.0 only changed the
  // header text encoding to UTF-8, which matters nowhere in the keys we read.
  std::size_t length_width = 0;
  if (major == 1 && minor == 0) {
    length_width = 2;
  } else if ((major == 2 || major == 3) && minor == 0) {
    length_width = 4;
  } else {
    throw InputError(path + ": unsupported .npy format version " + std::to_string(major) +
                     "." + std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  const std::size_t preamble = kMagic.size() + 2 + length_width;
  if (bytes.size() < preamble) {
    throw InputError(path + ": truncated header (file ends inside the header length)");
  }
  const std::size_t header_length = read_le(bytes, kMagic.size() + 2, length_width);
  if (bytes.size() - preamble < header_length) {
    throw InputError(path + ": truncated header: declares " +
                     std::to_string(header_length) + " bytes, file holds " +
                     std::to_string(bytes.size() - preamble));
  }
  file.header = HeaderParser(bytes.substr(preamble, header_length), path).parse();
  file.data_offset = preamble + header_length;

  if (file.header.fortran_order) {
    throw InputError(path +
                     ": Fortran-ordered array; expected C order (fortran_order False)");
  }
  return file;
}

// Checks the data size against the header and decodes it little endian, which works
// whatever the host's byte order.
template <typename T>
Tensor<T> decode_data(const NpyFile& file, const std::string& path) {
  const std::optional<std::size_t> count = element_count(file.header.shape);
  if (!count || *count > std::numeric_limits<std::size_t>::max() / sizeof(T)) {
    throw InputError(path + ": shape " + format_shape(file.header.shape) +
                     " is too large to load");
  }
  const std::size_t expected = *count * sizeof(T);
  const std::size_t actual = file.bytes.size() - file.data_offset;
  if (actual != expected) {
    throw InputError(
        path + ": " + (actual < expected ? "truncated data" : "trailing data") +
        ": shape " + format_shape(file.header.shape) + " needs " +
        std::to_string(expected) + " bytes, file holds " + std::to_string(actual));
  }
  Tensor<T> tensor;
  tensor.shape = file.header.shape;
  tensor.data.resize(*count);
  const std::string_view data = std::string_view(file.bytes).substr(file.data_offset);
  for (std::size_t i = 0; i < *count; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
      Bits bits = 0;
      for (std::size_t b = 0; b < sizeof(T); ++b) {
        bits |= Bits{static_cast<std::uint8_t>(data[i * sizeof(T) + b])} << (8 * b);
      }
      tensor.data[i] = std::bit_cast<T>(bits);
    } else {
      // Two's complement is guaranteed since C++20, so the narrowing cast is exact.
      tensor.data[i] = static_cast<T>(read_le(data, i * sizeof(T), sizeof(T)));
    }
  }
  return tensor;
}

std::string describe_descr(const std::string& descr) {
  // Name the byte order problem outright: '>i4' looks right at a glance.
  if (!descr.empty() && descr[0] == '>') return "big-endian '" + descr + "'";
  return "'" + descr + "'";
}

std::string temp_suffix() {
  // Unique per process (random) and per call (counter), so concurrent writers of the
  // same target each get their own temporary file.
  static const std::uint64_t process_tag = std::random_device{}();
  static std::atomic<std::uint64_t> counter{0};
  std::ostringstream out;
  out << std::hex << process_tag << '-' << counter++;
  return out.str();
}

template <typename T>
std::string encode_npy(const std::string& path, const Tensor<T>& tensor) {
  std::string shape = "(";
  for (std::size_t i = 0; i < tensor.shape.size(); ++i) {
    if (i != 0) shape += ", ";
    shape += std::to_string(tensor.shape[i]);
  }
  if (tensor.shape.size() == 1) shape += ",";  // Python's 1-tuple
  shape += ")";
  std::string header = "{'descr': '" + std::string(NpyDtype<T>::descr) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t preamble = kMagic.size() + 2 + 2;
  const std::size_t unpadded = preamble + header.size() + 1;  // + '\n'
  header.append((kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment, ' ');
  header += '\n';
  // Version 1.0 suffices as long as the header fits its 16-bit length field; NumPy
  // itself only moves to 2.0 past that.
  if (header.size() > 0xFFFF) {
    throw InputError(path + ": cannot save: " + std::to_string(tensor.shape.size()) +
                     " dimensions make the header too long for format 1.0");
  }

  std::string bytes;
  bytes.reserve(preamble + header.size() + tensor.data.size() * sizeof(T));
  bytes += kMagic;
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xFF);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  for (T value : tensor.data) {
    std::uint64_t bits = 0;
    if constexpr (std::is_floating_point_v<T>) {
      using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
      bits = std::bit_cast<Bits>(value);
    } else {
      bits = static_cast<std::make_unsigned_t<T>>(value);
    }
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      bytes += static_cast<char>((bits >> (8 * i)) & 0xFF);
    }
  }
  return bytes;
}

}  // namespace

template <typename T>
Tensor<T> load_npy(const std::string& path) {
  const NpyFile file = read_npy(path);
  if (!NpyDtype<T>::accepts(file.header.descr)) {
    throw InputError(path + ": expected dtype " + std::string(NpyDtype<T>::name) + " ('" +
                     std::string(NpyDtype<T>::descr) + "'), got " +
                     describe_descr(file.header.descr));
  }
  return decode_data<T>(file, path);
}

NpyDescr npy_dtype(const std::string& path) {
  const std::string descr = read_npy(path).header.descr;
  if (NpyDtype<std::int8_t>::accepts(descr)) return NpyDescr::kInt8;
  if (NpyDtype<std::uint8_t>::accepts(descr)) return NpyDescr::kUint8;
  if (NpyDtype<std::int32_t>::accepts(descr)) return NpyDescr::kInt32;
  if (NpyDtype<std::int64_t>::accepts(descr)) return NpyDescr::kInt64;
  if (NpyDtype<float>::accepts(descr)) return NpyDescr::kFloat32;
  if (NpyDtype<double>::accepts(descr)) return NpyDescr::kFloat64;
  return NpyDescr::kOther;
}

Tensor<std::int32_t> load_npy_int32_widened(const std::string& path) {
  const NpyFile file = read_npy(path);
  if (NpyDtype<std::int32_t>::accepts(file.header.descr)) {
    return decode_data<std::int32_t>(file, path);
  }
  if (NpyDtype<std::int8_t>::accepts(file.header.descr)) {
    const Tensor<std::int8_t> narrow = decode_data<std::int8_t>(file, path);
    Tensor<std::int32_t> wide;
    wide.shape = narrow.shape;
    wide.data.assign(narrow.data.begin(), narrow.data.end());
    return wide;
  }
  throw InputError(path + ": expected dtype int32 ('<i4') or int8 ('|i1'), got " +
                   describe_descr(file.header.descr));
}

template <typename T>
void save_npy(const std::string& path, const Tensor<T>& tensor) {
  const std::optional<std::size_t> count = element_count(tensor.shape);
  if (!count || *count != tensor.data.size()) {
    throw InputError(path + ": cannot save: shape " + format_shape(tensor.shape) +
                     " does not match the " + std::to_string(tensor.data.size()) +
                     " values held");
  }
  const std::string bytes = encode_npy(path, tensor);

  const fs::path target(path);
  if (!target.has_filename()) throw InputError(path + ": cannot save: no file name");
  const fs::path temp =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + temp_suffix());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw InputError(path + ": cannot save: cannot create a temporary file in '" +
                       (target.parent_path().empty() ? std::string(".")
                                                     : target.parent_path().string()) +
                       "'");
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      throw InputError(path + ": cannot save: write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw InputError(path + ": cannot save: " + ec.message());
  }
}

template Tensor<std::int8_t> load_npy<std::int8_t>(const std::string&);
template Tensor<std::int32_t> load_npy<std::int32_t>(const std::string&);
template Tensor<std::uint8_t> load_npy<std::uint8_t>(const std::string&);
template Tensor<std::int64_t> load_npy<std::int64_t>(const std::string&);
template Tensor<float> load_npy<float>(const std::string&);
template Tensor<double> load_npy<double>(const std::string&);
template void save_npy<std::uint8_t>(const std::string&, const Tensor<std::uint8_t>&);
template void save_npy<float>(const std::string&, const Tensor<float>&);
template void save_npy<double>(const std::string&, const Tensor<double>&);
template void save_npy<std::int8_t>(const std::string&, const Tensor<std::int8_t>&);
template void save_npy<std::int32_t>(const std::string&, const Tensor<std::int32_t>&);
template void save_npy<std::int64_t>(const std::string&, const Tensor<std::int64_t>&);

}  // namespace tessera
