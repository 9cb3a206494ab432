// isa.hpp mirrors rtl/pkg/tsr_pkg.sv by hand; this parses the package and fails the
// moment the two disagree, before the runtime talks to an engine in a different dialect.
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "tessera/isa.hpp"

#ifndef TESSERA_SOURCE_DIR
#error "TESSERA_SOURCE_DIR must name the repository root"
#endif

using namespace tessera::isa;

namespace {

// localparam NAME = value; for sized literals (32'h5453_5241, 2'd1, 1'b0) and plain
// decimals (= 0), which is all the package uses.
std::map<std::string, std::uint64_t> parse_package(const std::string& path) {
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  static const std::regex localparam(
      R"(^\s*localparam\b[^=;]*?\b([A-Za-z_]\w*)\s*=\s*)"     // name
      R"((?:\d*'([hHdDbB])([0-9A-Fa-f_]+)|([0-9_]+))\s*;)");  // sized or plain value
  std::map<std::string, std::uint64_t> values;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, localparam)) continue;
    std::string digits = m[2].matched ? m[3].str() : m[4].str();
    std::erase(digits, '_');
    int base = 10;
    if (m[2].matched) {
      const char radix = static_cast<char>(std::tolower(m[2].str()[0]));
      base = radix == 'h' ? 16 : radix == 'b' ? 2 : 10;
    }
    values[m[1].str()] = std::stoull(digits, nullptr, base);
  }
  return values;
}

const std::map<std::string, std::uint64_t>& package() {
  static const auto values =
      parse_package(std::string(TESSERA_SOURCE_DIR) + "/rtl/pkg/tsr_pkg.sv");
  return values;
}

std::uint64_t pkg(const std::string& name) {
  const auto& values = package();
  const auto it = values.find(name);
  INFO("tsr_pkg::" << name);
  REQUIRE(it != values.end());
  return it->second;
}

}  // namespace

TEST_CASE("package parser reads every literal form", "[isa]") {
  // Guards the regex itself against a misread literal that a mirror test could then
  // "confirm" or blame on isa.hpp; the expected values here are read off the package.
  CHECK(package().size() >= 40);
  CHECK(pkg("IdValue") == 0x54535241);  // 32'h5453_5241, with the underscore
  CHECK(pkg("TgtParam") == 2);          // 2'd2
  CHECK(pkg("CtrlPerfClear") == 1);     // plain decimal
  CHECK(pkg("CmdWidth") == 128);        // plain decimal, several digits
}

TEST_CASE("identity and opcodes match tsr_pkg", "[isa]") {
  CHECK(pkg("IdValue") == kIdValue);
  CHECK(pkg("VersionValue") == kVersionValue);
  CHECK(pkg("OpLoad") == static_cast<unsigned>(Opcode::kLoad));
  CHECK(pkg("OpGemm") == static_cast<unsigned>(Opcode::kGemm));
  CHECK(pkg("OpSpgemm") == static_cast<unsigned>(Opcode::kSpgemm));
  CHECK(pkg("OpSpgemmA") == static_cast<unsigned>(Opcode::kSpgemmA));
  CHECK(pkg("TgtMeta") == static_cast<unsigned>(Target::kMeta));
  CHECK(pkg("TgtGbuf") == static_cast<unsigned>(Target::kGbuf));
  CHECK(pkg("FeatureSparse") == kFeatureSparse);
  CHECK(pkg("FeatureSparseA") == kFeatureSparseA);
  CHECK(pkg("FeatureRoundSingle") == kFeatureRoundSingle);
  CHECK(pkg("FeaturePerfLite") == kFeaturePerfLite);
  CHECK(pkg("FeatureBits") == kFeaturesRequired);  // every engine; bits 5-7 by parameter
  CHECK(pkg("TgtAct") == static_cast<unsigned>(Target::kAct));
  CHECK(pkg("TgtWgt") == static_cast<unsigned>(Target::kWgt));
  CHECK(pkg("TgtParam") == static_cast<unsigned>(Target::kParam));
  CHECK(pkg("CmdWidth") == 32 * std::tuple_size_v<CommandWords>);
  CHECK(pkg("ParamBytes") == kParamBytes);
  CHECK(pkg("ParamSingle") == 64 + 7);  // the shift byte's top bit in the scratchpad
}

