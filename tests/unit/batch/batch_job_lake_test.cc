// The batch job against the in-memory store, lake output only (no PostgreSQL): determinism,
// de-duplication order, the CSV/JSON forms, dead letters, the quality report, sealing, and
// failing a day as a whole.
#include "batch/batch_job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "emulate/record_json.h"
#include "emulate/synthetic.h"
#include "testing/batch_lake.h"
#include "testing/fake_object_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::batch {
namespace {

using testing::PutSegment;
using testing::PutSuccess;

constexpr const char* kDate = "2024-01-01";
constexpr const char* kPinTopic = "pinterest";
constexpr const char* kGeoTopic = "pinterest_geo";
constexpr const char* kUserTopic = "pinterest_user";
const std::string kPinDay = "clean/experimental_data/dt=2024-01-01/";

int64_t Day(const char* date) { return *core::ParseDate(date); }

std::string Uuid(int i) { return fmt::format("00000000-0000-4000-8000-{:012d}", i); }

class BatchJobLakeTest : public ::testing::Test {
 protected:
  BatchJobOptions Options(int threads = 2) {
    BatchJobOptions o;
    o.write_pg = false;
    o.threads = threads;
    return o;
  }

  BatchRunResult Run(const BatchJobOptions& options, const char* first = kDate,
                     const char* last = kDate) {
    BatchJob job(options, transform::Transform::Default(), &store_,
                 [this](std::string_view line) { logs_.emplace_back(line); });
    return job.Run(Day(first), Day(last));
  }

  std::string Get(const std::string& key) {
    auto bytes = store_.Get(key);
    EXPECT_TRUE(bytes.ok()) << key << ": " << bytes.status().ToString();
    return bytes.ok() ? *bytes : "";
  }

  bool Has(const std::string& key) { return store_.objects().count(key) != 0; }

  std::map<std::string, std::string> CleanOutput() {
    std::map<std::string, std::string> out;
    for (auto& [key, bytes] : store_.objects()) {
      if (key.starts_with("clean/")) out[key] = bytes;
    }
    return out;
  }

  // A realistic day: synthetic posts (with their placeholders and broken rows) replayed with
  // duplicates, spread over 4 hours and 3 partitions per topic, plus a few invalid lines.
  void PutRealisticDay(bool seal = true) {
    const emulate::SyntheticDataSet data = emulate::GenerateDataSet(300, 42);
    std::map<std::pair<int, int>, std::vector<std::string>> pins, geos, users;  // (hour, partition)
    for (int n = 0; n < 900; ++n) {
      const size_t row = static_cast<size_t>((n * 7919) % 300);  // replays: duplicates
      const std::pair<int, int> at{n % 4, static_cast<int>(row % 3)};
      pins[at].push_back(emulate::PinJson(data.pins[row]));
      geos[at].push_back(emulate::GeoJson(data.geos[row]));
      users[at].push_back(emulate::UserJson(data.users[row]));
    }
    pins[{1, 2}].push_back("{\"index\": \"not a number\"}");
    geos[{3, 0}].push_back("not json at all");
    users[{0, 1}].push_back("");
    for (const auto& [topic, objects] : {std::pair{kPinTopic, &pins}, std::pair{kGeoTopic, &geos},
                                         std::pair{kUserTopic, &users}}) {
      for (const auto& [at, lines] : *objects) {
        ASSERT_TRUE(
            PutSegment(&store_, topic, kDate, at.first, at.second, 1000 * at.first, lines).ok());
      }
      if (seal) {
        ASSERT_TRUE(PutSuccess(&store_, topic, kDate).ok());
      }
    }
  }

