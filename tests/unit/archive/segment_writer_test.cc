#include "archive/segment_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "archive/archive_layout.h"
#include "core/event_time.h"
#include "testing/fake_object_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::archive {
namespace {

using testing::FakeObjectStore;

int64_t Ms(const char* text) { return *core::RecordTimestampToEpochMs(text); }

// A segment of `n` geo records spread over three event hours, partition 0, [first, first+n).
Segment MakeSegment(int64_t first, int n, int zstd_level = 3) {
  SegmentSettings s;
  s.group = "g";
  s.topic = "geo";
  s.partition = 0;
  s.kind = core::RecordKind::kGeo;
  s.zstd_level = zstd_level;
  auto zstd = FramePool::Create(zstd_level, 0);
  SegmentBuilder b(s, zstd->get());
  b.Start(first);
  for (int i = 0; i < n; ++i) {
    const std::string value = "{\"ind\":" + std::to_string(first + i) + "}";
    EXPECT_TRUE(
        b.Add(first + i, value, Ms("2024-01-01 00:00:00") + (i % 3) * kMillisPerHour, std::nullopt)
            .ok());
  }
  return std::move(b.Finish(first + n)).value();
}

const std::string kIntent = "_archiver/g/geo/0/00000000000000000100.json";
const std::string kDone = "_archiver/g/geo/0/00000000000000000100.json.done";

TEST(SegmentWriterTest, WritesIntentThenObjectsThenDone) {
  FakeObjectStore store;
  SegmentWriter writer(&store);
  const Segment seg = MakeSegment(100, 30);
  std::vector<std::string> seen_before_objects;
  auto r = writer.Write(seg, std::nullopt, [&] {
    for (const auto& [key, bytes] : store.objects()) seen_before_objects.push_back(key);
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->written);
  EXPECT_EQ(r->objects_written, 3);
  EXPECT_EQ(r->objects_existing, 0);
  // The hook ran after the intent and before any object.
  EXPECT_EQ(seen_before_objects, std::vector<std::string>{kIntent});
  const auto objects = store.objects();
  EXPECT_EQ(objects.size(), 5u);
  EXPECT_EQ(*SegmentManifest::Parse(objects.at(kIntent)), seg.manifest);
  auto done = DoneMarker::Parse(objects.at(kDone));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->first, 100);
  EXPECT_EQ(done->end, 130);
  EXPECT_EQ(done->records, 30);
  ASSERT_EQ(done->objects.size(), 3u);
  for (const SegmentObject& o : seg.objects) EXPECT_EQ(objects.at(o.key), o.bytes);
}

// A crash at any put leaves some prefix of [intent, objects..., done]; the redo (the intent is
// found, the segment rebuilt from Kafka) must end with exactly the objects of a clean run.
TEST(SegmentWriterTest, RedoAfterAFailureAtEveryStepEndsIdenticalToACleanRun) {
  const Segment seg = MakeSegment(100, 30);
  FakeObjectStore clean;
  ASSERT_TRUE(SegmentWriter(&clean).Write(seg, std::nullopt).ok());
  auto without_done = [](std::map<std::string, std::string> m) {
    m.erase(kDone);  // completed_at differs
    return m;
  };
  const int puts = 5;  // intent, 3 objects, done
  for (int fail_at = 1; fail_at <= puts; ++fail_at) {
    SCOPED_TRACE(fail_at);
    FakeObjectStore store;
    store.FailNthPut(fail_at);
    auto first = SegmentWriter(&store).Write(seg, std::nullopt);
    ASSERT_THAT(first, StatusIs(StatusCode::kUnavailable));
    // Restart: the partition's state comes from the lake; rebuild from "Kafka" (the same records).
    const Segment rebuilt = MakeSegment(100, 30);
    std::optional<SegmentManifest> stored;
    if (auto body = store.Get(kIntent); body.ok()) stored = *SegmentManifest::Parse(*body);
    auto redo = SegmentWriter(&store).Write(rebuilt, stored);
    ASSERT_TRUE(redo.ok()) << redo.status().ToString();
    EXPECT_TRUE(redo->written);
    EXPECT_EQ(redo->objects_written + redo->objects_existing, 3);
    EXPECT_EQ(redo->objects_existing, std::max(0, std::min(3, fail_at - 2)));
    EXPECT_EQ(without_done(store.objects()), without_done(clean.objects()));
    EXPECT_TRUE(store.objects().count(kDone));
  }
}

TEST(SegmentWriterTest, ExistingIdenticalObjectIsAccepted) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  ASSERT_TRUE(store.Put(seg.objects[1].key, seg.objects[1].bytes).ok());
  auto r = SegmentWriter(&store).Write(seg, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->objects_written, 2);
  EXPECT_EQ(r->objects_existing, 1);
  EXPECT_EQ(r->objects_same_content, 0);
}

