// core/hex.h: digits, bytes and fixed-width numbers, at their edges.
#include "core/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace pinpipe::core {
namespace {

TEST(HexTest, BytesBecomeTwoLowercaseDigitsEach) {
  struct Case {
    std::string bytes;
    std::string hex;
  };
  const Case cases[] = {
      {"", ""},
      {std::string("\x00", 1), "00"},
      {"\x0f\xf0\xff", "0ff0ff"},
      {"AZ az", "415a20617a"},
      {"\xE2\x80\xA6", "e280a6"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HexEncode(c.bytes), c.hex) << c.hex;
    std::string out = "x";
    AppendHex(c.bytes, &out);
    EXPECT_EQ(out, "x" + c.hex);
  }
}

TEST(HexTest, DigitsBytesAndNumbers) {
  EXPECT_EQ(HexDigit(0), '0');
  EXPECT_EQ(HexDigit(10), 'a');
  EXPECT_EQ(HexDigit(15, /*upper=*/true), 'F');
  EXPECT_EQ(HexDigit(0x1b), 'b');  // only the low nibble
  std::string out;
  AppendHexByte(0xC3, &out);
  AppendHexByte(0x0a, &out, /*upper=*/true);
  EXPECT_EQ(out, "c30A");
  struct Number {
    uint64_t value;
    int digits;
    const char* hex;
  };
  const Number numbers[] = {
      {0, 1, "0"},
      {0xabc, 3, "abc"},
      {0xabc, 5, "00abc"},
      {0x12345, 3, "345"},  // the low digits only
      {~uint64_t{0}, 16, "ffffffffffffffff"},
  };
  for (const Number& n : numbers) {
    std::string text;
    AppendHexNumber(n.value, n.digits, &text);
    EXPECT_EQ(text, n.hex);
  }
}

}  // namespace
}  // namespace pinpipe::core
