// The supervisor's state machine and restart policy with fake processes and a fake clock.
#include "supervisor/supervisor.h"

#include <gtest/gtest.h>

#include <map>

#include "supervisor/restart_tracker.h"

namespace pinpipe::supervisor {
namespace {

using process::ExitStatus;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FakeClock final : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime{} + elapsed_; }
  WallTime WallNow() const override {
    return WallTime{} + seconds(1'800'000'000) +
           std::chrono::duration_cast<WallTime::duration>(elapsed_);
  }
  void Advance(milliseconds d) { elapsed_ += d; }

 private:
  milliseconds elapsed_{0};
};

// Processes that run until the test says they exited. Stop() takes `stop_takes` of fake time.
class FakeLauncher final : public Launcher {
 public:
  explicit FakeLauncher(FakeClock* clock) : clock_(clock) {}

  StatusOr<int> Start(const WorkerSpec& spec) override {
    starts.push_back(spec.name);
    if (spawn_failures[spec.name] > 0) {
      --spawn_failures[spec.name];
      return NotFound("cannot run " + spec.argv[0] + ": No such file or directory");
    }
    const int pid = next_pid_++;
    running[pid] = spec.name;
    return pid;
  }
  std::optional<ExitStatus> Poll(int pid) override {
    const auto it = exited_.find(pid);
    if (it == exited_.end()) return std::nullopt;
    running.erase(pid);
    return it->second;
  }
  ExitStatus Stop(int pid, milliseconds timeout) override {
    stops.push_back(running[pid] + "/" + std::to_string(timeout.count()));
    clock_->Advance(stop_takes);
    running.erase(pid);
    return ExitStatus::Exited(0);
  }
  std::string LogTail(const WorkerSpec& spec, size_t lines) override {
    return spec.name + " line 1\n" + spec.name + " line " + std::to_string(lines) + "\n";
  }

  // The running process of `name` exits with `status`; returns its pid.
  int Exit(const std::string& name, ExitStatus status) {
    for (const auto& [pid, n] : running) {
      if (n == name && !exited_.contains(pid)) {
        exited_.emplace(pid, status);
        return pid;
      }
    }
    ADD_FAILURE() << name << " is not running";
    return 0;
  }
  int PidOf(const std::string& name) const {
    for (const auto& [pid, n] : running) {
      if (n == name && !exited_.contains(pid)) return pid;
    }
    return 0;
  }

  std::vector<std::string> starts;
  std::vector<std::string> stops;
  std::map<int, std::string> running;
  std::map<std::string, int> spawn_failures;
  milliseconds stop_takes{100};

 private:
  FakeClock* clock_;
  std::map<int, ExitStatus> exited_;
  int next_pid_ = 100;
};

WorkerSpec Spec(std::string name, std::string title, RestartPolicy restart = RestartPolicy::kAlways,
                milliseconds stop_timeout = seconds(15)) {
  WorkerSpec s;
  s.name = name;
  s.title = std::move(title);
  s.argv = {"/bin/" + name};
  s.log_file = "/logs/" + name + ".log";
  s.restart = restart;
  s.stop_timeout = stop_timeout;
  return s;
}

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : launcher_(&clock_) {}

  std::unique_ptr<Supervisor> Make(std::vector<WorkerSpec> specs) {
    return std::make_unique<Supervisor>(
        std::move(specs), options_, &launcher_, &clock_,
        [this](log::Level level, const std::string& line) {
          lines_.push_back(line);
          levels_.push_back(level);
        },
        [this](const SupervisorStatus&) { ++changes_; });
  }
  std::vector<WorkerSpec> Pipeline() {
    return {Spec("archive", "archiver", RestartPolicy::kAlways, seconds(40)),
            Spec("stream", "speed layer"), Spec("api", "ingest API"),
            Spec("emulator", "emulator", RestartPolicy::kOnFailure)};
  }
  const WorkerStatus& Worker(const Supervisor& s, const std::string& name) {
    snapshot_ = s.Snapshot();
    for (const WorkerStatus& w : snapshot_.workers) {
      if (w.name == name) return w;
    }
    ADD_FAILURE() << "no worker " << name;
    return snapshot_.workers.front();
  }

  FakeClock clock_;
  FakeLauncher launcher_;
  RestartOptions options_;
  std::vector<std::string> lines_;
  std::vector<log::Level> levels_;  // of each line
  int changes_ = 0;
  SupervisorStatus snapshot_;
};