TEST(SegmentWriterTest, SameRecordsCompressedDifferentlyAreAccepted) {
  // As after a libzstd upgrade between the crash and the redo: other bytes, same content.
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  const Segment other_level = MakeSegment(100, 30, /*zstd_level=*/9);
  ASSERT_NE(seg.objects[0].bytes, other_level.objects[0].bytes);
  ASSERT_TRUE(store.Put(seg.objects[0].key, other_level.objects[0].bytes).ok());
  auto r = SegmentWriter(&store).Write(seg, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->objects_existing, 1);
  EXPECT_EQ(r->objects_same_content, 1);
  EXPECT_EQ(store.objects().at(seg.objects[0].key), other_level.objects[0].bytes);
}

TEST(SegmentWriterTest, ExistingObjectWithOtherContentIsDataLossAndNotOverwritten) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  const Segment other = MakeSegment(100, 31);  // one more record: different content
  ASSERT_TRUE(store.Put(seg.objects[0].key, other.objects[0].bytes).ok());
  auto r = SegmentWriter(&store).Write(seg, std::nullopt);
  ASSERT_THAT(r, StatusIs(StatusCode::kDataLoss));
  EXPECT_NE(r.status().message().find("already exists with different content"), std::string::npos);
  EXPECT_EQ(store.objects().at(seg.objects[0].key), other.objects[0].bytes);
  EXPECT_EQ(store.objects().count(kDone), 0u);
  // Garbage (not zstd) under the name is just as wrong.
  FakeObjectStore store2;
  ASSERT_TRUE(store2.Put(seg.objects[0].key, "garbage").ok());
  EXPECT_THAT(SegmentWriter(&store2).Write(seg, std::nullopt), StatusIs(StatusCode::kDataLoss));
}

TEST(SegmentWriterTest, RedoThatRebuildsADifferentSegmentIsDataLoss) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  SegmentManifest stored = seg.manifest;
  stored.records = 31;  // the intent promised a record Kafka no longer has
  auto r = SegmentWriter(&store).Write(seg, stored);
  ASSERT_THAT(r, StatusIs(StatusCode::kDataLoss));
  EXPECT_NE(r.status().message().find("31 records in the intent, 30 read back from Kafka"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(store.objects().empty());
}

TEST(SegmentWriterTest, AnotherIntentAtTheSameOffsetIsAConflictAndNothingIsWritten) {
  FakeObjectStore store;
  const Segment theirs = MakeSegment(100, 40);
  ASSERT_TRUE(store.Put(kIntent, theirs.manifest.ToJson()).ok());
  const Segment ours = MakeSegment(100, 30);
  auto r = SegmentWriter(&store).Write(ours, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->written);
  ASSERT_TRUE(r->existing.has_value());
  EXPECT_EQ(r->existing->end, 140);
  EXPECT_EQ(store.objects().size(), 1u);
}

TEST(SegmentWriterTest, IdenticalIntentFromAnEarlierAttemptIsOurs) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  ASSERT_TRUE(store.Put(kIntent, seg.manifest.ToJson()).ok());
  auto r = SegmentWriter(&store).Write(seg, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->written);
}

TEST(SegmentWriterTest, DoneMarkerOfAnotherRangeIsDataLoss) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  DoneMarker other;
  other.first = 100;
  other.end = 999;
  ASSERT_TRUE(store.Put(kDone, other.ToJson()).ok());
  EXPECT_THAT(SegmentWriter(&store).Write(seg, std::nullopt), StatusIs(StatusCode::kDataLoss));
}

TEST(SegmentWriterTest, HookErrorStopsBeforeAnyObject) {
  FakeObjectStore store;
  const Segment seg = MakeSegment(100, 30);
  auto r = SegmentWriter(&store).Write(seg, std::nullopt, [] { return Unavailable("day marker"); });
  EXPECT_EQ(r.status(), Unavailable("day marker"));
  EXPECT_EQ(store.objects().size(), 1u);  // the intent only
}

TEST(SegmentWriterTest, OriginalLayoutOverwritesAndNeedsNoVerification) {
  FakeObjectStore store;
  SegmentSettings s;
  s.group = "g";
  s.topic = "pins";
  s.kind = core::RecordKind::kPin;
  s.layout = Layout::kOriginal;
  SegmentBuilder b(s, nullptr);
  b.Start(0);
  ASSERT_TRUE(b.Add(0, "{\"unique_id\":\"u1\",\"v\":2}", 0, "u1").ok());
  const Segment seg = std::move(b.Finish(1)).value();
  ASSERT_TRUE(store.Put("pinterest_data_u1.json", "{\"unique_id\":\"u1\",\"v\":1}").ok());
  auto r = SegmentWriter(&store).Write(seg, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(store.objects().at("pinterest_data_u1.json"), "{\"unique_id\":\"u1\",\"v\":2}");
}

}  // namespace
}  // namespace pinpipe::archive
