#include "archive/segment_builder.h"

#include <gtest/gtest.h>

#include "archive/archive_layout.h"
#include "core/event_time.h"

namespace pinpipe::archive {
namespace {

int64_t Ms(const char* text) { return *core::RecordTimestampToEpochMs(text); }

SegmentSettings Settings(Layout layout = Layout::kHourly, int64_t frame_bytes = 1 << 20) {
  SegmentSettings s;
  s.group = "g";
  s.topic = "geo";
  s.partition = 1;
  s.kind = core::RecordKind::kGeo;
  s.layout = layout;
  s.zstd_level = 3;
  s.frame_bytes = frame_bytes;
  return s;
}

std::string Geo(int ind, const std::string& ts) {
  return "{\"ind\":" + std::to_string(ind) + ",\"timestamp\":\"" + ts + "\"}";
}

struct Input {
  int64_t offset;
  std::string value;
  int64_t event_ms;
};

// Builds [first, end) from `inputs` with a fresh frame pool of `threads` workers.
Segment Build(const std::vector<Input>& inputs, int64_t first, int64_t end,
              const SegmentSettings& settings = Settings(), int threads = 1) {
  auto zstd = FramePool::Create(settings.zstd_level, threads);
  EXPECT_TRUE(zstd.ok());
  SegmentBuilder b(settings, zstd->get());
  b.Start(first);
  for (const Input& in : inputs) {
    EXPECT_TRUE(b.Add(in.offset, in.value, in.event_ms, std::to_string(in.offset)).ok());
  }
  auto s = b.Finish(end);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

std::vector<Input> TwoHours() {
  return {{10, Geo(1, "a"), Ms("2024-01-01 05:10:00")},
          {11, Geo(2, "b"), Ms("2024-01-01 06:00:00")},
          {13, Geo(3, "c"), Ms("2024-01-01 05:59:59")},
          {14, Geo(4, "d"), Ms("2024-01-02 00:00:00")}};
}

TEST(SegmentBuilderTest, OneObjectPerEventHourNamedAfterTheSegmentsFirstOffset) {
  const Segment s = Build(TwoHours(), 10, 15);
  ASSERT_EQ(s.objects.size(), 3u);
  EXPECT_EQ(s.objects[0].key, "geo/dt=2024-01-01/hr=05/1-00000000000000000010.jsonl.zst");
  EXPECT_EQ(s.objects[1].key, "geo/dt=2024-01-01/hr=06/1-00000000000000000010.jsonl.zst");
  EXPECT_EQ(s.objects[2].key, "geo/dt=2024-01-02/hr=00/1-00000000000000000010.jsonl.zst");
  EXPECT_EQ(*ZstdDecompress(s.objects[0].bytes), Geo(1, "a") + "\n" + Geo(3, "c") + "\n");
  EXPECT_EQ(*ZstdDecompress(s.objects[1].bytes), Geo(2, "b") + "\n");
  EXPECT_EQ(s.objects[0].records, 2);
  EXPECT_EQ(s.objects[0].raw_bytes, static_cast<int64_t>(2 * (Geo(1, "a").size() + 1)));
  EXPECT_EQ(s.day_records, (std::map<int64_t, int64_t>{{*ParseDate("2024-01-01"), 3},
                                                       {*ParseDate("2024-01-02"), 1}}));
}

TEST(SegmentBuilderTest, ManifestDescribesRangeRecordsSettingsAndObjects) {
  const Segment s = Build(TwoHours(), 10, 15);
  const SegmentManifest& m = s.manifest;
  EXPECT_EQ(m.group, "g");
  EXPECT_EQ(m.topic, "geo");
  EXPECT_EQ(m.partition, 1);
  EXPECT_EQ(m.kind, "geo");
  EXPECT_EQ(m.first, 10);
  EXPECT_EQ(m.end, 15);
  EXPECT_EQ(m.records, 4);
  EXPECT_EQ(m.layout, Layout::kHourly);
  EXPECT_EQ(m.min_event_ms, Ms("2024-01-01 05:10:00"));
  EXPECT_EQ(m.max_event_ms, Ms("2024-01-02 00:00:00"));
  ASSERT_EQ(m.objects.size(), 3u);
  EXPECT_EQ(m.objects[2], (ManifestObject{s.objects[2].key, 1, s.objects[2].raw_bytes}));
  EXPECT_EQ(m.object_count, 3);
  EXPECT_EQ(m.keys_digest, KeysDigest({s.objects[0].key, s.objects[1].key, s.objects[2].key}));
}

TEST(SegmentBuilderTest, SameRecordsGiveByteIdenticalObjects) {
  std::vector<Input> many;
  for (int i = 0; i < 20000; ++i) {
    many.push_back({i, Geo(i, std::to_string(i * 7919)), Ms("2024-01-01 00:00:00") + i * 1000});
  }
  // Small frames: several frames per object, so frame boundaries are exercised too.
  const SegmentSettings settings = Settings(Layout::kHourly, 64 * 1024);
  // Inline compression and two racing workers: the same bytes.
  const Segment a = Build(many, 0, 20000, settings, /*threads=*/0);
  const Segment b = Build(many, 0, 20000, settings, /*threads=*/2);
  ASSERT_EQ(a.objects.size(), 6u);  // 20000 s = 5.6 hours
  for (size_t i = 0; i < a.objects.size(); ++i) {
    EXPECT_EQ(a.objects[i].key, b.objects[i].key);
    EXPECT_EQ(a.objects[i].bytes, b.objects[i].bytes) << a.objects[i].key;
  }
  EXPECT_EQ(a.manifest, b.manifest);
  EXPECT_EQ(a.manifest.ToJson(), b.manifest.ToJson());
}

TEST(SegmentBuilderTest, LineBreaksInsideARecordBecomeSpaces) {
  auto zstd = FramePool::Create(3, 0);
  SegmentBuilder b(Settings(), zstd->get());
  b.Start(0);
  ASSERT_TRUE(b.Add(0, "{\"ind\": 1,\r\n \"x\": 2}", 0, std::nullopt).ok());
  ASSERT_TRUE(b.Add(1, "{}", 0, std::nullopt).ok());
  EXPECT_EQ(b.newline_records(), 1);
  auto s = b.Finish(2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*ZstdDecompress(s->objects[0].bytes), "{\"ind\": 1,   \"x\": 2}\n{}\n");
}

TEST(SegmentBuilderTest, FinishResetsTheBuilder) {
  auto zstd = FramePool::Create(3, 0);
  SegmentBuilder b(Settings(), zstd->get());
  b.Start(5);
  ASSERT_TRUE(b.Add(5, Geo(1, "x"), 0, std::nullopt).ok());
  EXPECT_TRUE(b.HasHour(0));
  EXPECT_EQ(b.buckets(), 1u);
  ASSERT_TRUE(b.Finish(6).ok());
  EXPECT_FALSE(b.started());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.buckets(), 0u);
  b.Start(6);
  ASSERT_TRUE(b.Add(6, Geo(2, "y"), 0, std::nullopt).ok());
  auto s = b.Finish(7);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->manifest.first, 6);
  EXPECT_EQ(s->manifest.records, 1);
}

TEST(SegmentBuilderTest, OriginalLayoutWritesOneObjectPerRecordLastOneWins) {
  SegmentSettings settings = Settings(Layout::kOriginal);
  settings.kind = core::RecordKind::kPin;
  SegmentBuilder b(settings, nullptr);
  b.Start(0);
  ASSERT_TRUE(b.Add(0, "{\"v\":1}", 0, "aaa").ok());
  ASSERT_TRUE(b.Add(1, "{\"v\":2}", 0, "bbb").ok());
  ASSERT_TRUE(b.Add(2, "{\"v\":3}", 0, "aaa").ok());  // a replay of post aaa
  ASSERT_TRUE(b.Add(3, "{\"v\":4}", 0, std::nullopt).ok());
  auto s = b.Finish(4);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->objects.size(), 3u);
  EXPECT_EQ(s->objects[0].key, "pinterest_data_aaa.json");
  EXPECT_EQ(s->objects[0].bytes, "{\"v\":3}");  // exact bytes, not compressed
  EXPECT_EQ(s->objects[1].key, "pinterest_data_bbb.json");
  EXPECT_EQ(s->objects[2].key, "pinterest_data_invalid_1-00000000000000000003.json");
  EXPECT_EQ(s->manifest.records, 4);
  EXPECT_EQ(s->manifest.object_count, 3);
  EXPECT_TRUE(s->manifest.objects.empty());
  EXPECT_TRUE(s->day_records.empty());
}

}  // namespace
}  // namespace pinpipe::archive