TEST(RestartTrackerTest, DecidesByPolicyUptimeAndHistory) {
  using A = RestartTracker::Action;
  struct Step {
    int uptime_s;
    bool success;
    A action;
    int delay_s;
    int failed_starts;
  };
  struct Case {
    const char* name;
    RestartPolicy policy;
    std::vector<Step> steps;
  };
  const Case cases[] = {
      {"crashes after a long run restart after 1 s each time",
       RestartPolicy::kAlways,
       {{300, false, A::kRestart, 1, 0}, {3600, false, A::kRestart, 1, 0}}},
      {"back-off doubles to the cap while runs are short of healthy",
       RestartPolicy::kAlways,
       {{20, false, A::kRestart, 1, 0},
        {20, false, A::kRestart, 2, 0},
        {20, false, A::kRestart, 4, 0},
        {20, false, A::kRestart, 8, 0},
        {20, false, A::kRestart, 16, 0},
        {20, false, A::kRestart, 30, 0},
        {20, false, A::kRestart, 30, 0},
        {60, false, A::kRestart, 1, 0}}},
      {"exit 0 of an always worker is restarted too",
       RestartPolicy::kAlways,
       {{100, true, A::kRestart, 1, 0}}},
      {"exit 0 of an on-failure worker is finished; a failure is restarted",
       RestartPolicy::kOnFailure,
       {{100, false, A::kRestart, 1, 0}, {100, true, A::kFinished, 0, 0}}},
      {"five failed starts in a row give up",
       RestartPolicy::kAlways,
       {{0, false, A::kRestart, 1, 1},
        {1, false, A::kRestart, 2, 2},
        {9, false, A::kRestart, 4, 3},
        {0, false, A::kRestart, 8, 4},
        {0, false, A::kGiveUp, 0, 5}}},
      {"a run past the start-up window ends the row",
       RestartPolicy::kAlways,
       {{0, false, A::kRestart, 1, 1},
        {0, false, A::kRestart, 2, 2},
        {0, false, A::kRestart, 4, 3},
        {0, false, A::kRestart, 8, 4},
        {10, false, A::kRestart, 16, 0},
        {0, false, A::kRestart, 30, 1}}},
      {"an on-failure worker exiting 0 at once is finished, not a failed start",
       RestartPolicy::kOnFailure,
       {{0, false, A::kRestart, 1, 1}, {0, true, A::kFinished, 0, 0}}},
  };
  for (const Case& c : cases) {
    RestartTracker tracker(c.policy, RestartOptions{});
    int restarts = 0;
    for (size_t i = 0; i < c.steps.size(); ++i) {
      const Step& step = c.steps[i];
      const auto d = tracker.OnExit(seconds(step.uptime_s), step.success);
      EXPECT_EQ(d.action, step.action) << c.name << ", step " << i;
      EXPECT_EQ(d.delay, seconds(step.delay_s)) << c.name << ", step " << i;
      EXPECT_EQ(tracker.failed_starts(), step.failed_starts) << c.name << ", step " << i;
      if (step.action == A::kRestart) ++restarts;
      EXPECT_EQ(tracker.restarts(), restarts) << c.name << ", step " << i;
    }
  }
}

TEST_F(SupervisorTest, StartsEveryWorkerInOrder) {
  auto s = Make(Pipeline());
  s->Start();
  EXPECT_EQ(launcher_.starts, (std::vector<std::string>{"archive", "stream", "api", "emulator"}));
  EXPECT_EQ(lines_.front(), "started archiver (pid 100, log /logs/archive.log)");
  const SupervisorStatus status = s->Snapshot();
  EXPECT_EQ(status.state, SupervisorState::kRunning);
  ASSERT_EQ(status.workers.size(), 4u);
  for (const WorkerStatus& w : status.workers) {
    EXPECT_EQ(w.state, WorkerState::kRunning) << w.name;
    EXPECT_GT(w.pid, 0) << w.name;
    EXPECT_EQ(w.restarts, 0) << w.name;
    EXPECT_TRUE(w.started_at.has_value()) << w.name;
  }
  EXPECT_FALSE(s->Tick().has_value());  // nothing due
}

