// Tests for the Planner: run creation (interval semantics, catch-up, catchup=false, start and
// end dates), readiness under max_active_runs / max_active_tasks, retries with back-off timing,
// timeouts, upstream failures, SLA misses, backfill modes, and a whole catch-up driven to the end
// through a RunStore and a scripted TaskRunner.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scheduler/planner.h"
#include "testing/in_memory_run_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Instant At(const std::string& text) {
  StatusOr<Instant> t = ParseInstant(text, TimeZone::Utc());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : Instant{};
}

DataInterval Day(const std::string& date, const std::string& next) {
  return {At(date + "T00:00:00Z"), At(next + "T00:00:00Z")};
}

// A daily DAG: wait -> work -> views, plus `dag_lines` in [dag] and `task_lines` in every task.
DagSpec Spec(std::string_view dag_lines = "", std::string_view task_lines = "") {
  const std::string text = std::string(R"([dag]
id = "daily"
schedule = "@daily"
start_date = 2024-01-01
)") + std::string(dag_lines) +
                           R"(
[[tasks]]
id = "wait"
kind = "wait_sealed"
)" + std::string(task_lines) +
                           R"(
[[tasks]]
id = "work"
kind = "batch"
depends_on = ["wait"]
)" + std::string(task_lines) +
                           R"(
[[tasks]]
id = "views"
kind = "refresh_views"
depends_on = ["work"]
)" + std::string(task_lines);
  StatusOr<DagSpec> spec = ParseDagSpec(text, "daily.toml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? std::move(spec).value() : DagSpec();
}

// Decide + Apply against an in-memory list of runs, with a settable clock.
class Sim {
 public:
  explicit Sim(DagSpec spec) : planner(std::move(spec)) {}

  Decisions Tick() {
    Decisions d = planner.Decide(now, runs);
    planner.Apply(d, now, &runs);
    return d;
  }
  DagRun& Run(const DataInterval& interval) {
    for (DagRun& run : runs) {
      if (run.interval == interval) return run;
    }
    ADD_FAILURE() << "no run for " << interval.ToString();
    return runs.front();
  }
  TaskInstance& Task(const DataInterval& interval, const std::string& task) {
    return *Run(interval).FindTask(task);
  }
  void Finish(const DataInterval& interval, const std::string& task, TryResult result) {
    DagRun& run = Run(interval);
    const Status s =
        planner.RecordOutcome(&run, task, run.FindTask(task)->try_number,
                              {result, result == TryResult::kSuccess ? 0 : 1, ""}, now);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  // A finished run of the interval, every task succeeded.
  void AddDone(const DataInterval& interval, RunKind kind = RunKind::kScheduled,
               RunState state = RunState::kSuccess) {
    DagRun run = planner.NewRun(interval, kind, interval.end);
    run.state = state;
    run.ended_at = interval.end + hours(1);
    for (TaskInstance& ti : run.tasks) {
      ti.state = state == RunState::kSuccess ? TaskState::kSuccess : TaskState::kFailed;
      ti.try_number = 1;
    }
    runs.push_back(std::move(run));
  }

  Planner planner;
  std::vector<DagRun> runs;
  Instant now{};
};

std::vector<std::string> Started(const Decisions& d, const Planner& planner) {
  std::vector<std::string> out;
  for (const TaskRef& ref : d.start) {
    out.push_back(ref.run_id.str() + " " + planner.spec().tasks[ref.task_index].id + " #" +
                  std::to_string(ref.try_number));
  }
  return out;
}

TEST(PlannerTest, RunIsCreatedWhenItsIntervalHasEnded) {
  Sim sim(Spec());
  sim.now = At("2024-01-01T23:59:59Z");
  Decisions d = sim.Tick();
  EXPECT_TRUE(d.create_runs.empty());
  EXPECT_EQ(d.wake_at, At("2024-01-02T00:00:00Z"));
  sim.now = At("2024-01-02T00:00:00Z");
  d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 1u);
  EXPECT_EQ(d.create_runs[0], Day("2024-01-01", "2024-01-02"));
  // The new run's first task starts in the same tick.
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 wait #1"});
  ASSERT_EQ(sim.runs.size(), 1u);
  EXPECT_EQ(sim.runs[0].id.str(), "scheduled__2024-01-01T00:00:00+00:00");
  EXPECT_EQ(sim.runs[0].state, RunState::kRunning);
  EXPECT_EQ(sim.runs[0].started_at, sim.now);
  EXPECT_EQ(sim.runs[0].tasks[0].state, TaskState::kRunning);
  EXPECT_EQ(sim.runs[0].tasks[0].try_number, 1);
  EXPECT_EQ(sim.runs[0].tasks[1].state, TaskState::kPending);
  EXPECT_EQ(d.wake_at, At("2024-01-03T00:00:00Z"));
}

