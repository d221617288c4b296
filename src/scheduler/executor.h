// Executor: the scheduler's loop (sketched in planner.h) over the DAGs of one process. Each
// Tick(), per DAG: record the outcomes of ended tries, declare orphaned tries failed, let the
// Planner decide, stop timed-out tries, apply and save the decisions, report SLA misses, start
// tries. Run() repeats Tick() and sleeps until the earliest wake-up, a try's end, or
// `max_idle` (so triggers, backfills and pauses made by the CLI are seen within max_idle).
//
// Restart safety. Everything the executor knows is in the RunStore; it keeps only the handles of
// the tries it started itself. A try the store shows running that this executor did not start
// has no live process (its scheduler died: the children die with it, PR_SET_PDEATHSIG), so it
// is recorded as a failed try ("no live process") and retried per the task's retry policy;
// finished tasks are never re-run. This is only sound while one process executes a DAG: the
// executor first takes the DAG's lock (RunStore::TryLockDag) and skips DAGs whose lock another
// process holds (a daemon, or a foreground `backfill`).
//
// Shutdown (RequestStop/stop token): no new runs or tries; running tries get `drain_timeout` to
// finish and are recorded normally; then the rest are stopped (SIGTERM, SIGKILL) and recorded as
// failed tries ("scheduler shut down"), to be retried after the restart.
//
// Thread-safety: one thread calls Tick/Run (the runner's Start must come from a long-lived
// thread, see ProcessTaskRunner); RequestStop from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "scheduler/planner.h"
#include "scheduler/run_store.h"
#include "scheduler/task_runner.h"

namespace pinpipe::scheduler {

struct ExecutorOptions {
  // The clock (tests pass a fake one). Default: the system clock, whole seconds.
  std::function<Instant()> now;
  // Where progress lines go (default: the log, component "scheduler", level info).
  std::function<void(const std::string&)> log;
  core::Registry* metrics = nullptr;  // counters when set (borrowed)
  std::chrono::milliseconds max_idle = std::chrono::seconds(2);
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(60);
  // A foreground backfill: create no scheduled runs, start only tries of these runs (per DAG id).
  std::optional<std::map<std::string, std::set<RunId>>> only_runs;
};

class Executor {
 public:
  // Borrows `store` and `runner` (they must outlive the executor).
  Executor(std::vector<DagSpec> dags, RunStore* store, TaskRunner* runner, ExecutorOptions options);

  // One pass over every DAG. Returns the earliest instant at which a DAG's decisions change on
  // their own (nullopt: none). A DAG whose store calls fail is logged and retried next tick;
  // the error of the last failing DAG is returned only when every DAG failed.
  StatusOr<std::optional<Instant>> Tick();

  // Ticks until `stop` is requested (or RequestStop), then drains (see above).
  void Run(std::stop_token stop);
  // Ticks until every run in options.only_runs is done (or `stop`); false if stopped early.
  bool RunUntilDone(std::stop_token stop);
  void RequestStop() { stop_requested_.request_stop(); }

  // Tries started by this executor whose outcome is not recorded yet.
  size_t live() const { return live_.size(); }
  // The runs of a DAG as the last tick saw them (after its saves).
  const std::vector<DagRun>& runs(size_t dag_index) const { return dags_[dag_index].runs; }
  size_t sla_misses() const { return sla_misses_; }

 private:
  struct Dag {
    Planner planner;
    bool locked = false;
    bool lock_warned = false;
    std::vector<DagRun> runs;
  };
  struct LiveTry {
    size_t dag = 0;
    RunId run_id;
    std::string task_id;
    int try_number = 0;
    bool timed_out = false;  // stopped for its timeout
    bool shut_down = false;  // stopped because the scheduler stops
  };

  StatusOr<std::optional<Instant>> TickDag(size_t index, Instant now);
  // Records outcomes of this DAG's ended tries into `runs` and saves; keeps unsaved ones live.
  void CollectOutcomes(size_t index, Instant now);
  // Saves runs[i]; logs a failure.
  bool Save(Dag& dag, size_t i);
  void Log(const std::string& line) const;
  Instant Now() const;
  void Drain();

  std::vector<Dag> dags_;
  RunStore* store_;
  TaskRunner* runner_;
  ExecutorOptions options_;
  std::map<TaskHandle, LiveTry> live_;
  bool draining_ = false;
  std::stop_source stop_requested_;  // RequestStop(), besides the token Run() is given
  size_t sla_misses_ = 0;
  core::CounterFamily* sla_counter_ = nullptr;
  core::CounterFamily* tries_counter_ = nullptr;
  core::CounterFamily* runs_counter_ = nullptr;
};

}  // namespace pinpipe::scheduler
