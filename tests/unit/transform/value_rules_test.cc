// Unit tests for the pure value rules: trim, the follower-count parser, text casts, timestamps.
#include "transform/value_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>
#include <string>

namespace pinpipe::transform {
namespace {

TEST(TrimSpaceTest, RemovesAsciiAndUnicodeSpaceAtBothEnds) {
  EXPECT_EQ(TrimSpace("  a b\t\n\r\v\f"), "a b");
  EXPECT_EQ(TrimSpace("\u00a0x\u00a0"), "x");
  EXPECT_EQ(TrimSpace("\u0085\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000x"), "x");
  EXPECT_EQ(TrimSpace("x\u200b\ufeff"), "x");
  EXPECT_EQ(TrimSpace(""), "");
  EXPECT_EQ(TrimSpace(" \u00a0 "), "");
}

TEST(TrimSpaceTest, KeepsEllipsisAndInnerSpace) {
  EXPECT_EQ(TrimSpace("wreath…\u00a0"), "wreath…");
  EXPECT_EQ(TrimSpace("…"), "…");
  EXPECT_EQ(TrimSpace("a\u00a0b"), "a\u00a0b");
  // Other characters whose encodings share lead bytes with spaces are kept.
  EXPECT_EQ(TrimSpace("\u2010x\u2030"), "\u2010x\u2030");  // hyphen, per mille
  EXPECT_EQ(TrimSpace("\u00a9"), "\u00a9");                // copyright sign (C2 A9)
  EXPECT_EQ(TrimSpace("\u3001"), "\u3001");                // ideographic comma (E3 80 81)
}

TEST(TrimSpaceTest, ToleratesTruncatedMultiByteSequences) {
  EXPECT_EQ(TrimSpace("\xC2"), "\xC2");
  EXPECT_EQ(TrimSpace("\xE2\x80"), "\xE2\x80");
  EXPECT_EQ(TrimSpace("\xA0"), "\xA0");
}

struct CountCase {
  const char* text;
  CountParse parse;
  int64_t value;
};

TEST(ParseCountSuffixTest, Values) {
  const CountCase cases[] = {
      {"0", CountParse::kPlain, 0},
      {"999", CountParse::kPlain, 999},
      {"007", CountParse::kPlain, 7},
      {"12k", CountParse::kExpanded, 12000},
      {"12K", CountParse::kExpanded, 12000},
      {"1.2k", CountParse::kExpanded, 1200},
      {"1.25k", CountParse::kExpanded, 1250},
      {"1.2345k", CountParse::kExpanded, 1234},
      {"0.5k", CountParse::kExpanded, 500},
      {"3M", CountParse::kExpanded, 3000000},
      {"3m", CountParse::kExpanded, 3000000},
      {"1.2M", CountParse::kExpanded, 1200000},
      {"15M", CountParse::kExpanded, 15000000},
      {"1B", CountParse::kExpanded, 1000000000},
      {"2.5b", CountParse::kExpanded, 2500000000},
      {"12.0", CountParse::kExpanded, 12},
      {"999999999999999999", CountParse::kPlain, 999999999999999999},
      {"9223372036.854775k", CountParse::kExpanded, 9223372036854},  // .775 truncated
  };
  for (const CountCase& c : cases) {
    int64_t v = -1;
    EXPECT_EQ(ParseCountSuffix(c.text, &v), c.parse) << c.text;
    EXPECT_EQ(v, c.value) << c.text;
  }
}

TEST(ParseCountSuffixTest, Invalid) {
  for (const char* text : {"",
                           "k",
                           "M",
                           "12kk",
                           "12kM",
                           "1.2.3k",
                           "1.k",
                           ".5k",
                           "-5",
                           "+5",
                           "1,200",
                           "1 200",
                           " 12k",
                           "12k ",
                           "12x",
                           "User Info Error",
                           "1e3",
                           "0x10",
                           "9999999999999999999",
                           "1234567890123456789k",
                           "999999999999999999B",
                           "9223372036854775.807k"}) {
    int64_t v = 42;
    EXPECT_EQ(ParseCountSuffix(text, &v), CountParse::kInvalid) << text;
    EXPECT_EQ(v, 42) << text;
  }
  int64_t v = 0;
  // 18 digits times 1e9 exceeds int64.
  EXPECT_EQ(ParseCountSuffix("99999999999b", &v), CountParse::kInvalid);
}

TEST(TextCastTest, Int64) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64Text("-12", &v));
  EXPECT_EQ(v, -12);
  EXPECT_FALSE(ParseInt64Text("", &v));
  EXPECT_FALSE(ParseInt64Text("12a", &v));
  EXPECT_FALSE(ParseInt64Text("99999999999999999999", &v));
}

TEST(TextCastTest, Double) {
  double d = 0;
  EXPECT_TRUE(ParseDoubleText("-1.5e3", &d));
  EXPECT_EQ(d, -1500);
  EXPECT_FALSE(ParseDoubleText("inf", &d));
  EXPECT_FALSE(ParseDoubleText("nan", &d));
  EXPECT_FALSE(ParseDoubleText("1.5x", &d));
  EXPECT_FALSE(ParseDoubleText("", &d));
}