TEST_F(SupervisorTest, RestartsAKilledWorkerAfterTheBackoffAndLeavesTheOthersAlone) {
  auto s = Make(Pipeline());
  s->Start();
  const int api = launcher_.PidOf("api"), archive = launcher_.PidOf("archive");
  clock_.Advance(seconds(312));
  const int killed = launcher_.Exit("stream", ExitStatus::Killed(SIGKILL));
  const std::optional<SteadyTime> next = s->Tick();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, clock_.Now() + seconds(1));
  EXPECT_EQ(lines_.back(), "speed layer (pid " + std::to_string(killed) +
                               ") was killed by SIGKILL after 5m12s; restarting in 1.0 s "
                               "(restart 1)");
  EXPECT_EQ(levels_.back(), log::Level::kWarn);
  EXPECT_EQ(levels_.front(), log::Level::kInfo);  // "started ..."
  EXPECT_EQ(Worker(*s, "stream").state, WorkerState::kRestarting);
  EXPECT_EQ(Worker(*s, "stream").pid, 0);
  EXPECT_EQ(Worker(*s, "stream").last_exit, "was killed by SIGKILL after 5m12s");
  ASSERT_TRUE(Worker(*s, "stream").restart_at.has_value());
  EXPECT_EQ(*Worker(*s, "stream").restart_at, clock_.WallNow() + seconds(1));

  clock_.Advance(milliseconds(999));
  EXPECT_EQ(s->Tick(), clock_.Now() + milliseconds(1));  // not yet
  EXPECT_EQ(launcher_.PidOf("stream"), 0);
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(s->Tick().has_value());
  const int restarted = launcher_.PidOf("stream");
  EXPECT_NE(restarted, 0);
  EXPECT_NE(restarted, killed);
  EXPECT_EQ(lines_.back(),
            "restarted speed layer (pid " + std::to_string(restarted) + ", log /logs/stream.log)");
  EXPECT_EQ(Worker(*s, "stream").state, WorkerState::kRunning);
  EXPECT_EQ(Worker(*s, "stream").pid, restarted);
  EXPECT_EQ(Worker(*s, "stream").restarts, 1);
  // The others were not touched.
  EXPECT_EQ(Worker(*s, "api").pid, api);
  EXPECT_EQ(Worker(*s, "archive").pid, archive);
  EXPECT_EQ(Worker(*s, "api").restarts, 0);
  EXPECT_EQ(launcher_.starts.size(), 5u);
}

TEST_F(SupervisorTest, AnOnFailureWorkerThatExitsZeroIsFinished) {
  auto s = Make(Pipeline());
  s->Start();
  clock_.Advance(seconds(30));
  const int pid = launcher_.Exit("emulator", ExitStatus::Exited(0));
  EXPECT_FALSE(s->Tick().has_value());
  EXPECT_EQ(lines_.back(), "emulator (pid " + std::to_string(pid) +
                               ") exited with status 0 after 30 s; finished (restart policy "
                               "on-failure: not restarted)");
  EXPECT_EQ(Worker(*s, "emulator").state, WorkerState::kFinished);
  clock_.Advance(seconds(100));
  s->Tick();
  EXPECT_EQ(launcher_.starts.size(), 4u);
  // A failure of the same kind of worker is restarted.
  auto other = Make({Spec("emulator", "emulator", RestartPolicy::kOnFailure)});
  other->Start();
  launcher_.Exit("emulator", ExitStatus::Exited(1));
  other->Tick();
  EXPECT_EQ(Worker(*other, "emulator").state, WorkerState::kRestarting);
}

TEST_F(SupervisorTest, BackoffDoublesForQuickCrashesAndStartsOverAfterAHealthyRun) {
  options_.max_failed_starts = 100;
  auto s = Make({Spec("stream", "speed layer")});
  s->Start();
  std::vector<milliseconds> delays;
  auto crash_after = [&](milliseconds uptime) {
    clock_.Advance(uptime);
    launcher_.Exit("stream", ExitStatus::Exited(1));
    const std::optional<SteadyTime> next = s->Tick();
    EXPECT_TRUE(next.has_value());
    delays.push_back(std::chrono::duration_cast<milliseconds>(*next - clock_.Now()));
    clock_.Advance(delays.back());
    s->Tick();  // restarts it
    EXPECT_NE(launcher_.PidOf("stream"), 0);
  };
  for (int i = 0; i < 7; ++i) crash_after(seconds(2));
  crash_after(seconds(61));
  EXPECT_EQ(delays, (std::vector<milliseconds>{seconds(1), seconds(2), seconds(4), seconds(8),
                                               seconds(16), seconds(30), seconds(30), seconds(1)}));
  EXPECT_EQ(Worker(*s, "stream").restarts, 8);
}

