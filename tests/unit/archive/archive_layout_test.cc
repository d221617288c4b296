#include "archive/archive_layout.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/event_time.h"
#include "lake/object_key.h"

namespace pinpipe::archive {
namespace {

using kafka::Offset;
using kafka::Partition;

int64_t Ms(const char* text) { return *core::RecordTimestampToEpochMs(text); }

TEST(ArchiveLayoutTest, SegmentObjectKeyIsTopicDateHourPartitionAndPaddedFirstOffset) {
  const int64_t hour = HourOf(Ms("2024-01-31 05:59:59"));
  EXPECT_EQ(SegmentObjectKey("pinterest_geo", hour, kafka::Partition{2}, kafka::Offset{1234}),
            "pinterest_geo/dt=2024-01-31/hr=05/2-00000000000000001234.jsonl.zst");
  EXPECT_EQ(SegmentObjectKey("t", HourOf(Ms("2024-12-31 23:00:00")), kafka::Partition{0},
                             kafka::Offset{0}),
            "t/dt=2024-12-31/hr=23/0-00000000000000000000.jsonl.zst");
  EXPECT_TRUE(lake::ValidateKey(SegmentObjectKey("pinterest", hour, kafka::Partition{11},
                                                 kafka::Offset{INT64_MAX}))
                  .ok());
}

TEST(ArchiveLayoutTest, HoursAndDaysFloorBeforeTheEpoch) {
  EXPECT_EQ(HourOf(0), 0);
  EXPECT_EQ(HourOf(-1), -1);
  EXPECT_EQ(DayOfHour(-1), -1);
  EXPECT_EQ(DateOfDay(-1), "1969-12-31");
  EXPECT_EQ(SegmentObjectKey("t", HourOf(-1), kafka::Partition{0}, kafka::Offset{5}),
            "t/dt=1969-12-31/hr=23/0-00000000000000000005.jsonl.zst");
  EXPECT_EQ(IsoTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(IsoTime(Ms("2024-02-29 12:34:56.789")), "2024-02-29T12:34:56.789Z");
}

TEST(ArchiveLayoutTest, ParsesItsOwnObjectKeys) {
  const int64_t hour = HourOf(Ms("2023-07-04 13:00:00"));
  auto parsed = ParseSegmentObjectKey(
      SegmentObjectKey("my.topic-x", hour, kafka::Partition{7}, kafka::Offset{99}));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, (SegmentObjectName{"my.topic-x", hour, 7, 99}));
  EXPECT_FALSE(ParseSegmentObjectKey("t/dt=2023-07-04/_SUCCESS"));
  EXPECT_FALSE(ParseSegmentObjectKey("t/dt=2023-07-04/hr=13/7-99.jsonl.zst"));  // not 20 digits
  EXPECT_FALSE(ParseSegmentObjectKey("t/dt=2023-02-30/hr=13/7-00000000000000000099.jsonl.zst"));
  EXPECT_FALSE(ParseSegmentObjectKey("t/dt=2023-07-04/hr=24/7-00000000000000000099.jsonl.zst"));
  EXPECT_FALSE(ParseSegmentObjectKey("dt=2023-07-04/hr=13/7-00000000000000000099.jsonl.zst"));
}

TEST(ArchiveLayoutTest, DatesAndOffsets) {
  EXPECT_EQ(ParseDate("1970-01-02"), 1);
  EXPECT_EQ(ParseDate("2024-02-29"), DayOf(Ms("2024-02-29 00:00:00")));
  EXPECT_EQ(ParseDate("2023-02-29"), std::nullopt);
  EXPECT_EQ(ParseDate("2023-2-28"), std::nullopt);
  EXPECT_EQ(OffsetDigits(0), "00000000000000000000");
  EXPECT_EQ(OffsetDigits(INT64_MAX), "09223372036854775807");
  EXPECT_EQ(DayPrefix("pinterest", 19753), "pinterest/dt=2024-01-31/");
  EXPECT_EQ(SuccessKey("pinterest", 19753), "pinterest/dt=2024-01-31/_SUCCESS");
}

TEST(ArchiveLayoutTest, ManifestNames) {
  EXPECT_EQ(IntentKey("pinpipe-archiver", "pinterest", kafka::Partition{2}, kafka::Offset{100}),
            "_archiver/pinpipe-archiver/pinterest/2/00000000000000000100.json");
  EXPECT_EQ(DoneKey("g", "t", kafka::Partition{0}, kafka::Offset{1}),
            "_archiver/g/t/0/00000000000000000001.json.done");
  EXPECT_EQ(ManifestPrefix("g", "t", 3), "_archiver/g/t/3/");
  EXPECT_EQ(OpenDayKey("g", "t", 1), "_archiver/g/t/_open_days/1970-01-02");
  auto intent = ParseManifestName("00000000000000000100.json");
  ASSERT_TRUE(intent.has_value());
  EXPECT_EQ(intent->first, 100);
  EXPECT_FALSE(intent->done);
  auto done = ParseManifestName("00000000000000000100.json.done");
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->done);
  EXPECT_FALSE(ParseManifestName("100.json"));
  EXPECT_FALSE(ParseManifestName("00000000000000000100.json.tmp"));
  EXPECT_EQ(ParseManifestName(OffsetDigits(INT64_MAX) + ".json")->first, INT64_MAX);
  EXPECT_FALSE(ParseManifestName("99999999999999999999.json"));  // beyond int64
}

TEST(ArchiveLayoutTest, OriginalLayoutNamesObjectsAfterTheRecordId) {
  using core::RecordKind;
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, "9bf3f7c4-0b2f-4f39-9a7e-5d2fa6d2c001",
                              Partition(0), Offset(5)),
            "pinterest_data_9bf3f7c4-0b2f-4f39-9a7e-5d2fa6d2c001.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kGeo, "7528", Partition(0), Offset(5)),
            "geolocation_data/geolocation_data_7528.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kUser, "7528", Partition(0), Offset(5)),
            "user_data/user_data_7528.json");
  // No id, or one that cannot be a file name as it is: named after the record's position.
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, std::nullopt, Partition(1), Offset(42)),
            "pinterest_data_invalid_1-00000000000000000042.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, "../../etc/passwd", Partition(1), Offset(42)),
            "pinterest_data_invalid_1-00000000000000000042.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, "", Partition(1), Offset(42)),
            "pinterest_data_invalid_1-00000000000000000042.json");
}

