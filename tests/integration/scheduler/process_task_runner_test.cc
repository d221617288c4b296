// ProcessTaskRunner with real child processes: exit codes, streamed log capture, environment,
// exec errors, and stopping a whole process tree (SIGTERM, then SIGKILL for what ignores it).
#include "scheduler/process_task_runner.h"

#include "archive/archive_layout.h"
#include "core/civil_day.h"
#include "testing/in_memory_run_store.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace pinpipe::scheduler {
namespace {

using namespace std::chrono_literals;

TaskRequest Shell(const std::string& command, const std::string& task = "t") {
  TaskRequest r;
  r.dag_id = "d";
  r.run_id = RunId("manual__x");
  r.task_id = task;
  r.command = command;
  return r;
}

TaskOutcome WaitFor(ProcessTaskRunner& runner, TaskHandle h, std::chrono::seconds max = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<TaskOutcome> o = runner.Poll(h)) return *o;
    runner.WaitForEnd(200ms);
  }
  ADD_FAILURE() << "try did not end";
  return {};
}

ProcessRunnerOptions Options() {
  ProcessRunnerOptions o;
  o.kill_grace = 1s;
  o.log_flush_interval = 100ms;
  return o;
}

TEST(ProcessTaskRunnerTest, ExitCodesBecomeOutcomes) {
  InMemoryRunStore logs;
  ProcessTaskRunner runner(&logs, Options());
  const TaskHandle ok = *runner.Start(Shell("exit 0", "ok"));
  const TaskHandle bad = *runner.Start(Shell("exit 7", "bad"));
  const TaskHandle sig = *runner.Start(Shell("kill -9 $$", "sig"));
  EXPECT_EQ(WaitFor(runner, ok).result, TryResult::kSuccess);
  const TaskOutcome b = WaitFor(runner, bad);
  EXPECT_EQ(b.result, TryResult::kFailed);
  EXPECT_EQ(b.exit_code, 7);
  EXPECT_EQ(b.message, "exit code 7");
  const TaskOutcome s = WaitFor(runner, sig);
  EXPECT_EQ(s.result, TryResult::kFailed);
  EXPECT_EQ(s.exit_code, 137);
  EXPECT_EQ(s.message, "killed by signal 9 (Killed)");
  EXPECT_EQ(runner.running(), 0u);
}

TEST(ProcessTaskRunnerTest, CapturesStdoutAndStderrWhileRunning) {
  InMemoryRunStore logs;
  ProcessTaskRunner runner(&logs, Options());
  TaskRequest r = Shell(
      "echo out; echo err >&2; echo \"$GREETING $PINPIPE_TASK_ID\"; sleep 3; "
      "echo late");
  r.env = {{"GREETING", "hi"}};
  const TaskHandle h = *runner.Start(r);
  std::string log;
  for (int i = 0; i < 20 && log.find("hi t") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    log = *logs.ReadTaskLog("d", r.run_id, "t", 1);
  }
  EXPECT_NE(log.find("out\nerr\nhi t\n"), std::string::npos) << log;  // before the end
  EXPECT_FALSE(runner.Poll(h).has_value());
  EXPECT_EQ(WaitFor(runner, h).result, TryResult::kSuccess);
  log = *logs.ReadTaskLog("d", r.run_id, "t", 1);
  EXPECT_TRUE(log.starts_with("[pinpipe] try 1 of d.t (manual__x): $ /bin/sh -c ")) << log;
  EXPECT_NE(log.find("late\n[pinpipe] exit code 0 after "), std::string::npos) << log;
}

