#include "lake/object_key.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinpipe::lake {
namespace {

TEST(ObjectKeyTest, AcceptsOrdinaryAndUnusualKeys) {
  for (const std::string& key : std::vector<std::string>{
           "a", "pin/2024/01/01/part-00000.jsonl", "with space", "plus+and=equals", "percent%20",
           "ünïcødé/ሴ/😀", "dots..inside/.hidden/x.", "semi;colon,comma'quote\"", "back\\slash",
           std::string(1024, 'k')}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key << ": " << ValidateKey(key).ToString();
  }
}

TEST(ObjectKeyTest, RejectsWhatCannotMapToAFileOrAnS3Listing) {
  struct Case {
    std::string key;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty"},
           {"/abs", "starts with '/'"},
           {"a//b", "empty path segment"},
           {"a/", "empty path segment"},
           {"..", "\"..\""},
           {"a/../b", "\"..\""},
           {"./a", "\"..\""},
           {std::string("a\0b", 3), "control character"},
           {"tab\there", "control character"},
           {"del\x7f", "control character"},
           {"\xc3\x28", "UTF-8"},
           {"\xed\xa0\x80", "UTF-8"},      // a surrogate
           {"\xc0\xaf", "UTF-8"},          // overlong '/'
           {"\xf4\x90\x80\x80", "UTF-8"},  // past U+10FFFF
           {std::string(1025, 'k'), "1024"},
       }) {
    const Status s = ValidateKey(c.key);
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << c.key;
    EXPECT_NE(s.message().find(c.why), std::string::npos) << s.message();
  }
  // The message shows control characters escaped.
  EXPECT_NE(ValidateKey("a\x01").message().find("a\\x01"), std::string::npos);
}

TEST(ObjectKeyTest, PrefixesMayEndOpen) {
  EXPECT_TRUE(ValidatePrefix("").ok());
  EXPECT_TRUE(ValidatePrefix("pin/").ok());
  EXPECT_TRUE(ValidatePrefix("pin/2024-0").ok());
  EXPECT_THAT(ValidatePrefix("/pin"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidatePrefix("pin//"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidatePrefix("../"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace pinpipe::lake
