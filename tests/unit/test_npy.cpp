// .npy I/O: round trips, files built byte by byte the way NumPy lays them out, and
// every rejection a user could hit with a wrong or damaged file.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "tessera/errors.hpp"
#include "tessera/tensor.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using tessera::testing::TempDir;

namespace {


// An .npy image: magic, version, little-endian header length (2 bytes for 1.0, 4 for
// 2.0/3.0), the header text as given (no padding added), then the data bytes.
std::string npy_bytes(int major, const std::string& header, const std::string& data) {
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(major);
  bytes += '\0';
  const std::size_t length_width = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < length_width; ++i) {
    bytes += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  }
  return bytes + header + data;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string header(const std::string& descr, const std::string& shape,
                   const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }\n";
}

// Little-endian int32 bytes.
std::string le32(std::initializer_list<std::int32_t> values) {
  std::string out;
  for (std::int32_t v : values) {
    const auto bits = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xFF);
  }
  return out;
}

}  // namespace

TEST_CASE("npy round trip int8 and int32", "[npy]") {
  TempDir dir("tessera_npy");
  Tensor<std::int8_t> i8(2, 3);
  i8.data = {-128, -1, 0, 1, 42, 127};
  save_npy(dir.file("i8.npy"), i8);
  const Tensor<std::int8_t> i8_back = load_npy<std::int8_t>(dir.file("i8.npy"));
  CHECK(i8_back.shape == i8.shape);
  CHECK(i8_back.data == i8.data);

  Tensor<std::int32_t> i32(3, 2);
  i32.data = {std::numeric_limits<std::int32_t>::min(), -1, 0, 1, 0x12345678,
              std::numeric_limits<std::int32_t>::max()};
  save_npy(dir.file("i32.npy"), i32);
  const Tensor<std::int32_t> i32_back = load_npy<std::int32_t>(dir.file("i32.npy"));
  CHECK(i32_back.shape == i32.shape);
  CHECK(i32_back.data == i32.data);

  // Overwriting an existing file replaces it and leaves no temporary behind.
  i32.data[0] = 7;
  save_npy(dir.file("i32.npy"), i32);
  CHECK(load_npy<std::int32_t>(dir.file("i32.npy")).data == i32.data);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}

TEST_CASE("npy save writes what NumPy writes", "[npy]") {
  TempDir dir("tessera_npy");
  Tensor<std::int32_t> t(1, 2);
  t.data = {1, -2};
  save_npy(dir.file("t.npy"), t);
  const std::string bytes = read_file(dir.file("t.npy"));
  // Version 1.0, header padded so the data starts on a 64-byte boundary: the 10-byte
  // preamble plus this 59-character dict and '\n' exceed 64, so the data starts at 128
  // (as in files NumPy writes).
  REQUIRE(bytes.size() == 128 + 8);
  CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_length =
      static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  CHECK(header_length == 128 - 10);
  const std::string text = bytes.substr(10, header_length);
  CHECK_THAT(text, Contains("'descr': '<i4'") && Contains("'fortran_order': False") &&
                       Contains("'shape': (1, 2)"));
  CHECK(text.back() == '\n');
  CHECK(bytes.substr(128) == le32({1, -2}));

  // 0-d and 1-d shapes use Python's tuple spelling: () and (n,).
  Tensor<std::int8_t> scalar;
  scalar.data = {5};
  save_npy(dir.file("s.npy"), scalar);
  CHECK_THAT(read_file(dir.file("s.npy")), Contains("'shape': ()"));
  Tensor<std::int8_t> vector;
  vector.shape = {3};
  vector.data = {1, 2, 3};
  save_npy(dir.file("v.npy"), vector);
  CHECK_THAT(read_file(dir.file("v.npy")), Contains("'shape': (3,)"));
}

