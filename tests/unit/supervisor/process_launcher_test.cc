// The supervisor over real processes (ProcessLauncher, SystemClock) with small shell workers:
// kill -9 and restart, give-up with the log's tail, stop order. No services.
#include "supervisor/process_launcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace pinpipe::supervisor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ProcessLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/supervisor_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str()), 0);
  }
  WorkerSpec Shell(const std::string& name, const std::string& script) const {
    WorkerSpec s;
    s.name = name;
    s.title = name;
    s.argv = {"/bin/sh", "-c", script};
    s.log_file = dir_ + "/" + name + ".log";
    s.stop_timeout = seconds(5);
    return s;
  }
  std::string Slurp(const std::string& path) const {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Ticks the supervisor until `done` or `timeout`, as `pinpipe supervise` does (minus signals).
  bool RunUntil(Supervisor& s, const std::function<bool()>& done, milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      s.Tick();
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  std::string dir_;
  std::vector<std::string> lines_;
};

TEST_F(ProcessLauncherTest, AKilledWorkerComesBackAndTheOthersKeepRunning) {
  RestartOptions options;
  options.backoff_initial = milliseconds(100);
  SystemClock clock;
  ProcessLauncher launcher;
  Supervisor s({Shell("a", "echo a started; exec sleep 60"), Shell("b", "exec sleep 60")}, options,
               &launcher, &clock,
               [this](log::Level, const std::string& l) { lines_.push_back(l); });
  s.Start();
  const int a = s.Snapshot().workers[0].pid, b = s.Snapshot().workers[1].pid;
  ASSERT_GT(a, 0);
  // Kill it only once it has written its line: killed before, it would leave no line at all.
  ASSERT_TRUE(RunUntil(
      s, [&] { return Slurp(dir_ + "/a.log") == "a started\n"; }, seconds(5)));
  ASSERT_EQ(kill(a, SIGKILL), 0);
  ASSERT_TRUE(RunUntil(
      s, [&] { return s.Snapshot().workers[0].pid > 0 && s.Snapshot().workers[0].pid != a; },
      seconds(10)));
  const SupervisorStatus status = s.Snapshot();
  EXPECT_EQ(status.workers[0].restarts, 1);
  EXPECT_EQ(status.workers[1].pid, b);
  EXPECT_EQ(kill(b, 0), 0);
  EXPECT_EQ(status.workers[0].last_exit.substr(0, 29), "was killed by SIGKILL after 0");
  // Both processes appended to the same log.
  EXPECT_TRUE(RunUntil(
      s, [&] { return Slurp(dir_ + "/a.log") == "a started\na started\n"; }, seconds(5)))
      << Slurp(dir_ + "/a.log");
  s.StopAll();
  EXPECT_NE(kill(b, 0), 0);
  EXPECT_TRUE(lines_.back().starts_with("a stopped in 0.")) << lines_.back();
  EXPECT_TRUE(lines_.back().ends_with(" (was killed by SIGTERM)")) << lines_.back();
}

TEST_F(ProcessLauncherTest, GivesUpOnAWorkerThatFailsAtStartupAndShowsItsLog) {
  RestartOptions options;
  options.backoff_initial = milliseconds(10);
  options.max_failed_starts = 3;
  options.log_tail_lines = 2;
  SystemClock clock;
  ProcessLauncher launcher;
  Supervisor s({Shell("ok", "exec sleep 60"),
                Shell("bad", "echo try; echo 'error: no database' >&2; exit 3")},
               options, &launcher, &clock,
               [this](log::Level, const std::string& l) { lines_.push_back(l); });
  s.Start();
  ASSERT_TRUE(RunUntil(
      s, [&] { return s.gave_up(); }, seconds(10)));
  EXPECT_EQ(Slurp(dir_ + "/bad.log"),
            "try\nerror: no database\ntry\nerror: no database\ntry\n"
            "error: no database\n");
  const std::string& last = lines_.back();
  EXPECT_NE(last.find(") exited with status 3 after 0."), std::string::npos) << last;
  EXPECT_NE(last.find("3 failed starts in a row"), std::string::npos) << last;
  EXPECT_EQ(last.substr(last.find("The last lines of")),
            "The last lines of " + dir_ + "/bad.log:\ntry\nerror: no database");
  const int ok = s.Snapshot().workers[0].pid;
  s.StopAll();
  EXPECT_NE(kill(ok, 0), 0);
  EXPECT_EQ(s.Snapshot().state, SupervisorState::kFailed);
}

TEST_F(ProcessLauncherTest, AProgramThatDoesNotExistIsReportedAsSuch) {
  RestartOptions options;
  options.backoff_initial = milliseconds(10);
  options.max_failed_starts = 2;
  SystemClock clock;
  ProcessLauncher launcher;
  WorkerSpec missing = Shell("missing", "");
  missing.argv = {dir_ + "/no-such-program"};
  Supervisor s({missing}, options, &launcher, &clock,
               [this](log::Level, const std::string& l) { lines_.push_back(l); });
  s.Start();
  EXPECT_EQ(lines_.front(), "missing could not be started: cannot run " + dir_ +
                                "/no-such-program: No such file or directory; restarting in "
                                "0.0 s (restart 1)");
  ASSERT_TRUE(RunUntil(
      s, [&] { return s.gave_up(); }, seconds(5)));
}

TEST(ReadLastLinesTest, ReturnsTheEndOfTheFile) {
  const std::string path = ::testing::TempDir() + "/tail_" + std::to_string(getpid());
  std::ofstream(path) << "one\ntwo\nthree\n";
  EXPECT_EQ(ReadLastLines(path, 2), "two\nthree\n");
  EXPECT_EQ(ReadLastLines(path, 3), "one\ntwo\nthree\n");
  EXPECT_EQ(ReadLastLines(path, 10), "one\ntwo\nthree\n");
  EXPECT_EQ(ReadLastLines(path, 0), "");
  std::ofstream(path) << "one\nno newline at the end";
  EXPECT_EQ(ReadLastLines(path, 1), "no newline at the end");
  std::ofstream big(path);
  for (int i = 0; i < 100000; ++i) big << "line " << i << "\n";
  big.close();
  EXPECT_EQ(ReadLastLines(path, 2), "line 99998\nline 99999\n");
  unlink(path.c_str());
  EXPECT_EQ(ReadLastLines("/nonexistent/log", 5), "");
}

}  // namespace
}  // namespace pinpipe::supervisor