TEST(PlannerTest, CatchUpAfterThreeDaysDownCreatesThreeRunsInOrder) {
  Sim sim(Spec("max_active_runs = 1\n"));
  sim.AddDone(Day("2024-01-01", "2024-01-02"));
  sim.now = At("2024-01-05T00:00:10Z");  // down since 2024-01-02T00:00
  const Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 3u);
  EXPECT_EQ(d.create_runs[0], Day("2024-01-02", "2024-01-03"));
  EXPECT_EQ(d.create_runs[1], Day("2024-01-03", "2024-01-04"));
  EXPECT_EQ(d.create_runs[2], Day("2024-01-04", "2024-01-05"));
  // One active run at a time: only the oldest starts.
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-02T00:00:00+00:00 wait #1"});
  EXPECT_EQ(sim.runs.size(), 4u);
  EXPECT_EQ(sim.Run(Day("2024-01-03", "2024-01-04")).state, RunState::kQueued);
  // Nothing more to create until the next interval ends.
  EXPECT_TRUE(sim.Tick().create_runs.empty());
}

TEST(PlannerTest, CatchUpFromStartDateWithoutRuns) {
  Sim sim(Spec("max_active_runs = 16\n"));
  sim.now = At("2024-01-04T12:00:00Z");
  const Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 3u);
  EXPECT_EQ(d.create_runs.front(), Day("2024-01-01", "2024-01-02"));
  EXPECT_EQ(d.create_runs.back(), Day("2024-01-03", "2024-01-04"));
  EXPECT_EQ(d.start.size(), 3u);  // every run's first task
}

TEST(PlannerTest, WithoutCatchupOnlyTheLatestInterval) {
  Sim sim(Spec("catchup = false\n"));
  sim.AddDone(Day("2024-01-01", "2024-01-02"));
  sim.now = At("2024-01-05T00:00:10Z");
  Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 1u);
  EXPECT_EQ(d.create_runs[0], Day("2024-01-04", "2024-01-05"));
  EXPECT_EQ(d.wake_at, At("2024-01-06T00:00:00Z"));
  EXPECT_TRUE(sim.Tick().create_runs.empty());
  // Without any run, still only the latest.
  Sim fresh(Spec("catchup = false\n"));
  fresh.now = At("2024-03-01T08:00:00Z");
  d = fresh.Tick();
  ASSERT_EQ(d.create_runs.size(), 1u);
  EXPECT_EQ(d.create_runs[0], Day("2024-02-29", "2024-03-01"));
  // Before the first interval has ended: nothing.
  Sim early(Spec("catchup = false\n"));
  early.now = At("2024-01-01T12:00:00Z");
  EXPECT_TRUE(early.Tick().create_runs.empty());
}

TEST(PlannerTest, StartDateOffTheScheduleStartsAtTheNextFireTime) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "d"
schedule = "@daily"
start_date = 2024-01-01T06:00:00Z
[[tasks]]
id = "a"
kind = "shell"
command = "true"
)",
                                        "d.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Sim sim(std::move(spec).value());
  sim.now = At("2024-01-03T00:00:00Z");
  const Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 1u);
  EXPECT_EQ(d.create_runs[0], Day("2024-01-02", "2024-01-03"));
}

TEST(PlannerTest, EndDateStopsScheduling) {
  Sim sim(Spec("end_date = 2024-01-03\n"));
  sim.now = At("2024-02-01T00:00:00Z");
  const Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 3u);  // intervals starting 01-01, 01-02, 01-03
  EXPECT_EQ(d.create_runs.back(), Day("2024-01-03", "2024-01-04"));
}

TEST(PlannerTest, IntervalsWithABackfillRunAreSkipped) {
  Sim sim(Spec());
  sim.AddDone(Day("2024-01-01", "2024-01-02"));
  sim.AddDone(Day("2024-01-03", "2024-01-04"), RunKind::kBackfill);
  sim.now = At("2024-01-05T00:00:00Z");
  const Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 2u);
  EXPECT_EQ(d.create_runs[0], Day("2024-01-02", "2024-01-03"));
  EXPECT_EQ(d.create_runs[1], Day("2024-01-04", "2024-01-05"));
}

