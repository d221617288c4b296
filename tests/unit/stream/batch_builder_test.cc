#include "stream/batch_builder.h"

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

class BatchBuilderTest : public ::testing::Test {
 protected:
  BatchBuilder builder_{transform::Transform::Default()};
  const transform::TableDef& pins_ = builder_.transform().table(RecordKind::kPin);
};

TEST_F(BatchBuilderTest, RowLineHasTransformColumnsPlusKafkaTimestamp) {
  builder_.Add(RecordKind::kPin, "pins", 0, 7, testing::PinRecord(3), 1700000000123);
  PreparedBatch b = builder_.Take();
  EXPECT_EQ(b.records, 1);
  EXPECT_EQ(b.rows, 1);
  const std::string& data = b.tables[0].copy_data;
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), '\n');
  std::vector<std::string> fields = Split(std::string_view(data).substr(0, data.size() - 1), '\t');
  ASSERT_EQ(fields.size(), pins_.columns.size() + 1);
  EXPECT_EQ(fields.back(), "2023-11-14 22:13:20.123+00");
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

TEST_F(BatchBuilderTest, TimestampCacheKeepsMillisecondsRight) {
  builder_.Add(RecordKind::kGeo, "geo", 0, 1, GeoRecord(1), 1700000000001);
  builder_.Add(RecordKind::kGeo, "geo", 0, 2, GeoRecord(2), 1700000000999);
  builder_.Add(RecordKind::kGeo, "geo", 0, 3, GeoRecord(3), 1700000001000);
  builder_.Add(RecordKind::kGeo, "geo", 0, 4, GeoRecord(4), -1);
  PreparedBatch b = builder_.Take();
  std::vector<std::string> lines = Split(b.tables[1].copy_data, '\n');
  ASSERT_EQ(lines.size(), 5u);  // 4 lines and the empty rest
  auto ts = [&](int i) { return Split(lines[i], '\t').back(); };
  EXPECT_EQ(ts(0), "2023-11-14 22:13:20.001+00");
  EXPECT_EQ(ts(1), "2023-11-14 22:13:20.999+00");
  EXPECT_EQ(ts(2), "2023-11-14 22:13:21.000+00");
  EXPECT_EQ(ts(3), "\\N");
}

TEST_F(BatchBuilderTest, DuplicatesInsideTheBatchAreCollapsed) {
  builder_.Add(RecordKind::kPin, "pins", 0, 1, testing::PinRecord(5), 0);
  builder_.Add(RecordKind::kPin, "pins", 1, 9, testing::PinRecord(5), 0);
  builder_.Add(RecordKind::kPin, "pins", 0, 2, testing::PinRecord(6), 0);
  PreparedBatch b = builder_.Take();
  EXPECT_EQ(b.records, 3);
  EXPECT_EQ(b.rows, 2);
  EXPECT_EQ(b.dedup_in_batch, 1);
  // A new batch starts with an empty dedup set (PostgreSQL handles cross-batch duplicates).
  builder_.Add(RecordKind::kPin, "pins", 0, 3, testing::PinRecord(5), 0);
  EXPECT_EQ(builder_.Take().rows, 1);
}

TEST_F(BatchBuilderTest, PoisonRecordsBecomeDeadLetters) {
  builder_.Add(RecordKind::kPin, "pins", 2, 41, "not json\t\\", 0);
  builder_.Add(RecordKind::kGeo, "geo", 1, 42, R"({"ind": "x"})", 0);
  PreparedBatch b = builder_.Take();
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

TEST_F(BatchBuilderTest, DropIfNullIsCountedNotDeadLettered) {
  std::string rec = testing::PinRecord(8);
  const std::string from = "\"8k\"";
  rec.replace(rec.find(from), from.size(), "\"User Info Error\"");
  builder_.Add(RecordKind::kPin, "pins", 0, 1, rec, 0);
  PreparedBatch b = builder_.Take();
  EXPECT_EQ(b.rows, 0);
  EXPECT_EQ(b.dead, 0);
  EXPECT_EQ(b.dropped, 1);
  EXPECT_EQ(b.quality.dropped.at("pin.drop_if_null.follower_count"), 1);
}

}  // namespace
}  // namespace pinpipe::stream
