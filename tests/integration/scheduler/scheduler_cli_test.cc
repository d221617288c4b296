// The real `pinpipe scheduler` binary (PINPIPE_TEST_PINPIPE_BIN): killed -9 mid-run and
// restarted, it resumes without re-running finished tasks, and its --metrics-port serves the run
// and try counters; and export-airflow loaded by a real Apache Airflow (the venv of scripts/setup
// --airflow, PINPIPE_TEST_AIRFLOW_PYTHON).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "http/client.h"
#include "testing/airflow_env.h"
#include "testing/kafka_env.h"
#include "testing/local_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace {

using namespace std::chrono_literals;

std::string Bin() {
  const char* bin = std::getenv("PINPIPE_TEST_PINPIPE_BIN");
  return bin != nullptr ? bin : std::string(PINPIPE_BINARY_DIR) + "/apps/pinpipe";
}

int Lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SchedulerCliTest, KilledMidRunAndRestartedResumes) {
  const std::optional<std::string> admin = pinpipe::testing::TestPgDsn();
  if (!admin) GTEST_SKIP() << "PINPIPE_TEST_PG_DSN not set";
  pinpipe::testing::ScratchDatabase db(*admin);
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string dir = "/tmp/pinpipe-sched-kill-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/dags");
  // first: counts its runs; slow: marks its start, sleeps, counts its completions; last.
  std::ofstream(dir + "/dags/kill.toml")
      << "[dag]\nid = \"kill\"\nschedule = \"@daily\"\n"
         "start_date = 2024-01-01\nend_date = 2024-01-01\n[defaults]\nretries = 2\nretry_delay = "
         "\"1s\"\n"
         "[[tasks]]\nid = \"first\"\nkind = \"shell\"\ncommand = \"echo x >> " +
             dir +
             "/first.count\"\n"
             "[[tasks]]\nid = \"slow\"\nkind = \"shell\"\ndepends_on = [\"first\"]\n"
             "command = \"echo x >> " +
             dir + "/slow.started; sleep 4; echo x >> " + dir +
             "/slow.count\"\n"
             "[[tasks]]\nid = \"last\"\nkind = \"shell\"\ndepends_on = [\"slow\"]\n"
             "command = \"echo x >> " +
             dir + "/last.count\"\n";
  const std::vector<std::string> run = {Bin(),        "scheduler",   "run",
                                        "--dags-dir", dir + "/dags", "--pg-dsn",
                                        db.dsn(),     "--lake",      dir + "/lake"};
  pinpipe::testing::ChildProcess scheduler;
  ASSERT_TRUE(scheduler.Start(run, dir + "/scheduler.log").ok());
  for (int i = 0; i < 200 && Lines(dir + "/slow.started") == 0; ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_EQ(Lines(dir + "/slow.started"), 1) << Slurp(dir + "/scheduler.log");
  scheduler.Signal(SIGKILL);
  EXPECT_EQ(scheduler.Wait(10s), 128 + SIGKILL);
  std::this_thread::sleep_for(5s);           // the killed try's sleep would have ended by now
  EXPECT_EQ(Lines(dir + "/slow.count"), 0);  // it died with the scheduler (PDEATHSIG)

  // The restart also serves its counters (this process's own: the run it finishes).
  const uint16_t port = pinpipe::testing::FreePort();
  ASSERT_NE(port, 0);
  std::vector<std::string> rerun = run;
  rerun.insert(rerun.end(), {"--metrics-port", std::to_string(port)});
  ASSERT_TRUE(scheduler.Start(rerun, dir + "/scheduler.log").ok());
  for (int i = 0; i < 300 && Lines(dir + "/last.count") == 0; ++i)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(1s);
  pinpipe::http::ClientOptions client_options;
  client_options.port = port;
  pinpipe::http::Client client(client_options);
  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString() << Slurp(dir + "/scheduler.log");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find(
                "pinpipe_scheduler_runs_finished_total{dag=\"kill\",state=\"success\"} 1\n"),
            std::string::npos)
      << metrics->body;
  // slow's second try and last succeed in this process (first had succeeded before the kill).
  EXPECT_NE(
      metrics->body.find("pinpipe_scheduler_tries_total{dag=\"kill\",result=\"success\"} 2\n"),
      std::string::npos)
      << metrics->body;
  const auto health = client.Get("/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  scheduler.Signal(SIGTERM);
  EXPECT_EQ(scheduler.Wait(60s), 0);
  const std::string log = Slurp(dir + "/scheduler.log");
  EXPECT_EQ(Lines(dir + "/first.count"), 1) << log;   // not re-run
  EXPECT_EQ(Lines(dir + "/slow.started"), 2) << log;  // try 1 (killed) and try 2
  EXPECT_EQ(Lines(dir + "/slow.count"), 1) << log;
  EXPECT_EQ(Lines(dir + "/last.count"), 1) << log;
  EXPECT_NE(log.find("slow try 1: no live process"), std::string::npos) << log;
  EXPECT_NE(log.find("run scheduled__2024-01-01T00:00:00+00:00 success"), std::string::npos) << log;
  std::filesystem::remove_all(dir);
}