  testing::FakeObjectStore store_;
  std::vector<std::string> logs_;
};

TEST_F(BatchJobLakeTest, SameObjectsGiveIdenticalBytesWhateverTheThreadsAndChunks) {
  PutRealisticDay();
  BatchRunResult first = Run(Options(1));
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  const std::map<std::string, std::string> expected = CleanOutput();
  ASSERT_TRUE(expected.count(kPinDay + "part-00000.csv"));
  ASSERT_TRUE(expected.count(kPinDay + "_SUCCESS"));
  ASSERT_TRUE(expected.count("clean/_quality/dt=2024-01-01.json"));
  ASSERT_TRUE(expected.count("clean/_rejected/dt=2024-01-01/pin.jsonl"));

  // Many workers, tiny chunks, a tiny reorder budget and window: the schedule changes
  // completely, the bytes must not.
  BatchJobOptions scrambled = Options(6);
  scrambled.chunk_bytes = 700;
  scrambled.reorder_bytes = 2000;
  scrambled.window = 3;
  for (int round = 0; round < 3; ++round) {
    BatchRunResult again = Run(scrambled);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_EQ(CleanOutput(), expected) << "round " << round;
    ASSERT_EQ(again.days.size(), 1u);
    EXPECT_EQ(again.days[0].records(), first.days[0].records());
    EXPECT_EQ(again.days[0].duplicates(), first.days[0].duplicates());
  }
  // Without the workers' duplicate hints (every row formatted, the committer alone dedups), and
  // with a hint table so small that most keys find no slot: the same bytes.
  BatchJobOptions no_hints = Options(2);
  no_hints.duplicate_hints = false;
  ASSERT_TRUE(Run(no_hints).status.ok());
  EXPECT_EQ(CleanOutput(), expected);
  BatchJobOptions tiny_hints = Options(3);
  tiny_hints.hint_slots_log2 = 6;
  ASSERT_TRUE(Run(tiny_hints).status.ok());
  EXPECT_EQ(CleanOutput(), expected);

  const DayReport& day = first.days[0];
  EXPECT_EQ(day.records(), 3 * 900 + 3);
  EXPECT_EQ(day.dead(), 3);
  EXPECT_EQ(day.records(), day.rows() + day.dropped() + day.dead() + day.duplicates());
  // 300 distinct posts replayed 900 times: each kind keeps at most 300 rows.
  for (const KindReport& k : day.kinds) {
    EXPECT_LE(k.rows, 300) << k.table;
    EXPECT_GE(k.duplicates, 600 - k.dropped) << k.table;
  }
}

TEST_F(BatchJobLakeTest, FirstOccurrenceInKeyThenLineOrderWins) {
  const std::string id = Uuid(1);
  // Key order: hr=00 before hr=01; within hr=01 partition "1-" before "2-"; then line order.
  ASSERT_TRUE(PutSegment(&store_, kPinTopic, kDate, 1, 2, 5,
                         {testing::PinJson(1, id, "P", "10", "art", "fourth")})
                  .ok());
  ASSERT_TRUE(PutSegment(&store_, kPinTopic, kDate, 1, 1, 900,
                         {testing::PinJson(1, id, "P", "10", "art", "second"),
                          testing::PinJson(1, id, "P", "10", "art", "third")})
                  .ok());
  ASSERT_TRUE(PutSegment(&store_, kPinTopic, kDate, 0, 2, 77,
                         {testing::PinJson(1, id, "P", "10", "art", "first"),
                          testing::PinJson(2, Uuid(2), "Q", "20", "art", "other")})
                  .ok());
  // Geo/user dedup by ind (an integer key), first wins too.
  ASSERT_TRUE(PutSegment(&store_, kGeoTopic, kDate, 3, 0, 0,
                         {testing::GeoJson(1, "2020-01-01 00:00:00", "Chile"),
                          testing::GeoJson(1, "2020-01-01 00:00:00", "Peru")})
                  .ok());
  BatchRunResult r = Run(Options(3));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const std::string csv = Get(kPinDay + "part-00000.csv");
  EXPECT_NE(csv.find(",first,"), std::string::npos) << csv;
  for (const char* later : {",second,", ",third,", ",fourth,"}) {
    EXPECT_EQ(csv.find(later), std::string::npos) << later << " in " << csv;
  }
  EXPECT_EQ(r.days[0].kinds[0].rows, 2);
  EXPECT_EQ(r.days[0].kinds[0].duplicates, 3);
  const std::string geo = Get("clean/geolocation_data_clean/dt=2024-01-01/part-00000.csv");
  EXPECT_NE(geo.find("Chile"), std::string::npos);
  EXPECT_EQ(geo.find("Peru"), std::string::npos);
}

TEST_F(BatchJobLakeTest, CsvQuotingNullsAndJsonLines) {
  // No poster_name (NULL), a placeholder image_src (NULL), an empty is_image_or_video (the empty
  // string: `""` in CSV), quotes, commas and a newline inside values.
  const std::string record =
      "{\"index\": 5, \"unique_id\": \"" + Uuid(5) +
      "\", \"title\": \"He said \\\"hi\\\", then left\", \"description\": \"line one\\nline two\", "
      "\"follower_count\": \"1.2k\", \"tag_list\": \"a,b\", \"is_image_or_video\": \"\", "
      "\"image_src\": \"Image src error.\", \"downloaded\": 0, \"save_location\": \"Local save in "
      "/data/art\", \"category\": \"art\"}";
  ASSERT_TRUE(PutSegment(&store_, kPinTopic, kDate, 0, 0, 0, {record}).ok());
  ASSERT_TRUE(
      PutSegment(&store_, kGeoTopic, kDate, 0, 0, 0,
                 {testing::GeoJson(5, "2020-08-28T03:52:47.5+02:00", "Cote d'Ivoire", -1.5, 2)})
          .ok());
  BatchRunResult r = Run(Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(Get(kPinDay + "part-00000.csv"),
            "ind,unique_id,title,description,poster_name,follower_count,tag_list,"
            "is_image_or_video,image_src,downloaded,save_location,category\n"
            "5," +
                Uuid(5) +
                ",\"He said \"\"hi\"\", then left\",\"line one\nline two\",,1200,"
                "\"a,b\",\"\",,0,/data/art,art\n");
  EXPECT_EQ(Get(kPinDay + "part-00000.jsonl"),
            "{\"ind\":5,\"unique_id\":\"" + Uuid(5) +
                "\",\"title\":\"He said \\\"hi\\\", then left\",\"description\":\"line one\\nline "
                "two\",\"poster_name\":null,\"follower_count\":1200,\"tag_list\":\"a,b\","
                "\"is_image_or_video\":\"\",\"image_src\":null,\"downloaded\":0,"
                "\"save_location\":\"/data/art\",\"category\":\"art\"}\n");
  EXPECT_EQ(Get("clean/geolocation_data_clean/dt=2024-01-01/part-00000.csv"),
            "ind,timestamp,latitude,longitude,coordinates,country\n"
            "5,2020-08-28 01:52:47.500000,-1.5,2,\"{-1.5,2}\",Cote d'Ivoire\n");
  EXPECT_EQ(Get("clean/geolocation_data_clean/dt=2024-01-01/part-00000.jsonl"),
            "{\"ind\":5,\"timestamp\":\"2020-08-28 01:52:47.500000\",\"latitude\":-1.5,"
            "\"longitude\":2,\"coordinates\":[-1.5,2],\"country\":\"Cote d'Ivoire\"}\n");
  // A day without user records still gets its header-only part.
  EXPECT_EQ(Get("clean/user_data_clean/dt=2024-01-01/part-00000.csv"),
            "ind,user_name,first_name,last_name,age,date_joined\n");
  EXPECT_EQ(Get("clean/user_data_clean/dt=2024-01-01/part-00000.jsonl"), "");
}

TEST_F(BatchJobLakeTest, DeadLettersAndQualityReport) {
  ASSERT_TRUE(
      PutSegment(&store_, kPinTopic, kDate, 0, 0, 0,
                 {testing::PinJson(1, Uuid(1), "P", "User Info Error", "art"), "{\"index\": 2}",
                  testing::PinJson(3, Uuid(3), "P", "3M", "art"), std::string("\xff\xfe", 2)})
          .ok());
  BatchRunResult r = Run(Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const KindReport& pin = r.days[0].kinds[0];
  EXPECT_EQ(pin.records, 4);
  EXPECT_EQ(pin.rows, 1);
  EXPECT_EQ(pin.dropped, 1);
  EXPECT_EQ(pin.dead, 2);
  const std::string key = testing::SegmentKey(kPinTopic, kDate, 0, 0, 0);
  const std::string rejected = Get("clean/_rejected/dt=2024-01-01/pin.jsonl");
  EXPECT_EQ(
      rejected.substr(0, rejected.find('\n') + 1),
      "{\"object\":\"" + key +
          "\",\"line\":2,\"reason\":\"unique_id: Field required (missing); title: Field "
          "required (missing); description: Field required (missing); follower_count: "
          "Field required (missing); tag_list: Field required (missing); "
          "is_image_or_video: Field required (missing); image_src: Field required "
          "(missing); downloaded: Field required (missing); save_location: Field required "
          "(missing); category: Field required (missing)\",\"raw\":\"{\\\"index\\\": 2}\"}\n");
  EXPECT_NE(rejected.find("\"line\":4,"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find("\"raw_hex\":\"fffe\""), std::string::npos) << rejected;
  EXPECT_EQ(Get("clean/_rejected/dt=2024-01-01/geo.jsonl"), "");

  const std::string quality = Get("clean/_quality/dt=2024-01-01.json");
  EXPECT_TRUE(
      quality.starts_with("{\"dt\":\"2024-01-01\",\"sealed\":false,\"kinds\":[{\"kind\":"
                          "\"pin\",\"topic\":\"pinterest\",\"table\":\"experimental_data\","
                          "\"sealed\":false,\"objects\":1,"))
      << quality;
  EXPECT_NE(quality.find("\"records\":4,\"rows\":1,\"dropped\":1,\"dead\":2,\"duplicates\":0,"
                         "\"parts\":1,\"quality\":{"),
            std::string::npos)
      << quality;
  EXPECT_NE(quality.find("\"pin.drop_if_null.follower_count\":1"), std::string::npos) << quality;
  EXPECT_NE(quality.find("\"rows\":1,\"invalid\":2"), std::string::npos) << quality;
}

TEST_F(BatchJobLakeTest, CorruptObjectFailsTheWholeDayAndNamesTheObject) {
  PutRealisticDay();
  ASSERT_TRUE(Run(Options()).status.ok());
  ASSERT_TRUE(Has(kPinDay + "_SUCCESS"));
  const std::string bad = testing::SegmentKey(kPinTopic, kDate, 2, 1, 123);
  ASSERT_TRUE(store_.Put(bad, "{\"index\": 1} is not zstd").ok());

  BatchRunResult r = Run(Options());
  EXPECT_THAT(r.status, StatusIs(StatusCode::kDataLoss)) << r.status.ToString();
  EXPECT_NE(r.status.message().find(bad), std::string::npos) << r.status.ToString();
  EXPECT_NE(r.status.message().find("dt=2024-01-01: not loaded"), std::string::npos)
      << r.status.ToString();
  ASSERT_EQ(r.days.size(), 1u);
  EXPECT_FALSE(r.days[0].status.ok());
  // Never half-loaded: the pin day's output is gone (no marker, no parts).
  for (const auto& [key, bytes] : store_.objects()) {
    EXPECT_FALSE(key.starts_with(kPinDay)) << key;
  }
}

TEST_F(BatchJobLakeTest, TruncatedAndUnreadableObjectsFailTheDay) {
  const std::string whole = testing::ZstdJsonl({testing::PinJson(1, Uuid(1), "P", "1", "art")});
  const std::string key = testing::SegmentKey(kPinTopic, kDate, 0, 0, 0);
  ASSERT_TRUE(store_.Put(key, whole.substr(0, whole.size() - 3)).ok());
  BatchRunResult r = Run(Options());
  EXPECT_THAT(r.status, StatusIs(StatusCode::kDataLoss));
  EXPECT_NE(r.status.message().find(key + ": after line 0: truncated zstd data"), std::string::npos)
      << r.status.ToString();

  ASSERT_TRUE(store_.Put(key, whole).ok());
  store_.FailGetOf(key, Unavailable("injected get failure"));
  r = Run(Options());
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(r.status.message().find("reading " + key + ": injected get failure"), std::string::npos)
      << r.status.ToString();
}

TEST_F(BatchJobLakeTest, RequireSealedRefusesUnsealedDaysBeforeLoadingAnything) {
  PutRealisticDay(/*seal=*/false);
  ASSERT_TRUE(PutSuccess(&store_, kPinTopic, kDate).ok());
  BatchJobOptions o = Options();
  o.require_sealed = true;
  BatchRunResult r = Run(o);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(r.status.message().find("not sealed by the archiver (2024-01-01)"), std::string::npos)
      << r.status.ToString();
  EXPECT_TRUE(r.days.empty());
  EXPECT_TRUE(CleanOutput().empty());
  ASSERT_FALSE(logs_.empty());
  EXPECT_EQ(logs_.back(),
            "error: dt=2024-01-01 is not sealed: pinterest_geo/dt=2024-01-01/_SUCCESS, "
            "pinterest_user/dt=2024-01-01/_SUCCESS missing");

  // Without the flag: a warning, and the day is loaded.
  logs_.clear();
  r = Run(Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.days[0].sealed());
  ASSERT_FALSE(logs_.empty());
  EXPECT_TRUE(logs_[0].starts_with("warning: dt=2024-01-01 is not sealed")) << logs_[0];
}

TEST_F(BatchJobLakeTest, WarnsWhenTheArchiverSealedADifferentRecordCount) {
  ASSERT_TRUE(PutSegment(&store_, kPinTopic, kDate, 0, 0, 0,
                         {testing::PinJson(1, Uuid(1), "P", "1", "art"),
                          testing::PinJson(2, Uuid(2), "P", "1", "art")})
                  .ok());
  // The archiver's markers: 3 pins (one more than the lake holds), 0 geo records (as read).
  for (const auto& [topic, records] : {std::pair{kPinTopic, 3}, std::pair{kGeoTopic, 0}}) {
    archive::SuccessMarker marker;
    marker.topic = topic;
    marker.day = Day(kDate);
    marker.records = records;
    ASSERT_TRUE(
        store_.Put(archive::SuccessKey(topic, Day(kDate)), archive::FormatSuccessMarker(marker))
            .ok());
  }
  ASSERT_TRUE(Run(Options()).status.ok());
  std::vector<std::string> warnings;
  for (const std::string& line : logs_) {
    if (line.find("the archiver sealed the day with") != std::string::npos)
      warnings.push_back(line);
  }
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "warning: dt=2024-01-01 pinterest: read 2 records, the archiver sealed "
                          "the day with 3 (some archived records are missing from the lake)"}));
}

TEST_F(BatchJobLakeTest, RangeLoadsEachDayAndKeepGoingPastAFailure) {
  for (const char* date : {"2024-01-01", "2024-01-02", "2024-01-03"}) {
    ASSERT_TRUE(PutSegment(&store_, kPinTopic, date, 0, 0, 0,
                           {testing::PinJson(1, Uuid(1), "P", "1", "art")})
                    .ok());
  }
  ASSERT_TRUE(store_.Put(testing::SegmentKey(kPinTopic, "2024-01-02", 5, 0, 9), "junk").ok());
  BatchJobOptions o = Options();
  BatchRunResult r = Run(o, "2024-01-01", "2024-01-03");
  EXPECT_FALSE(r.status.ok());
  ASSERT_EQ(r.days.size(), 2u);  // stops at the failed day
  EXPECT_TRUE(r.days[0].status.ok());
  EXPECT_FALSE(r.days[1].status.ok());

  o.keep_going = true;
  r = Run(o, "2024-01-01", "2024-01-03");
  EXPECT_FALSE(r.status.ok());
  ASSERT_EQ(r.days.size(), 3u);
  EXPECT_TRUE(r.days[2].status.ok());
  EXPECT_TRUE(Has("clean/experimental_data/dt=2024-01-03/_SUCCESS"));
  EXPECT_FALSE(Has("clean/experimental_data/dt=2024-01-02/_SUCCESS"));
}

TEST_F(BatchJobLakeTest, PartsRollAndARerunWithFewerPartsDeletesTheStaleOnes) {
  PutRealisticDay();
  BatchJobOptions small = Options();
  small.parts.part_bytes = 20000;
  ASSERT_TRUE(Run(small).status.ok());
  ASSERT_TRUE(Has(kPinDay + "part-00002.csv"));
  ASSERT_TRUE(Has(kPinDay + "part-00002.jsonl"));
  // Every part but the last reached the limit; each CSV part has the header.
  const std::string part0 = Get(kPinDay + "part-00000.csv");
  EXPECT_TRUE(part0.starts_with("ind,unique_id,"));
  EXPECT_TRUE(Get(kPinDay + "part-00001.csv").starts_with("ind,unique_id,"));

  ASSERT_TRUE(Run(Options()).status.ok());
  std::vector<std::string> keys;
  for (const auto& [key, bytes] : store_.objects()) {
    if (key.starts_with(kPinDay)) keys.push_back(key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{kPinDay + "_SUCCESS", kPinDay + "part-00000.csv",
                                            kPinDay + "part-00000.jsonl"}));
}

TEST_F(BatchJobLakeTest, ForeignObjectsUnderTheDayAreIgnoredWithAWarning) {
  ASSERT_TRUE(PutSegment(&store_, kPinTopic, kDate, 0, 0, 0,
                         {testing::PinJson(1, Uuid(1), "P", "1", "art")})
                  .ok());
  ASSERT_TRUE(store_.Put("pinterest/dt=2024-01-01/notes.txt", "not a segment").ok());
  BatchRunResult r = Run(Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.days[0].kinds[0].objects, 1);
  bool warned = false;
  for (const std::string& line : logs_) {
    warned |= line.find("ignoring 1 object(s) under pinterest/dt=2024-01-01/") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST_F(BatchJobLakeTest, ADayWithNothingArchivedIsNotLoaded) {
  // A wrong --lake must not replace good days with empty ones.
  BatchRunResult r = Run(Options());
  EXPECT_THAT(r.status, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(r.status.message(),
            "dt=2024-01-01: nothing archived in fake:// under pinterest/, pinterest_geo/, "
            "pinterest_user/; not loaded (the day's existing data is kept)");
  EXPECT_TRUE(CleanOutput().empty());
}

TEST_F(BatchJobLakeTest, DryRunWritesNothingButCounts) {
  PutRealisticDay();
  BatchJobOptions o = Options();
  o.write_lake = false;
  BatchRunResult r = Run(o);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.days[0].records(), 3 * 900 + 3);
  EXPECT_TRUE(CleanOutput().empty());
}

}  // namespace
}  // namespace pinpipe::batch
