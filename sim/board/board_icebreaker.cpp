// iCEBreaker pins (rtl/board/tsr_icebreaker.sv) as tessera-sim --board sees them.
#include TSR_BOARD_HEADER
#include "verilated_board.hpp"

namespace {
struct IcebreakerPins {
  template <class T>
  static void set_clock(T& top, bool level) {
    top.clk_12mhz_i = level;
  }
  template <class T>
  static void set_uart_rx(T& top, bool level) {
    top.uart_rx_i = level;
  }
  template <class T>
  static void set_reset_button(T& top, bool pressed) {
    top.btn_ni = !pressed;
  }
  template <class T>
  static bool uart_tx(const T& top) {
    return top.uart_tx_o;
  }
  // Green LEDG_N heartbeat, LED1 busy, red LEDR_N error, LED2 UART activity.
  template <class T>
  static unsigned leds(const T& top) {
    return (top.led_green_no ? 0u : 1u) | (top.led1_o ? 2u : 0u) | (top.led_red_no ? 0u : 4u) |
           (top.led2_o ? 8u : 0u);
  }
};
}  // namespace

TSR_DEFINE_BOARD(IcebreakerPins)
