// core/uuid_text.h: the canonical (lower-case) spelling of a validated UUID.
#include "core/uuid_text.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace pinpipe::core {
namespace {

constexpr std::string_view kLower = "fbe53c66-3442-4773-b19e-d3ec6f54dddf";

TEST(UuidTextTest, LowerCaseIsCanonical) {
  EXPECT_TRUE(IsLowerCaseUuid(kLower));
  EXPECT_TRUE(IsLowerCaseUuid("00000000-0000-4000-8000-000000000000"));
  std::string out = "x";
  AppendLowerCaseUuid(kLower, &out);
  EXPECT_EQ(out, "x" + std::string(kLower));
}

// An upper-case hex digit anywhere (each of the 36 positions that holds a letter: the five
// overlapping words of the fast path and the bytes between them) is found and lowered.
TEST(UuidTextTest, UpperCaseAtAnyPositionIsFoundAndLowered) {
  for (size_t i = 0; i < kLower.size(); ++i) {
    if (!std::isalpha(static_cast<unsigned char>(kLower[i]))) continue;
    std::string uuid(kLower);
    uuid[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(uuid[i])));
    EXPECT_FALSE(IsLowerCaseUuid(uuid)) << i;
    std::string out;
    AppendLowerCaseUuid(uuid, &out);
    EXPECT_EQ(out, kLower) << i;
  }
  std::string upper(kLower);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string out;
  AppendLowerCaseUuid(upper, &out);
  EXPECT_EQ(out, kLower);
}

// Other lengths take the general loop (never from the validator, which only passes 36 bytes).
TEST(UuidTextTest, OtherLengthsUseTheGeneralLoop) {
  EXPECT_TRUE(IsLowerCaseUuid(""));
  EXPECT_TRUE(IsLowerCaseUuid("abc-0123456789abcdef"));
  EXPECT_FALSE(IsLowerCaseUuid("abc-0123456789abcdeF"));
  EXPECT_FALSE(IsLowerCaseUuid("Abc"));
  std::string out;
  AppendLowerCaseUuid("ABC-0123456789ABCDEF", &out);
  EXPECT_EQ(out, "abc-0123456789abcdef");
}

}  // namespace
}  // namespace pinpipe::core