TEST_CASE("npy load of hand-built files", "[npy]") {
  TempDir dir("tessera_npy");
  const std::string path = dir.file("x.npy");

  SECTION("version 1.0, int8 with '|i1'") {
    write_file(path,
               npy_bytes(1, header("|i1", "(2, 2)"), std::string("\x01\xff\x7f\x80", 4)));
    const auto t = load_npy<std::int8_t>(path);
    CHECK(t.shape == std::vector<std::size_t>{2, 2});
    CHECK(t.data == std::vector<std::int8_t>{1, -1, 127, -128});
  }
  SECTION("version 1.0, int8 with '<i1'") {
    write_file(path, npy_bytes(1, header("<i1", "(1, 1)"), "\xfe"));
    CHECK(load_npy<std::int8_t>(path).data == std::vector<std::int8_t>{-2});
  }
  SECTION("version 2.0, int32, double-quoted keys and odd spacing") {
    write_file(
        path,
        npy_bytes(2, "{\"descr\":\"<i4\",\"fortran_order\":False,\"shape\":(2,1)}  \n",
                  le32({-5, 70000})));
    const auto t = load_npy<std::int32_t>(path);
    CHECK(t.shape == std::vector<std::size_t>{2, 1});
    CHECK(t.data == std::vector<std::int32_t>{-5, 70000});
  }
  SECTION("version 3.0 reads like 2.0") {
    write_file(path, npy_bytes(3, header("<i4", "(1,)"), le32({9})));
    CHECK(load_npy<std::int32_t>(path).data == std::vector<std::int32_t>{9});
  }
  SECTION("0-d array") {
    write_file(path, npy_bytes(1, header("<i4", "()"), le32({-3})));
    const auto t = load_npy<std::int32_t>(path);
    CHECK(t.shape.empty());
    CHECK(t.data == std::vector<std::int32_t>{-3});
  }
  SECTION("1-d array") {
    write_file(path, npy_bytes(1, header("<i4", "(3,)"), le32({1, 2, 3})));
    const auto t = load_npy<std::int32_t>(path);
    CHECK(t.shape == std::vector<std::size_t>{3});
    CHECK(t.data == std::vector<std::int32_t>{1, 2, 3});
  }
  SECTION("empty array") {
    write_file(path, npy_bytes(1, header("|i1", "(0, 4)"), ""));
    const auto t = load_npy<std::int8_t>(path);
    CHECK(t.shape == std::vector<std::size_t>{0, 4});
    CHECK(t.data.empty());
  }
}

