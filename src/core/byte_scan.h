// FindFirstByte: the first byte of a text that belongs to a small set, tested 8 bytes at a time
// (SWAR: "has a zero byte" and "has a byte below n" on a 64-bit word, both exact for the question
// "is there one in this word"), for the escapers of JSON, CSV and COPY text. Records are mostly
// long runs of bytes that need no escaping, and a byte-at-a-time loop (or
// std::string_view::find_first_of, which calls memchr once per byte) was a tenth of the batch
// job's time. Pure; thread-safe.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The index of the first byte at or after `from` that ends a plain run inside a JSON string:
// `"`, `\` or a control byte below 0x20; npos if there is none: where AppendJsonString must
// stop to escape. Same answer as FindFirstByte with the JSON escaper's tests, but the position
// inside a word comes from its lowest flag bit: each of the three "has a byte" masks is exact in
// its lowest set bit (a borrow only runs upwards from a real match), so no byte-by-byte pass is
// needed. With SSE2, 16 bytes at a time first.
inline size_t FindJsonStringSpecial(std::string_view s, size_t from) {
  using namespace byte_scan_internal;
  size_t i = from;
#if defined(__SSE2__)
  // 16 bytes at a time where SSE2 is there (every x86-64): c <= 0x1F is max(c, 0x1F) == 0x1F.
  const __m128i quotes = _mm_set1_epi8('"');
  const __m128i slashes = _mm_set1_epi8('\\');
  const __m128i lows = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quotes), _mm_cmpeq_epi8(v, slashes)),
                     _mm_cmpeq_epi8(_mm_max_epu8(v, lows), lows));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<size_t>(std::countr_zero(mask));
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    for (; i + 8 <= s.size(); i += 8) {
      const uint64_t w = Load(s.data() + i);
      const uint64_t quote = w ^ (kOnes * '"');
      const uint64_t slash = w ^ (kOnes * '\\');
      const uint64_t mask =
          (((quote - kOnes) & ~quote) | ((slash - kOnes) & ~slash) | ((w - kOnes * 0x20) & ~w)) &
          kHighs;
      if (mask != 0) return i + static_cast<size_t>(std::countr_zero(mask)) / 8;
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return std::string_view::npos;
}

}  // namespace pinpipe::core
