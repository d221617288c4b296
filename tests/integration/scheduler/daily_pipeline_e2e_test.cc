// The batch layer end to end, every part real: records of three days produced to Kafka (with
// Kafka timestamps on those days), `pinpipe archive` (a process) writing them to a local lake
// until the days are sealed, then `pinpipe scheduler backfill` of the default DAG
// (dags/pinterest_daily.toml, wait_sealed -> batch -> refresh_views) over the three days, with
// its run history in PostgreSQL and the batch job loading PostgreSQL. Checked: three successful
// runs, every task's history and log in PostgreSQL, and per day exactly the cleaned rows the
// records make; a second backfill (skip-done) runs nothing, a third (redo-all) reruns every task
// and leaves the tables identical. And the same DAG exported to Apache Airflow and executed by
// it (`airflow dags test`, Airflow 2.10.5 of scripts/setup --airflow with its own SQLite
// metadata database) for one sealed day loads exactly the rows `pinpipe scheduler` loaded.
//
// Needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and PINPIPE_TEST_PINPIPE_BIN
// (scripts/test sets them).
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "archive/archive_layout.h"
#include "kafka/admin.h"
#include "lake/local_store.h"
#include "pg/connection.h"
#include "testing/airflow_env.h"
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

// What one day's records are. Every pin, geo and user record gets an id of its own (day index
// * 1000 + n). The first `unknown_followers` pins have follower_count "User Info Error" (cleaned
// to NULL, and the transform drops pins without a follower count); the next `duplicate_pins` are
// sent twice (the batch job keeps the first).
struct DaySpec {
  std::string date;
  int pins;
  int duplicate_pins;
  int unknown_followers;
  int geos;
  int users;
};

const std::vector<DaySpec> kDays = {
    {"2024-01-01", 40, 5, 3, 30, 20},
    {"2024-01-02", 25, 0, 1, 25, 25},
    {"2024-01-03", 60, 10, 0, 10, 35},
};
// Records of this day push every topic's event-time watermark past the end of the last day + the
// archiver's 1 h lateness, so the three days get sealed; it is never sealed itself.
const std::string kPushDay = "2024-01-04";

int64_t DayStartMs(const std::string& date) { return *core::ParseDate(date) * core::kMillisPerDay; }

std::string PinRecord(int64_t id, bool unknown_followers) {
  std::string json = ArchivePinRecord(id);
  if (unknown_followers) {
    const std::string from = fmt::format("\"follower_count\":\"{}k\"", id % 991);
    json.replace(json.find(from), from.size(), "\"follower_count\":\"User Info Error\"");
  }
  return json;
}

// The users' own time (date_joined, years before the post) is outside the archiver's event-time
// window, so they are filed under their Kafka timestamp; geo records under their own timestamp.
std::string DateJoined(int64_t id) { return fmt::format("2016-05-{:02d} 10:20:30", 1 + id % 28); }
int64_t GeoEventMs(const std::string& date, int n) {
  return DayStartMs(date) + 2 * kHourMs + n * kMinuteMs;
}

// The cleaned rows a day must have, in the form the SQL below renders them.
struct ExpectedDay {
  int64_t records = 0;  // lines archived for the day over the three topics
  std::vector<std::string> pins, geos, users;
};