TEST_CASE("npy load rejects bad files with the path and the reason", "[npy]") {
  TempDir dir("tessera_npy");
  const std::string path = dir.file("a.npy");
  const std::string good_data = le32({1, 2, 3, 4});

  SECTION("missing file") {
    CHECK_THROWS_WITH(load_npy<std::int32_t>(dir.file("nope.npy")),
                      Contains("nope.npy") && Contains("no such file"));
  }
  SECTION("bad magic") {
    write_file(path, "PK\x03\x04 this is a zip");
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains(path) && Contains("bad magic"));
  }
  SECTION("file shorter than the magic") {
    write_file(path, "\x93NU");
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("bad magic"));
  }
  SECTION("unsupported version") {
    write_file(path, npy_bytes(4, header("<i4", "(4,)"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("version 4.0"));
  }
  SECTION("truncated header length") {
    write_file(path, std::string("\x93NUMPY\x02\x00\x10", 9));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains(path) && Contains("truncated header"));
  }
  SECTION("truncated header text") {
    const std::string full = npy_bytes(1, header("<i4", "(4,)"), good_data);
    write_file(path, full.substr(0, 30));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains(path) && Contains("truncated header"));
  }
  SECTION("truncated data") {
    const std::string full = npy_bytes(1, header("<i4", "(4,)"), good_data);
    write_file(path, full.substr(0, full.size() - 1));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains(path) && Contains("truncated data") &&
                          Contains("needs 16 bytes") && Contains("holds 15"));
  }
  SECTION("trailing data") {
    write_file(path, npy_bytes(1, header("<i4", "(4,)"), good_data + "xx"));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("trailing data"));
  }
  SECTION("Fortran order") {
    write_file(path, npy_bytes(1, header("<i4", "(2, 2)", "True"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains(path) && Contains("Fortran"));
  }
  SECTION("wrong dtype for int8") {
    write_file(path, npy_bytes(1, header("<f4", "(4,)"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int8_t>(path),
                      Contains(path + ": expected dtype int8 ('|i1'), got '<f4'"));
  }
  SECTION("wrong dtype for int32") {
    write_file(path, npy_bytes(1, header("|i1", "(4,)"), "abcd"));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains("expected dtype int32 ('<i4'), got '|i1'"));
  }
  SECTION("int64 is not int32") {
    write_file(path, npy_bytes(1, header("<i8", "(2,)"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("got '<i8'"));
  }
  SECTION("big-endian int32") {
    write_file(path, npy_bytes(1, header(">i4", "(4,)"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("big-endian '>i4'"));
  }
  SECTION("'|i1' style is int8 only") {
    write_file(path, npy_bytes(1, header("|i4", "(4,)"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("got '|i4'"));
  }
  SECTION("structured dtype") {
    write_file(path, npy_bytes(1,
                               "{'descr': [('x', '<i4')], 'fortran_order': False, "
                               "'shape': (4,), }\n",
                               good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains("structured dtypes are not supported"));
  }
  SECTION("header missing a key") {
    write_file(path, npy_bytes(1, "{'descr': '<i4', 'shape': (4,), }\n", good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path),
                      Contains("missing key 'fortran_order'"));
  }
  SECTION("header with a stray key") {
    write_file(path, npy_bytes(1,
                               "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), "
                               "'extra': 1}\n",
                               good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("unexpected key 'extra'"));
  }
  SECTION("negative dimension") {
    write_file(path, npy_bytes(1, header("<i4", "(-4,)"), good_data));
    CHECK_THROWS_WITH(load_npy<std::int32_t>(path), Contains("malformed"));
  }
  SECTION("absurd shape does not wrap around to a small size") {
    write_file(path,
               npy_bytes(1, header("<i4", "(4294967296, 4294967296, 4)"), good_data));
    CHECK_THROWS_AS(load_npy<std::int32_t>(path), InputError);
  }
  SECTION("a directory") {
    CHECK_THROWS_WITH(load_npy<std::int32_t>(dir.path().string()), Contains("directory"));
  }
}

TEST_CASE("npy save failures leave nothing behind", "[npy]") {
  TempDir dir("tessera_npy");
  Tensor<std::int32_t> t(1, 1);
  t.data = {1};

  SECTION("missing directory: throws naming the path, creates nothing") {
    const std::string path = dir.file("no_such_dir/out.npy");
    CHECK_THROWS_WITH(save_npy(path, t), Contains(path));
    CHECK_FALSE(fs::exists(dir.path() / "no_such_dir"));
    CHECK(fs::is_empty(dir.path()));
  }
  SECTION("rename onto a directory fails: the directory and no temp file remain") {
    fs::create_directory(dir.path() / "taken");
    fs::path inner = dir.path() / "taken" / "keep.txt";
    write_file(inner.string(), "keep");
    CHECK_THROWS_WITH(save_npy(dir.file("taken"), t), Contains(dir.file("taken")));
    CHECK(read_file(inner.string()) == "keep");
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) ==
          1);
  }
  SECTION("shape and data disagree: the existing file is untouched") {
    const std::string path = dir.file("existing.npy");
    write_file(path, "original");
    Tensor<std::int32_t> bad(2, 2);
    bad.data.resize(3);
    CHECK_THROWS_WITH(save_npy(path, bad), Contains(path));
    CHECK(read_file(path) == "original");
  }
}