TEST_F(SupervisorTest, GivesUpOnAWorkerThatKeepsFailingAtStartAndStopsTheOthers) {
  options_.max_failed_starts = 3;
  auto s = Make(Pipeline());
  s->Start();
  int last_pid = 0;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(milliseconds(300));
    last_pid = launcher_.Exit("api", ExitStatus::Exited(2));
    const std::optional<SteadyTime> next = s->Tick();
    if (i < 2) {
      ASSERT_TRUE(next.has_value());
      clock_.Advance(std::chrono::duration_cast<milliseconds>(*next - clock_.Now()));
      s->Tick();
      EXPECT_FALSE(s->gave_up());
    } else {
      EXPECT_FALSE(next.has_value());
    }
  }
  EXPECT_TRUE(s->gave_up());
  EXPECT_EQ(lines_.back(),
            "ingest API (pid " + std::to_string(last_pid) +
                ") exited with status 2 after 0.3 s; that is 3 failed starts in a row (each exit "
                "within 10 s of the start): giving up and stopping everything. The last lines of "
                "/logs/api.log:\napi line 1\napi line 20");
  EXPECT_EQ(levels_.back(), log::Level::kError);
  EXPECT_EQ(Worker(*s, "api").state, WorkerState::kFailed);
  EXPECT_EQ(Worker(*s, "api").failed_starts, 3);
  s->StopAll();
  // Reverse order, each with its own timeout; the failed worker has nothing to stop.
  EXPECT_EQ(launcher_.stops,
            (std::vector<std::string>{"emulator/15000", "stream/15000", "archive/40000"}));
  EXPECT_EQ(s->Snapshot().state, SupervisorState::kFailed);
}

TEST_F(SupervisorTest, AProgramThatCannotBeStartedCountsAsAFailedStart) {
  options_.max_failed_starts = 2;
  launcher_.spawn_failures["stream"] = 5;
  auto s = Make({Spec("stream", "speed layer")});
  s->Start();
  EXPECT_EQ(lines_.back(),
            "speed layer could not be started: cannot run /bin/stream: No such file or directory; "
            "restarting in 1.0 s (restart 1)");
  EXPECT_EQ(Worker(*s, "stream").state, WorkerState::kRestarting);
  clock_.Advance(seconds(1));
  s->Tick();
  EXPECT_TRUE(s->gave_up());
  EXPECT_EQ(launcher_.starts.size(), 2u);
}

TEST_F(SupervisorTest, StopAllStopsInReverseOrderAndStartsNoWaitingWorker) {
  auto s = Make(Pipeline());
  s->Start();
  clock_.Advance(seconds(5));
  launcher_.Exit("stream", ExitStatus::Killed(SIGSEGV));
  s->Tick();  // stream now waits for its restart
  const int changes_before = changes_;
  s->StopAll();
  EXPECT_EQ(launcher_.stops,
            (std::vector<std::string>{"emulator/15000", "api/15000", "archive/40000"}));
  EXPECT_EQ(launcher_.starts.size(), 4u);
  const SupervisorStatus status = s->Snapshot();
  EXPECT_EQ(status.state, SupervisorState::kStopped);
  for (const WorkerStatus& w : status.workers) {
    EXPECT_EQ(w.state, WorkerState::kStopped) << w.name;
    EXPECT_EQ(w.pid, 0) << w.name;
  }
  EXPECT_EQ(Worker(*s, "archive").last_exit, "exited with status 0 after 5.3 s (stopped)");
  EXPECT_EQ(lines_.back(), "archiver stopped in 0.1 s (exited with status 0)");
  // Every step was published (the status file is rewritten on each).
  EXPECT_GE(changes_ - changes_before, 1 + 1 + 3 * 2 + 1);
  EXPECT_FALSE(s->Tick().has_value());  // stopped: nothing is restarted any more
  EXPECT_EQ(launcher_.starts.size(), 4u);
}

TEST(FormatSpanTest, ShortSpansInTenthsLongerInSecondsThenUnits) {
  EXPECT_EQ(FormatSpan(milliseconds(0)), "0.0 s");
  EXPECT_EQ(FormatSpan(milliseconds(312)), "0.3 s");
  EXPECT_EQ(FormatSpan(milliseconds(9949)), "9.9 s");
  EXPECT_EQ(FormatSpan(seconds(10)), "10 s");
  EXPECT_EQ(FormatSpan(milliseconds(119400)), "119 s");
  EXPECT_EQ(FormatSpan(seconds(312)), "5m12s");
  EXPECT_EQ(FormatSpan(seconds(7200)), "2h");
}

}  // namespace
}  // namespace pinpipe::supervisor
