// The serving layer over the real pipeline, every part a `pinpipe` process: records of three
// days produced to Kafka with Kafka timestamps on those days, `pinpipe serving ensure`,
// `pinpipe stream` (the speed layer) until it has everything, `pinpipe archive` until the days are
// sealed, then `pinpipe batch` loading the days one by one. Checked after each load: the
// boundary is the day just loaded; every merged pin, geolocation and user is still there exactly
// once, on the same day (a row never disappears and is never counted twice as the boundary
// passes it), from the layer that serves its day; the analytics answers do not change; the
// reconciliation of each loaded day finds exactly the cross-day replays. And the speed layer's
// dt of every row is the day the archiver filed its record under, also for geolocations whose
// own time lies before midnight while Kafka's lies after it.
//
// Needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and PINPIPE_TEST_PINPIPE_BIN.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "kafka/admin.h"
#include "lake/local_store.h"
#include "pg/connection.h"
#include "testing/archive_env.h"
#include "testing/kafka_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"
#include "testing/timed_producer.h"

namespace pinpipe::testing {
namespace {

using std::chrono::seconds;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kMinuteMs = 60 * 1000;
const std::vector<std::string> kDays = {"2024-01-01", "2024-01-02", "2024-01-03"};
const std::string kPushDay = "2024-01-04";  // moves the watermark so that kDays get sealed
constexpr int kPosts = 30;                  // new posts per day
constexpr int kReplays = 4;                 // the previous day's first posts, again
constexpr int kAcrossMidnight = 5;          // geolocations timed 23:50 the day before

int64_t DayStartMs(const std::string& date) { return *core::ParseDate(date) * core::kMillisPerDay; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ServingPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBrokers();
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    const std::optional<std::string> admin = TestPgDsn();
    if (brokers_.empty() || !admin || bin_.empty()) {
      GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and "
                      "PINPIPE_TEST_PINPIPE_BIN (scripts/test sets them)";
    }
    name_ = UniqueName("serving");
    std::vector<kafka::TopicSpec> specs;
    for (int k = 0; k < 3; ++k) {
      topics_[k] = name_ + std::array<const char*, 3>{"-pin", "-geo", "-user"}[k];
      specs.push_back({topics_[k], 3, 1, {{"retention.ms", "-1"}}});  // 2024 timestamps stay
    }
    ASSERT_TRUE(kafka::EnsureTopics(brokers_, specs, seconds(30)).ok());
    db_ = std::make_unique<ScratchDatabase>(*admin);
    ASSERT_TRUE(db_->ok()) << db_->error();
    dir_ = ::testing::TempDir() + name_;
    std::filesystem::create_directories(dir_);
    lake_ = dir_ + "/lake";
  }

  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> TopicArgs() const {
    return {"--topic-pin", topics_[0], "--topic-geo", topics_[1], "--topic-user", topics_[2]};
  }

  // Runs `pinpipe <args>` to its end; its exit code, its output in *out.
  int Pinpipe(std::vector<std::string> args, std::string* out, seconds timeout = seconds(300)) {
    const std::string log = dir_ + fmt::format("/run-{}.log", runs_++);
    args.insert(args.begin(), bin_);
    ChildProcess child;
    EXPECT_TRUE(child.Start(args, log).ok());
    const int code = child.Wait(timeout);
    *out = Slurp(log);
    return code;
  }