ExpectedDay Expect(const DaySpec& d, int64_t base) {
  ExpectedDay e;
  e.records = d.pins + d.duplicate_pins + d.geos + d.users;
  for (int n = 0; n < d.pins; ++n) {
    const int64_t id = base + n;
    if (n < d.unknown_followers) continue;
    // ind | unique_id | follower_count | save_location (prefix stripped) | category
    e.pins.push_back(fmt::format("{}|{}|{}|/data/art|art", id, UuidFor(id), (id % 991) * 1000));
  }
  for (int n = 0; n < d.geos; ++n) {
    // ind | timestamp | country
    e.geos.push_back(
        fmt::format("{}|{}|Cote d'Ivoire", base + n, RecordTime(GeoEventMs(d.date, n))));
  }
  for (int n = 0; n < d.users; ++n) {
    const int64_t id = base + n;
    // ind | user_name | age | date_joined
    e.users.push_back(fmt::format("{}|First{} Last|{}|{}", id, id, 20 + id % 40, DateJoined(id)));
  }
  return e;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DailyPipelineEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBrokers();
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    const std::optional<std::string> admin = TestPgDsn();
    if (brokers_.empty() || !admin || bin_.empty()) {
      GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and "
                      "PINPIPE_TEST_PINPIPE_BIN (scripts/test sets them)";
    }
    name_ = UniqueName("e2e");
    // Topics that keep records whatever their timestamps (2024): no time-based retention.
    for (int k = 0; k < 3; ++k) {
      topics_[k] = name_ + std::array<const char*, 3>{"-pin", "-geo", "-user"}[k];
    }
    std::vector<kafka::TopicSpec> specs;
    for (const std::string& t : topics_) specs.push_back({t, 3, 1, {{"retention.ms", "-1"}}});
    Status created = kafka::EnsureTopics(brokers_, specs, seconds(30));
    ASSERT_TRUE(created.ok()) << created.ToString();
    batch_db_ = std::make_unique<ScratchDatabase>(*admin);
    ASSERT_TRUE(batch_db_->ok()) << batch_db_->error();
    scheduler_db_ = std::make_unique<ScratchDatabase>(*admin);
    ASSERT_TRUE(scheduler_db_->ok()) << scheduler_db_->error();
    dir_ = ::testing::TempDir() + name_;
    std::filesystem::create_directories(dir_ + "/dags");
    lake_ = dir_ + "/lake";
  }

  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  // The default DAG file with the test's topics as task arguments and a 1 s retry delay (a
  // failing try shows up at once instead of after 5 minutes); everything else as shipped.
  void WriteDag() {
    std::string dag = Slurp(std::string(PINPIPE_SOURCE_DIR) + "/dags/pinterest_daily.toml");
    auto insert_after = [&](const std::string& line_start, const std::string& text) {
      const size_t at = dag.find(line_start);
      ASSERT_NE(at, std::string::npos) << line_start;
      dag.insert(dag.find('\n', at) + 1, text + "\n");
    };
    auto replace = [&](const std::string& from, const std::string& to) {
      const size_t at = dag.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      dag.replace(at, from.size(), to);
    };
    insert_after("kind = \"wait_sealed\"", fmt::format("args = [\"--topic\", \"{}\", \"--topic\", "
                                                       "\"{}\", \"--topic\", \"{}\"]",
                                                       topics_[0], topics_[1], topics_[2]));
    insert_after("kind = \"batch\"",
                 fmt::format("args = [\"--topic-pin\", \"{}\", \"--topic-geo\", "
                             "\"{}\", \"--topic-user\", \"{}\"]",
                             topics_[0], topics_[1], topics_[2]));
    replace("retry_delay = \"5m\"", "retry_delay = \"1s\"");
    std::ofstream(dir_ + "/dags/pinterest_daily.toml") << dag;
  }

  void ProduceDays() {
    std::array<std::vector<TimedRecord>, 3> out;
    for (size_t i = 0; i < kDays.size(); ++i) {
      const DaySpec& d = kDays[i];
      const int64_t base = static_cast<int64_t>(i + 1) * 1000;
      const int64_t start = DayStartMs(d.date);
      for (int n = 0; n < d.pins; ++n) {
        out[0].push_back({std::to_string(base + n), PinRecord(base + n, n < d.unknown_followers),
                          start + kHourMs + n * 1000});
      }
      for (int n = d.unknown_followers; n < d.unknown_followers + d.duplicate_pins; ++n) {
        // the same posts again, later that day
        out[0].push_back({std::to_string(base + n), PinRecord(base + n, false),
                          start + 20 * kHourMs + n * 1000});
      }
      for (int n = 0; n < d.geos; ++n) {
        const int64_t event = GeoEventMs(d.date, n);
        out[1].push_back({std::to_string(base + n), ArchiveGeoRecord(base + n, RecordTime(event)),
                          event + 30 * kMinuteMs});
      }
      for (int n = 0; n < d.users; ++n) {
        out[2].push_back({std::to_string(base + n),
                          ArchiveUserRecord(base + n, DateJoined(base + n)),
                          start + 3 * kHourMs + n * kMinuteMs});
      }
      expected_.push_back(Expect(d, base));
    }
    const int64_t push = DayStartMs(kPushDay) + 12 * kHourMs;
    for (int n = 0; n < 6; ++n) {
      const int64_t id = 9000 + n;
      out[0].push_back({std::to_string(id), PinRecord(id, false), push});
      out[1].push_back({std::to_string(id), ArchiveGeoRecord(id, RecordTime(push)), push});
      out[2].push_back({std::to_string(id), ArchiveUserRecord(id, DateJoined(id)), push});
    }
    for (int k = 0; k < 3; ++k) {
      Status s = ProduceWithTimestamps(brokers_, topics_[k], out[k]);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  // `pinpipe archive` until every topic's three days have their _SUCCESS marker, then SIGTERM.
  void ArchiveUntilSealed() {
    ChildProcess archiver;
    const std::string log = dir_ + "/archive.log";
    ASSERT_TRUE(archiver
                    .Start({bin_,
                            "archive",
                            "--kafka-brokers",
                            brokers_,
                            "--topic-pin",
                            topics_[0],
                            "--topic-geo",
                            topics_[1],
                            "--topic-user",
                            topics_[2],
                            "--group",
                            name_ + "-g",
                            "--lake",
                            lake_,
                            "--rotate-idle",
                            "300ms",
                            "--watermark-idle",
                            "2s",
                            "--session-timeout-ms",
                            "6000"},
                           log)
                    .ok());
    auto store = lake::LocalStore::Open(lake_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto sealed = [&] {
      for (const DaySpec& d : kDays) {
        for (const std::string& t : topics_) {
          auto head = (*store)->Head(archive::SuccessKey(t, *core::ParseDate(d.date)));
          if (!head.ok() || !head->has_value()) return false;
        }
      }
      return true;
    };
    EXPECT_TRUE(WaitFor(sealed, seconds(180))) << Slurp(log);
    archiver.Signal(SIGTERM);
    EXPECT_EQ(archiver.Wait(seconds(60)), 0) << Slurp(log);
    // The push day holds records but is not sealed: nothing after it moved the watermark.
    auto push = (*store)->Head(archive::SuccessKey(topics_[0], *core::ParseDate(kPushDay)));
    ASSERT_TRUE(push.ok());
    EXPECT_FALSE(push->has_value());
  }

  // The test's DAG file, the three days in Kafka, archived and sealed.
  void SealThreeDays() {
    WriteDag();
    if (HasFailure()) return;
    ProduceDays();
    if (HasFailure()) return;
    ArchiveUntilSealed();
  }

  // `pinpipe scheduler backfill pinterest_daily` over the three days; the batch tasks load the
  // test's database through PINPIPE_BATCH_PG_DSN, inherited from the scheduler.
  int Backfill(const std::string& mode, std::string* output) {
    const std::string log = dir_ + fmt::format("/backfill-{}.log", backfills_++);
    ChildProcess backfill;
    EXPECT_TRUE(
        backfill
            .Start({"/usr/bin/env", "PINPIPE_BATCH_PG_DSN=" + batch_db_->dsn(), bin_, "scheduler",
                    "backfill", "pinterest_daily", "--dags-dir", dir_ + "/dags", "--pg-dsn",
                    scheduler_db_->dsn(), "--lake", lake_, "--from", kDays.front().date, "--to",
                    kDays.back().date, "--mode", mode},
                   log)
            .ok());
    const int code = backfill.Wait(seconds(300));
    *output = Slurp(log);
    return code;
  }

  // Rows of `sql` as "a|b|c" lines (NULL as "NULL"), in the session time zone UTC.
  std::vector<std::string> Rows(const std::string& dsn, const std::string& sql) {
    std::vector<std::string> rows;
    auto conn = pg::Connection::Open(dsn);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return rows;
    EXPECT_TRUE(conn->Run("SET TIME ZONE 'UTC'").ok());
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

  std::vector<std::string> BatchRows(const std::string& columns, const std::string& table,
                                     const std::string& date) {
    return Rows(
        batch_db_->dsn(),
        fmt::format("SELECT {} FROM batch.{} WHERE dt = '{}' ORDER BY ind", columns, table, date));
  }

  // The three batch tables, every row of every day, for comparing whole loads.
  std::vector<std::string> AllBatchRows() {
    std::vector<std::string> all;
    for (const char* table : {"experimental_data", "geolocation_data_clean", "user_data_clean"}) {
      std::vector<std::string> rows = Rows(
          batch_db_->dsn(), fmt::format("SELECT t::text FROM batch.{} t ORDER BY dt, ind", table));
      all.insert(all.end(), rows.begin(), rows.end());
    }
    return all;
  }

  // Each task instance of the DAG: run, task, state, try, start and end.
  std::vector<std::string> TaskInstances() {
    return Rows(scheduler_db_->dsn(),
                "SELECT run_id, task_id, state, try_number, started_at, ended_at "
                "FROM scheduler.task_instances WHERE dag_id = 'pinterest_daily' "
                "ORDER BY run_id, position");
  }

  std::string TaskLog(const std::string& run_id, const std::string& task, int try_number) {
    std::vector<std::string> text = Rows(
        scheduler_db_->dsn(),
        fmt::format("SELECT coalesce(string_agg(convert_from(chunk, 'UTF8'), '' ORDER BY id), '') "
                    "FROM scheduler.task_logs WHERE dag_id = 'pinterest_daily' AND run_id = '{}' "
                    "AND task_id = '{}' AND try_number = {}",
                    run_id, task, try_number));
    return text.empty() ? "" : text[0];
  }

  // The checks after a backfill that ran every task of the three runs, at try `try_number`.
  void ExpectThreeSuccessfulRuns(int try_number) {
    const std::vector<std::string> runs =
        Rows(scheduler_db_->dsn(),
             "SELECT run_id, kind, to_char(interval_start, 'YYYY-MM-DD'), "
             "to_char(interval_end, 'YYYY-MM-DD'), state FROM scheduler.dag_runs "
             "WHERE dag_id = 'pinterest_daily' ORDER BY interval_start");
    ASSERT_EQ(runs.size(), kDays.size()) << fmt::format("{}", fmt::join(runs, "\n"));
    run_ids_.clear();
    for (size_t i = 0; i < kDays.size(); ++i) {
      const std::string run_id = runs[i].substr(0, runs[i].find('|'));
      run_ids_.push_back(run_id);
      const int64_t next = *core::ParseDate(kDays[i].date) + 1;
      EXPECT_EQ(runs[i], fmt::format("{}|backfill|{}|{}|success", run_id, kDays[i].date,
                                     core::DateOfDay(next)));
    }
    const std::vector<std::string> got = TaskInstances();
    ASSERT_EQ(got.size(), 3 * kDays.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const std::string run_id = run_ids_[i / 3];
      const char* task = std::array<const char*, 3>{"wait_sealed", "batch", "refresh_views"}[i % 3];
      // run | task | success | try | a start and an end
      EXPECT_TRUE(got[i].starts_with(fmt::format("{}|{}|success|{}|", run_id, task, try_number)))
          << got[i];
      EXPECT_EQ(got[i].find("NULL"), std::string::npos) << got[i];
    }
    for (size_t i = 0; i < kDays.size(); ++i) {
      SCOPED_TRACE(kDays[i].date);
      const std::string wait = TaskLog(run_ids_[i], "wait_sealed", try_number);
      for (const std::string& t : topics_) {
        EXPECT_NE(wait.find("sealed: " + archive::SuccessKey(t, *core::ParseDate(kDays[i].date))),
                  std::string::npos)
            << wait;
      }
      EXPECT_NE(wait.find("every day is sealed"), std::string::npos) << wait;
      const std::string batch = TaskLog(run_ids_[i], "batch", try_number);
      const ExpectedDay& e = expected_[i];
      const size_t rows = e.pins.size() + e.geos.size() + e.users.size();
      EXPECT_NE(batch.find(fmt::format("pinpipe batch: dt={} sealed=yes records={} rows={} "
                                       "dropped={} dead=0 duplicates={} ",
                                       kDays[i].date, e.records, rows, kDays[i].unknown_followers,
                                       kDays[i].duplicate_pins)),
                std::string::npos)
          << batch;
      EXPECT_FALSE(TaskLog(run_ids_[i], "refresh_views", try_number).empty());
    }
  }

  void ExpectTablesHoldExactlyTheCleanedRows() {
    for (size_t i = 0; i < kDays.size(); ++i) {
      SCOPED_TRACE(kDays[i].date);
      const ExpectedDay& e = expected_[i];
      EXPECT_EQ(BatchRows("ind, unique_id, follower_count, save_location, category",
                          "experimental_data", kDays[i].date),
                e.pins);
      EXPECT_EQ(BatchRows("ind, to_char(\"timestamp\", 'YYYY-MM-DD HH24:MI:SS'), country",
                          "geolocation_data_clean", kDays[i].date),
                e.geos);
      EXPECT_EQ(BatchRows("ind, user_name, age, to_char(date_joined, 'YYYY-MM-DD HH24:MI:SS')",
                          "user_data_clean", kDays[i].date),
                e.users);
    }
    // Nothing of the push day (not sealed, not in the range) or any other day.
    for (const char* table : {"experimental_data", "geolocation_data_clean", "user_data_clean"}) {
      EXPECT_EQ(Rows(batch_db_->dsn(),
                     fmt::format("SELECT count(*) FROM batch.{} WHERE dt NOT BETWEEN '{}' AND '{}'",
                                 table, kDays.front().date, kDays.back().date)),
                std::vector<std::string>{"0"})
          << table;
    }
    // refresh_views made the analytics views; they answer over the loaded days.
    EXPECT_EQ(
        Rows(batch_db_->dsn(), "SELECT count(*) > 0 FROM batch.q1_popular_category_by_country"),
        std::vector<std::string>{"t"});
  }

  std::string brokers_, bin_, name_, dir_, lake_;
  std::array<std::string, 3> topics_;
  std::unique_ptr<ScratchDatabase> batch_db_, scheduler_db_;
  std::vector<ExpectedDay> expected_;
  std::vector<std::string> run_ids_;
  int backfills_ = 0;
};

TEST_F(DailyPipelineEndToEndTest, ArchivedDaysBackfilledByTheDefaultDagLoadExactlyTheCleanedRows) {
  SealThreeDays();
  ASSERT_FALSE(HasFailure());

  std::string out;
  ASSERT_EQ(Backfill("skip-done", &out), 0) << out;
  ExpectThreeSuccessfulRuns(1);
  ExpectTablesHoldExactlyTheCleanedRows();
  const std::vector<std::string> tables = AllBatchRows();
  const std::vector<std::string> tasks = TaskInstances();
  ASSERT_FALSE(HasFailure()) << out;

  // skip-done: every day has a successful run, so nothing runs and nothing changes.
  ASSERT_EQ(Backfill("skip-done", &out), 0) << out;
  EXPECT_NE(out.find("nothing to run"), std::string::npos) << out;
  EXPECT_EQ(TaskInstances(), tasks);
  EXPECT_EQ(AllBatchRows(), tables);

  // redo-all: every task runs again (try 2, with its own log) and the tables come out the same.
  ASSERT_EQ(Backfill("redo-all", &out), 0) << out;
  ExpectThreeSuccessfulRuns(2);
  ExpectTablesHoldExactlyTheCleanedRows();
  EXPECT_EQ(AllBatchRows(), tables);
}

// The exported DAG executed by Apache Airflow itself: its BashOperators run pinpipe for the day
// (wait_sealed, batch, refresh_views) into a database of their own, and that day's batch tables
// come out row for row as `pinpipe scheduler` made them.
TEST_F(DailyPipelineEndToEndTest, ExportedDagRunByAirflowLoadsWhatTheSchedulerLoads) {
  const AirflowPython airflow = FindAirflowPython(PINPIPE_SOURCE_DIR);
  if (!airflow.error.empty()) {
    if (airflow.skip) GTEST_SKIP() << airflow.error;
    FAIL() << airflow.error;
  }
  SealThreeDays();
  ASSERT_FALSE(HasFailure());
  std::string out;
  ASSERT_EQ(Backfill("skip-done", &out), 0) << out;
  ExpectTablesHoldExactlyTheCleanedRows();
  ASSERT_FALSE(HasFailure()) << out;

  ScratchDatabase airflow_db(*TestPgDsn());
  ASSERT_TRUE(airflow_db.ok()) << airflow_db.error();
  const std::string home = dir_ + "/airflow";
  std::filesystem::create_directories(home + "/dags");
  const CommandResult exported = RunCommand(
      ShellQuote(bin_) + " scheduler export-airflow pinterest_daily --dags-dir " +
      ShellQuote(dir_ + "/dags") + " --out " + ShellQuote(home + "/dags/pinterest_daily.py") +
      " --lake " + ShellQuote(lake_) + " --pinpipe-bin " + ShellQuote(bin_) + " " +
      ShellQuote("--batch-arg=--pg-dsn=" + airflow_db.dsn()));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const std::string env = "AIRFLOW_HOME=" + ShellQuote(home) +
                          " AIRFLOW__CORE__DAGS_FOLDER=" + ShellQuote(home + "/dags") +
                          " AIRFLOW__CORE__LOAD_EXAMPLES=False ";
  const CommandResult migrated = RunCommand(env + ShellQuote(airflow.airflow()) + " db migrate");
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  // The middle day: `dags test` makes a run whose ds is that day, and the exported batch task
  // takes --date {{ ds }}, as the scheduled run of that day's interval would.
  const std::string day = kDays[1].date;
  const CommandResult ran =
      RunCommand(env + ShellQuote(airflow.airflow()) + " dags test pinterest_daily " + day);
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  for (const char* task : {"wait_sealed", "batch", "refresh_views"}) {
    EXPECT_NE(ran.output.find(fmt::format("Marking task as SUCCESS. dag_id=pinterest_daily, "
                                          "task_id={},",
                                          task)),
              std::string::npos)
        << task << "\n"
        << ran.output;
  }
  EXPECT_NE(ran.output.find("state=success"), std::string::npos) << ran.output;
  // Airflow ran pinpipe's own commands: the batch job's summary line is in its output.
  EXPECT_NE(ran.output.find(fmt::format("pinpipe batch: dt={} sealed=yes", day)), std::string::npos)
      << ran.output;

  for (const char* table : {"experimental_data", "geolocation_data_clean", "user_data_clean"}) {
    SCOPED_TRACE(table);
    const std::string day_rows =
        fmt::format("SELECT t::text FROM batch.{} t WHERE dt = '{}' ORDER BY ind", table, day);
    const std::vector<std::string> by_airflow = Rows(airflow_db.dsn(), day_rows);
    EXPECT_FALSE(by_airflow.empty());
    EXPECT_EQ(by_airflow, Rows(batch_db_->dsn(), day_rows));
    // Only the day Airflow ran.
    EXPECT_EQ(Rows(airflow_db.dsn(),
                   fmt::format("SELECT count(*) FROM batch.{} WHERE dt <> '{}'", table, day)),
              std::vector<std::string>{"0"});
  }
  // refresh_views ran: the analytics views answer over the loaded day.
  EXPECT_EQ(Rows(airflow_db.dsn(), "SELECT count(*) > 0 FROM batch.q1_popular_category_by_country"),
            std::vector<std::string>{"t"});
}

}  // namespace
}  // namespace pinpipe::testing
