// scripts/run on a fresh state against the test Kafka and PostgreSQL: the first run loads a
// history (`pinpipe emulate --history 3d`), so within the promised 5 minutes of the box the
// batch layer has loaded sealed days (serving.boundary is not NULL) while the speed layer
// serves live rows; the box's first line is the dashboard; `pinpipe status` (no flags: the
// state directory only) shows the run, and says so once it stopped.
//
// The scheduler, the DAG (its 1 minute poke interval) and the archiver's lateness are the
// defaults; only the history's rate (100 posts per hour instead of 400) and the archiver's
// segment age (2 s) are lowered, to keep the test short on a busy machine.
//
// Needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and PINPIPE_TEST_PINPIPE_BIN.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "pg/connection.h"
#include "process/child.h"
#include "testing/archive_env.h"
#include "testing/kafka_env.h"
#include "testing/local_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::testing {
namespace {

using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

class FirstRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBrokers();
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    const auto dsn = TestPgDsn();
    if (brokers_.empty() || !dsn || bin_.empty()) {
      GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and "
                      "PINPIPE_TEST_PINPIPE_BIN (scripts/test sets them)";
    }
    for (auto* db : {&source_, &streaming_}) {
      *db = std::make_unique<ScratchDatabase>(*dsn);
      ASSERT_TRUE((*db)->ok()) << (*db)->error();
    }
    const std::string prefix = UniqueName("first");
    topics_ = {prefix + "-pin", prefix + "-geo", prefix + "-user"};
    stream_group_ = prefix + "-stream";
    archive_group_ = prefix + "-archive";
    std::string tmp = ::testing::TempDir();
    if (tmp.ends_with('/')) tmp.pop_back();
    state_ = tmp + "/" + prefix;
    ASSERT_EQ(mkdir(state_.c_str(), 0755), 0);
    for (uint16_t* port : {&api_port_, &stream_port_, &archive_port_, &scheduler_port_,
                           &supervisor_port_, &dashboard_port_}) {
      *port = FreePort();
      ASSERT_NE(*port, 0);
    }
  }

  void TearDown() override {
    if (run_) {
      run_->SignalGroup(SIGINT);
      run_->Stop(seconds(120));
    }
  }

  std::vector<std::pair<std::string, std::string>> Env() const {
    return {
        {"PINPIPE_STATE_DIR", state_},
        {"PINPIPE_RUN_BIN", bin_},
        {"PINPIPE_API_PORT", std::to_string(api_port_)},
        {"PINPIPE_STREAM_METRICS_PORT", std::to_string(stream_port_)},
        {"PINPIPE_ARCHIVE_METRICS_PORT", std::to_string(archive_port_)},
        {"PINPIPE_SCHEDULER_METRICS_PORT", std::to_string(scheduler_port_)},
        {"PINPIPE_SUPERVISOR_METRICS_PORT", std::to_string(supervisor_port_)},
        {"PINPIPE_DASHBOARD_PORT", std::to_string(dashboard_port_)},
        {"PINPIPE_TOPIC_PIN", topics_[0]},
        {"PINPIPE_TOPIC_GEO", topics_[1]},
        {"PINPIPE_TOPIC_USER", topics_[2]},
        {"PINPIPE_STREAM_GROUP", stream_group_},
        {"PINPIPE_ARCHIVE_GROUP", archive_group_},
        // The speed layer, the batch job, the scheduler and the serving views in one database.
        {"PINPIPE_STREAM_PG_DSN", streaming_->dsn()},
        {"PINPIPE_EMULATE_HISTORY_POSTS_PER_HOUR", "100"},
        {"PINPIPE_ARCHIVE_ROTATE_MAX_AGE", "2s"},
    };
  }

  std::string RunOutput() const { return ReadWholeFile(state_ + "/run.out"); }

  CommandResult Status() const {
    return RunCommand(fmt::format("env PINPIPE_STATE_DIR={} {} status 2>&1", ShellQuote(state_),
                                  ShellQuote(bin_)));
  }

  std::string brokers_, bin_;
  std::unique_ptr<ScratchDatabase> source_, streaming_;
  std::array<std::string, 3> topics_;
  std::string stream_group_, archive_group_, state_;
  uint16_t api_port_ = 0, stream_port_ = 0, archive_port_ = 0, scheduler_port_ = 0,
           supervisor_port_ = 0, dashboard_port_ = 0;
  std::optional<process::Child> run_;
};