TEST_CASE("error codes match tsr_pkg", "[isa]") {
  CHECK(pkg("ErrNone") == static_cast<unsigned>(ErrorCode::kNone));
  CHECK(pkg("ErrIllegalOp") == static_cast<unsigned>(ErrorCode::kIllegalOp));
  CHECK(pkg("ErrAddrRange") == static_cast<unsigned>(ErrorCode::kAddrRange));
  CHECK(pkg("ErrShape") == static_cast<unsigned>(ErrorCode::kShape));
  CHECK(pkg("ErrBadField") == static_cast<unsigned>(ErrorCode::kBadField));
  CHECK(pkg("ErrStream") == static_cast<unsigned>(ErrorCode::kStream));
  CHECK(pkg("ErrOverflow") == static_cast<unsigned>(ErrorCode::kOverflow));
  CHECK(pkg("ErrBadParam") == static_cast<unsigned>(ErrorCode::kBadParam));
  CHECK(pkg("ErrBadMeta") == static_cast<unsigned>(ErrorCode::kBadMeta));
}

TEST_CASE("CSR addresses and CTRL bits match tsr_pkg", "[isa]") {
  const std::pair<const char*, std::uint32_t> csrs[] = {
      {"CsrId", csr::kId},
      {"CsrVersion", csr::kVersion},
      {"CsrCfgArray", csr::kCfgArray},
      {"CsrCfgActDepth", csr::kCfgActDepth},
      {"CsrCfgWgtDepth", csr::kCfgWgtDepth},
      {"CsrCfgAccDepth", csr::kCfgAccDepth},
      {"CsrCfgParamDepth", csr::kCfgParamDepth},
      {"CsrCfgStream", csr::kCfgStream},
      {"CsrFeatures", csr::kFeatures},
      {"CsrCtrl", csr::kCtrl},
      {"CsrStatus", csr::kStatus},
      {"CsrErrCode", csr::kErrCode},
      {"CsrErrCmd", csr::kErrCmd},
      {"CsrCfgGbufDepth", csr::kCfgGbufDepth},
      {"CsrCfgMetaDepth", csr::kCfgMetaDepth},
      {"CsrCmd0", csr::kCmd0},
      {"CsrCmd1", csr::kCmd1},
      {"CsrCmd2", csr::kCmd2},
      {"CsrCmd3", csr::kCmd3},
      {"CsrPerfCycles", csr::kPerfCycles},
      {"CsrPerfBusy", csr::kPerfBusy},
      {"CsrPerfStall", csr::kPerfStall},
      {"CsrPerfMacsLo", csr::kPerfMacsLo},
      {"CsrPerfMacsHi", csr::kPerfMacsHi},
      {"CsrPerfLastOut", csr::kPerfLastOut},
      {"CsrPerfCmds", csr::kPerfCmds},
      {"CsrPerfDropped", csr::kPerfDropped},
  };
  for (const auto& [name, address] : csrs) {
    INFO(name);
    CHECK(pkg(name) == address);
  }
  // Every Csr* in the package has a mirror: a register added to the RTL alone fails.
  std::size_t package_csrs = 0;
  for (const auto& [name, value] : package()) package_csrs += name.rfind("Csr", 0) == 0;
  CHECK(package_csrs == std::size(csrs));

  // The package gives bit positions, isa.hpp masks.
  CHECK(ctrl::kClear == 1u << pkg("CtrlClear"));
  CHECK(ctrl::kPerfClear == 1u << pkg("CtrlPerfClear"));
}

TEST_CASE("error_name", "[isa]") {
  CHECK(std::string(error_name(ErrorCode::kNone)) == "NONE");
  CHECK(std::string(error_name(ErrorCode::kIllegalOp)) == "ILLEGAL_OP");
  CHECK(std::string(error_name(ErrorCode::kAddrRange)) == "ADDR_RANGE");
  CHECK(std::string(error_name(ErrorCode::kShape)) == "SHAPE");
  CHECK(std::string(error_name(ErrorCode::kBadField)) == "BAD_FIELD");
  CHECK(std::string(error_name(ErrorCode::kStream)) == "STREAM");
  CHECK(std::string(error_name(ErrorCode::kOverflow)) == "OVERFLOW");
  CHECK(std::string(error_name(ErrorCode::kBadParam)) == "BAD_PARAM");
  CHECK(std::string(error_name(ErrorCode::kBadMeta)) == "BAD_META");
  CHECK(std::string(error_name(static_cast<ErrorCode>(9))) == "UNKNOWN");
}