TEST(PlannerTest, NewRunsPerDecideAreCapped) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "d"
schedule = "@hourly"
start_date = 2020-01-01
[[tasks]]
id = "a"
kind = "shell"
command = "true"
)",
                                        "d.toml");
  ASSERT_TRUE(spec.ok());
  Planner planner(std::move(spec).value());
  const Instant now = At("2024-01-01T00:00:00Z");
  const Decisions d = planner.Decide(now, {});
  EXPECT_EQ(d.create_runs.size(), Planner::kMaxNewRunsPerDecide);
  EXPECT_EQ(d.wake_at, now);  // call again at once for the rest
}

TEST(PlannerTest, DailyRunsInBerlinCoverDstDays) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "d"
schedule = "@daily"
timezone = "Europe/Berlin"
start_date = 2024-03-30
[[tasks]]
id = "a"
kind = "shell"
command = "echo {{ ds }} {{ data_interval_start }} {{ data_interval_end }}"
)",
                                        "d.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Planner planner(std::move(spec).value());
  const Decisions d = planner.Decide(At("2024-04-01T12:00:00Z"), {});
  ASSERT_EQ(d.create_runs.size(), 2u);
  EXPECT_EQ(d.create_runs[0],
            (DataInterval{At("2024-03-29T23:00:00Z"), At("2024-03-30T23:00:00Z")}));
  // The spring-forward day is 23 hours long.
  EXPECT_EQ(d.create_runs[1],
            (DataInterval{At("2024-03-30T23:00:00Z"), At("2024-03-31T22:00:00Z")}));
  const DagRun run =
      planner.NewRun(d.create_runs[1], RunKind::kScheduled, At("2024-04-01T12:00:00Z"));
  EXPECT_EQ(planner.MakeRequest(run, 0, 1).command,
            "echo 2024-03-31 2024-03-31T00:00:00+01:00 2024-04-01T00:00:00+02:00");
}

TEST(PlannerTest, DependenciesGateTasks) {
  Sim sim(Spec());
  const DataInterval day = Day("2024-01-01", "2024-01-02");
  sim.now = At("2024-01-02T00:00:00Z");
  sim.Tick();
  sim.now += minutes(1);
  EXPECT_TRUE(sim.Tick().start.empty());  // wait is running, work waits for it
  sim.Finish(day, "wait", TryResult::kSuccess);
  Decisions d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 work #1"});
  sim.Finish(day, "work", TryResult::kSuccess);
  sim.Tick();
  sim.Finish(day, "views", TryResult::kSuccess);
  d = sim.Tick();
  ASSERT_EQ(d.finish_runs.size(), 1u);
  EXPECT_EQ(d.finish_runs[0].state, RunState::kSuccess);
  EXPECT_EQ(sim.Run(day).state, RunState::kSuccess);
  EXPECT_EQ(sim.Run(day).ended_at, sim.now);
}

TEST(PlannerTest, MaxActiveRunsLimitsRunningRuns) {
  Sim sim(Spec("max_active_runs = 2\n"));
  sim.now = At("2024-01-04T00:00:00Z");
  Decisions d = sim.Tick();
  ASSERT_EQ(d.create_runs.size(), 3u);
  EXPECT_EQ(Started(d, sim.planner),
            (std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 wait #1",
                                      "scheduled__2024-01-02T00:00:00+00:00 wait #1"}));
  // Finishing a task does not free a slot; finishing a run does.
  sim.Finish(Day("2024-01-01", "2024-01-02"), "wait", TryResult::kSuccess);
  d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 work #1"});
  sim.Finish(Day("2024-01-01", "2024-01-02"), "work", TryResult::kFailed);  // no retries
  d = sim.Tick();
  // The failed work makes views upstream_failed, the run fails, the third run starts.
  ASSERT_EQ(d.upstream_failed.size(), 1u);
  EXPECT_EQ(d.upstream_failed[0].task_index, 2u);
  ASSERT_EQ(d.finish_runs.size(), 1u);
  EXPECT_EQ(d.finish_runs[0].state, RunState::kFailed);
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-03T00:00:00+00:00 wait #1"});
  EXPECT_EQ(sim.Task(Day("2024-01-01", "2024-01-02"), "views").state, TaskState::kUpstreamFailed);
}

TEST(PlannerTest, MaxActiveTasksLimitsRunningTries) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "d"
schedule = "@daily"
start_date = 2024-01-01
max_active_tasks = 2
[[tasks]]
id = "a"
kind = "shell"
command = "true"
[[tasks]]
id = "b"
kind = "shell"
command = "true"
[[tasks]]
id = "c"
kind = "shell"
command = "true"
)",
                                        "d.toml");
  ASSERT_TRUE(spec.ok());
  Sim sim(std::move(spec).value());
  sim.now = At("2024-01-03T00:00:00Z");
  Decisions d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            (std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 a #1",
                                      "scheduled__2024-01-01T00:00:00+00:00 b #1"}));
  sim.Finish(Day("2024-01-01", "2024-01-02"), "b", TryResult::kSuccess);
  d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 c #1"});
}

