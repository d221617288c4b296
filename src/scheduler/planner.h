// Planner: the scheduling policy of one DAG as pure functions of (spec, now, runs). No clock,
// no I/O: the executor passes the time in, applies the decisions and persists what changed, so
// every rule here is tested by feeding states and times.
//
// Intervals (Airflow semantics): the schedule's fire times t0 < t1 < ... (t0 the first at or
// after start_date) cut time into data intervals [t_i, t_i+1). The run for [t_i, t_i+1) is
// created once t_i+1 <= now, i.e. when its data is complete; daily at midnight, the run for
// 2024-01-01 is created at 2024-01-02T00:00. With catchup, every interval since the last
// scheduled run (or since start_date) gets its run, oldest first; without, only the latest
// complete interval. No interval starts after end_date. Intervals that already have a run of
// any kind (a backfill) are skipped.
//
// One executor tick:
//   runs = store.LoadRuns(dag);  d = planner.Decide(now, runs);
//   for each d.time_out: runner.Stop(...)  (its outcome then comes back as kTimedOut)
//   changed = planner.Apply(d, now, &runs);  save runs[changed];
//   for each d.start: runner.Start(planner.MakeRequest(...))  (on error: RecordOutcome kFailed)
//   for each d.sla_misses: alert;  sleep until d.wake_at or a task ends;
//   for each ended try: planner.RecordOutcome(...); save the run.
//
// Thread-safety: const methods only; a Planner may be shared between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "scheduler/dag_spec.h"
#include "scheduler/data_interval.h"
#include "scheduler/run.h"
#include "scheduler/task_runner.h"

namespace pinpipe::scheduler {

// One task of one run: spec task index and a try number (the try to start, or the running try).
struct TaskRef {
  RunId run_id;
  size_t task_index = 0;
  int try_number = 0;
  friend bool operator==(const TaskRef&, const TaskRef&) = default;
};

// A run still unfinished at its deadline (interval end + sla), or finished after it.
struct SlaMiss {
  RunId run_id;
  DataInterval interval;
  Instant deadline;
  friend bool operator==(const SlaMiss&, const SlaMiss&) = default;
};

// A run whose tasks are all done: success if every task succeeded, else failed. It ended when
// its last task did (or now, when tasks were just marked upstream_failed).
struct RunFinish {
  RunId run_id;
  RunState state = RunState::kSuccess;
  Instant ended_at;
  friend bool operator==(const RunFinish&, const RunFinish&) = default;
};

struct Decisions {
  std::vector<DataInterval> create_runs;  // new scheduled runs, oldest first
  std::vector<TaskRef> start;             // tries to start now (their runs may be new ones)
  std::vector<TaskRef> time_out;          // running tries past their timeout: stop them
  std::vector<TaskRef> upstream_failed;   // pending tasks that can never run
  std::vector<RunFinish> finish_runs;     // every task done
  std::vector<SlaMiss> sla_misses;        // each reported once per run
  // The next instant at which Decide may answer differently without a try ending (an interval
  // ends, a retry delay or a timeout expires, an SLA deadline passes); nullopt: none.
  std::optional<Instant> wake_at;

  bool empty() const {
    return create_runs.empty() && start.empty() && time_out.empty() && upstream_failed.empty() &&
           finish_runs.empty() && sla_misses.empty();
  }
};

// Which intervals of a date range Backfill runs again:
//   skip-done    only intervals without a run; every existing run is left as it is
//   redo-failed  also failed runs: their failed and upstream_failed tasks run again
//   redo-all     every interval: finished runs start over from scratch
// Runs still queued or running are never touched.
enum class BackfillMode : uint8_t { kSkipDone, kRedoFailed, kRedoAll };
std::string_view BackfillModeName(BackfillMode mode);  // "skip-done", ...
StatusOr<BackfillMode> ParseBackfillMode(std::string_view name);

struct BackfillItem {
  enum class Action : uint8_t { kCreate, kRerunFailed, kRerunAll, kSkip };
  DataInterval interval;
  Action action = Action::kCreate;
  std::optional<RunId> existing;  // the run there already
  std::string reason;             // kSkip: why ("already succeeded", "run in progress", ...)
  friend bool operator==(const BackfillItem&, const BackfillItem&) = default;
};

class Planner {
 public:
  explicit Planner(DagSpec spec) : spec_(std::move(spec)) {}
  const DagSpec& spec() const { return spec_; }

  // What to do at `now`, given every run of the DAG (any order). Pure.
  Decisions Decide(Instant now, const std::vector<DagRun>& runs) const;

  // Applies the state changes of `decisions` (which must come from Decide on these runs):
  // appends the new runs, marks started tries running (and their runs running), pending tasks
  // upstream_failed, finished runs success/failed, reported SLA misses. Returns the indexes of
  // the runs changed, ascending (to save).
  std::vector<size_t> Apply(const Decisions& decisions, Instant now,
                            std::vector<DagRun>* runs) const;

  // Records the end of a try: success; a failure or timeout with tries left becomes
  // up_for_retry, due at now + RetryPolicy::DelayAfterTry; without, failed. NotFound for an
  // unknown task; FailedPrecondition if that try is not the running one (a stale report).
  Status RecordOutcome(DagRun* run, std::string_view task_id, int try_number,
                       const TaskOutcome& outcome, Instant now) const;

  // The request for a try, templates rendered. `task_index` indexes spec().tasks.
  TaskRequest MakeRequest(const DagRun& run, size_t task_index, int try_number) const;

  // A new run of the interval, every task pending.
  DagRun NewRun(const DataInterval& interval, RunKind kind, Instant now) const;

  // The scheduled interval that starts at the first fire time >= t ([t_i, t_i+1)); nullopt if
  // the schedule does not fire again before the year 9999.
  std::optional<DataInterval> IntervalAtOrAfter(Instant t) const;

  // The intervals of [from, to) (by interval start) and what to do with each; only intervals
  // that have ended by `now`, start at or after start_date and not after end_date.
  // InvalidArgument if from >= to or the range holds more than kMaxBackfillIntervals.
  StatusOr<std::vector<BackfillItem>> Backfill(Instant from, Instant to, BackfillMode mode,
                                               Instant now, const std::vector<DagRun>& runs) const;
  // Creates (kind backfill) or resets the runs of `items`. Returns the changed indexes.
  std::vector<size_t> ApplyBackfill(const std::vector<BackfillItem>& items, Instant now,
                                    std::vector<DagRun>* runs) const;

  static constexpr size_t kMaxNewRunsPerDecide = 1000;
  static constexpr size_t kMaxBackfillIntervals = 100000;

 private:
  DagSpec spec_;
};

}  // namespace pinpipe::scheduler
