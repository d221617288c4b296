// FindFirstByte: the first byte of a text that belongs to a small set, tested 8 bytes at a time
// (SWAR: "has a zero byte" and "has a byte below n" on a 64-bit word, both exact for the question
// "is there one in this word"), for the escapers of JSON, CSV and COPY text. Records are mostly
// long runs of bytes that need no escaping, and a byte-at-a-time loop (or
// std::string_view::find_first_of, which calls memchr once per byte) was a tenth of the batch
// job's time. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pinpipe::core {

namespace byte_scan_internal {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t Load(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

}  // namespace byte_scan_internal

// True when some byte of `w` equals `c`.
inline bool WordHasByte(uint64_t w, unsigned char c) {
  using namespace byte_scan_internal;
  const uint64_t x = w ^ (kOnes * c);
  return ((x - kOnes) & ~x & kHighs) != 0;
}

// True when some byte of `w` is below `n` (n <= 128).
inline bool WordHasByteBelow(uint64_t w, unsigned char n) {
  using namespace byte_scan_internal;
  return ((w - kOnes * n) & ~w & kHighs) != 0;
}

// The index of the first byte at or after `from` for which `byte_test(c)` holds, or npos.
// `word_test(w)` must be true for every 8-byte word that holds such a byte (it may be true for
// others: they are then checked byte by byte).
template <typename WordTest, typename ByteTest>
size_t FindFirstByte(std::string_view s, size_t from, WordTest word_test, ByteTest byte_test) {
  size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    if (!word_test(byte_scan_internal::Load(s.data() + i))) continue;
    for (size_t j = i; j < i + 8; ++j) {
      if (byte_test(static_cast<unsigned char>(s[j]))) return j;
    }
  }
  for (; i < s.size(); ++i) {
    if (byte_test(static_cast<unsigned char>(s[i]))) return i;
  }
  return std::string_view::npos;
}

}  // namespace pinpipe::core
