#include "tessera/resident.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tessera {
namespace {

void check_range(std::size_t dst, std::size_t count, std::size_t depth) {
  if (dst > depth || count > depth - dst) {
    throw std::out_of_range("scratchpad words [" + std::to_string(dst) + ", " +
                            std::to_string(dst + count) + ") past its depth " +
                            std::to_string(depth));
  }
}

}  // namespace

ResidentWords::ResidentWords(std::size_t depth, unsigned word_bytes)
    : word_bytes_(word_bytes),
      bytes_(depth * word_bytes, 0),
      known_(depth, false),
      stamp_(depth, 0) {}

ResidentWords::Span ResidentWords::differing(std::size_t dst,
                                             std::span<const std::uint8_t> words) const {
  const std::size_t count = words.size() / word_bytes_;
  check_range(dst, count, depth());
  const auto same = [&](std::size_t i) {
    return known_[dst + i] &&
           std::memcmp(&bytes_[(dst + i) * word_bytes_], &words[i * word_bytes_], word_bytes_) == 0;
  };
  Span span;
  std::size_t first = 0;
  while (first < count && same(first)) ++first;
  if (first == count) return span;
  std::size_t last = count;
  while (last > first && same(last - 1)) --last;
  span.first = first;
  span.last = last;
  return span;
}

std::size_t ResidentWords::matching(std::size_t dst, std::span<const std::uint8_t> words) const {
  const std::size_t count = words.size() / word_bytes_;
  check_range(dst, count, depth());
  std::size_t same = 0;
  for (std::size_t i = 0; i < count; ++i) {
    same += known_[dst + i] && std::memcmp(&bytes_[(dst + i) * word_bytes_],
                                           &words[i * word_bytes_], word_bytes_) == 0;
  }
  return same;
}

void ResidentWords::store(std::size_t dst, std::span<const std::uint8_t> words,
                          std::uint64_t stamp) {
  const std::size_t count = words.size() / word_bytes_;
  check_range(dst, count, depth());
  std::memcpy(&bytes_[dst * word_bytes_], words.data(), count * word_bytes_);
  std::fill_n(known_.begin() + dst, count, true);
  std::fill_n(stamp_.begin() + dst, count, stamp);
}

void ResidentWords::touch(std::size_t dst, std::size_t count, std::uint64_t stamp) {
  check_range(dst, count, depth());
  std::fill_n(stamp_.begin() + dst, count, stamp);
}

std::uint64_t ResidentWords::last_use(std::size_t dst, std::size_t count) const {
  check_range(dst, count, depth());
  std::uint64_t newest = 0;
  for (std::size_t i = dst; i < dst + count; ++i) {
    if (known_[i]) newest = std::max(newest, stamp_[i]);
  }
  return newest;
}

void ResidentWords::forget(std::size_t dst, std::size_t count) {
  // A LOAD's range comes from the command words: clip it rather than throw, the engine
  // rejects what lies past the end without writing anything.
  if (dst >= depth()) return;
  count = std::min(count, depth() - dst);
  std::fill_n(known_.begin() + dst, count, false);
}

void ResidentWords::forget_all() { std::fill(known_.begin(), known_.end(), false); }

}  // namespace tessera
