#include "stream/chunk_builder.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "testing/ingest_env.h"

namespace pinpipe::stream {
namespace {

using core::RecordKind;

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::string GeoRecord(int i) {
  return fmt::format(
      R"({{"ind": {}, "timestamp": "2021-03-04 05:06:07", "latitude": 12.5, "longitude": -3.25, "country": "Chile"}})",
      i);
}

class ChunkBuilderTest : public ::testing::Test {
 protected:
  ChunkBuilder builder_{transform::Transform::Default()};
  const transform::TableDef& pins_ = builder_.transform().table(RecordKind::kPin);
};

// The fields after the transform's columns (kLineageColumns): kafka_ts, dt, partition, offset.
constexpr size_t kLineage = 4;

TEST_F(ChunkBuilderTest, RowLineHasTransformColumnsPlusLineage) {
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(2), kafka::Offset(7),
               testing::PinRecord(3), 1700000000123);
  PreparedChunk b = builder_.Take();
  EXPECT_EQ(b.records, 1);
  EXPECT_EQ(b.rows, 1);
  const std::string& data = b.tables[0].copy_data;
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), '\n');
  std::vector<std::string> fields = Split(std::string_view(data).substr(0, data.size() - 1), '\t');
  ASSERT_EQ(fields.size(), pins_.columns.size() + kLineage);
  const size_t at = pins_.columns.size();
  EXPECT_EQ(fields[at], "2023-11-14 22:13:20.123+00");  // kafka_ts
  EXPECT_EQ(fields[at + 1], "2023-11-14");              // dt: a pin's event time is Kafka's
  EXPECT_EQ(fields[at + 2], "2");                       // kafka_partition
  EXPECT_EQ(fields[at + 3], "7");                       // kafka_offset
  EXPECT_EQ(kLineageColumns, "kafka_ts, dt, kafka_partition, kafka_offset");
  // A few transformed cells: follower_count "3k" -> 3000, save_location prefix stripped.
  for (size_t i = 0; i < pins_.columns.size(); ++i) {
    if (pins_.columns[i].name == "follower_count") {
      EXPECT_EQ(fields[i], "3000");
    }
    if (pins_.columns[i].name == "save_location") {
      EXPECT_EQ(fields[i], "/data/art");
    }
  }
}

TEST_F(ChunkBuilderTest, TimestampCacheKeepsMillisecondsRight) {
  builder_.Add(RecordKind::kGeo, "geo", kafka::Partition(0), kafka::Offset(1), GeoRecord(1),
               1700000000001);
  builder_.Add(RecordKind::kGeo, "geo", kafka::Partition(0), kafka::Offset(2), GeoRecord(2),
               1700000000999);
  builder_.Add(RecordKind::kGeo, "geo", kafka::Partition(0), kafka::Offset(3), GeoRecord(3),
               1700000001000);
  builder_.Add(RecordKind::kGeo, "geo", kafka::Partition(0), kafka::Offset(4), GeoRecord(4), -1);
  PreparedChunk b = builder_.Take();
  std::vector<std::string> lines = Split(b.tables[1].copy_data, '\n');
  ASSERT_EQ(lines.size(), 5u);  // 4 lines and the empty rest
  auto ts = [&](int i) {
    std::vector<std::string> f = Split(lines[i], '\t');
    return f[f.size() - kLineage];
  };
  EXPECT_EQ(ts(0), "2023-11-14 22:13:20.001+00");
  EXPECT_EQ(ts(1), "2023-11-14 22:13:20.999+00");
  EXPECT_EQ(ts(2), "2023-11-14 22:13:21.000+00");
  EXPECT_EQ(ts(3), "\\N");
}

TEST_F(ChunkBuilderTest, DuplicatesInsideTheChunkAreCollapsed) {
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(0), kafka::Offset(1),
               testing::PinRecord(5), 0);
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(1), kafka::Offset(9),
               testing::PinRecord(5), 0);
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(0), kafka::Offset(2),
               testing::PinRecord(6), 0);
  PreparedChunk b = builder_.Take();
  EXPECT_EQ(b.records, 3);
  EXPECT_EQ(b.rows, 2);
  EXPECT_EQ(b.dedup_in_chunk, 1);
  // A new chunk starts with an empty dedup set (PostgreSQL handles cross-chunk duplicates).
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(0), kafka::Offset(3),
               testing::PinRecord(5), 0);
  EXPECT_EQ(builder_.Take().rows, 1);
}

