#include "batch/duplicate_hints.h"

#include <gtest/gtest.h>

namespace pinpipe::batch {
namespace {

DedupKey Int(int64_t v) {
  DedupKey k;
  k.type = DedupKeyType::kInt;
  k.hi = static_cast<uint64_t>(v);
  return k;
}

DedupKey Uuid(uint64_t hi, uint64_t lo) {
  DedupKey k;
  k.type = DedupKeyType::kUuid;
  k.hi = hi;
  k.lo = lo;
  return k;
}

TEST(DuplicateHintsTest, AKeySeenBeforeIsADuplicate) {
  DuplicateHints hints(10);
  EXPECT_FALSE(hints.SeenBefore(Int(7)));
  EXPECT_TRUE(hints.SeenBefore(Int(7)));
  EXPECT_FALSE(hints.SeenBefore(Int(0)));
  EXPECT_TRUE(hints.SeenBefore(Int(0)));
  EXPECT_FALSE(hints.SeenBefore(Uuid(0, 0)));
  EXPECT_TRUE(hints.SeenBefore(Uuid(0, 0)));
  EXPECT_FALSE(hints.SeenBefore(Uuid(7, 0)));  // not the integer 7
  EXPECT_TRUE(hints.SeenBefore(Uuid(7, 0)));
}

TEST(DuplicateHintsTest, TextKeysAndNullAreNeverHinted) {
  DuplicateHints hints(10);
  DedupKey text;
  text.type = DedupKeyType::kText;
  text.text = "x";
  EXPECT_FALSE(hints.SeenBefore(text));
  EXPECT_FALSE(hints.SeenBefore(text));
  EXPECT_FALSE(hints.SeenBefore(DedupKey{}));
  EXPECT_FALSE(hints.SeenBefore(DedupKey{}));
}

TEST(DuplicateHintsTest, AFullTableForgetsButNeverLies) {
  DuplicateHints hints(6);  // 64 slots for 10,000 keys
  int hinted = 0;
  for (int i = 0; i < 10000; ++i) hinted += hints.SeenBefore(Int(i)) ? 1 : 0;
  EXPECT_EQ(hinted, 0);  // every key is new: none may be called a duplicate
  for (int i = 0; i < 10000; ++i) hinted += hints.SeenBefore(Int(i)) ? 1 : 0;
  EXPECT_GT(hinted, 0);
  EXPECT_LE(hinted, 64);
}

}  // namespace
}  // namespace pinpipe::batch