TEST_CASE("encode places LOAD fields per docs/isa.md", "[isa]") {
  // w0 = opcode 0x01 | target WGT (1) << 8; w1 dst; w2 count; w3 zero.
  CHECK(encode(LoadCommand{Target::kWgt, 0x1234, 7}) ==
        CommandWords{0x00000101, 0x00001234, 0x00000007, 0});
  // Full-width dst and count pass through untouched.
  CHECK(encode(LoadCommand{Target::kParam, 0xFFFFFFFF, 0x80000000}) ==
        CommandWords{0x00000201, 0xFFFFFFFF, 0x80000000, 0});
}

TEST_CASE("encode places GEMM fields per docs/isa.md", "[isa]") {
  GemmCommand cmd;
  cmd.requant = true;
  cmd.per_channel = true;
  cmd.zero_point = -3;  // 0xFD
  cmd.act_base = 0x0102;
  cmd.wgt_base = 0x0304;
  cmd.param_base = 0x0506;
  cmd.m_rows = 0x0708;
  cmd.kt_count = 0x09;
  cmd.nt_count = 0x0A;
  cmd.clamp_lo = -128;  // 0x80
  cmd.clamp_hi = 127;   // 0x7F
  // w0 = 0x02 | requant << 8 | per_channel << 9 | 0xFD << 16
  // w1 = wgt_base << 16 | act_base;  w2 = m_rows << 16 | param_base
  // w3 = clamp_hi << 24 | clamp_lo << 16 | nt << 8 | kt
  CHECK(encode(cmd) == CommandWords{0x00FD0302, 0x03040102, 0x07080506, 0x7F800A09});

  // Negative int8 fields must not sign-extend into their neighbours.
  GemmCommand negative;
  negative.zero_point = -1;
  negative.clamp_lo = -1;
  negative.clamp_hi = -1;
  negative.kt_count = 1;
  negative.nt_count = 1;
  negative.m_rows = 1;
  CHECK(encode(negative) == CommandWords{0x00FF0002, 0x00000000, 0x00010000, 0xFFFF0101});

  // Defaults: raw int32 output, full int8 clamp.
  CHECK(encode(GemmCommand{}) == CommandWords{0x00000002, 0, 0, 0x7F800000});
}

TEST_CASE("encode places SPGEMM and SPGEMMA fields per docs/isa.md", "[isa]") {
  SpgemmCommand cmd;
  cmd.requant = true;
  cmd.per_channel = false;
  cmd.zero_point = -3;  // 0xFD
  cmd.gbuf_base = 0x0102;
  cmd.wgt_base = 0x0304;
  cmd.param_base = 0x0506;
  cmd.meta_base = 0x0708;
  cmd.m_rows = 16;    // 15 in w0[15:10]
  cmd.k_count = 256;  // 255 in w0[31:24]
  cmd.len = 1;        // 0 in w3[15:8]
  cmd.nt_count = 3;
  cmd.clamp_lo = -128;
  cmd.clamp_hi = 127;
  // w0 = 0x03 | requant << 8 | 15 << 10 | 0xFD << 16 | 0xFF << 24
  CHECK(encode(cmd) == CommandWords{0xFFFD3D03, 0x03040102, 0x07080506, 0x7F800003});
  cmd.m_rows = 64;  // 63: the whole 6-bit field
  cmd.len = 256;
  cmd.k_count = 1;
  CHECK(encode(cmd) == CommandWords{0x00FDFD03, 0x03040102, 0x07080506, 0x7F80FF03});
  // SPGEMMA: the same fields in the same places, opcode 0x04.
  cmd.compressed_a = true;
  CHECK(encode(cmd) == CommandWords{0x00FDFD04, 0x03040102, 0x07080506, 0x7F80FF03});
}
