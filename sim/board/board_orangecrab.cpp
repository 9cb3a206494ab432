// OrangeCrab pins (rtl/board/tsr_orangecrab.sv) as tessera-sim --board sees them.
#include TSR_BOARD_HEADER
#include "verilated_board.hpp"

namespace {
struct OrangecrabPins {
  template <class T>
  static void set_clock(T& top, bool level) {
    top.clk48 = level;
  }
  // The UART is on header pins 0 (RX) and 1 (TX), for an external USB adapter.
  template <class T>
  static void set_uart_rx(T& top, bool level) {
    top.gpio_0 = level;
  }
  template <class T>
  static void set_reset_button(T& top, bool pressed) {
    top.usr_btn = !pressed;
  }
  template <class T>
  static bool uart_tx(const T& top) {
    return top.gpio_1;
  }
  // One RGB LED: green heartbeat, red error, blue busy or UART activity (both bits).
  template <class T>
  static unsigned leds(const T& top) {
    return (top.rgb_led0_g ? 0u : 1u) | (top.rgb_led0_r ? 0u : 4u) | (top.rgb_led0_b ? 0u : 0xAu);
  }
};
}  // namespace

TSR_DEFINE_BOARD(OrangecrabPins)
