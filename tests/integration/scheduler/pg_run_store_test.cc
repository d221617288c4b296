// PgRunStore against the real PostgreSQL (PINPIPE_TEST_PG_DSN), one scratch database per test.
#include "scheduler/pg_run_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "testing/pg_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::scheduler {
namespace {

Instant At(const std::string& text) { return *ParseInstant(text, TimeZone::Utc()); }

DagRun NewDailyRun() {
  DagRun run;
  run.dag_id = "daily";
  run.interval = {At("2024-01-01T00:00:00Z"), At("2024-01-02T00:00:00Z")};
  run.id = MakeRunId(RunKind::kScheduled, run.interval);
  run.queued_at = At("2024-01-02T00:00:05Z");
  for (const char* id : {"wait", "batch"}) {
    TaskInstance ti;
    ti.task_id = id;
    ti.max_tries = 4;
    run.tasks.push_back(ti);
  }
  return run;
}

class PgRunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::optional<std::string> dsn = testing::TestPgDsn();
    if (!dsn) GTEST_SKIP() << "PINPIPE_TEST_PG_DSN not set";
    db_ = std::make_unique<testing::ScratchDatabase>(*dsn);
    ASSERT_TRUE(db_->ok()) << db_->error();
    StatusOr<std::unique_ptr<PgRunStore>> store = PgRunStore::Open(db_->dsn());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  std::unique_ptr<testing::ScratchDatabase> db_;
  std::unique_ptr<PgRunStore> store_;
};

TEST_F(PgRunStoreTest, SavesAndLoadsRunsWithTheirTasks) {
  DagRun run = NewDailyRun();
  ASSERT_TRUE(store_->SaveRun(&run).ok());
  EXPECT_EQ(run.version, 1);
  run.state = RunState::kRunning;
  run.started_at = At("2024-01-02T00:00:06Z");
  run.sla_missed = true;
  TaskInstance& wait = run.tasks[0];
  wait.state = TaskState::kUpForRetry;
  wait.try_number = 2;
  wait.started_at = At("2024-01-02T00:00:06Z");
  wait.ended_at = At("2024-01-02T00:01:00Z");
  wait.retry_at = At("2024-01-02T00:06:00Z");
  wait.exit_code = 3;
  wait.message = "exit code 3 — ünïcode";
  ASSERT_TRUE(store_->SaveRun(&run).ok());
  EXPECT_EQ(run.version, 2);
  StatusOr<std::vector<DagRun>> loaded = store_->LoadRuns("daily");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0], run);
  EXPECT_TRUE(store_->LoadRuns("other")->empty());
}

TEST_F(PgRunStoreTest, StaleAndDuplicateSavesAreRefused) {
  DagRun run = NewDailyRun();
  ASSERT_TRUE(store_->SaveRun(&run).ok());
  DagRun dup = NewDailyRun();
  EXPECT_THAT(store_->SaveRun(&dup), StatusIs(StatusCode::kAlreadyExists));
  DagRun a = (*store_->LoadRuns("daily"))[0];
  DagRun b = a;
  a.state = RunState::kRunning;
  ASSERT_TRUE(store_->SaveRun(&a).ok());
  b.state = RunState::kFailed;
  const Status stale = store_->SaveRun(&b);
  EXPECT_EQ(stale,
            FailedPrecondition("run scheduled__2024-01-01T00:00:00+00:00 of DAG daily was "
                               "changed by someone else (stored version 2, read version 1)"));
  EXPECT_EQ(b.version, 1);  // unchanged on failure
  EXPECT_EQ((*store_->LoadRuns("daily"))[0].state, RunState::kRunning);
}

TEST_F(PgRunStoreTest, LogsAppendPerTryAndKeepAnyBytes) {
  const RunId id("scheduled__2024-01-01T00:00:00+00:00");
  const std::string binary("a\0b\xff\n", 5);
  ASSERT_TRUE(store_->AppendTaskLog("daily", id, "batch", 1, "first ").ok());
  ASSERT_TRUE(store_->AppendTaskLog("daily", id, "batch", 2, "other try").ok());
  ASSERT_TRUE(store_->AppendTaskLog("daily", id, "batch", 1, binary).ok());
  EXPECT_EQ(*store_->ReadTaskLog("daily", id, "batch", 1), "first " + binary);
  EXPECT_EQ(*store_->ReadTaskLog("daily", id, "batch", 2), "other try");
  EXPECT_EQ(*store_->ReadTaskLog("daily", id, "batch", 3), "");
}

TEST_F(PgRunStoreTest, PauseAndDagLocks) {
  EXPECT_FALSE(*store_->IsPaused("daily"));
  ASSERT_TRUE(store_->SetPaused("daily", true).ok());
  EXPECT_TRUE(*store_->IsPaused("daily"));
  ASSERT_TRUE(store_->SetPaused("daily", false).ok());
  EXPECT_FALSE(*store_->IsPaused("daily"));

  std::unique_ptr<PgRunStore> other = std::move(PgRunStore::Open(db_->dsn()).value());
  EXPECT_TRUE(*store_->TryLockDag("daily"));
  EXPECT_TRUE(*store_->TryLockDag("daily"));  // held already
  EXPECT_FALSE(*other->TryLockDag("daily"));
  EXPECT_TRUE(*other->TryLockDag("hourly"));
  store_.reset();  // the session ends: its locks go
  // ... once its backend has exited, a moment after the client closed the connection.
  bool locked = false;
  for (int i = 0; i < 100 && !locked; ++i) {
    locked = *other->TryLockDag("daily");
    if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(locked);
}

}  // namespace
}  // namespace pinpipe::scheduler
