// ULX3S pins (rtl/board/tsr_ulx3s.sv) as tessera-sim --board sees them.
#include TSR_BOARD_HEADER
#include "verilated_board.hpp"

namespace {
struct Ulx3sPins {
  template <class T>
  static void set_clock(T& top, bool level) {
    top.clk_25mhz = level;
  }
  // The FT231X's TXD is the FPGA's receive pin, and the other way round.
  template <class T>
  static void set_uart_rx(T& top, bool level) {
    top.ftdi_txd = level;
  }
  template <class T>
  static void set_reset_button(T& top, bool pressed) {
    top.btn = pressed;
  }
  template <class T>
  static bool uart_tx(const T& top) {
    return top.ftdi_rxd;
  }
  template <class T>
  static unsigned leds(const T& top) {
    return top.led & 0xFu;
  }  // led[3:0]
};
}  // namespace

TSR_DEFINE_BOARD(Ulx3sPins)
