#include "stream/offset_book.h"

#include <gtest/gtest.h>

namespace pinpipe::stream {
namespace {

const kafka::TopicPartition kP0{"pins", 0};
const kafka::TopicPartition kP1{"pins", 1};

TEST(OffsetBookTest, UnownedPartitionsAreRejected) {
  OffsetBook book;
  EXPECT_FALSE(book.Accept(kP0, 0));
  EXPECT_FALSE(book.HasPending());
}

TEST(OffsetBookTest, FirstTimePartitionInsertsAndThenUpdates) {
  OffsetBook book;
  book.Own(kP0, std::nullopt);
  EXPECT_EQ(book.SeekPositions()[0].offset, kafka::kOffsetBeginning);
  EXPECT_TRUE(book.Accept(kP0, 5));  // retention may have removed 0..4
  EXPECT_TRUE(book.Accept(kP0, 6));
  EXPECT_EQ(book.PendingUpdates(), (std::vector<OffsetUpdate>{{kP0, std::nullopt, 7}}));
  book.CommitPending();
  EXPECT_FALSE(book.HasPending());
  EXPECT_TRUE(book.Accept(kP0, 7));
  EXPECT_EQ(book.PendingUpdates(), (std::vector<OffsetUpdate>{{kP0, 7, 8}}));
  EXPECT_EQ(book.SeekPositions()[0].offset, 7);  // stored, not pending
}

TEST(OffsetBookTest, RecordsBeforeThePositionAreStale) {
  OffsetBook book;
  book.Own(kP0, 100);
  EXPECT_FALSE(book.Accept(kP0, 99));
  EXPECT_TRUE(book.Accept(kP0, 100));
  EXPECT_FALSE(book.Accept(kP0, 100));  // redelivered within the chunk
  EXPECT_TRUE(book.Accept(kP0, 103));   // a gap is fine (markers, compaction)
  EXPECT_EQ(book.Position(kP0), 104);
}

TEST(OffsetBookTest, OnlyPartitionsWithRecordsAreUpdated) {
  OffsetBook book;
  book.Own(kP0, 10);
  book.Own(kP1, 20);
  EXPECT_TRUE(book.Accept(kP1, 20));
  EXPECT_EQ(book.PendingUpdates(), (std::vector<OffsetUpdate>{{kP1, 20, 21}}));
}

TEST(OffsetBookTest, AbandonReturnsToStored) {
  OffsetBook book;
  book.Own(kP0, 10);
  EXPECT_TRUE(book.Accept(kP0, 10));
  EXPECT_TRUE(book.Accept(kP0, 11));
  book.AbandonPending();
  EXPECT_FALSE(book.HasPending());
  EXPECT_EQ(book.Position(kP0), 10);
  EXPECT_TRUE(book.Accept(kP0, 10));  // re-read after the re-seek
}

TEST(OffsetBookTest, OwnReplacesStateAfterAConflict) {
  OffsetBook book;
  book.Own(kP0, 10);
  EXPECT_TRUE(book.Accept(kP0, 10));
  book.Own(kP0, 50);  // PostgreSQL says another worker got to 50
  EXPECT_FALSE(book.HasPending());
  EXPECT_FALSE(book.Accept(kP0, 11));
  EXPECT_TRUE(book.Accept(kP0, 50));
  EXPECT_EQ(book.PendingUpdates(), (std::vector<OffsetUpdate>{{kP0, 50, 51}}));
}

TEST(OffsetBookTest, ReleaseForgetsThePartition) {
  OffsetBook book;
  book.Own(kP0, 1);
  book.Own(kP1, 2);
  book.Release(kP0);
  EXPECT_EQ(book.Owned(), (std::vector<kafka::TopicPartition>{kP1}));
  EXPECT_FALSE(book.Accept(kP0, 1));
}

}  // namespace
}  // namespace pinpipe::stream
