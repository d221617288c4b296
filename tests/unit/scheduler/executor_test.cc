// Executor with a fake clock, the in-memory store and a scripted runner: restart safety,
// timeouts, retries, failed starts, SLA alerts, pause-free foreground backfill filtering.
#include "scheduler/executor.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/in_memory_run_store.h"

namespace pinpipe::scheduler {
namespace {

using std::chrono::minutes;

Instant At(const std::string& text) { return *ParseInstant(text, TimeZone::Utc()); }

DagSpec Spec(std::string_view extra_dag = "", std::string_view work_extra = "") {
  std::string text =
      "[dag]\nid = \"daily\"\nschedule = \"@daily\"\nstart_date = 2024-01-01\n"
      "end_date = 2024-01-01\n";
  text += extra_dag;
  text += "[defaults]\nretries = 1\nretry_delay = \"1m\"\n";
  text += "[[tasks]]\nid = \"wait\"\nkind = \"shell\"\ncommand = \"true\"\n";
  text +=
      "[[tasks]]\nid = \"work\"\nkind = \"shell\"\ncommand = \"true\"\ndepends_on = [\"wait\"]\n";
  text += work_extra;
  StatusOr<DagSpec> spec = ParseDagSpec(text, "daily.toml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? std::move(spec).value() : DagSpec();
}

class ScriptedRunner final : public TaskRunner {
 public:
  StatusOr<TaskHandle> Start(const TaskRequest& request) override {
    if (fail_starts > 0) {
      --fail_starts;
      return NotFound("cannot run /nonexistent: No such file or directory");
    }
    const auto handle = static_cast<TaskHandle>(++next_);
    started.push_back(request.task_id + "#" + std::to_string(request.try_number));
    by_task[request.task_id] = handle;
    outcomes[handle] = std::nullopt;
    return handle;
  }
  std::optional<TaskOutcome> Poll(TaskHandle handle) override { return outcomes[handle]; }
  void Stop(TaskHandle handle) override {
    stopped.push_back(handle);
    outcomes[handle] = TaskOutcome{TryResult::kTimedOut, 143, "stopped"};
  }
  void WaitForEnd(std::chrono::milliseconds) override {}
  void Succeed(const std::string& task) { outcomes[by_task[task]] = TaskOutcome{}; }

  int fail_starts = 0;
  std::vector<std::string> started;
  std::vector<TaskHandle> stopped;
  std::map<std::string, TaskHandle> by_task;
  std::map<TaskHandle, std::optional<TaskOutcome>> outcomes;

 private:
  uint64_t next_ = 0;
};

struct Harness {
  explicit Harness(DagSpec spec, InMemoryRunStore* s) : store(s) {
    ExecutorOptions o;
    o.now = [this] { return now; };
    o.log = [this](const std::string& line) { log += line + "\n"; };
    executor = std::make_unique<Executor>(std::vector<DagSpec>{std::move(spec)}, store, &runner,
                                          std::move(o));
  }
  void Tick() { ASSERT_TRUE(executor->Tick().ok()); }
  const TaskInstance& Task(const std::string& id) {
    runs = *store->LoadRuns("daily");
    return *runs.at(0).FindTask(id);
  }

  InMemoryRunStore* store;
  Instant now = At("2024-01-02T00:00:10Z");
  ScriptedRunner runner;
  std::string log;
  std::vector<DagRun> runs;
  std::unique_ptr<Executor> executor;
};

TEST(ExecutorTest, RestartResumesWithoutRerunningFinishedTasks) {
  InMemoryRunStore store;
  {
    Harness first(Spec(), &store);
    first.Tick();  // creates the run, starts wait
    first.runner.Succeed("wait");
    first.Tick();  // records wait, starts work
    EXPECT_EQ(first.runner.started, (std::vector<std::string>{"wait#1", "work#1"}));
    EXPECT_EQ(first.Task("work").state, TaskState::kRunning);
  }  // the scheduler dies with work#1 running
  Harness second(Spec(), &store);
  second.now = At("2024-01-02T00:05:00Z");
  second.Tick();
  const TaskInstance& work = second.Task("work");
  EXPECT_EQ(work.state, TaskState::kUpForRetry);
  EXPECT_EQ(work.message, "no live process: the scheduler stopped or died while this try ran");
  EXPECT_EQ(second.Task("wait").state, TaskState::kSuccess);
  EXPECT_EQ(*store.ReadTaskLog("daily", second.runs[0].id, "work", 1),
            "[pinpipe] no live process: the scheduler stopped or died while this try ran\n");
  second.now += minutes(1);  // retry_delay
  second.Tick();
  EXPECT_EQ(second.runner.started, (std::vector<std::string>{"work#2"}));  // wait not re-run
  second.runner.Succeed("work");
  second.Tick();
  second.Tick();
  EXPECT_EQ(second.runs.size(), 1u);
  EXPECT_EQ((*store.LoadRuns("daily"))[0].state, RunState::kSuccess);
}

TEST(ExecutorTest, TimeoutStopsTheTryAndRetries) {
  InMemoryRunStore store;
  Harness h(Spec("", "timeout = \"10m\"\n"), &store);
  h.Tick();
  h.runner.Succeed("wait");
  h.Tick();
  const TaskHandle work = h.runner.by_task["work"];
  h.now += minutes(9);
  h.Tick();
  EXPECT_TRUE(h.runner.stopped.empty());
  h.now += minutes(1);
  h.Tick();  // timeout reached: stopped; its outcome arrives at the next tick
  ASSERT_EQ(h.runner.stopped, std::vector<TaskHandle>{work});
  h.Tick();
  const TaskInstance& ti = h.Task("work");
  EXPECT_EQ(ti.state, TaskState::kUpForRetry);
  EXPECT_EQ(ti.message, "timed out after 600s: stopped");
  EXPECT_EQ(ti.exit_code, 143);
  h.now += minutes(1);
  h.Tick();
  EXPECT_EQ(h.runner.started.back(), "work#2");
}

TEST(ExecutorTest, FailedStartIsAFailedTry) {
  InMemoryRunStore store;
  Harness h(Spec(), &store);
  h.runner.fail_starts = 2;
  h.Tick();
  EXPECT_EQ(h.Task("wait").state, TaskState::kUpForRetry);
  h.now += minutes(1);
  h.Tick();
  const TaskInstance& wait = h.Task("wait");
  EXPECT_EQ(wait.state, TaskState::kFailed);
  EXPECT_EQ(wait.message,
            "did not start: NOT_FOUND: cannot run /nonexistent: No such file or directory");
  h.Tick();
  const std::vector<DagRun> runs = *store.LoadRuns("daily");
  EXPECT_EQ(runs[0].state, RunState::kFailed);
  EXPECT_EQ(runs[0].FindTask("work")->state, TaskState::kUpstreamFailed);
}

TEST(ExecutorTest, SlaMissIsAlertedOnceWithAMetric) {
  InMemoryRunStore store;
  core::Registry metrics;
  Harness h(Spec("sla = \"1h\"\n"), &store);
  ExecutorOptions o;
  o.now = [&h] { return h.now; };
  o.log = [&h](const std::string& line) { h.log += line + "\n"; };
  o.metrics = &metrics;
  h.executor = std::make_unique<Executor>(std::vector<DagSpec>{Spec("sla = \"1h\"\n")}, &store,
                                          &h.runner, std::move(o));
  h.Tick();
  EXPECT_EQ(h.executor->sla_misses(), 0u);
  h.now = At("2024-01-02T01:00:00Z");
  h.Tick();
  h.now += minutes(5);
  h.Tick();
  EXPECT_EQ(h.executor->sla_misses(), 1u);
  EXPECT_NE(h.log.find("daily: SLA MISSED: run scheduled__2024-01-01T00:00:00+00:00 for "
                       "[2024-01-01T00:00:00Z, 2024-01-02T00:00:00Z) was not finished by "
                       "2024-01-02T01:00:00Z"),
            std::string::npos)
      << h.log;
  EXPECT_NE(metrics.Render().find("pinpipe_scheduler_sla_misses_total{dag=\"daily\"} 1"),
            std::string::npos)
      << metrics.Render();
  EXPECT_TRUE((*store.LoadRuns("daily"))[0].sla_missed);
}

TEST(ExecutorTest, ForegroundBackfillStartsOnlyItsRuns) {
  InMemoryRunStore store;
  DagSpec spec = Spec();
  // A manual run of another interval exists; the backfill executor must not touch it.
  DagRun other = Planner(spec).NewRun({At("2023-12-01T00:00:00Z"), At("2023-12-02T00:00:00Z")},
                                      RunKind::kManual, At("2024-01-01T00:00:00Z"));
  ASSERT_TRUE(store.SaveRun(&other).ok());
  DagRun mine = Planner(spec).NewRun({At("2024-01-01T00:00:00Z"), At("2024-01-02T00:00:00Z")},
                                     RunKind::kBackfill, At("2024-01-02T00:00:00Z"));
  ASSERT_TRUE(store.SaveRun(&mine).ok());
  ScriptedRunner runner;
  ExecutorOptions o;
  o.now = [] { return At("2024-01-05T00:00:00Z"); };
  o.log = [](const std::string&) {};
  o.only_runs = std::map<std::string, std::set<RunId>>{{"daily", {mine.id}}};
  Executor executor({spec}, &store, &runner, std::move(o));
  ASSERT_TRUE(executor.Tick().ok());
  EXPECT_EQ(runner.started, std::vector<std::string>{"wait#1"});
  EXPECT_EQ(executor.runs(0).size(), 2u);  // no scheduled runs were created
  runner.Succeed("wait");
  ASSERT_TRUE(executor.Tick().ok());
  runner.Succeed("work");
  std::stop_source stop;
  EXPECT_TRUE(executor.RunUntilDone(stop.get_token()));
  EXPECT_EQ(runner.started, (std::vector<std::string>{"wait#1", "work#1"}));
}

}  // namespace
}  // namespace pinpipe::scheduler
