// BinaryRow: PostgreSQL's binary COPY format, one CopyData message at a time (the integration
// tests read real COPY output through CopyOut).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "pg/copy_out.h"
#include "testing/status_matchers.h"

namespace pinpipe::pg {
namespace {

std::string Be(uint64_t value, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

std::string Header(uint32_t extension = 0) {
  return std::string("PGCOPY\n\377\r\n\0", 11) + Be(0, 4) + Be(extension, 4) +
         std::string(extension, 'e');
}

std::string Field(const std::string& bytes) { return Be(bytes.size(), 4) + bytes; }
std::string Null() { return Be(0xffffffffu, 4); }

TEST(BinaryRowTest, ParsesHeaderThenTupleWithEveryType) {
  double d = 2.5;
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  const std::string message = Header(3) + Be(7, 2) + Field(Be(static_cast<uint32_t>(-5), 4)) +
                              Field(Be(1, 8)) + Field("\x01") + Field(Be(bits, 8)) +
                              Field(Be(0, 4)) + Field(Be(0, 8)) + Null();
  BinaryRow row;
  bool at_end = true;
  auto parsed = row.Parse(message, true, &at_end);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(*parsed);
  EXPECT_FALSE(at_end);
  ASSERT_EQ(row.size(), 7u);
  EXPECT_EQ(**row.Int4(0), -5);
  EXPECT_EQ(**row.Int8(1), 1);
  EXPECT_EQ(**row.Bool(2), true);
  EXPECT_EQ(**row.Float8(3), 2.5);
  EXPECT_EQ(**row.Date(4), 10957);                              // 2000-01-01
  EXPECT_EQ(**row.Timestamp(5), int64_t{946684800} * 1000000);  // 2000-01-01 00:00 UTC
  EXPECT_TRUE(row.IsNull(6));
  EXPECT_EQ(*row.Int4(6), std::nullopt);
  EXPECT_EQ(row.Text(6), std::nullopt);
}

TEST(BinaryRowTest, InfinitiesStayAtTheExtremes) {
  const std::string message =
      Be(2, 2) + Field(Be(0x7fffffffu, 4)) + Field(Be(0x8000000000000000ULL, 8));
  BinaryRow row;
  bool at_end = false;
  ASSERT_TRUE(row.Parse(message, false, &at_end).ok());
  EXPECT_EQ(**row.Date(0), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(**row.Timestamp(1), std::numeric_limits<int64_t>::min());
}

TEST(BinaryRowTest, TrailerEnds) {
  BinaryRow row;
  bool at_end = false;
  auto parsed = row.Parse(Header() + Be(0xffff, 2), true, &at_end);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(*parsed);
  EXPECT_TRUE(at_end);
}

TEST(BinaryRowTest, WrongLengthForTheTypeIsInvalidArgument) {
  BinaryRow row;
  bool at_end = false;
  const std::string message = Be(1, 2) + Field("abc");  // the row points into it
  ASSERT_TRUE(row.Parse(message, false, &at_end).ok());
  EXPECT_THAT(row.Int4(0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(row.Timestamp(0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(*row.Text(0), "abc");
}

TEST(BinaryRowTest, MalformedMessagesAreDataLoss) {
  const std::string cases[] = {
      "",                            // nothing
      "PGCOPY\n",                    // short header
      Be(1, 2),                      // a field count without the field
      Be(1, 2) + Be(10, 4) + "abc",  // a field shorter than its length
      Be(1, 2) + Field("a") + "x",   // bytes after the tuple
      Be(0xfffe, 2),                 // negative count
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    BinaryRow row;
    bool at_end = false;
    EXPECT_THAT(row.Parse(cases[i], i < 2, &at_end), StatusIs(StatusCode::kDataLoss)) << i;
  }
}

}  // namespace
}  // namespace pinpipe::pg
