#include "archive/segment_manifest.h"

#include <gtest/gtest.h>

namespace pinpipe::archive {
namespace {

SegmentManifest Sample() {
  SegmentManifest m;
  m.group = "pinpipe-archiver";
  m.topic = "pinterest_geo";
  m.partition = 2;
  m.kind = "geo";
  m.first = 100;
  m.end = 250;
  m.records = 149;
  m.zstd_level = 3;
  m.frame_bytes = 1 << 20;
  m.event_time = {604800000, 3600000};
  m.min_event_ms = -5;
  m.max_event_ms = 1700000000000;
  m.objects = {{"pinterest_geo/dt=2024-01-01/hr=00/2-00000000000000000100.jsonl.zst", 100, 9000},
               {"pinterest_geo/dt=2024-01-01/hr=01/2-00000000000000000100.jsonl.zst", 49, 4000}};
  m.object_count = 2;
  m.keys_digest = KeysDigest({m.objects[0].key, m.objects[1].key});
  return m;
}

TEST(SegmentManifestTest, RoundTripsThroughJson) {
  const SegmentManifest m = Sample();
  auto parsed = SegmentManifest::Parse(m.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, m);
  SegmentManifest original = m;
  original.layout = Layout::kOriginal;
  original.objects.clear();
  original.min_event_ms.reset();
  original.max_event_ms.reset();
  auto parsed_original = SegmentManifest::Parse(original.ToJson());
  ASSERT_TRUE(parsed_original.ok()) << parsed_original.status().ToString();
  EXPECT_EQ(*parsed_original, original);
}

TEST(SegmentManifestTest, ToJsonIsDeterministic) {
  EXPECT_EQ(Sample().ToJson(), Sample().ToJson());
}

TEST(SegmentManifestTest, ParseNamesTheBadField) {
  std::string json = Sample().ToJson();
  json.replace(json.find("\"end\":250"), 9, "\"end\":\"x\"");
  EXPECT_EQ(SegmentManifest::Parse(json).status(),
            InvalidArgument("segment manifest: field \"end\" must be an integer"));
  EXPECT_EQ(SegmentManifest::Parse("[]").status(),
            InvalidArgument("segment manifest: not a JSON object"));
  EXPECT_EQ(SegmentManifest::Parse("{").status(),
            InvalidArgument("segment manifest: not valid JSON"));
  SegmentManifest empty_range = Sample();
  empty_range.end = empty_range.first;
  EXPECT_EQ(SegmentManifest::Parse(empty_range.ToJson()).status(),
            InvalidArgument("segment manifest: bad range [100, 100)"));
}

TEST(SegmentManifestTest, DoneMarkerRoundTrips) {
  DoneMarker d;
  d.first = 5;
  d.end = 9;
  d.records = 4;
  d.objects_written = 1;
  d.objects_existing = 1;
  d.completed_at = "2024-01-01T00:00:00.000Z";
  d.objects = {{"a", 10}, {"b", 20}};
  auto parsed = DoneMarker::Parse(d.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->end, 9);
  EXPECT_EQ(parsed->objects.size(), 2u);
  EXPECT_EQ(parsed->objects[1].size, 20u);
}

TEST(SegmentManifestTest, KeysDigestDependsOnEveryKeyAndTheOrder) {
  EXPECT_EQ(KeysDigest({}), "cbf29ce484222325");
  EXPECT_NE(KeysDigest({"a", "b"}), KeysDigest({"b", "a"}));
  EXPECT_NE(KeysDigest({"ab"}), KeysDigest({"a", "b"}));
  EXPECT_EQ(KeysDigest({"a", "b"}).size(), 16u);
}

}  // namespace
}  // namespace pinpipe::archive