TEST(ProcessTaskRunnerTest, ArgvAndExecErrors) {
  InMemoryRunStore logs;
  ProcessTaskRunner runner(&logs, Options());
  TaskRequest r = Shell("");
  r.argv = {"printf", "%s|", "a b", "{c}"};
  const TaskHandle h = *runner.Start(r);
  EXPECT_EQ(WaitFor(runner, h).result, TryResult::kSuccess);
  EXPECT_NE(logs.ReadTaskLog("d", r.run_id, "t", 1)->find("a b|{c}|"), std::string::npos);
  r.argv = {"/nonexistent/program"};
  const StatusOr<TaskHandle> missing = runner.Start(r);
  EXPECT_EQ(missing.status(),
            NotFound("cannot run /nonexistent/program: No such file or directory"));
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

TEST(ProcessTaskRunnerTest, StopKillsTheWholeTree) {
  InMemoryRunStore logs;
  ProcessTaskRunner runner(&logs, Options());
  const std::string dir = "/tmp/pinpipe-ptr-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  // A grandchild that ignores SIGTERM (needs the SIGKILL) and one that does not.
  const TaskHandle h =
      *runner.Start(Shell("(trap '' TERM; sleep 60) & echo $! > " + dir +
                          "/stubborn; sleep 60 & echo $! > " + dir + "/plain; wait"));
  pid_t stubborn = 0, plain = 0;
  for (int i = 0; i < 50 && (stubborn == 0 || plain == 0); ++i) {
    std::this_thread::sleep_for(100ms);
    std::ifstream(dir + "/stubborn") >> stubborn;
    std::ifstream(dir + "/plain") >> plain;
  }
  ASSERT_GT(stubborn, 0);
  ASSERT_GT(plain, 0);
  runner.Stop(h);
  const TaskOutcome o = WaitFor(runner, h);
  EXPECT_EQ(o.result, TryResult::kTimedOut);
  EXPECT_TRUE(o.message.starts_with("stopped (SIGTERM to the process group")) << o.message;
  for (int i = 0; i < 30 && (Alive(stubborn) || Alive(plain)); ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(Alive(stubborn));
  EXPECT_FALSE(Alive(plain));
  std::filesystem::remove_all(dir);
}

TEST(ProcessTaskRunnerTest, BatchCommandLines) {
  InMemoryRunStore logs;
  ProcessRunnerOptions o = Options();
  o.pinpipe_bin = "/bin/pinpipe";
  o.lake_url = "file:///lake";
  o.batch_args = {"--pg-dsn=dbname=b"};
  ProcessTaskRunner runner(&logs, o);
  TaskRequest r;
  r.kind = TaskKind::kBatch;
  r.interval = {*ParseInstant("2024-01-01", TimeZone::Utc()),
                *ParseInstant("2024-01-02", TimeZone::Utc())};
  r.argv = {"--keep-going"};
  EXPECT_EQ(runner.CommandLine(r),
            (std::vector<std::string>{"/bin/pinpipe", "batch", "--date", "2024-01-01", "--lake",
                                      "file:///lake", "--pg-dsn=dbname=b", "--keep-going"}));
  r.interval.end = *ParseInstant("2024-01-04", TimeZone::Utc());
  r.argv.clear();
  EXPECT_EQ(
      runner.CommandLine(r),
      (std::vector<std::string>{"/bin/pinpipe", "batch", "--from", "2024-01-01", "--to",
                                "2024-01-03", "--lake", "file:///lake", "--pg-dsn=dbname=b"}));
  r.kind = TaskKind::kRefreshViews;
  EXPECT_EQ(runner.CommandLine(r), (std::vector<std::string>{"/bin/pinpipe", "batch",
                                                             "--views-only", "--pg-dsn=dbname=b"}));
}

TEST(ProcessTaskRunnerTest, WaitSealedPollsTheLake) {
  InMemoryRunStore logs;
  const std::string lake = "/tmp/pinpipe-ptr-lake-" + std::to_string(getpid());
  ProcessRunnerOptions o = Options();
  o.lake_url = lake;
  ProcessTaskRunner runner(&logs, o);
  TaskRequest r;
  r.dag_id = "d";
  r.run_id = RunId("x");
  r.task_id = "wait";
  r.kind = TaskKind::kWaitSealed;
  r.poke_interval = 1s;
  r.argv = {"--topic", "pinterest"};
  r.interval = {*ParseInstant("2024-01-01", TimeZone::Utc()),
                *ParseInstant("2024-01-02", TimeZone::Utc())};
  const TaskHandle h = *runner.Start(r);
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(runner.Poll(h).has_value());
  const std::string success = archive::SuccessKey("pinterest", *core::ParseDate("2024-01-01"));
  std::filesystem::create_directories(std::filesystem::path(lake + "/" + success).parent_path());
  std::ofstream(lake + "/" + success) << "";
  EXPECT_EQ(WaitFor(runner, h).result, TryResult::kSuccess);
  const std::string log = *logs.ReadTaskLog("d", r.run_id, "wait", 1);
  EXPECT_NE(log.find("not sealed yet: " + success), std::string::npos) << log;
  EXPECT_NE(log.find("every day is sealed"), std::string::npos) << log;
  std::filesystem::remove_all(lake);
}

// The runner's seal_topics (the scheduler's --topic-pin/-geo/-user, PINPIPE_TOPIC_*) replace the
// default topics of a wait_sealed task without --topic args.
TEST(ProcessTaskRunnerTest, WaitSealedWaitsForTheConfiguredTopics) {
  InMemoryRunStore logs;
  const std::string lake = "/tmp/pinpipe-ptr-topics-" + std::to_string(getpid());
  ProcessRunnerOptions o = Options();
  o.lake_url = lake;
  o.seal_topics = {"renamed-pin"};
  ProcessTaskRunner runner(&logs, o);
  TaskRequest r;
  r.dag_id = "d";
  r.run_id = RunId("y");
  r.task_id = "wait";
  r.kind = TaskKind::kWaitSealed;
  r.poke_interval = 1s;
  r.interval = {*ParseInstant("2024-01-01", TimeZone::Utc()),
                *ParseInstant("2024-01-02", TimeZone::Utc())};
  const std::string success = archive::SuccessKey("renamed-pin", *core::ParseDate("2024-01-01"));
  std::filesystem::create_directories(std::filesystem::path(lake + "/" + success).parent_path());
  std::ofstream(lake + "/" + success) << "";
  const TaskHandle h = *runner.Start(r);
  EXPECT_EQ(WaitFor(runner, h).result, TryResult::kSuccess);
  const std::string log = *logs.ReadTaskLog("d", r.run_id, "wait", 1);
  EXPECT_NE(log.find("every day is sealed"), std::string::npos) << log;
  std::filesystem::remove_all(lake);
}

}  // namespace
}  // namespace pinpipe::scheduler
