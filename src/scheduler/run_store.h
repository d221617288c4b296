// RunStore: where the history of DAG runs lives (PostgreSQL: pg_run_store.h; in memory for
// tests: tests/testing/in_memory_run_store.h). The executor loads the runs of a DAG, lets the
// Planner decide and change them, and saves every run it changed; task output goes to an
// append-only log per try.
//
// Saves are optimistic: DagRun::version is the version the caller read; a save whose version is
// not the stored one is refused with FailedPrecondition (someone else changed the run: reload),
// so two schedulers on one history cannot overwrite each other. The PostgreSQL implementation
// maps this to `UPDATE ... WHERE version = $read` in the transaction that writes the task rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scheduler/run.h"

namespace pinpipe::scheduler {

class RunStore {
 public:
  virtual ~RunStore() = default;

  // Every run of the DAG with its task instances, ordered by interval start (an empty vector if
  // there are none). Unavailable when the store cannot be reached (retriable).
  virtual StatusOr<std::vector<DagRun>> LoadRuns(std::string_view dag_id) = 0;

  // Inserts the run (run->version 0: AlreadyExists if its id exists) or replaces it (version
  // must equal the stored one: else FailedPrecondition), with all its task instances, atomically.
  // On success run->version is the new stored version.
  virtual Status SaveRun(DagRun* run) = 0;

  // Appends `text` to the log of one try of a task.
  virtual Status AppendTaskLog(std::string_view dag_id, const RunId& run_id,
                               std::string_view task_id, int try_number, std::string_view text) = 0;
  // The log of one try; empty if nothing was appended.
  virtual StatusOr<std::string> ReadTaskLog(std::string_view dag_id, const RunId& run_id,
                                            std::string_view task_id, int try_number) = 0;

  // Per-DAG state outside the runs. The defaults suit a store used by one process (tests):
  // never paused, pausing unsupported, every DAG lock granted.
  //
  // Whether the DAG is paused (no new runs, no new tries; running tries finish).
  virtual StatusOr<bool> IsPaused(std::string_view /*dag_id*/) { return false; }
  virtual Status SetPaused(std::string_view /*dag_id*/, bool /*paused*/) {
    return FailedPrecondition("this run store does not keep pause state");
  }
  // Claims the right to execute the DAG's tries for the life of this store object (PostgreSQL:
  // a session advisory lock), so that a daemon and a foreground backfill never both start tries
  // of one DAG or declare each other's running tries orphaned. false: someone else holds it.
  virtual StatusOr<bool> TryLockDag(std::string_view /*dag_id*/) { return true; }
};

}  // namespace pinpipe::scheduler