// dt is the UTC day of the archiver's event time (core::EventTimeExtractor): the record's own
// time within the window around the Kafka timestamp, else Kafka's; no time at all: 1970-01-01.
// (Cases of the rule itself: tests/unit/core/testdata/event_time_cases.tsv.)
TEST(ChunkBuilderDtTest, DtIsTheArchiversEventDay) {
  struct Case {
    const char* name;
    RecordKind kind;
    std::string record;
    int64_t kafka_ms;
    core::EventTimePolicy policy;
    const char* dt;
  };
  const int64_t kafka = 1700006400000;   // 2023-11-15T00:00:00Z
  const core::EventTimePolicy standard;  // 7 days back, 1 hour ahead
  const core::EventTimePolicy unbounded{0, 0};
  auto geo = [](const char* ts) {
    return fmt::format(
        R"({{"ind": 1, "timestamp": "{}", "latitude": 1, "longitude": 2, "country": "Chile"}})",
        ts);
  };
  auto user = [](const char* joined) {
    return fmt::format(
        R"({{"ind": 1, "first_name": "A", "last_name": "B", "age": 30, "date_joined": "{}"}})",
        joined);
  };
  const std::vector<Case> cases = {
      {"pin: Kafka's day", RecordKind::kPin, testing::PinRecord(1), kafka, standard, "2023-11-15"},
      {"pin: a millisecond before midnight", RecordKind::kPin, testing::PinRecord(1), kafka - 1,
       standard, "2023-11-14"},
      {"geo: own time, a day back", RecordKind::kGeo, geo("2023-11-14 23:30:00"), kafka, standard,
       "2023-11-14"},
      {"geo: own time with offset, UTC day", RecordKind::kGeo, geo("2023-11-15T01:30:00+02:00"),
       kafka, standard, "2023-11-14"},
      {"geo: 8 days back is outside the window", RecordKind::kGeo, geo("2023-11-07 00:00:00"),
       kafka, standard, "2023-11-15"},
      {"geo: 2 hours ahead is outside the window", RecordKind::kGeo, geo("2023-11-15 02:00:00"),
       kafka, standard, "2023-11-15"},
      {"geo: unbounded window takes years-old times", RecordKind::kGeo, geo("2021-03-04 05:06:07"),
       kafka, unbounded, "2021-03-04"},
      {"user: date_joined years back, Kafka's day", RecordKind::kUser, user("2016-05-01 10:20:30"),
       kafka, standard, "2023-11-15"},
      {"user: no Kafka time, so no window: its own time", RecordKind::kUser,
       user("2016-05-01 10:20:30"), -1, standard, "2016-05-01"},
      {"pin: no Kafka time, no usable time", RecordKind::kPin, testing::PinRecord(1), -1, standard,
       "1970-01-01"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ChunkBuilder builder(transform::Transform::Default(), c.policy);
    builder.Add(c.kind, "t", kafka::Partition(0), kafka::Offset(1), c.record, c.kafka_ms);
    PreparedChunk b = builder.Take();
    ASSERT_EQ(b.rows, 1);
    std::vector<std::string> f = Split(b.tables[static_cast<size_t>(c.kind)].copy_data, '\t');
    EXPECT_EQ(f[f.size() - 3], c.dt);
    // The same day as the archiver's extractor gives.
    core::EventTimeExtractor archiver(c.policy);
    EXPECT_EQ(core::DateOfDay(archiver.Day(c.kind, c.record, c.kafka_ms)), c.dt);
  }
}

TEST_F(ChunkBuilderTest, PoisonRecordsBecomeDeadLetters) {
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(2), kafka::Offset(41), "not json\t\\", 0);
  builder_.Add(RecordKind::kGeo, "geo", kafka::Partition(1), kafka::Offset(42), R"({"ind": "x"})",
               0);
  PreparedChunk b = builder_.Take();
  EXPECT_EQ(b.rows, 0);
  EXPECT_EQ(b.dead, 2);
  std::vector<std::string> lines = Split(b.dead_letters, '\n');
  ASSERT_EQ(lines.size(), 3u);
  std::vector<std::string> f = Split(lines[0], '\t');
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0], "pins");
  EXPECT_EQ(f[1], "2");
  EXPECT_EQ(f[2], "41");
  EXPECT_EQ(f[3], "\\\\x6e6f74206a736f6e095c");  // "not json\t\\" as bytea hex, COPY-escaped
  EXPECT_NE(f[4].find("json_invalid"), std::string::npos) << f[4];
  std::vector<std::string> g = Split(lines[1], '\t');
  EXPECT_NE(g[4].find("int_type"), std::string::npos) << g[4];
  EXPECT_NE(g[4].find("missing"), std::string::npos) << g[4];
}

TEST_F(ChunkBuilderTest, DropIfNullIsCountedNotDeadLettered) {
  std::string rec = testing::PinRecord(8);
  const std::string from = "\"8k\"";
  rec.replace(rec.find(from), from.size(), "\"User Info Error\"");
  builder_.Add(RecordKind::kPin, "pins", kafka::Partition(0), kafka::Offset(1), rec, 0);
  PreparedChunk b = builder_.Take();
  EXPECT_EQ(b.rows, 0);
  EXPECT_EQ(b.dead, 0);
  EXPECT_EQ(b.dropped, 1);
  EXPECT_EQ(b.quality.dropped.at("pin.drop_if_null.follower_count"), 1);
}

}  // namespace
}  // namespace pinpipe::stream
