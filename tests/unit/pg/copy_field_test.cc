#include <gtest/gtest.h>

#include <string>

#include "pg/copy_in.h"

namespace pinpipe::pg {
namespace {

std::string Escaped(std::string_view value) {
  std::string out;
  AppendCopyField(out, value);
  return out;
}

TEST(AppendCopyFieldTest, PlainTextIsUnchanged) {
  EXPECT_EQ(Escaped("hello world"), "hello world");
  EXPECT_EQ(Escaped(""), "");
}

TEST(AppendCopyFieldTest, EscapesBackslashTabNewlineCarriageReturn) {
  EXPECT_EQ(Escaped("a\\b"), "a\\\\b");
  EXPECT_EQ(Escaped("a\tb"), "a\\tb");
  EXPECT_EQ(Escaped("line1\nline2\n"), "line1\\nline2\\n");
  EXPECT_EQ(Escaped("\r\n"), "\\r\\n");
  EXPECT_EQ(Escaped("\\\\"), "\\\\\\\\");
}

TEST(AppendCopyFieldTest, BackslashNIsNotMistakenForNull) {
  // The two characters "\N" as text must not become SQL NULL.
  EXPECT_EQ(Escaped("\\N"), "\\\\N");
}

TEST(AppendCopyFieldTest, EndOfDataMarkerIsEscaped) { EXPECT_EQ(Escaped("\\."), "\\\\."); }

TEST(AppendCopyFieldTest, Utf8PassesThroughByteExact) {
  const std::string text = "caf\xC3\xA9 \xE2\x80\xA6\xC2\xA0 \xF0\x9F\x8E\x84 \"quoted\"";
  EXPECT_EQ(Escaped(text), text);
}

TEST(AppendCopyFieldTest, AppendsToExistingBuffer) {
  std::string out = "1\t";
  AppendCopyField(out, "x\ty");
  EXPECT_EQ(out, "1\tx\\ty");
}

}  // namespace
}  // namespace pinpipe::pg
