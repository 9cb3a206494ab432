// What the host knows a scratchpad holds: a copy of every word it loaded, kept by the
// Device so that a LOAD whose bytes already sit at its address can be left out and
// operands stay resident across GEMMs and run_gemm calls (docs/isa.md, "Ordering").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tessera {

class ResidentWords {
 public:
  ResidentWords() = default;
  ResidentWords(std::size_t depth, unsigned word_bytes);

  std::size_t depth() const { return known_.size(); }
  unsigned word_bytes() const { return word_bytes_; }

  /// The smallest range [first, last) of words of [dst, dst + count) that is not known to
  /// hold `words` (count = words.size() / word_bytes); first == last when all of it does.
  struct Span {
    std::size_t first = 0, last = 0;
  };
  Span differing(std::size_t dst, std::span<const std::uint8_t> words) const;
  /// How many words of [dst, dst + count) are known to hold their part of `words`.
  std::size_t matching(std::size_t dst, std::span<const std::uint8_t> words) const;
  bool holds(std::size_t dst, std::span<const std::uint8_t> words) const {
    const Span span = differing(dst, words);
    return span.first == span.last;
  }

  /// Records that [dst, dst + count) now holds `words`, and that it was used at `stamp`.
  void store(std::size_t dst, std::span<const std::uint8_t> words, std::uint64_t stamp);
  /// Marks [dst, dst + count) as used at `stamp` (its contents were used, not reloaded).
  void touch(std::size_t dst, std::size_t count, std::uint64_t stamp);
  /// The newest stamp in [dst, dst + count): 0 if nothing there was loaded or used since
  /// the last forget. Picks the least recently used region to overwrite.
  std::uint64_t last_use(std::size_t dst, std::size_t count) const;

  void forget(std::size_t dst, std::size_t count);
  void forget_all();

 private:
  unsigned word_bytes_ = 0;
  std::vector<std::uint8_t> bytes_;   ///< depth * word_bytes
  std::vector<bool> known_;           ///< per word: bytes_ is what the engine holds
  std::vector<std::uint64_t> stamp_;  ///< per word: when it was last loaded or used
};

}  // namespace tessera
