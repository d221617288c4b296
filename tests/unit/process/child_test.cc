// process::Child with real (small) programs: /bin/sh and sleep. No services.
#include "process/child.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace pinpipe::process {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

ExitStatus WaitFor(Child& child, milliseconds timeout = seconds(10)) {
  const auto until = Steady::now() + timeout;
  while (Steady::now() < until) {
    if (auto s = child.Poll()) return *s;
    std::this_thread::sleep_for(milliseconds(5));
  }
  ADD_FAILURE() << "pid " << child.pid() << " did not exit within " << timeout.count() << " ms";
  return child.Stop(milliseconds(0));
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One line of output (without the newline).
std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

TEST(ExitStatusTest, DescribesExitsAndSignals) {
  EXPECT_EQ(ExitStatus::Exited(0).Describe(), "exited with status 0");
  EXPECT_TRUE(ExitStatus::Exited(0).success());
  EXPECT_EQ(ExitStatus::Exited(3).Describe(), "exited with status 3");
  EXPECT_EQ(ExitStatus::Exited(3).ShellCode(), 3);
  EXPECT_FALSE(ExitStatus::Exited(3).success());
  EXPECT_EQ(ExitStatus::Killed(SIGKILL).Describe(), "was killed by SIGKILL");
  EXPECT_EQ(ExitStatus::Killed(SIGKILL).ShellCode(), 137);
  EXPECT_EQ(ExitStatus::Killed(SIGTERM).signal(), SIGTERM);
  EXPECT_EQ(ExitStatus::Killed(SIGTERM).code(), -1);
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
}

TEST(ChildTest, PipesOutputAndReportsTheExitCode) {
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};  // found in PATH
  auto child = Child::Spawn(o);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(ReadAll(child->output_fd()), "out\nerr\n");
  EXPECT_EQ(WaitFor(*child), ExitStatus::Exited(3));
}

TEST(ChildTest, AppendsOutputToAFileWithTheEnvironmentAdded) {
  const std::string path =
      ::testing::TempDir() + "/child_test_" + std::to_string(getpid()) + ".log";
  std::ofstream(path) << "before\n";
  setenv("PINPIPE_CHILD_TEST_KEEP", "kept", 1);
  setenv("PINPIPE_CHILD_TEST_OVER", "parent", 1);
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c",
            "echo $PINPIPE_CHILD_TEST_KEEP $PINPIPE_CHILD_TEST_OVER $NEW; "
            "read x || echo stdin-empty"};
  o.env = {{"PINPIPE_CHILD_TEST_OVER", "child"}, {"NEW", "new"}};
  o.output_file = path;
  auto child = Child::Spawn(o);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(child->output_fd(), -1);
  EXPECT_EQ(WaitFor(*child), ExitStatus::Exited(0));
  EXPECT_EQ(Slurp(path), "before\nkept child new\nstdin-empty\n");
  unlink(path.c_str());
}

TEST(ChildTest, AMissingProgramIsNotFoundAtSpawn) {
  SpawnOptions o;
  o.argv = {"/nonexistent/pinpipe-no-such-program"};
  auto child = Child::Spawn(o);
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(child.status().message(),
            "cannot run /nonexistent/pinpipe-no-such-program: No such file or directory");
  SpawnOptions none;
  EXPECT_THAT(Child::Spawn(none), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ChildTest, LeadsItsOwnSessionAndInheritsNoDescriptors) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // not close-on-exec: only Spawn's closing keeps it out
  SpawnOptions o;
  // Field 5 of /proc/<pid>/stat is the process group, field 6 the session.
  o.argv = {"/bin/sh", "-c", "cut -d' ' -f5,6 /proc/$$/stat; ls /proc/self/fd | tr '\\n' ' '"};
  auto child = Child::Spawn(o);
  ASSERT_TRUE(child.ok());
  const std::string out = ReadAll(child->output_fd());
  EXPECT_EQ(WaitFor(*child), ExitStatus::Exited(0));
  close(fds[0]);
  close(fds[1]);
  std::istringstream in(out);
  int pgid = 0, sid = 0;
  in >> pgid >> sid;
  EXPECT_EQ(pgid, child->pid()) << out;
  EXPECT_EQ(sid, child->pid()) << out;
  // ls sees 0, 1, 2 and the directory it reads (3); the pipe above would be 4 or more.
  std::string rest;
  std::getline(in >> std::ws, rest);
  EXPECT_EQ(rest, "0 1 2 3 ") << out;
}

