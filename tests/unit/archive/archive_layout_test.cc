#include "archive/archive_layout.h"

#include <gtest/gtest.h>

#include "core/event_time.h"
#include "lake/object_key.h"

namespace pinpipe::archive {
namespace {

int64_t Ms(const char* text) { return *core::RecordTimestampToEpochMs(text); }

TEST(ArchiveLayoutTest, SegmentObjectKeyIsTopicDateHourPartitionAndPaddedFirstOffset) {
  const int64_t hour = HourOf(Ms("2024-01-31 05:59:59"));
  EXPECT_EQ(SegmentObjectKey("pinterest_geo", hour, 2, 1234),
            "pinterest_geo/dt=2024-01-31/hr=05/2-00000000000000001234.jsonl.zst");
  EXPECT_EQ(SegmentObjectKey("t", HourOf(Ms("2024-12-31 23:00:00")), 0, 0),
            "t/dt=2024-12-31/hr=23/0-00000000000000000000.jsonl.zst");
  EXPECT_TRUE(lake::ValidateKey(SegmentObjectKey("pinterest", hour, 11, INT64_MAX)).ok());
}

TEST(ArchiveLayoutTest, HoursAndDaysFloorBeforeTheEpoch) {
  EXPECT_EQ(HourOf(0), 0);
  EXPECT_EQ(HourOf(-1), -1);
  EXPECT_EQ(DayOfHour(-1), -1);
  EXPECT_EQ(DateOfDay(-1), "1969-12-31");
  EXPECT_EQ(SegmentObjectKey("t", HourOf(-1), 0, 5), "t/dt=1969-12-31/hr=23/0-00000000000000000005.jsonl.zst");
  EXPECT_EQ(IsoTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(IsoTime(Ms("2024-02-29 12:34:56.789")), "2024-02-29T12:34:56.789Z");
}

TEST(ArchiveLayoutTest, ParsesItsOwnObjectKeys) {
  const int64_t hour = HourOf(Ms("2023-07-04 13:00:00"));
  auto parsed = ParseSegmentObjectKey(SegmentObjectKey("my.topic-x", hour, 7, 99));
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
  EXPECT_EQ(IntentKey("pinpipe-archiver", "pinterest", 2, 100),
            "_archiver/pinpipe-archiver/pinterest/2/00000000000000000100.json");
  EXPECT_EQ(DoneKey("g", "t", 0, 1), "_archiver/g/t/0/00000000000000000001.json.done");
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
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, "9bf3f7c4-0b2f-4f39-9a7e-5d2fa6d2c001", 0, 5),
            "pinterest_data_9bf3f7c4-0b2f-4f39-9a7e-5d2fa6d2c001.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kGeo, "7528", 0, 5),
            "geolocation_data/geolocation_data_7528.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kUser, "7528", 0, 5), "user_data/user_data_7528.json");
  // No id, or one that cannot be a file name as it is: named after the record's position.
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, std::nullopt, 1, 42),
            "pinterest_data_invalid_1-00000000000000000042.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, "../../etc/passwd", 1, 42),
            "pinterest_data_invalid_1-00000000000000000042.json");
  EXPECT_EQ(OriginalObjectKey(RecordKind::kPin, "", 1, 42),
            "pinterest_data_invalid_1-00000000000000000042.json");
}

}  // namespace
}  // namespace pinpipe::archive
