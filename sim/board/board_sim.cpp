#include "board_sim.hpp"

#include <chrono>
#include <ostream>

#include "pty.hpp"

namespace tessera::board {

bool UartLine::next_rx(std::deque<std::uint8_t>& to_board) {
  if (rx_bit_ < 0) {
    if (to_board.empty()) return true;
    // 10 bits, sent LSB first: start 0, data, stop 1.
    rx_frame_ = static_cast<std::uint16_t>((std::uint16_t{to_board.front()} << 1) | (1u << 9));
    to_board.pop_front();
    rx_bit_ = 0;
    rx_count_ = 0;
  }
  const bool level = (rx_frame_ >> rx_bit_) & 1u;
  if (++rx_count_ == clocks_per_bit_) {
    rx_count_ = 0;
    if (++rx_bit_ == 10) {
      rx_bit_ = -1;
      ++bytes_to_board_;
    }
  }
  return level;
}

void UartLine::sample_tx(bool tx, std::vector<std::uint8_t>& to_host) {
  if (tx_bit_ == -2) {  // after a framing error: wait for the line to go idle
    if (tx) tx_bit_ = -1;
    return;
  }
  if (tx_bit_ == -1) {
    if (tx) return;
    tx_bit_ = 0;  // falling edge: a start bit; sample it half a bit in
    tx_count_ = clocks_per_bit_ / 2;
    return;
  }
  if (--tx_count_ != 0) return;
  tx_count_ = clocks_per_bit_;
  if (tx_bit_ == 0) {
    if (tx)
      tx_bit_ = -1;  // a glitch, not a start bit
    else
      tx_bit_ = 1;
    return;
  }
  if (tx_bit_ <= 8) {
    tx_byte_ = static_cast<std::uint8_t>((tx_byte_ >> 1) | (tx ? 0x80 : 0));
    ++tx_bit_;
    return;
  }
  if (tx) {
    to_host.push_back(tx_byte_);
    ++bytes_to_host_;
    tx_bit_ = -1;
  } else {
    ++framing_errors_;
    tx_bit_ = -2;
  }
}

void serve_board(Pty& pty, const BoardBuild& build, std::ostream& out, std::ostream& log) {
  // Cycles between looks at the pseudo-terminal: under a byte time at 1 Mbaud and 100 MHz.
  constexpr std::uint64_t kChunkCycles = 512;
  // A board with no UART traffic and an idle engine for this long waits for the host
  // (the clock stops; its bridge is waiting for a byte). Long enough for the bridge to
  // finish any frame it holds (CRC at a byte per cycle over at most FrameBytes).
  constexpr std::uint64_t kQuietCycles = 1u << 20;
  constexpr std::size_t kMaxToBoard = 1u << 20;

  std::unique_ptr<BoardModel> model = build.make();
  UartLine line(build.clocks_per_bit());
  model->set_uart_rx(true);
  model->set_reset_button(true);
  for (int i = 0; i < 16; ++i) model->tick();
  model->set_reset_button(false);
  for (int i = 0; i < 16; ++i) model->tick();

  std::deque<std::uint8_t> to_board;
  std::vector<std::uint8_t> in, to_host;
  std::size_t written = 0;
  std::uint64_t cycles = 0, quiet = 0;
  std::uint64_t busy_cycles = 0;
  unsigned last_leds = 0;  // UART traffic or engine busy: throughput's denominator
  install_stop_signals();
  log << "tessera-sim: board " << build.name << " (" << build.top << ", " << build.engine
      << " engine): " << build.clock_hz << " Hz core clock, " << build.baud << " baud, "
      << build.clocks_per_bit() << " clocks per bit" << std::endl;
  out << "pty " << pty.path() << std::endl;
  while (!stop_requested()) {
    if (to_board.size() < kMaxToBoard && pty.read_into(in)) {
      to_board.insert(to_board.end(), in.begin(), in.end());
      in.clear();
    }
    pty.write_from(to_host, written);
    const unsigned leds = model->leds();
    if ((leds ^ last_leds) & kLedError) {
      log << "tessera-sim: board " << build.name << ": error LED "
          << ((leds & kLedError) != 0 ? "on (the bridge answered with an error)" : "off")
          << " at cycle " << cycles << std::endl;
    }
    last_leds = leds;
    const bool busy = !to_board.empty() || line.active() || (leds & kLedBusy) != 0;
    quiet = busy ? 0 : quiet + kChunkCycles;
    if (busy) busy_cycles += kChunkCycles;
    if (quiet >= kQuietCycles) {
      pty.wait(std::chrono::milliseconds(100), !to_host.empty());
      continue;
    }
    for (std::uint64_t i = 0; i < kChunkCycles; ++i) {
      model->set_uart_rx(line.next_rx(to_board));
      model->tick();
      line.sample_tx(model->uart_tx(), to_host);
    }
    cycles += kChunkCycles;
  }
  log << "tessera-sim: board " << build.name << " stopped after " << cycles << " cycles ("
      << busy_cycles << " with UART traffic or the engine busy): " << line.bytes_to_board()
      << " bytes received, " << line.bytes_to_host() << " sent, " << line.framing_errors()
      << " framing errors" << std::endl;
}

}  // namespace tessera::board