// The _SUCCESS marker's content: what FormatSuccessMarker writes parses back to the same marker,
// byte for byte as the archiver has always written it (lakes sealed before keep their meaning).
TEST(SuccessMarkerTest, FormatsAndParsesBack) {
  SuccessMarker m;
  m.topic = "pin\"terest";
  m.day = *ParseDate("2024-01-31");
  m.records = 1200;
  m.objects = 24;
  m.bytes = 91234;
  m.watermark = "2024-02-01T01:00:03.000Z";
  m.lateness_ms = 3600000;
  m.sealed_at = "2024-02-01T01:00:05.123Z";
  m.group = "pinpipe-archiver";
  const std::string text = FormatSuccessMarker(m);
  EXPECT_EQ(text,
            "{\"topic\":\"pin\\\"terest\",\"date\":\"2024-01-31\",\"records\":1200,\"objects\":24,"
            "\"bytes\":91234,\"watermark\":\"2024-02-01T01:00:03.000Z\",\"lateness_ms\":3600000,"
            "\"sealed_at\":\"2024-02-01T01:00:05.123Z\",\"group\":\"pinpipe-archiver\"}\n");
  auto parsed = ParseSuccessMarker(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, m);
}

struct MarkerCase {
  const char* name;
  std::string content;
  std::optional<int64_t> records;  // nullopt: InvalidArgument
};

// A valid marker with one field replaced (`field` "name":value) or removed (value empty).
std::string Marker(std::string_view field = "", std::string_view value = "") {
  std::string out = "{";
  const std::pair<std::string_view, std::string_view> fields[] = {
      {"topic", "\"t\""},   {"date", "\"2024-01-31\""},
      {"records", "7"},     {"objects", "1"},
      {"bytes", "10"},      {"watermark", "\"2024-02-01T01:00:00.000Z\""},
      {"lateness_ms", "0"}, {"sealed_at", "\"2024-02-01T01:00:01.000Z\""},
      {"group", "\"g\""}};
  for (const auto& [name, v] : fields) {
    std::string_view use = name == field ? value : v;
    if (use.empty()) continue;
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":{}", name, use);
  }
  return out + "}";
}

TEST(SuccessMarkerTest, ParsesOnlyTheArchiversMarker) {
  const MarkerCase cases[] = {
      {"valid", Marker(), 7},
      {"no newline needed, spaces allowed", " " + Marker("records", " 42 ") + "\n\n", 42},
      {"unknown fields ignored", Marker("group", "\"g\",\"later\":[1,{}]"), 7},
      {"zero records", Marker("records", "0"), 0},
      {"empty", "", std::nullopt},
      {"not JSON", "records=7", std::nullopt},
      {"truncated", Marker().substr(0, 30), std::nullopt},
      {"not an object", "[7]", std::nullopt},
      {"records missing", Marker("records", ""), std::nullopt},
      {"records a string", Marker("records", "\"7\""), std::nullopt},
      {"records a fraction", Marker("records", "7.5"), std::nullopt},
      {"records negative", Marker("records", "-1"), std::nullopt},
      {"records beyond int64", Marker("records", "99999999999999999999"), std::nullopt},
      {"objects negative", Marker("objects", "-3"), std::nullopt},
      {"bytes null", Marker("bytes", "null"), std::nullopt},
      {"date not a date", Marker("date", "\"2024-02-30\""), std::nullopt},
      {"date a number", Marker("date", "20240131"), std::nullopt},
      {"topic missing", Marker("topic", ""), std::nullopt},
      {"group missing", Marker("group", ""), std::nullopt},
      {"watermark a number", Marker("watermark", "1"), std::nullopt},
      {"the records field only inside a string", "{\"topic\":\"\\\"records\\\":7\"}", std::nullopt},
  };
  for (const MarkerCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = ParseSuccessMarker(c.content);
    if (c.records) {
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->records, *c.records);
      EXPECT_EQ(parsed->day, *ParseDate("2024-01-31"));
    } else {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.content;
    }
  }
}

}  // namespace
}  // namespace pinpipe::archive
