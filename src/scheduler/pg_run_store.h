// PgRunStore: the RunStore of the scheduler daemon and its CLI, in PostgreSQL. Run and task
// history and every try's log live in schema `scheduler` (created on first use):
//
//   scheduler.dags            dag_id, paused                       (pause / unpause)
//   scheduler.dag_runs        one row per run; `version` for optimistic saves
//   scheduler.task_instances  one row per (run, task): state, try, times, exit code, message
//   scheduler.task_logs       append-only chunks per (run, task, try), bytea (any output)
//
// SaveRun writes the run row and all its task rows in one transaction; an update is
// `UPDATE ... WHERE version = $read`, and no row updated means someone else saved first
// (FailedPrecondition: reload). TryLockDag takes a session advisory lock, held while this
// object's connection lives, so one process executes a DAG at a time.
//
// Thread-safety: every method may be called from any thread; one mutex serializes them over one
// connection (the task runner's log pumps append while the executor saves). A lost connection
// is reopened on the next call (locks held are taken again); the failed call returns
// Unavailable.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "pg/connection.h"
#include "scheduler/run_store.h"

namespace pinpipe::scheduler {

class PgRunStore final : public RunStore {
 public:
  // Connects and creates the schema if missing. With `create_database`, a missing database
  // (the DSN's dbname) is created first through the maintenance database "postgres".
  // Errors: as pg::Connection::Open and Exec.
  static StatusOr<std::unique_ptr<PgRunStore>> Open(const std::string& dsn,
                                                    bool create_database = false);

  StatusOr<std::vector<DagRun>> LoadRuns(std::string_view dag_id) override;
  Status SaveRun(DagRun* run) override;
  Status AppendTaskLog(std::string_view dag_id, const RunId& run_id, std::string_view task_id,
                       int try_number, std::string_view text) override;
  StatusOr<std::string> ReadTaskLog(std::string_view dag_id, const RunId& run_id,
                                    std::string_view task_id, int try_number) override;
  StatusOr<bool> IsPaused(std::string_view dag_id) override;
  Status SetPaused(std::string_view dag_id, bool paused) override;
  StatusOr<bool> TryLockDag(std::string_view dag_id) override;

  // The schema's DDL (idempotent), for the docs and tests.
  static const char* SchemaSql();

 private:
  PgRunStore(std::string dsn, pg::Connection conn) : dsn_(std::move(dsn)), conn_(std::move(conn)) {}
  // Reopens the connection if it was lost (and re-takes the DAG locks).
  Status EnsureConnected() REQUIRES(mutex_);
  Status SaveRunLocked(DagRun* run) REQUIRES(mutex_);

  const std::string dsn_;
  core::Mutex mutex_;
  // Guarded by mutex_:
  pg::Connection conn_ GUARDED_BY(mutex_);
  std::set<std::string> locked_dags_ GUARDED_BY(mutex_);
};

}  // namespace pinpipe::scheduler
