// Tests for InMemoryRunStore: insert, optimistic replace, version conflicts, per-DAG ordering,
// task logs, the fault switch; and the run/task state names a persistent store writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/in_memory_run_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::scheduler {
namespace {

Instant At(const std::string& text) { return *ParseInstant(text, TimeZone::Utc()); }

DagRun MakeRun(const std::string& dag, const std::string& day, const std::string& next) {
  DagRun run;
  run.dag_id = dag;
  run.interval = {At(day), At(next)};
  run.id = MakeRunId(RunKind::kScheduled, run.interval);
  TaskInstance task;
  task.task_id = "a";
  run.tasks.push_back(task);
  return run;
}

TEST(InMemoryRunStoreTest, SavesAndLoadsInIntervalOrder) {
  InMemoryRunStore store;
  DagRun later = MakeRun("d", "2024-01-02", "2024-01-03");
  DagRun earlier = MakeRun("d", "2024-01-01", "2024-01-02");
  DagRun other = MakeRun("e", "2024-01-01", "2024-01-02");
  ASSERT_TRUE(store.SaveRun(&later).ok());
  ASSERT_TRUE(store.SaveRun(&earlier).ok());
  ASSERT_TRUE(store.SaveRun(&other).ok());
  EXPECT_EQ(later.version, 1);
  const std::vector<DagRun> runs = *store.LoadRuns("d");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0], earlier);
  EXPECT_EQ(runs[1], later);
  EXPECT_TRUE(store.LoadRuns("none")->empty());
}

TEST(InMemoryRunStoreTest, OptimisticVersions) {
  InMemoryRunStore store;
  DagRun run = MakeRun("d", "2024-01-01", "2024-01-02");
  ASSERT_TRUE(store.SaveRun(&run).ok());
  DagRun copy = run;  // a second scheduler read it too
  run.state = RunState::kRunning;
  ASSERT_TRUE(store.SaveRun(&run).ok());
  EXPECT_EQ(run.version, 2);
  copy.state = RunState::kFailed;
  const Status conflict = store.SaveRun(&copy);
  EXPECT_THAT(conflict, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(conflict.message(),
            "run scheduled__2024-01-01T00:00:00+00:00 of DAG d was changed by someone else "
            "(stored version 2, read version 1)");
  EXPECT_EQ(store.LoadRuns("d")->at(0).state, RunState::kRunning);
  DagRun again = MakeRun("d", "2024-01-01", "2024-01-02");
  EXPECT_THAT(store.SaveRun(&again), StatusIs(StatusCode::kAlreadyExists));
  DagRun ghost = MakeRun("d", "2024-02-01", "2024-02-02");
  ghost.version = 3;
  EXPECT_THAT(store.SaveRun(&ghost), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(InMemoryRunStoreTest, TaskLogsAppendPerTry) {
  InMemoryRunStore store;
  const RunId id("scheduled__x");
  ASSERT_TRUE(store.AppendTaskLog("d", id, "a", 1, "one ").ok());
  ASSERT_TRUE(store.AppendTaskLog("d", id, "a", 1, "two").ok());
  ASSERT_TRUE(store.AppendTaskLog("d", id, "a", 2, "retry").ok());
  EXPECT_EQ(*store.ReadTaskLog("d", id, "a", 1), "one two");
  EXPECT_EQ(*store.ReadTaskLog("d", id, "a", 2), "retry");
  EXPECT_EQ(*store.ReadTaskLog("d", id, "b", 1), "");
}

TEST(InMemoryRunStoreTest, FailNthSave) {
  InMemoryRunStore store;
  store.FailNthSave(2);
  DagRun a = MakeRun("d", "2024-01-01", "2024-01-02");
  DagRun b = MakeRun("d", "2024-01-02", "2024-01-03");
  EXPECT_TRUE(store.SaveRun(&a).ok());
  const Status failed = store.SaveRun(&b);
  EXPECT_THAT(failed, StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(failed.retriable());
  EXPECT_EQ(b.version, 0);
  EXPECT_TRUE(store.SaveRun(&b).ok());
}

TEST(RunTest, StateNamesRoundTrip) {
  for (RunState s :
       {RunState::kQueued, RunState::kRunning, RunState::kSuccess, RunState::kFailed}) {
    EXPECT_EQ(*ParseRunState(RunStateName(s)), s);
  }
  for (TaskState s : {TaskState::kPending, TaskState::kRunning, TaskState::kUpForRetry,
                      TaskState::kSuccess, TaskState::kFailed, TaskState::kUpstreamFailed}) {
    EXPECT_EQ(*ParseTaskState(TaskStateName(s)), s);
  }
  for (RunKind k : {RunKind::kScheduled, RunKind::kBackfill, RunKind::kManual}) {
    EXPECT_EQ(*ParseRunKind(RunKindName(k)), k);
  }
  EXPECT_EQ(TaskStateName(TaskState::kUpForRetry), "up_for_retry");
  EXPECT_EQ(ParseTaskState("retrying").status().message(),
            "unknown task state \"retrying\" (known: pending, running, up_for_retry, success, "
            "failed, upstream_failed)");
  EXPECT_EQ(MakeRunId(RunKind::kBackfill, {At("2024-01-01"), At("2024-01-02")}).str(),
            "backfill__2024-01-01T00:00:00+00:00");
}

}  // namespace
}  // namespace pinpipe::scheduler
