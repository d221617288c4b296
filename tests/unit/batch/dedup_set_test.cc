#include "batch/dedup_set.h"

#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

namespace pinpipe::batch {
namespace {

using transform::Cell;

DedupKey Key(const Cell& cell, std::string* scratch) { return DedupKey::Of(cell, scratch); }

TEST(DedupSetTest, CanonicalUuidIsStoredAsItsBits) {
  uint64_t hi = 0, lo = 0;
  ASSERT_TRUE(ParseCanonicalUuid("fbe53c66-3442-4773-b19e-d3ec6f54dddf", &hi, &lo));
  EXPECT_EQ(hi, 0xfbe53c6634424773ULL);
  EXPECT_EQ(lo, 0xb19ed3ec6f54dddfULL);
  EXPECT_FALSE(ParseCanonicalUuid("FBE53C66-3442-4773-B19E-D3EC6F54DDDF", &hi, &lo));
  EXPECT_FALSE(ParseCanonicalUuid("fbe53c66344247731b19ed3ec6f54dddf", &hi, &lo));
  EXPECT_FALSE(ParseCanonicalUuid("fbe53c66-3442-4773-b19e-d3ec6f54dddg", &hi, &lo));
}

TEST(DedupSetTest, FirstInsertWinsPerKeyAndTypesNeverCollide) {
  DedupSet set;
  std::string scratch;
  const std::string uuid = "fbe53c66-3442-4773-b19e-d3ec6f54dddf";
  EXPECT_TRUE(set.Insert(Key(Cell(std::string(uuid)), &scratch)));
  EXPECT_FALSE(set.Insert(Key(Cell(std::string(uuid)), &scratch)));
  // Upper case is a different text value (PostgreSQL's UNIQUE on text would keep both).
  EXPECT_TRUE(set.Insert(Key(Cell(std::string("FBE53C66-3442-4773-B19E-D3EC6F54DDDF")), &scratch)));
  EXPECT_FALSE(
      set.Insert(Key(Cell(std::string("FBE53C66-3442-4773-B19E-D3EC6F54DDDF")), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(int64_t{0}), &scratch)));
  EXPECT_FALSE(set.Insert(Key(Cell(int64_t{0}), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(int64_t{-7}), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(std::string("7")), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(std::string("")), &scratch)));
  EXPECT_FALSE(set.Insert(Key(Cell(std::string("")), &scratch)));
  EXPECT_EQ(set.size(), 6u);
}

TEST(DedupSetTest, NullIsNeverADuplicate) {
  DedupSet set;
  std::string scratch;
  EXPECT_TRUE(set.Insert(Key(Cell(), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(), &scratch)));
  EXPECT_EQ(set.size(), 0u);
}

TEST(DedupSetTest, OtherCellTypesDedupByTheirTextForm) {
  DedupSet set;
  std::string scratch;
  EXPECT_TRUE(set.Insert(Key(Cell(transform::Timestamp{1000000}), &scratch)));
  EXPECT_FALSE(set.Insert(Key(Cell(transform::Timestamp{1000000}), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(transform::Timestamp{1000001}), &scratch)));
  EXPECT_TRUE(set.Insert(Key(Cell(2.5), &scratch)));
  EXPECT_FALSE(set.Insert(Key(Cell(2.5), &scratch)));
}

TEST(DedupSetTest, ManyKeysStayExactAndCompact) {
  DedupSet set;
  std::string scratch;
  constexpr int kKeys = 200000;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(set.Insert(Key(Cell(int64_t{i}), &scratch))) << i;
    ASSERT_TRUE(set.Insert(Key(Cell(fmt::format("00000000-0000-4000-8000-{:012x}", i)), &scratch)))
        << i;
  }
  for (int i = 0; i < kKeys; i += 997) {
    EXPECT_FALSE(set.Insert(Key(Cell(int64_t{i}), &scratch)));
    EXPECT_FALSE(
        set.Insert(Key(Cell(fmt::format("00000000-0000-4000-8000-{:012x}", i)), &scratch)));
  }
  EXPECT_EQ(set.size(), 2u * kKeys);
  // 16-byte slots at a load factor of at least 0.35: under 48 bytes per key.
  EXPECT_LT(set.memory_bytes(), 48u * 2 * kKeys);
}

}  // namespace
}  // namespace pinpipe::batch
