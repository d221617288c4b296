#include "archive/partition_recovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "archive/archive_layout.h"
#include "testing/fake_object_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::archive {
namespace {

using testing::FakeObjectStore;

SegmentManifest Intent(int64_t first, int64_t end) {
  SegmentManifest m;
  m.group = "g";
  m.topic = "t";
  m.partition = 1;
  m.kind = "pin";
  m.first = first;
  m.end = end;
  m.records = end - first;
  return m;
}

void PutDoneSegment(FakeObjectStore* store, int64_t first, int64_t end) {
  ASSERT_TRUE(store
                  ->Put(IntentKey("g", "t", kafka::Partition{1}, kafka::Offset{first}),
                        Intent(first, end).ToJson())
                  .ok());
  DoneMarker d;
  d.first = first;
  d.end = end;
  ASSERT_TRUE(
      store->Put(DoneKey("g", "t", kafka::Partition{1}, kafka::Offset{first}), d.ToJson()).ok());
}

TEST(PartitionRecoveryTest, NothingArchivedStartsAtTheBeginning) {
  FakeObjectStore store;
  ASSERT_TRUE(
      store.Put(IntentKey("g", "t", kafka::Partition{2}, kafka::Offset{0}), Intent(0, 5).ToJson())
          .ok());  // other partition
  auto r = RecoverPartition(&store, "g", "t", 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->next, std::nullopt);
  EXPECT_FALSE(r->pending.has_value());
}

TEST(PartitionRecoveryTest, ResumesAtTheEndOfTheLastDoneSegment) {
  FakeObjectStore store;
  PutDoneSegment(&store, 0, 100);
  PutDoneSegment(&store, 100, 250);
  PutDoneSegment(&store, 9, 10);  // sorts by padded offset, not by write order
  auto r = RecoverPartition(&store, "g", "t", 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->next, 250);
  EXPECT_FALSE(r->pending.has_value());
  EXPECT_EQ(r->done_firsts, (std::vector<int64_t>{0, 9, 100}));
}

TEST(PartitionRecoveryTest, IntentWithoutDoneIsRedone) {
  FakeObjectStore store;
  PutDoneSegment(&store, 0, 100);
  ASSERT_TRUE(store
                  .Put(IntentKey("g", "t", kafka::Partition{1}, kafka::Offset{100}),
                       Intent(100, 180).ToJson())
                  .ok());
  auto r = RecoverPartition(&store, "g", "t", 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->pending.has_value());
  EXPECT_EQ(*r->pending, Intent(100, 180));
  EXPECT_EQ(r->next, 100);
}

TEST(PartitionRecoveryTest, LoneDoneMarkerAfterAnInterruptedPruneStillCounts) {
  FakeObjectStore store;
  DoneMarker d;
  d.first = 40;
  d.end = 77;
  ASSERT_TRUE(
      store.Put(DoneKey("g", "t", kafka::Partition{1}, kafka::Offset{40}), d.ToJson()).ok());
  auto r = RecoverPartition(&store, "g", "t", 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next, 77);
}

TEST(PartitionRecoveryTest, UnreadableDecidingManifestIsDataLoss) {
  FakeObjectStore store;
  ASSERT_TRUE(
      store.Put(IntentKey("g", "t", kafka::Partition{1}, kafka::Offset{100}), "{not json").ok());
  EXPECT_THAT(RecoverPartition(&store, "g", "t", 1), StatusIs(StatusCode::kDataLoss));
}

TEST(PartitionRecoveryTest, StoreErrorsAreReturnedAsTheyAre) {
  FakeObjectStore store;
  store.FailNextLists(1);
  EXPECT_EQ(RecoverPartition(&store, "g", "t", 1).status(), Unavailable("injected list failure"));
}

TEST(PartitionRecoveryTest, PruneKeepsTheNewestDoneSegments) {
  FakeObjectStore store;
  for (int i = 0; i < 5; ++i) PutDoneSegment(&store, i * 10, i * 10 + 10);
  auto r = RecoverPartition(&store, "g", "t", 1);
  ASSERT_TRUE(r.ok());
  auto pruned = PruneManifests(&store, "g", "t", 1, r->done_firsts, 2, 1000);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 3u);
  auto after = RecoverPartition(&store, "g", "t", 1);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->done_firsts, (std::vector<int64_t>{30, 40}));
  EXPECT_EQ(after->next, 50);
  // The delete budget is respected (two objects per segment).
  for (int i = 5; i < 10; ++i) PutDoneSegment(&store, i * 10, i * 10 + 10);
  auto again = RecoverPartition(&store, "g", "t", 1);
  EXPECT_EQ(*PruneManifests(&store, "g", "t", 1, again->done_firsts, 1, 5), 2u);
}

}  // namespace
}  // namespace pinpipe::archive
