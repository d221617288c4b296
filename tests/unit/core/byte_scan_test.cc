// FindFirstByte, FindJsonStringSpecial and the word tests against a byte-at-a-time scan: every
// byte value at every position of texts of 0-40 bytes (words, tails and both at once), for the
// sets the escapers use; and texts with several set bytes close together (a borrow in the word
// tests must not move FindJsonStringSpecial's answer).
#include "core/byte_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace pinpipe::core {
namespace {

size_t Naive(std::string_view s, size_t from, bool (*test)(unsigned char)) {
  for (size_t i = from; i < s.size(); ++i) {
    if (test(static_cast<unsigned char>(s[i]))) return i;
  }
  return std::string_view::npos;
}

bool JsonByte(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }
bool CsvByte(unsigned char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; }

TEST(ByteScanTest, FindsTheFirstByteOfTheSetAnywhere) {
  const auto json_word = [](uint64_t w) {
    return WordHasByteBelow(w, 0x20) || WordHasByte(w, '"') || WordHasByte(w, '\\');
  };
  const auto csv_word = [](uint64_t w) {
    return WordHasByte(w, ',') || WordHasByte(w, '"') || WordHasByte(w, '\r') ||
           WordHasByte(w, '\n');
  };
  int checked = 0;
  for (size_t size = 0; size <= 40; ++size) {
    // Filler bytes around the probe: plain ASCII and UTF-8 continuation bytes (high bit set).
    for (char filler : {'a', static_cast<char>(0xC3), static_cast<char>(0xFF)}) {
      for (size_t at = 0; at < size; ++at) {
        for (int b = 0; b < 256; ++b) {
          std::string s(size, filler);
          s[at] = static_cast<char>(b);
          for (size_t from : {size_t{0}, at, at / 2}) {
            ASSERT_EQ(FindFirstByte(s, from, json_word, JsonByte), Naive(s, from, JsonByte))
                << "json size=" << size << " at=" << at << " byte=" << b << " from=" << from;
            ASSERT_EQ(FindJsonStringSpecial(s, from), Naive(s, from, JsonByte))
                << "json string size=" << size << " at=" << at << " byte=" << b << " from=" << from;
            ASSERT_EQ(FindFirstByte(s, from, csv_word, CsvByte), Naive(s, from, CsvByte))
                << "csv size=" << size << " at=" << at << " byte=" << b << " from=" << from;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000000);
}

TEST(ByteScanTest, JsonStringSpecialIgnoresBorrowsFromAnEarlierMatch) {
  const char alphabet[] = {'a',
                           '"',
                           '\\',
                           0x1F,
                           0x20,
                           0x21,
                           0x00,
                           0x5B,
                           0x5D,
                           0x5C,
                           static_cast<char>(0x80),
                           static_cast<char>(0xFF)};
  uint64_t state = 12345;
  int checked = 0;
  for (int round = 0; round < 200000; ++round) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const size_t size = (state >> 33) % 41;
    std::string s;
    for (size_t i = 0; i < size; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      // Mostly plain bytes, so that set bytes come in small clusters.
      const size_t pick = (state >> 33) % 40;
      s.push_back(pick < sizeof(alphabet) ? alphabet[pick] : 'x');
    }
    const size_t from = size == 0 ? 0 : (state >> 20) % (size + 1);
    ASSERT_EQ(FindJsonStringSpecial(s, from), Naive(s, from, JsonByte)) << "round " << round;
    ++checked;
  }
  EXPECT_EQ(checked, 200000);
}

}  // namespace
}  // namespace pinpipe::core