TEST(SchedulerCliTest, ExportedDagLoadsInAirflow) {
  // scripts/test installs Airflow and sets PINPIPE_TEST_AIRFLOW_PYTHON: then a missing or broken
  // interpreter is a failure. Run by hand without it, the test uses the default venv if there is
  // one and otherwise skips, saying why.
  const pinpipe::testing::AirflowPython airflow =
      pinpipe::testing::FindAirflowPython(PINPIPE_SOURCE_DIR);
  if (!airflow.error.empty()) {
    if (airflow.skip) GTEST_SKIP() << airflow.error;
    FAIL() << airflow.error;
  }
  const std::string& python = airflow.python;
  const std::string dir = "/tmp/pinpipe-sched-airflow-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/home");
  // The supported version (scripts/setup --airflow pins it); the last line, after any warnings.
  const pinpipe::testing::CommandResult version =
      pinpipe::testing::RunCommand("AIRFLOW_HOME=" + dir + "/home " + python +
                                   " -c 'import airflow; print(\"airflow\", airflow.__version__)'");
  ASSERT_EQ(version.exit_code, 0) << version.output;
  EXPECT_TRUE(version.output.ends_with("airflow 2.10.5\n")) << version.output;
  const std::string out = dir + "/pinterest_daily.py";
  const std::string export_cmd = Bin() + " scheduler export-airflow pinterest_daily --dags-dir " +
                                 std::string(PINPIPE_SOURCE_DIR) + "/dags --out " + out +
                                 " --lake /data/lake --pinpipe-bin /opt/pinpipe/bin/pinpipe";
  ASSERT_EQ(std::system(export_cmd.c_str()), 0) << export_cmd;
  std::ofstream(dir + "/check.py")
      << "import sys\n"
         "from airflow.models import DagBag\n"
         "bag = DagBag(dag_folder=sys.argv[1], include_examples=False)\n"
         "assert not bag.import_errors, bag.import_errors\n"
         "d = bag.dags['pinterest_daily']\n"
         "print('tasks', ','.join(t.task_id for t in d.tasks))\n"
         "for t in d.tasks: print('down', t.task_id, ','.join(sorted(t.downstream_task_ids)))\n"
         "print('schedule', d.timetable.summary)\n"
         "print('catchup', d.catchup, 'max_active_runs', d.max_active_runs)\n"
         "b = d.get_task('batch')\n"
         "print('retries', b.retries, int(b.retry_delay.total_seconds()), "
         "int(b.execution_timeout.total_seconds()))\n"
         "print('cmd', b.bash_command)\n";
  const std::string cmd = "AIRFLOW_HOME=" + dir + "/home AIRFLOW__CORE__LOAD_EXAMPLES=False " +
                          python + " " + dir + "/check.py " + out + " > " + dir + "/out.txt 2> " +
                          dir + "/err.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << Slurp(dir + "/err.txt");
  const std::string got = Slurp(dir + "/out.txt");
  EXPECT_NE(got.find("tasks wait_sealed,batch,refresh_views\n"), std::string::npos) << got;
  EXPECT_NE(got.find("down wait_sealed batch\ndown batch refresh_views\ndown refresh_views \n"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("schedule 0 0 * * *\n"), std::string::npos) << got;
  EXPECT_NE(got.find("catchup True max_active_runs 1\n"), std::string::npos) << got;
  EXPECT_NE(got.find("retries 3 300 7200\n"), std::string::npos) << got;
  EXPECT_NE(got.find("cmd /opt/pinpipe/bin/pinpipe batch --date {{ ds }} --lake /data/lake\n"),
            std::string::npos)
      << got;
  std::filesystem::remove_all(dir);
}

// "YYYY-MM-DD" (UTC) of now + `days_ahead` days.
std::string UtcDate(int days_ahead) {
  const std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days_ahead) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// scripts/run starts the daemon with --not-before <its first day>: the default DAG starts in
// 2024 with catch-up, so without it a new installation would have hundreds of runs due at once.
TEST(SchedulerCliTest, NotBeforeKeepsANewInstallationFromCatchingUpOnOldDays) {
  const std::optional<std::string> admin = pinpipe::testing::TestPgDsn();
  if (!admin) GTEST_SKIP() << "PINPIPE_TEST_PG_DSN not set";
  pinpipe::testing::ScratchDatabase db(*admin);
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string list = Bin() + " scheduler list --dags-dir " + std::string(PINPIPE_SOURCE_DIR) +
                           "/dags --pg-dsn " + pinpipe::testing::ShellQuote(db.dsn());
  const pinpipe::testing::CommandResult all = pinpipe::testing::RunCommand(list);
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("runs due now"), std::string::npos) << all.output;

  const std::string today = UtcDate(0);
  const pinpipe::testing::CommandResult from_today =
      pinpipe::testing::RunCommand(list + " --not-before " + today);
  EXPECT_EQ(from_today.exit_code, 0) << from_today.output;
  EXPECT_EQ(from_today.output.find("runs due now"), std::string::npos) << from_today.output;
  // The first interval is today's, created at the next midnight (UTC).
  EXPECT_NE(from_today.output.find(UtcDate(1) + " 00:00:00Z"), std::string::npos)
      << from_today.output;

  const pinpipe::testing::CommandResult bad =
      pinpipe::testing::RunCommand(list + " --not-before 2024-13-01");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("--not-before"), std::string::npos) << bad.output;
}

}  // namespace
