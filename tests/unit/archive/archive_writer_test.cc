#include "archive/archive_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "archive/archive_layout.h"
#include "testing/fake_object_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::archive {
namespace {

using std::chrono::milliseconds;
using testing::FakeObjectStore;

Segment MakeSegment(int32_t partition, int64_t first, int n) {
  SegmentSettings s;
  s.group = "g";
  s.topic = "geo";
  s.partition = partition;
  s.kind = core::RecordKind::kGeo;
  auto zstd = FramePool::Create(3, 0);
  SegmentBuilder b(s, zstd->get());
  b.Start(first);
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(
        b.Add(first + i, "{\"ind\":" + std::to_string(first + i) + "}", 0, std::nullopt).ok());
  }
  return std::move(b.Finish(first + n)).value();
}

ArchiveWriter::Options FastOptions() {
  ArchiveWriter::Options o;
  o.backoff_initial = milliseconds(1);
  o.backoff_max = milliseconds(5);
  return o;
}

std::vector<WriterEvent> Finish(ArchiveWriter* w) {
  EXPECT_TRUE(w->WaitIdle(std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  return w->TakeEvents();
}

TEST(ArchiveWriterTest, WritesSegmentsInOrderAndReportsThem) {
  FakeObjectStore store;
  ArchiveWriter w(&store, "g", FastOptions());
  w.Submit(SegmentTask{MakeSegment(0, 0, 5), std::nullopt});
  w.Submit(SegmentTask{MakeSegment(0, 5, 5), std::nullopt});
  const auto events = Finish(&w);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, WriterEvent::Kind::kSegmentDone);
  EXPECT_EQ(events[0].end, 5);
  EXPECT_EQ(events[1].first, 5);
  EXPECT_EQ(events[1].records, 5);
  EXPECT_EQ(events[1].days, std::vector<int64_t>{0});
  EXPECT_TRUE(store.objects().count(DoneKey("g", "geo", kafka::Partition{0}, kafka::Offset{5})));
  EXPECT_TRUE(store.objects().count(OpenDayKey("g", "geo", 0)));
}

TEST(ArchiveWriterTest, RetriesRetriableStoreErrors) {
  FakeObjectStore store;
  ArchiveWriter w(&store, "g", FastOptions());
  store.FailNthPut(3);  // the first object
  w.Submit(SegmentTask{MakeSegment(0, 0, 5), std::nullopt});
  const auto events = Finish(&w);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WriterEvent::Kind::kSegmentDone);
  EXPECT_EQ(w.retries(), 1);
  EXPECT_TRUE(store.objects().count(DoneKey("g", "geo", kafka::Partition{0}, kafka::Offset{0})));
}

TEST(ArchiveWriterTest, FatalErrorStopsEverythingAfterIt) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(0, 0, 5);
  ASSERT_TRUE(store.Put(seg.objects[0].key, "not what the segment holds").ok());
  ArchiveWriter w(&store, "g", FastOptions());
  w.Submit(SegmentTask{seg, std::nullopt});
  w.Submit(SegmentTask{MakeSegment(1, 0, 5), std::nullopt});
  w.Submit(SealTask{"geo", 0, 0});
  const auto events = Finish(&w);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, WriterEvent::Kind::kFatal);
  EXPECT_THAT(events[0].status, StatusIs(StatusCode::kDataLoss));
  EXPECT_EQ(events[1].kind, WriterEvent::Kind::kSkipped);
  EXPECT_EQ(events[2].kind, WriterEvent::Kind::kSealAbandoned);
  EXPECT_FALSE(store.objects().count(DoneKey("g", "geo", kafka::Partition{1}, kafka::Offset{0})));
}

TEST(ArchiveWriterTest, ConflictPoisonsThePartitionUntilCleared) {
  FakeObjectStore store;
  ASSERT_TRUE(store
                  .Put(IntentKey("g", "geo", kafka::Partition{0}, kafka::Offset{0}),
                       MakeSegment(0, 0, 9).manifest.ToJson())
                  .ok());
  ArchiveWriter w(&store, "g", FastOptions());
  w.Submit(SegmentTask{MakeSegment(0, 0, 5), std::nullopt});
  w.Submit(SegmentTask{MakeSegment(0, 5, 5), std::nullopt});  // cut on top of the lost one
  w.Submit(SegmentTask{MakeSegment(1, 0, 5), std::nullopt});  // another partition: unaffected
  auto events = Finish(&w);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, WriterEvent::Kind::kConflict);
  EXPECT_EQ(events[0].write.existing->end, 9);
  EXPECT_EQ(events[1].kind, WriterEvent::Kind::kSkipped);
  EXPECT_EQ(events[2].kind, WriterEvent::Kind::kSegmentDone);
  EXPECT_FALSE(store.objects().count(IntentKey("g", "geo", kafka::Partition{0}, kafka::Offset{5})));
  w.ClearPoison("geo", 0);
  w.Submit(SegmentTask{MakeSegment(0, 9, 5), std::nullopt});
  events = Finish(&w);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WriterEvent::Kind::kSegmentDone);
}

TEST(ArchiveWriterTest, AbortEndsRetryingAndSkipsTheRest) {
  FakeObjectStore store;
  store.FailGetOf("geo/dt=1970-01-01/_SUCCESS");  // Head of the day keeps failing
  ArchiveWriter w(&store, "g", FastOptions());
  w.Submit(SegmentTask{MakeSegment(0, 0, 5), std::nullopt});
  w.Submit(SegmentTask{MakeSegment(0, 5, 5), std::nullopt});
  EXPECT_FALSE(w.WaitIdle(std::chrono::steady_clock::now() + milliseconds(200)));
  EXPECT_GT(w.retries(), 3);
  w.Abort();
  const auto events = Finish(&w);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, WriterEvent::Kind::kSkipped);
  EXPECT_EQ(events[1].kind, WriterEvent::Kind::kSkipped);
}

TEST(ArchiveWriterTest, SealsDays) {
  FakeObjectStore store;
  ArchiveWriter w(&store, "g", FastOptions());
  w.Submit(SegmentTask{MakeSegment(0, 0, 5), std::nullopt});
  w.Submit(SealTask{"geo", 0, 2 * kMillisPerDay});
  const auto events = Finish(&w);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, WriterEvent::Kind::kSealed);
  EXPECT_EQ(events[1].seal.records, 5);
  EXPECT_TRUE(store.objects().count("geo/dt=1970-01-01/_SUCCESS"));
}

}  // namespace
}  // namespace pinpipe::archive