TEST_F(FirstRunTest, HistoryMakesBatchDaysAndTheBoundaryWithinFiveMinutesOfTheBox) {
  process::SpawnOptions o;
  o.argv = {std::string(PINPIPE_SOURCE_DIR) + "/scripts/run", "--kafka", brokers_, "--pg",
            source_->dsn()};
  o.env = Env();
  o.output_file = state_ + "/run.out";
  const Steady::time_point spawned = Steady::now();
  auto started = process::Child::Spawn(o);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  run_.emplace(std::move(started).value());

  ASSERT_TRUE(WaitFor([&] { return RunOutput().find("└──") != std::string::npos; }, seconds(240)))
      << "no box; output:\n"
      << RunOutput();
  const Steady::time_point box = Steady::now();
  const std::string output = RunOutput();
  // The box's first line is the dashboard: its address when this binary has `pinpipe
  // dashboard`, else why not.
  const size_t top = output.find("┌──");
  const size_t first = output.find('\n', top) + 1;
  const std::string first_line = output.substr(first, output.find('\n', first) - first);
  EXPECT_TRUE(first_line.starts_with("│ dashboard")) << output;
  const bool has_dashboard =
      RunCommand(ShellQuote(bin_) +
                 " dashboard --help 2>/dev/null | grep -q '^Usage: .* dashboard'")
          .exit_code == 0;
  if (has_dashboard) {
    EXPECT_NE(first_line.find(fmt::format("http://127.0.0.1:{}/", dashboard_port_)),
              std::string::npos)
        << first_line;
  } else {
    EXPECT_NE(first_line.find("not in this build"), std::string::npos) << first_line;
  }
  // The history ran before the workers and the scheduler starts at its first day.
  const std::string first_day = core::DateOfDay(core::DayOf(NowMs()) - 3);
  EXPECT_EQ(ReadWholeFile(state_ + "/scheduler-not-before"), first_day + "\n");
  EXPECT_NE(output.find(fmt::format("history {}T00:00:00.000Z .. ", first_day)), std::string::npos)
      << output;

  // Within 5 minutes of the box: a sealed day loaded by the batch layer (the boundary), and
  // live rows from the speed layer.
  std::string boundary;
  const bool loaded = WaitFor(
      [&] {
        auto conn = pg::Connection::Open(streaming_->dsn());
        if (!conn.ok()) return false;
        auto r = conn->Exec("SELECT boundary::text FROM serving.boundary");
        if (!r.ok() || r->rows() != 1 || r->IsNull(0, 0)) return false;
        boundary = std::string(r->GetValue(0, 0));
        return true;
      },
      seconds(300));
  const double box_to_boundary = std::chrono::duration<double>(Steady::now() - box).count();
  ASSERT_TRUE(loaded) << "serving.boundary still NULL 300 s after the box; output:\n"
                      << RunOutput() << "\nscheduler log:\n"
                      << ReadWholeFile(state_ + "/logs/scheduler.log");
  std::cerr << fmt::format("box {:.1f} s after the start; boundary {} {:.1f} s after the box\n",
                           std::chrono::duration<double>(box - spawned).count(), boundary,
                           box_to_boundary);
  RecordProperty("box_to_boundary_ms", static_cast<int>(box_to_boundary * 1000));
  EXPECT_GE(boundary, first_day);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto live = QueryInt(streaming_->dsn(),
                             "SELECT count(*) FROM experimental_data WHERE ind < 1000000000");
        return live.ok() && *live > 0;
      },
      seconds(60)))
      << "no live speed-layer rows";
  auto batch_days = QueryInt(streaming_->dsn(), "SELECT batch_days FROM serving.boundary");
  ASSERT_TRUE(batch_days.ok()) << batch_days.status().ToString();
  EXPECT_GE(*batch_days, 1);

  // `pinpipe status` with nothing but the state directory.
  {
    const CommandResult s = Status();
    EXPECT_EQ(s.exit_code, 0) << s.output;
    for (const std::string& want :
         {std::string("pinpipe is running (supervisor pid "),
          std::string(has_dashboard
                          ? fmt::format("dashboard  http://127.0.0.1:{}/", dashboard_port_)
                          : "dashboard  not started"),
          fmt::format("ingest API http://127.0.0.1:{}", api_port_),
          fmt::format("speed layer  group {}: lag ", stream_group_),
          fmt::format("archiver     group {}: lag ", archive_group_), std::string("  boundary: "),
          std::string("last run: pinterest_daily "),
          std::string("speed layer: last chunk committed ")}) {
      EXPECT_NE(s.output.find(want), std::string::npos) << want << "\n" << s.output;
    }
    for (const char* worker : {"archive", "scheduler", "stream", "api", "emulator"}) {
      EXPECT_NE(s.output.find(fmt::format("\n  {:<10} ", worker)), std::string::npos)
          << worker << "\n"
          << s.output;
    }
  }

  run_->SignalGroup(SIGINT);
  std::optional<process::ExitStatus> exit;
  ASSERT_TRUE(WaitFor([&] { return (exit = run_->Poll()).has_value(); }, seconds(150)))
      << "the run command did not stop; output:\n"
      << RunOutput();
  run_.reset();
  {
    const CommandResult s = Status();
    EXPECT_EQ(s.exit_code, 3) << s.output;
    EXPECT_NE(s.output.find("pinpipe is not running"), std::string::npos) << s.output;
    EXPECT_NE(s.output.find("Start it with scripts/run"), std::string::npos) << s.output;
  }
}

}  // namespace
}  // namespace pinpipe::testing