TEST(TextCastTest, Bool) {
  bool b = false;
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"}) {
    EXPECT_TRUE(ParseBoolText(t, &b)) << t;
    EXPECT_TRUE(b) << t;
  }
  for (const char* t : {"0", "f", "F", "false", "FALSE"}) {
    EXPECT_TRUE(ParseBoolText(t, &b)) << t;
    EXPECT_FALSE(b) << t;
  }
  for (const char* t : {"", "2", "yes", "tru", "truex"}) EXPECT_FALSE(ParseBoolText(t, &b)) << t;
}

std::string Format(int64_t micros) {
  std::string s;
  AppendTimestamp(micros, &s);
  return s;
}

TEST(TimestampTest, FormatsEpochAndFractions) {
  EXPECT_EQ(Format(0), "1970-01-01 00:00:00");
  EXPECT_EQ(Format(1), "1970-01-01 00:00:00.000001");
  EXPECT_EQ(Format(-1), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(Format(1598586767123456), "2020-08-28 03:52:47.123456");
}

TEST(TimestampTest, CivilToMicrosRoundTrips) {
  core::CivilTimestamp ts;
  std::string_view why;
  for (const char* text : {"0001-01-01 00:00:00", "1969-12-31 23:59:59", "2000-02-29 12:00:00",
                           "2020-08-28 03:52:47", "9999-12-31 23:59:59"}) {
    ASSERT_TRUE(core::ParseTimestamp(text, &ts, &why)) << text;
    EXPECT_EQ(Format(TimestampMicros(ts)), text);
  }
  ASSERT_TRUE(core::ParseTimestamp("2020-08-28T03:52:47.9999996Z", &ts, &why));
  EXPECT_EQ(Format(TimestampMicros(ts)), "2020-08-28 03:52:48");  // rounds into the next second
  ASSERT_TRUE(core::ParseTimestamp("0001-01-01T00:30:00+01:00", &ts, &why));
  EXPECT_EQ(Format(TimestampMicros(ts)), "0001-12-31 23:30:00 BC");  // 1 BC after the offset
}

TEST(NumberFormatTest, ShortestRoundTrip) {
  std::string s;
  AppendDouble(0.1, &s);
  s += ' ';
  AppendDouble(-173.293, &s);
  s += ' ';
  AppendDouble(1e21, &s);
  s += ' ';
  AppendInt64(std::numeric_limits<int64_t>::min(), &s);
  EXPECT_EQ(s, "0.1 -173.293 1e+21 -9223372036854775808");
}

}  // namespace
}  // namespace pinpipe::transform

namespace pinpipe::transform {
namespace {

std::string Utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

// kTrimSpaceCodePoints is what the Spark job's trim removes (spark_export.h): it must be exactly
// the set TrimSpace() removes, checked over every code point of the Basic Multilingual Plane and
// a few beyond it.
TEST(TrimSpaceTest, RemovesExactlyTheListedCodePoints) {
  std::set<char32_t> listed(std::begin(kTrimSpaceCodePoints), std::end(kTrimSpaceCodePoints));
  int trimmed = 0;
  for (char32_t cp = 1; cp < 0x10000 + 0x100; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // surrogates are not UTF-8
    const std::string s = "x" + Utf8(cp);
    const bool removed = TrimSpace(s) == "x";
    EXPECT_EQ(removed, listed.count(cp) == 1) << "U+" << std::hex << static_cast<uint32_t>(cp);
    trimmed += removed ? 1 : 0;
    EXPECT_EQ(TrimSpace(Utf8(cp) + "x") == "x", removed)
        << "U+" << std::hex << static_cast<uint32_t>(cp);
  }
  EXPECT_EQ(trimmed, static_cast<int>(listed.size()));
}

// kCountSuffixes is the suffix table the Spark job uses: every letter parses with its multiplier.
TEST(ParseCountSuffixTest, SuffixTableIsWhatTheParserAccepts) {
  for (const CountSuffix& s : kCountSuffixes) {
    int64_t v = 0;
    EXPECT_EQ(ParseCountSuffix(std::string("7") + s.letter, &v), CountParse::kExpanded) << s.letter;
    EXPECT_EQ(v, 7 * s.multiplier) << s.letter;
  }
  for (char c = 'A'; c <= 'z'; ++c) {
    int64_t v = 0;
    const bool listed = std::any_of(std::begin(kCountSuffixes), std::end(kCountSuffixes),
                                    [c](const CountSuffix& s) { return s.letter == c; });
    EXPECT_EQ(ParseCountSuffix(std::string("7") + c, &v) != CountParse::kInvalid, listed) << c;
  }
  int64_t v = 0;
  EXPECT_EQ(ParseCountSuffix(std::string(kMaxCountDigits, '9'), &v), CountParse::kPlain);
  EXPECT_EQ(ParseCountSuffix(std::string(kMaxCountDigits + 1, '9'), &v), CountParse::kInvalid);
}

}  // namespace
}  // namespace pinpipe::transform
