// tessera-sim --board NAME --pty: a board's FPGA top (rtl/board/tsr_<board>.sv, with the
// PLL sim models of sim/board/) simulated cycle by cycle, its UART pins driven and
// decoded at the bit level, 8N1, ClkHz/Baud clocks per bit as on the board, and the
// bytes carried to and from a pseudo-terminal. The board's bridge is the server: the
// host's SerialTransport talks to the RTL exactly as to the real board.
#pragma once

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace tessera::board {

class Pty;

// One Verilated board top, seen through its pins (the per-board pin names are mapped in
// sim/board/board_<top>.cpp).
class BoardModel {
 public:
  virtual ~BoardModel() = default;
  virtual void set_uart_rx(bool level) = 0;  // host -> board, idle high
  virtual bool uart_tx() const = 0;          // board -> host, idle high
  virtual void set_reset_button(bool pressed) = 0;
  // One clock cycle of the board's core clock (the PLL models pass the oscillator
  // through, so the simulated clock is abstract: only clocks per bit matter).
  virtual void tick() = 0;
  // tsr_board_core's led_o, active high whatever the board's LEDs are.
  virtual unsigned leds() const = 0;
};

inline constexpr unsigned kLedBusy = 1u << 1;   // tsr_board_core: engine busy
inline constexpr unsigned kLedError = 1u << 2;  // an error reply, until RESET

// A board build linked into tessera-sim (sim/board/CMakeLists.txt, from
// scripts/boards.json).
struct BoardBuild {
  const char* name;        // "icebreaker"
  const char* top;         // "tsr_icebreaker"
  std::uint64_t clock_hz;  // the core clock the top runs at (boards.json clock_mhz)
  std::uint32_t baud;      // the UART's rate (the core's Baud)
  const char* engine;      // "2x2"
  std::unique_ptr<BoardModel> (*make)();

  std::uint32_t clocks_per_bit() const {
    return static_cast<std::uint32_t>((clock_hz + baud / 2) / baud);  // as tsr_uart_rx
  }
};
const std::vector<BoardBuild>& board_builds();

// The host's side of the UART pins: serializes bytes onto RX and decodes TX, one call
// per clock cycle.
class UartLine {
 public:
  explicit UartLine(std::uint32_t clocks_per_bit) : clocks_per_bit_(clocks_per_bit) {}

  // Before the clock edge: the RX level for this cycle, taking the next byte from
  // `to_board` when the line is free.
  bool next_rx(std::deque<std::uint8_t>& to_board);
  // After the edge: samples TX; a complete byte goes to `to_host`.
  void sample_tx(bool tx, std::vector<std::uint8_t>& to_host);

  bool active() const { return rx_bit_ >= 0 || tx_bit_ >= 0; }
  std::uint64_t framing_errors() const { return framing_errors_; }
  std::uint64_t bytes_to_board() const { return bytes_to_board_; }
  std::uint64_t bytes_to_host() const { return bytes_to_host_; }

 private:
  std::uint32_t clocks_per_bit_;
  // RX: bit index 0 start, 1..8 data (LSB first), 9 stop; -1 idle.
  int rx_bit_ = -1;
  std::uint32_t rx_count_ = 0;
  std::uint16_t rx_frame_ = 0;
  // TX: -1 idle; 0 start (sampled mid-bit), 1..8 data, 9 stop; -2 waiting for idle
  // after a framing error.
  int tx_bit_ = -1;
  std::uint32_t tx_count_ = 0;
  std::uint8_t tx_byte_ = 0;
  std::uint64_t framing_errors_ = 0;
  std::uint64_t bytes_to_board_ = 0;
  std::uint64_t bytes_to_host_ = 0;
};

// Simulates `build` behind `pty` until a stop signal: prints "pty /dev/pts/N" on `out`
// once the board is out of reset; logs the line's figures on `log` when it stops.
void serve_board(Pty& pty, const BoardBuild& build, std::ostream& out, std::ostream& log);

}  // namespace tessera::board
