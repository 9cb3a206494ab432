// A Verilated board top as a BoardModel. Each board's file (board_<top>.cpp) supplies
// `Pins`, the mapping from its pin names to the core's clock, reset button, UART and
// LEDs, and is compiled once per board build with TSR_BOARD_CLASS / TSR_BOARD_HEADER /
// TSR_BOARD_NS naming that build's Verilated class (sim/board/CMakeLists.txt).
#pragma once

#include <verilated.h>

#include <memory>

#include "board_sim.hpp"

namespace tessera::board {

template <class Top, class Pins>
class VerilatedBoard final : public BoardModel {
 public:
  VerilatedBoard() : context_(std::make_unique<VerilatedContext>()) {
    context_->randReset(0);
    top_ = std::make_unique<Top>(context_.get(), "board");
    Pins::set_clock(*top_, false);
    Pins::set_uart_rx(*top_, true);
    Pins::set_reset_button(*top_, true);
    top_->eval();
  }
  ~VerilatedBoard() override { top_->final(); }

  void set_uart_rx(bool level) override { Pins::set_uart_rx(*top_, level); }
  bool uart_tx() const override { return Pins::uart_tx(*top_); }
  void set_reset_button(bool pressed) override { Pins::set_reset_button(*top_, pressed); }
  void tick() override {
    Pins::set_clock(*top_, true);
    top_->eval();
    Pins::set_clock(*top_, false);
    top_->eval();
  }
  unsigned leds() const override { return Pins::leds(*top_); }

 private:
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Top> top_;
};

}  // namespace tessera::board

// The entry point each board build defines (in its namespace, like the engine builds).
#define TSR_DEFINE_BOARD(PINS)                                        \
  namespace tessera::board::TSR_BOARD_NS {                            \
  std::unique_ptr<BoardModel> make_model() {                          \
    return std::make_unique<VerilatedBoard<TSR_BOARD_CLASS, PINS>>(); \
  }                                                                   \
  }
