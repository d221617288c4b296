// Data-driven: the cases are in testdata/event_time_cases.tsv, one per line (a new rule is a new
// line there, not new code here).
#include "core/event_time.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "core/civil_day.h"

namespace pinpipe::core {
namespace {

struct Case {
  std::string name, kind, kafka, lag, lead, expected, source, json;
};

std::vector<Case> LoadCases() {
  std::ifstream in(std::string(PINPIPE_SOURCE_DIR) +
                   "/tests/unit/core/testdata/event_time_cases.tsv");
  std::vector<Case> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t start = 0;
    for (int i = 0; i < 7; ++i) {
      const size_t tab = line.find('\t', start);
      f.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    cases.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6], line.substr(start)});
  }
  return cases;
}

std::string SourceName(EventTimeSource s) {
  switch (s) {
    case EventTimeSource::kRecord: return "record";
    case EventTimeSource::kKafka: return "kafka";
    case EventTimeSource::kNone: return "none";
  }
  return "?";
}

TEST(EventTimeTest, CasesFromTestdata) {
  const std::vector<Case> cases = LoadCases();
  ASSERT_GE(cases.size(), 20u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto kind = core::ParseRecordKind(c.kind);
    ASSERT_TRUE(kind.has_value());
    int64_t kafka = -1;
    if (c.kafka != "-1") {
      auto parsed = RecordTimestampToEpochMs(c.kafka);
      ASSERT_TRUE(parsed.has_value()) << c.kafka;
      kafka = *parsed;
    }
    EventTimeExtractor extractor({std::stoll(c.lag), std::stoll(c.lead)});
    const EventTime t = extractor.Extract(*kind, c.json, kafka);
    EXPECT_EQ(IsoTime(t.epoch_ms), c.expected);
    EXPECT_EQ(SourceName(t.source), c.source);
  }
}

TEST(EventTimeTest, ReusedExtractorGivesTheSameAnswerEveryTime) {
  EventTimeExtractor extractor(EventTimePolicy{});
  const std::string geo = R"({"ind":1,"timestamp":"2024-03-01 10:00:00"})";
  const int64_t kafka = *RecordTimestampToEpochMs("2024-03-01 10:00:05");
  const EventTime first = extractor.Extract(RecordKind::kGeo, geo, kafka);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(extractor.Extract(RecordKind::kGeo, "not json", kafka).source,
              EventTimeSource::kKafka);
    EXPECT_EQ(extractor.Extract(RecordKind::kGeo, geo, kafka), first);
  }
}

TEST(EventTimeTest, TimestampToEpochMs) {
  EXPECT_EQ(RecordTimestampToEpochMs("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(RecordTimestampToEpochMs("1970-01-01T00:00:01.999999999Z"), 1999);
  EXPECT_EQ(RecordTimestampToEpochMs("1970-01-01T00:00:00-01:00"), 3600000);
  EXPECT_EQ(RecordTimestampToEpochMs("1969-12-31 23:00:00"), -3600000);
  EXPECT_EQ(RecordTimestampToEpochMs("2021-02-29 00:00:00"), std::nullopt);
  EXPECT_EQ(RecordTimestampToEpochMs(""), std::nullopt);
}

}  // namespace
}  // namespace pinpipe::core