TEST(PlannerTest, RetriesWithExponentialBackoff) {
  Sim sim(Spec(
      "", "retries = 3\nretry_delay = \"5m\"\nretry_backoff = 2\nmax_retry_delay = \"15m\"\n"));
  const DataInterval day = Day("2024-01-01", "2024-01-02");
  sim.now = At("2024-01-02T00:00:00Z");
  sim.Tick();
  // Try 1 fails at 00:10: retry at 00:15 (5m).
  sim.now = At("2024-01-02T00:10:00Z");
  sim.Finish(day, "wait", TryResult::kFailed);
  EXPECT_EQ(sim.Task(day, "wait").state, TaskState::kUpForRetry);
  EXPECT_EQ(sim.Task(day, "wait").retry_at, At("2024-01-02T00:15:00Z"));
  sim.now = At("2024-01-02T00:14:59Z");
  Decisions d = sim.Tick();
  EXPECT_TRUE(d.start.empty());
  EXPECT_EQ(d.wake_at, At("2024-01-02T00:15:00Z"));
  sim.now = At("2024-01-02T00:15:00Z");
  d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 wait #2"});
  // Try 2 fails: 10m. Try 3 fails: 20m capped to 15m. Try 4 fails: no tries left.
  sim.Finish(day, "wait", TryResult::kFailed);
  EXPECT_EQ(sim.Task(day, "wait").retry_at, sim.now + minutes(10));
  sim.now += minutes(10);
  EXPECT_EQ(Started(sim.Tick(), sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 wait #3"});
  sim.Finish(day, "wait", TryResult::kTimedOut);
  EXPECT_EQ(sim.Task(day, "wait").retry_at, sim.now + minutes(15));
  EXPECT_EQ(sim.Task(day, "wait").message, "timed out");
  sim.now += minutes(15);
  EXPECT_EQ(Started(sim.Tick(), sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 wait #4"});
  sim.Finish(day, "wait", TryResult::kFailed);
  EXPECT_EQ(sim.Task(day, "wait").state, TaskState::kFailed);
  EXPECT_EQ(sim.Task(day, "wait").message, "exit code 1");
  d = sim.Tick();
  EXPECT_EQ(d.upstream_failed.size(), 2u);  // work, then views in the same tick
  ASSERT_EQ(d.finish_runs.size(), 1u);
  EXPECT_EQ(d.finish_runs[0].state, RunState::kFailed);
}

TEST(PlannerTest, TimeoutsAreReportedAtTheirDeadline) {
  Sim sim(Spec("", "timeout = \"1h\"\nretries = 1\nretry_delay = \"1m\"\n"));
  const DataInterval day = Day("2024-01-01", "2024-01-02");
  sim.now = At("2024-01-02T00:00:00Z");
  sim.Tick();
  sim.now = At("2024-01-02T00:59:59Z");
  Decisions d = sim.Tick();
  EXPECT_TRUE(d.time_out.empty());
  EXPECT_EQ(d.wake_at, At("2024-01-02T01:00:00Z"));
  sim.now = At("2024-01-02T01:00:00Z");
  d = sim.Tick();
  ASSERT_EQ(d.time_out.size(), 1u);
  EXPECT_EQ(d.time_out[0], (TaskRef{sim.Run(day).id, 0, 1}));
  // The try stays running until the executor has stopped it and reports the outcome.
  EXPECT_EQ(sim.Task(day, "wait").state, TaskState::kRunning);
  sim.Finish(day, "wait", TryResult::kTimedOut);
  EXPECT_EQ(sim.Task(day, "wait").state, TaskState::kUpForRetry);
  EXPECT_EQ(sim.Task(day, "wait").retry_at, At("2024-01-02T01:01:00Z"));
}

TEST(PlannerTest, SlaMissIsReportedOnce) {
  Sim sim(Spec("sla = \"2h\"\n"));
  const DataInterval day = Day("2024-01-01", "2024-01-02");
  sim.now = At("2024-01-02T00:00:00Z");
  Decisions d = sim.Tick();
  EXPECT_TRUE(d.sla_misses.empty());
  EXPECT_EQ(d.wake_at, At("2024-01-02T02:00:00Z"));
  sim.now = At("2024-01-02T02:00:00Z");
  d = sim.Tick();
  ASSERT_EQ(d.sla_misses.size(), 1u);
  EXPECT_EQ(d.sla_misses[0], (SlaMiss{sim.Run(day).id, day, At("2024-01-02T02:00:00Z")}));
  EXPECT_TRUE(sim.Run(day).sla_missed);
  sim.now += minutes(1);
  EXPECT_TRUE(sim.Tick().sla_misses.empty());
}

TEST(PlannerTest, SlaJudgesWhenTheLastTaskEnded) {
  Sim sim(Spec("sla = \"2h\"\n"));
  // Runs whose last task ends at `end`; the planner only looks at `look`.
  auto run_day = [&](const DataInterval& day, const char* end, const char* look) {
    sim.now = day.end;
    sim.Tick();
    for (const char* task : {"wait", "work"}) {
      sim.Finish(day, task, TryResult::kSuccess);
      sim.Tick();
    }
    sim.now = At(end);
    sim.Finish(day, "views", TryResult::kSuccess);
    sim.now = At(look);
    return sim.Tick();
  };
  const DataInterval first = Day("2024-01-01", "2024-01-02");
  Decisions d = run_day(first, "2024-01-02T01:59:00Z", "2024-01-02T03:00:00Z");
  ASSERT_EQ(d.finish_runs.size(), 1u);
  EXPECT_EQ(d.finish_runs[0].ended_at, At("2024-01-02T01:59:00Z"));
  EXPECT_TRUE(d.sla_misses.empty());  // ended in time, noticed late
  EXPECT_EQ(sim.Run(first).ended_at, At("2024-01-02T01:59:00Z"));
  const DataInterval second = Day("2024-01-02", "2024-01-03");
  d = run_day(second, "2024-01-03T02:00:01Z", "2024-01-03T02:00:01Z");
  ASSERT_EQ(d.sla_misses.size(), 1u);  // ended after the deadline, no tick in between
  EXPECT_EQ(d.sla_misses[0].run_id, sim.Run(second).id);
}

TEST(PlannerTest, CatchUpRunsAlreadyLateAreReported) {
  Sim sim(Spec("sla = \"2h\"\nmax_active_runs = 1\n"));
  sim.now = At("2024-01-04T00:00:00Z");
  const Decisions d = sim.Tick();
  // 01-01 and 01-02 ended more than 2 hours ago; 01-03 has just ended.
  ASSERT_EQ(d.sla_misses.size(), 2u);
  EXPECT_EQ(d.sla_misses[0].interval, Day("2024-01-01", "2024-01-02"));
  EXPECT_EQ(d.sla_misses[1].interval, Day("2024-01-02", "2024-01-03"));
}

TEST(PlannerTest, BackfillRunsGetNoSla) {
  Sim sim(Spec("sla = \"1h\"\n"));
  sim.now = At("2024-01-02T00:00:00Z");
  sim.Tick();
  sim.AddDone(Day("2023-12-01", "2023-12-02"), RunKind::kBackfill);
  sim.runs.back().state = RunState::kQueued;
  for (TaskInstance& ti : sim.runs.back().tasks) ti.state = TaskState::kPending;
  sim.now = At("2024-01-02T00:30:00Z");
  EXPECT_TRUE(sim.Tick().sla_misses.empty());
}

TEST(PlannerTest, RecordOutcomeRefusesStaleReports) {
  Sim sim(Spec());
  const DataInterval day = Day("2024-01-01", "2024-01-02");
  sim.now = At("2024-01-02T00:00:00Z");
  sim.Tick();
  DagRun& run = sim.Run(day);
  Status stale = sim.planner.RecordOutcome(&run, "wait", 2, {TryResult::kSuccess, 0, ""}, sim.now);
  EXPECT_THAT(stale, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(stale.message(),
            "task \"wait\" of run scheduled__2024-01-01T00:00:00+00:00: try 2 is not running "
            "(state running, try 1)");
  Status pending =
      sim.planner.RecordOutcome(&run, "work", 0, {TryResult::kSuccess, 0, ""}, sim.now);
  EXPECT_EQ(pending.message(),
            "task \"work\" of run scheduled__2024-01-01T00:00:00+00:00: try 0 is not running "
            "(state pending, try 0)");
  Status unknown =
      sim.planner.RecordOutcome(&run, "nope", 1, {TryResult::kSuccess, 0, ""}, sim.now);
  EXPECT_THAT(unknown, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(unknown.message(),
            "run scheduled__2024-01-01T00:00:00+00:00 of DAG daily has no task \"nope\"");
}

TEST(PlannerTest, TaskAddedToTheFileAfterARunWasCreated) {
  Sim sim(Spec());
  const DataInterval day = Day("2024-01-01", "2024-01-02");
  sim.now = At("2024-01-02T00:00:00Z");
  sim.Tick();
  sim.Run(day).tasks.pop_back();  // the run predates "views"
  sim.Finish(day, "wait", TryResult::kSuccess);
  sim.Tick();
  sim.Finish(day, "work", TryResult::kSuccess);
  const Decisions d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            std::vector<std::string>{"scheduled__2024-01-01T00:00:00+00:00 views #1"});
  ASSERT_NE(sim.Run(day).FindTask("views"), nullptr);
  EXPECT_EQ(sim.Task(day, "views").state, TaskState::kRunning);
}

TEST(PlannerTest, MakeRequestRendersTemplates) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "d"
schedule = "@daily"
start_date = 2024-01-01
[[tasks]]
id = "sh"
kind = "shell"
argv = ["/bin/run", "--from={{ data_interval_start }}", "--to={{ data_interval_end }}"]
env = { DAY = "{{ ds_nodash }}", TRY = "{{ try_number }}" }
timeout = "5m"
[[tasks]]
id = "b"
kind = "batch"
args = ["--day", "{{ ds }}"]
)",
                                        "d.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const Planner planner(std::move(spec).value());
  const DagRun run =
      planner.NewRun(Day("2024-01-01", "2024-01-02"), RunKind::kManual, At("2024-01-05T00:00:00Z"));
  EXPECT_EQ(run.id.str(), "manual__2024-01-01T00:00:00+00:00");
  const TaskRequest sh = planner.MakeRequest(run, 0, 3);
  EXPECT_EQ(sh.dag_id, "d");
  EXPECT_EQ(sh.task_id, "sh");
  EXPECT_EQ(sh.kind, TaskKind::kShell);
  EXPECT_EQ(sh.try_number, 3);
  EXPECT_EQ(sh.interval, Day("2024-01-01", "2024-01-02"));
  EXPECT_TRUE(sh.command.empty());
  EXPECT_EQ(sh.argv, (std::vector<std::string>{"/bin/run", "--from=2024-01-01T00:00:00+00:00",
                                               "--to=2024-01-02T00:00:00+00:00"}));
  EXPECT_EQ(sh.env,
            (std::vector<std::pair<std::string, std::string>>{{"DAY", "20240101"}, {"TRY", "3"}}));
  EXPECT_EQ(sh.timeout, minutes(5));
  const TaskRequest b = planner.MakeRequest(run, 1, 1);
  EXPECT_EQ(b.argv, (std::vector<std::string>{"--day", "2024-01-01"}));
}

// Runs for 01-01 success, 01-02 failed, 01-03 running, none for 01-04 and 01-05 (not over).
Sim BackfillSim() {
  Sim sim(Spec("", "retries = 1\n"));
  sim.AddDone(Day("2024-01-01", "2024-01-02"));
  sim.AddDone(Day("2024-01-02", "2024-01-03"), RunKind::kScheduled, RunState::kFailed);
  DagRun& failed = sim.runs.back();
  failed.tasks[0].state = TaskState::kSuccess;
  failed.tasks[1].state = TaskState::kFailed;
  failed.tasks[1].try_number = 2;
  failed.tasks[2].state = TaskState::kUpstreamFailed;
  failed.tasks[2].try_number = 0;
  DagRun running = sim.planner.NewRun(Day("2024-01-03", "2024-01-04"), RunKind::kScheduled,
                                      At("2024-01-04T00:00:00Z"));
  running.state = RunState::kRunning;
  sim.runs.push_back(running);
  sim.now = At("2024-01-05T12:00:00Z");
  return sim;
}

std::vector<std::string> Describe(const std::vector<BackfillItem>& items) {
  std::vector<std::string> out;
  for (const BackfillItem& item : items) {
    const char* action[] = {"create", "rerun-failed", "rerun-all", "skip"};
    out.push_back(FormatUtc(item.interval.start).substr(0, 10) + " " +
                  action[static_cast<int>(item.action)] +
                  (item.reason.empty() ? "" : ": " + item.reason));
  }
  return out;
}

TEST(PlannerTest, BackfillModes) {
  Sim sim = BackfillSim();
  const Instant from = At("2024-01-01T00:00:00Z");
  const Instant to = At("2024-01-06T00:00:00Z");
  auto plan = [&](BackfillMode mode) {
    StatusOr<std::vector<BackfillItem>> items =
        sim.planner.Backfill(from, to, mode, sim.now, sim.runs);
    EXPECT_TRUE(items.ok()) << items.status().ToString();
    return items.ok() ? Describe(*items) : std::vector<std::string>{};
  };
  EXPECT_EQ(plan(BackfillMode::kSkipDone),
            (std::vector<std::string>{"2024-01-01 skip: already succeeded",
                                      "2024-01-02 skip: failed (redo-failed runs it again)",
                                      "2024-01-03 skip: run in progress", "2024-01-04 create"}));
  EXPECT_EQ(
      plan(BackfillMode::kRedoFailed),
      (std::vector<std::string>{"2024-01-01 skip: already succeeded", "2024-01-02 rerun-failed",
                                "2024-01-03 skip: run in progress", "2024-01-04 create"}));
  EXPECT_EQ(plan(BackfillMode::kRedoAll),
            (std::vector<std::string>{"2024-01-01 rerun-all", "2024-01-02 rerun-all",
                                      "2024-01-03 skip: run in progress", "2024-01-04 create"}));
  // The range is by interval start, half-open, clamped to start_date.
  StatusOr<std::vector<BackfillItem>> narrow =
      sim.planner.Backfill(At("2023-06-01T00:00:00Z"), At("2024-01-02T00:00:00Z"),
                           BackfillMode::kRedoAll, sim.now, sim.runs);
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(Describe(*narrow), std::vector<std::string>{"2024-01-01 rerun-all"});
  EXPECT_EQ(
      sim.planner.Backfill(to, from, BackfillMode::kSkipDone, sim.now, sim.runs).status().message(),
      "backfill: the range [2024-01-06T00:00:00Z, 2024-01-01T00:00:00Z) is empty");
}

TEST(PlannerTest, ApplyBackfillCreatesAndResets) {
  Sim sim = BackfillSim();
  StatusOr<std::vector<BackfillItem>> items =
      sim.planner.Backfill(At("2024-01-01T00:00:00Z"), At("2024-01-06T00:00:00Z"),
                           BackfillMode::kRedoFailed, sim.now, sim.runs);
  ASSERT_TRUE(items.ok());
  const std::vector<size_t> changed = sim.planner.ApplyBackfill(*items, sim.now, &sim.runs);
  EXPECT_EQ(changed, (std::vector<size_t>{1, 3}));
  const DagRun& created = sim.runs[3];
  EXPECT_EQ(created.id.str(), "backfill__2024-01-04T00:00:00+00:00");
  EXPECT_EQ(created.kind, RunKind::kBackfill);
  EXPECT_EQ(created.state, RunState::kQueued);
  const DagRun& reset = sim.runs[1];
  EXPECT_EQ(reset.state, RunState::kQueued);
  EXPECT_FALSE(reset.ended_at.has_value());
  EXPECT_EQ(reset.tasks[0].state, TaskState::kSuccess);  // kept
  EXPECT_EQ(reset.tasks[1].state, TaskState::kPending);
  EXPECT_EQ(reset.tasks[1].max_tries, 4);  // tries 3 and 4: a fresh budget of retries = 1
  EXPECT_EQ(reset.tasks[2].state, TaskState::kPending);
  // The reset run resumes at "work", try 3 (the running 01-03 run goes on beside it); when the
  // try fails, the retry uses the first delay again.
  const Decisions d = sim.Tick();
  EXPECT_EQ(Started(d, sim.planner),
            (std::vector<std::string>{"scheduled__2024-01-02T00:00:00+00:00 work #3",
                                      "scheduled__2024-01-03T00:00:00+00:00 wait #1",
                                      "backfill__2024-01-04T00:00:00+00:00 wait #1"}));
  sim.Finish(reset.interval, "work", TryResult::kFailed);
  EXPECT_EQ(sim.Task(reset.interval, "work").state, TaskState::kUpForRetry);
  EXPECT_EQ(sim.Task(reset.interval, "work").retry_at, sim.now + minutes(5));
  // redo-all resets every task.
  Sim all = BackfillSim();
  StatusOr<std::vector<BackfillItem>> redo =
      all.planner.Backfill(At("2024-01-01T00:00:00Z"), At("2024-01-02T00:00:00Z"),
                           BackfillMode::kRedoAll, all.now, all.runs);
  ASSERT_TRUE(redo.ok());
  all.planner.ApplyBackfill(*redo, all.now, &all.runs);
  for (const TaskInstance& ti : all.runs[0].tasks) {
    EXPECT_EQ(ti.state, TaskState::kPending);
    EXPECT_EQ(ti.try_number, 1);
    EXPECT_EQ(ti.max_tries, 3);
  }
}

TEST(PlannerTest, BackfillModeNames) {
  EXPECT_EQ(*ParseBackfillMode("skip-done"), BackfillMode::kSkipDone);
  EXPECT_EQ(*ParseBackfillMode("redo-failed"), BackfillMode::kRedoFailed);
  EXPECT_EQ(*ParseBackfillMode("redo-all"), BackfillMode::kRedoAll);
  EXPECT_EQ(BackfillModeName(BackfillMode::kRedoFailed), "redo-failed");
  EXPECT_EQ(ParseBackfillMode("all").status().message(),
            "unknown backfill mode \"all\" (known: skip-done, redo-failed, redo-all)");
}

// A TaskRunner whose tries end when the test says so.
class ScriptedRunner final : public TaskRunner {
 public:
  StatusOr<TaskHandle> Start(const TaskRequest& request) override {
    const auto handle = static_cast<TaskHandle>(++next_);
    started.push_back(request.run_id.str() + " " + request.task_id);
    outcomes[handle] = std::nullopt;
    return handle;
  }
  std::optional<TaskOutcome> Poll(TaskHandle handle) override { return outcomes[handle]; }
  void Stop(TaskHandle handle) override {
    outcomes[handle] = TaskOutcome{TryResult::kTimedOut, -1, "stopped"};
  }

  std::vector<std::string> started;
  std::map<TaskHandle, std::optional<TaskOutcome>> outcomes;

 private:
  uint64_t next_ = 0;
};

// The executor loop of planner.h, driven with a simulated clock: every try succeeds one minute
// after it starts; the runs are saved to and reloaded from a RunStore each tick.
TEST(PlannerTest, CatchUpDrivenToTheEndThroughStoreAndRunner) {
  const Planner planner(Spec("max_active_runs = 1\n"));
  InMemoryRunStore store;
  ScriptedRunner runner;
  struct Live {
    RunId run;
    std::string task;
    int try_number;
    Instant ends;
  };
  std::map<TaskHandle, Live> live;
  Instant now = At("2024-01-04T00:00:30Z");
  for (int tick = 0; tick < 100; ++tick) {
    std::vector<DagRun> runs = *store.LoadRuns("daily");
    // Tries that have ended.
    for (auto it = live.begin(); it != live.end();) {
      if (it->second.ends > now) {
        ++it;
        continue;
      }
      runner.outcomes[it->first] = TaskOutcome{TryResult::kSuccess, 0, ""};
      const std::optional<TaskOutcome> outcome = runner.Poll(it->first);
      for (DagRun& run : runs) {
        if (run.id != it->second.run) continue;
        ASSERT_TRUE(
            planner.RecordOutcome(&run, it->second.task, it->second.try_number, *outcome, now)
                .ok());
        ASSERT_TRUE(
            store.AppendTaskLog("daily", run.id, it->second.task, it->second.try_number, "ok\n")
                .ok());
        ASSERT_TRUE(store.SaveRun(&run).ok());
      }
      it = live.erase(it);
    }
    const Decisions d = planner.Decide(now, runs);
    for (size_t i : planner.Apply(d, now, &runs)) ASSERT_TRUE(store.SaveRun(&runs[i]).ok());
    for (const TaskRef& ref : d.start) {
      for (const DagRun& run : runs) {
        if (run.id != ref.run_id) continue;
        const TaskRequest request = planner.MakeRequest(run, ref.task_index, ref.try_number);
        const TaskHandle handle = *runner.Start(request);
        live[handle] = {run.id, request.task_id, ref.try_number, now + minutes(1)};
      }
    }
    if (live.empty() && d.empty()) break;
    now += minutes(1);
  }
  const std::vector<DagRun> runs = *store.LoadRuns("daily");
  ASSERT_EQ(runs.size(), 3u);
  for (const DagRun& run : runs) {
    EXPECT_EQ(run.state, RunState::kSuccess) << run.id.str();
    EXPECT_EQ(*store.ReadTaskLog("daily", run.id, "work", 1), "ok\n");
  }
  // One run at a time, oldest first, tasks in dependency order.
  const std::vector<std::string> expected = {
      "scheduled__2024-01-01T00:00:00+00:00 wait",  "scheduled__2024-01-01T00:00:00+00:00 work",
      "scheduled__2024-01-01T00:00:00+00:00 views", "scheduled__2024-01-02T00:00:00+00:00 wait",
      "scheduled__2024-01-02T00:00:00+00:00 work",  "scheduled__2024-01-02T00:00:00+00:00 views",
      "scheduled__2024-01-03T00:00:00+00:00 wait",  "scheduled__2024-01-03T00:00:00+00:00 work",
      "scheduled__2024-01-03T00:00:00+00:00 views"};
  EXPECT_EQ(runner.started, expected);
  EXPECT_LE(*runs[0].ended_at, *runs[1].started_at);
  EXPECT_LE(*runs[1].ended_at, *runs[2].started_at);
}

}  // namespace
}  // namespace pinpipe::scheduler