  // Day i's records: kPosts new posts (pin, geo, user); the previous day's first kReplays pins
  // again; the first kAcrossMidnight geolocations timed 23:50 the day before, sent at 00:10.
  void Produce() {
    std::array<std::vector<TimedRecord>, 3> out;
    for (size_t i = 0; i < kDays.size(); ++i) {
      const int64_t base = static_cast<int64_t>(i + 1) * 1000;
      const int64_t start = DayStartMs(kDays[i]);
      for (int n = 0; n < kPosts; ++n) {
        const int64_t id = base + n;
        out[0].push_back({std::to_string(id), ArchivePinRecord(id), start + kHourMs + n * 1000});
        const bool before_midnight = i > 0 && n < kAcrossMidnight;
        const int64_t event =
            before_midnight ? start - 10 * kMinuteMs : start + 2 * kHourMs + n * kMinuteMs;
        const int64_t sent = before_midnight ? start + 10 * kMinuteMs : event + 30 * kMinuteMs;
        out[1].push_back({std::to_string(id), ArchiveGeoRecord(id, RecordTime(event)), sent});
        out[2].push_back({std::to_string(id), ArchiveUserRecord(id, "2016-05-01 10:20:30"),
                          start + 3 * kHourMs + n * kMinuteMs});
      }
      for (int n = 0; i > 0 && n < kReplays; ++n) {
        const int64_t id = static_cast<int64_t>(i) * 1000 + n;
        out[0].push_back(
            {std::to_string(id), ArchivePinRecord(id), start + 20 * kHourMs + n * 1000});
      }
    }
    const int64_t push = DayStartMs(kPushDay) + 12 * kHourMs;
    for (int n = 0; n < 3; ++n) {
      const int64_t id = 9000 + n;
      out[0].push_back({std::to_string(id), ArchivePinRecord(id), push});
      out[1].push_back({std::to_string(id), ArchiveGeoRecord(id, RecordTime(push)), push});
      out[2].push_back({std::to_string(id), ArchiveUserRecord(id, "2016-05-01 10:20:30"), push});
    }
    for (int k = 0; k < 3; ++k) {
      Status s = ProduceWithTimestamps(brokers_, topics_[k], out[k]);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  // `pinpipe stream` until PostgreSQL's offsets reach the topics' high watermarks.
  void StreamEverything() {
    ChildProcess stream;
    const std::string log = dir_ + "/stream.log";
    std::vector<std::string> argv = {
        bin_,      "stream",          "--kafka-brokers",      brokers_, "--pg-dsn", db_->dsn(),
        "--group", name_ + "-stream", "--session-timeout-ms", "6000"};
    for (const std::string& a : TopicArgs()) argv.push_back(a);
    ASSERT_TRUE(stream.Start(argv, log).ok());
    auto caught_up = [&] {
      auto high = HighWatermarkSum(brokers_, {topics_.begin(), topics_.end()});
      auto stored = QueryInt(db_->dsn(),
                             "SELECT coalesce(sum(next_offset), 0) FROM "
                             "pinpipe_stream_offsets");
      return high.ok() && stored.ok() && *stored == *high;
    };
    EXPECT_TRUE(WaitFor(caught_up, seconds(120))) << Slurp(log);
    stream.Signal(SIGTERM);
    EXPECT_EQ(stream.Wait(seconds(60)), 0) << Slurp(log);
  }

  // `pinpipe archive` until every topic's kDays are sealed.
  void ArchiveUntilSealed() {
    ChildProcess archiver;
    const std::string log = dir_ + "/archive.log";
    std::vector<std::string> argv = {bin_,
                                     "archive",
                                     "--kafka-brokers",
                                     brokers_,
                                     "--group",
                                     name_ + "-archive",
                                     "--lake",
                                     lake_,
                                     "--rotate-idle",
                                     "300ms",
                                     "--watermark-idle",
                                     "2s",
                                     "--session-timeout-ms",
                                     "6000"};
    for (const std::string& a : TopicArgs()) argv.push_back(a);
    ASSERT_TRUE(archiver.Start(argv, log).ok());
    auto store = lake::LocalStore::Open(lake_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto sealed = [&] {
      for (const std::string& d : kDays) {
        for (const std::string& t : topics_) {
          auto head = (*store)->Head(archive::SuccessKey(t, *core::ParseDate(d)));
          if (!head.ok() || !head->has_value()) return false;
        }
      }
      return true;
    };
    EXPECT_TRUE(WaitFor(sealed, seconds(180))) << Slurp(log);
    archiver.Signal(SIGTERM);
    EXPECT_EQ(archiver.Wait(seconds(60)), 0) << Slurp(log);
  }

  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    auto conn = pg::Connection::Open(db_->dsn());
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return rows;
    auto r = conn->Exec(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    if (!r.ok()) return rows;
    for (int i = 0; i < r->rows(); ++i) {
      std::string row;
      for (int c = 0; c < r->columns(); ++c) {
        if (c > 0) row += '|';
        row += r->IsNull(i, c) ? std::string("NULL") : std::string(r->GetValue(i, c));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }
  int64_t Q(const std::string& sql) {
    auto v = QueryInt(db_->dsn(), sql);
    EXPECT_TRUE(v.ok()) << sql << ": " << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  // Every merged row as "key|dt" (no layer), and every question's answer: what must not change
  // as the boundary moves.
  std::vector<std::string> Merged() {
    std::vector<std::string> all;
    for (const char* sql : {"SELECT 'pin', unique_id, dt FROM serving.pins ORDER BY 2",
                            "SELECT 'geo', ind, dt FROM serving.geo ORDER BY 2",
                            "SELECT 'user', ind, dt FROM serving.users ORDER BY 2"}) {
      for (std::string& r : Rows(sql)) all.push_back(std::move(r));
    }
    return all;
  }
  std::vector<std::string> Answers() {
    std::vector<std::string> all;
    for (const char* view :
         {"q1_popular_category_by_country", "q2_posts_by_category_and_year",
          "q2_top_category_by_year", "q3_top_poster_by_country", "q3_top_country",
          "q4_popular_category_by_age_group", "q5_median_follower_count_by_age_group",
          "q6_users_joined_by_year", "q7_median_follower_count_by_join_year",
          "q8_median_follower_count_by_join_year_and_age_group"}) {
      all.push_back(view);
      for (std::string& r : Rows(fmt::format("SELECT * FROM serving.{}", view))) {
        all.push_back(std::move(r));
      }
    }
    return all;
  }

  std::string brokers_, bin_, name_, dir_, lake_;
  std::array<std::string, 3> topics_;
  std::unique_ptr<ScratchDatabase> db_;
  int runs_ = 0;
};

TEST_F(ServingPipelineTest, TheBoundaryPassesEachLoadedDayWithoutLosingOrDoublingARow) {
  std::string out;
  ASSERT_EQ(Pinpipe({"serving", "ensure", "--pg-dsn", db_->dsn(), "--no-reader"}, &out), 0) << out;
  EXPECT_NE(out.find("boundary none"), std::string::npos) << out;
  Produce();
  ASSERT_FALSE(HasFailure());
  StreamEverything();
  ASSERT_FALSE(HasFailure());
  ArchiveUntilSealed();
  ASSERT_FALSE(HasFailure());

  // Speed layer only. 90 posts + 3 of the push day, each once; geolocations timed before
  // midnight are on the day before.
  const int64_t keys = 3 * kPosts + 3;
  EXPECT_EQ(Rows("SELECT boundary FROM serving.boundary"), std::vector<std::string>{"NULL"});
  EXPECT_EQ(Q("SELECT count(*) FROM serving.pins WHERE layer = 'speed'"), keys);
  EXPECT_EQ(Q("SELECT count(*) FROM serving.geo"), keys);
  EXPECT_EQ(Q("SELECT count(*) FROM serving.users"), keys);
  EXPECT_EQ(Q("SELECT count(*) FROM public.geolocation_data_clean WHERE dt = '2024-01-01' AND ind "
              "BETWEEN 2000 AND 2999"),
            kAcrossMidnight);
  const std::vector<std::string> merged = Merged();
  const std::vector<std::string> answers = Answers();
  ASSERT_EQ(merged.size(), static_cast<size_t>(3 * keys));
  ASSERT_GT(answers.size(), 10u);

  for (size_t i = 0; i < kDays.size(); ++i) {
    SCOPED_TRACE(kDays[i]);
    std::vector<std::string> args = {"batch",      "--date",   kDays[i],   "--lake",
                                     lake_,        "--pg-dsn", db_->dsn(), "--require-sealed",
                                     "--progress", "never"};
    for (const std::string& a : TopicArgs()) args.push_back(a);
    ASSERT_EQ(Pinpipe(args, &out), 0) << out;
    EXPECT_EQ(Rows("SELECT boundary FROM serving.boundary"), std::vector<std::string>{kDays[i]});
    EXPECT_EQ(Merged(), merged);
    EXPECT_EQ(Answers(), answers);
    for (const char* view : {"pins", "geo", "users"}) {
      EXPECT_EQ(Q(fmt::format("SELECT count(*) FROM serving.{} WHERE layer <> CASE WHEN dt <= "
                              "'{}' THEN 'batch' ELSE 'speed' END",
                              view, kDays[i])),
                0)
          << view;
    }
    // The day's reconciliation: the replayed pins are in the batch table that day and in the
    // speed table on the day before; nothing else differs.
    const int replays = i > 0 ? kReplays : 0;
    EXPECT_EQ(Rows(fmt::format("SELECT kind, sealed, difference, batch_only_keys, "
                               "batch_only_in_speed_other_day, speed_only_keys FROM "
                               "serving.reconciliation WHERE dt = '{}'",
                               kDays[i])),
              (std::vector<std::string>{fmt::format("geo|t|0|0|0|0"),
                                        fmt::format("pin|t|{0}|{0}|{0}|0", replays),
                                        fmt::format("user|t|0|0|0|0")}));
  }
  // Every speed row of a loaded day is on the day the archiver filed its record under: the
  // earliest batch day of its key.
  for (const auto& [table, key] :
       std::vector<std::pair<std::string, std::string>>{{"experimental_data", "unique_id"},
                                                        {"geolocation_data_clean", "ind"},
                                                        {"user_data_clean", "ind"}}) {
    SCOPED_TRACE(table);
    EXPECT_EQ(Q(fmt::format("SELECT count(*) FROM public.{0} s JOIN (SELECT {1}, min(dt) AS dt "
                            "FROM batch.{0} GROUP BY {1}) b USING ({1}) WHERE s.dt = b.dt",
                            table, key)),
              3 * kPosts);
    EXPECT_EQ(
        Q(fmt::format("SELECT count(*) FROM public.{} WHERE dt <= '{}'", table, kDays.back())),
        3 * kPosts);
  }
  // The push day is after the boundary: the speed layer's.
  EXPECT_EQ(Rows(fmt::format("SELECT kind, served_by, merged_from_speed FROM serving.layer_days "
                             "WHERE dt = '{}' ORDER BY kind",
                             kPushDay)),
            (std::vector<std::string>{"geo|speed|3", "pin|speed|3", "user|speed|3"}));
  ASSERT_EQ(Pinpipe({"serving", "ensure", "--pg-dsn", db_->dsn(), "--no-reader"}, &out), 0) << out;
  EXPECT_NE(out.find("boundary 2024-01-03 (3 batch day(s)"), std::string::npos) << out;
}

}  // namespace
}  // namespace pinpipe::testing