TEST(ChildTest, StopEscalatesToSigkillAfterTheGraceAndKillsTheGroup) {
  SpawnOptions o;
  // Ignores SIGTERM; a background grandchild would outlive a signal to the leader alone.
  o.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"};
  auto child = Child::Spawn(o);
  ASSERT_TRUE(child.ok());
  const pid_t grandchild = std::stoi(ReadLine(child->output_fd()));
  ASSERT_TRUE(Alive(grandchild));
  const auto begin = Steady::now();
  const ExitStatus status = child->Stop(milliseconds(300));
  const auto took = Steady::now() - begin;
  // sleep dies of the SIGTERM to the group; sh ignores it and dies of SIGKILL after the grace.
  EXPECT_EQ(status, ExitStatus::Killed(SIGKILL));
  EXPECT_TRUE(child->killed());
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, seconds(5));
  // The grandchild (reparented, so not ours to reap) is gone or a zombie of init.
  for (int i = 0; i < 100 && Alive(grandchild); ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    if (!stat || state == "Z") break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
  std::string pid, comm, state;
  stat >> pid >> comm >> state;
  EXPECT_TRUE(!stat || state == "Z") << "grandchild " << grandchild << " state " << state;
}

// A worker that exited on its own leaves nothing behind when polled with PollKillingGroup (the
// supervisor's way); plain Poll leaves a background grandchild alone (a shell task's).
TEST(ChildTest, PollKillingGroupRemovesWhatTheExitedChildLeftBehind) {
  for (const bool kill_group : {false, true}) {
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "sleep 60 & echo $!"};
    auto child = Child::Spawn(o);
    ASSERT_TRUE(child.ok());
    const pid_t grandchild = std::stoi(ReadLine(child->output_fd()));
    std::optional<ExitStatus> status;
    for (int i = 0; i < 500 && !status; ++i) {
      status = kill_group ? child->PollKillingGroup() : child->Poll();
      if (!status) std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_EQ(status, ExitStatus::Exited(0));
    std::this_thread::sleep_for(milliseconds(50));
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    const bool gone = !stat || state == "Z";
    EXPECT_EQ(gone, kill_group) << "grandchild " << grandchild << " state " << state;
    kill(grandchild, SIGKILL);
  }
}

TEST(ChildTest, StopOfAProcessThatHonoursSigtermIsQuick) {
  SpawnOptions o;
  o.argv = {"sleep", "60"};
  auto child = Child::Spawn(o);
  ASSERT_TRUE(child.ok());
  const auto begin = Steady::now();
  EXPECT_EQ(child->Stop(seconds(10)), ExitStatus::Killed(SIGTERM));
  EXPECT_FALSE(child->killed());
  EXPECT_LT(Steady::now() - begin, seconds(2));
}

// PR_SET_PDEATHSIG follows the thread that forked: when it ends, the child gets the signal.
TEST(ChildTest, DiesWithTheThreadThatSpawnedIt) {
  std::optional<Child> child;
  std::thread spawner([&] {
    SpawnOptions o;
    o.argv = {"sleep", "60"};
    o.death_signal = SIGTERM;
    auto spawned = Child::Spawn(o);
    ASSERT_TRUE(spawned.ok());
    child.emplace(std::move(spawned).value());
  });
  spawner.join();
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(WaitFor(*child), ExitStatus::Killed(SIGTERM));
}

TEST(ChildTest, DestroyingARunningChildKillsAndReapsIt) {
  pid_t pid = 0;
  {
    SpawnOptions o;
    o.argv = {"sleep", "60"};
    auto child = Child::Spawn(o);
    ASSERT_TRUE(child.ok());
    pid = child->pid();
    Child moved = std::move(child).value();
    EXPECT_EQ(moved.pid(), pid);
  }
  EXPECT_FALSE(Alive(pid));  // killed and reaped: not even a zombie
}

TEST(ShellQuoteTest, QuotesWhatAShellWouldSplit) {
  EXPECT_EQ(ShellQuote({"pinpipe", "batch", "--date", "2024-01-01"}),
            "pinpipe batch --date 2024-01-01");
  EXPECT_EQ(ShellQuote({"sh", "-c", "echo 'hi' there", ""}), "sh -c 'echo '\\''hi'\\'' there' ''");
}

TEST(IsEnvNameTest, AcceptsShellNamesOnly) {
  EXPECT_TRUE(IsEnvName("PINPIPE_X1"));
  EXPECT_TRUE(IsEnvName("_x"));
  EXPECT_FALSE(IsEnvName(""));
  EXPECT_FALSE(IsEnvName("1X"));
  EXPECT_FALSE(IsEnvName("A-B"));
  EXPECT_FALSE(IsEnvName("A=B"));
}

}  // namespace
}  // namespace pinpipe::process
