#include "scheduler/executor.h"

#include <algorithm>

#include <fmt/format.h>

#include "log/logger.h"

namespace pinpipe::scheduler {
namespace {

std::string_view ResultName(TryResult r) {
  switch (r) {
    case TryResult::kSuccess: return "success";
    case TryResult::kFailed: return "failed";
    case TryResult::kTimedOut: return "timed_out";
  }
  return "?";
}

}  // namespace

Executor::Executor(std::vector<DagSpec> dags, RunStore* store, TaskRunner* runner,
                   ExecutorOptions options)
    : store_(store), runner_(runner), options_(std::move(options)) {
  for (DagSpec& spec : dags) dags_.push_back(Dag{Planner(std::move(spec)), false, false, {}});
  if (options_.metrics != nullptr) {
    sla_counter_ = options_.metrics->AddCounter("pinpipe_scheduler_sla_misses_total",
                                                "Runs not finished by their SLA deadline", {"dag"});
    tries_counter_ = options_.metrics->AddCounter("pinpipe_scheduler_tries_total",
                                                  "Task tries ended, by result", {"dag", "result"});
    runs_counter_ = options_.metrics->AddCounter("pinpipe_scheduler_runs_finished_total",
                                                 "DAG runs finished, by state", {"dag", "state"});
  }
}

Instant Executor::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

void Executor::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
    return;
  }
  static const log::Logger logger("scheduler");
  logger.Info("{}", line);
}

bool Executor::Save(Dag& dag, size_t i) {
  Status s = store_->SaveRun(&dag.runs[i]);
  if (s.ok()) return true;
  Log(fmt::format("{}: saving run {}: {} (reloading next tick)", dag.planner.spec().id,
                  dag.runs[i].id.str(), s.ToString()));
  return false;
}

StatusOr<std::optional<Instant>> Executor::Tick() {
  std::optional<Instant> wake;
  Status last_error;
  size_t failures = 0;
  const Instant now = Now();
  for (size_t i = 0; i < dags_.size(); ++i) {
    StatusOr<std::optional<Instant>> w = TickDag(i, now);
    if (!w.ok()) {
      ++failures;
      last_error = w.status();
      Log(fmt::format("{}: {} (retrying)", dags_[i].planner.spec().id, w.status().ToString()));
      continue;
    }
    if (*w && (!wake || **w < *wake)) wake = *w;
  }
  if (failures > 0 && failures == dags_.size()) return last_error;
  return wake;
}

void Executor::CollectOutcomes(size_t index, Instant now) {
  Dag& dag = dags_[index];
  const std::string& dag_id = dag.planner.spec().id;
  for (auto it = live_.begin(); it != live_.end();) {
    LiveTry& live = it->second;
    if (live.dag != index) {
      ++it;
      continue;
    }
    std::optional<TaskOutcome> outcome = runner_->Poll(it->first);
    if (!outcome) {
      ++it;
      continue;
    }
    if (live.shut_down) {
      outcome->result = TryResult::kFailed;
      outcome->message = "scheduler shut down while the try ran (" + outcome->message + ")";
    } else if (live.timed_out) {
      outcome->result = TryResult::kTimedOut;
      const auto timeout =
          dag.planner.spec().tasks[*dag.planner.spec().TaskIndex(live.task_id)].timeout.value_or(
              std::chrono::seconds(0));
      outcome->message = fmt::format("timed out after {}s: {}", timeout.count(), outcome->message);
    }
    auto run = std::find_if(dag.runs.begin(), dag.runs.end(),
                            [&](const DagRun& r) { return r.id == live.run_id; });
    if (run == dag.runs.end()) {
      Log(fmt::format("{}: run {} of an ended try is gone; dropping its outcome", dag_id,
                      live.run_id.str()));
      it = live_.erase(it);
      continue;
    }
    Status s = dag.planner.RecordOutcome(&*run, live.task_id, live.try_number, *outcome, now);
    if (!s.ok()) {
      // Stale (a backfill reset the task meanwhile): the try no longer counts.
      Log(fmt::format("{}: {} (dropping the outcome)", dag_id, s.ToString()));
      it = live_.erase(it);
      continue;
    }
    if (TaskInstance* ti = run->FindTask(live.task_id)) ti->exit_code = outcome->exit_code;
    if (!Save(dag, static_cast<size_t>(run - dag.runs.begin()))) {
      ++it;  // Poll keeps answering; recorded again on the reloaded runs next tick
      continue;
    }
    if (tries_counter_ != nullptr) {
      tries_counter_->With({dag_id, std::string(ResultName(outcome->result))})->Inc();
    }
    const TaskInstance* ti = run->FindTask(live.task_id);
    Log(fmt::format("{}: {} {} try {}: {}{}", dag_id, run->id.str(), live.task_id, live.try_number,
                    ResultName(outcome->result),
                    outcome->result == TryResult::kSuccess
                        ? std::string()
                        : fmt::format(" ({}) -> {}", outcome->message, TaskStateName(ti->state))));
    it = live_.erase(it);
  }
}

StatusOr<std::optional<Instant>> Executor::TickDag(size_t index, Instant now) {
  Dag& dag = dags_[index];
  const Planner& planner = dag.planner;
  const std::string& dag_id = planner.spec().id;
  if (!dag.locked) {
    ASSIGN_OR_RETURN(dag.locked, store_->TryLockDag(dag_id));
    if (!dag.locked) {
      if (!dag.lock_warned) {
        Log(fmt::format("{}: another process executes this DAG (its lock is taken); waiting",
                        dag_id));
      }
      dag.lock_warned = true;
      // Read-only, so a foreground backfill can follow the runs the lock holder executes.
      ASSIGN_OR_RETURN(dag.runs, store_->LoadRuns(dag_id));
      return std::optional<Instant>();
    }
    if (dag.lock_warned) Log(fmt::format("{}: lock taken; executing", dag_id));
  }
  ASSIGN_OR_RETURN(dag.runs, store_->LoadRuns(dag_id));
  CollectOutcomes(index, now);

  // Orphans: running in the store, but not started by this executor. Holding the DAG's lock,
  // no other live process can own them.
  std::set<std::pair<RunId, std::string>> mine;
  for (const auto& [handle, live] : live_) {
    if (live.dag == index) mine.emplace(live.run_id, live.task_id);
  }
  for (size_t r = 0; r < dag.runs.size(); ++r) {
    DagRun& run = dag.runs[r];
    bool changed = false;
    for (TaskInstance& ti : run.tasks) {
      if (ti.state != TaskState::kRunning || mine.contains({run.id, ti.task_id})) continue;
      const TaskOutcome orphan{TryResult::kFailed, -1,
                               "no live process: the scheduler stopped or died while this try "
                               "ran"};
      if (planner.RecordOutcome(&run, ti.task_id, ti.try_number, orphan, now).ok()) {
        ti.exit_code.reset();
        store_
            ->AppendTaskLog(dag_id, run.id, ti.task_id, ti.try_number,
                            "[pinpipe] " + orphan.message + "\n")
            .IgnoreError();
        Log(fmt::format("{}: {} {} try {}: {} -> {}", dag_id, run.id.str(), ti.task_id,
                        ti.try_number, orphan.message, TaskStateName(ti.state)));
        changed = true;
      }
    }
    if (changed && !Save(dag, r)) return std::optional<Instant>(now);
  }

  ASSIGN_OR_RETURN(bool paused, store_->IsPaused(dag_id));
  Decisions d = planner.Decide(now, dag.runs);
  if (paused || draining_) {
    d.create_runs.clear();
    d.start.clear();
  }
  if (options_.only_runs) {
    d.create_runs.clear();
    const auto it = options_.only_runs->find(dag_id);
    std::erase_if(d.start, [&](const TaskRef& ref) {
      return it == options_.only_runs->end() || !it->second.contains(ref.run_id);
    });
  }
  for (const TaskRef& ref : d.time_out) {
    for (auto& [handle, live] : live_) {
      if (live.dag == index && live.run_id == ref.run_id &&
          live.task_id == planner.spec().tasks[ref.task_index].id &&
          live.try_number == ref.try_number && !live.timed_out) {
        live.timed_out = true;
        Log(fmt::format("{}: {} {} try {}: timeout, stopping it", dag_id, ref.run_id.str(),
                        live.task_id, live.try_number));
        runner_->Stop(handle);
      }
    }
  }
  const std::vector<size_t> changed = planner.Apply(d, now, &dag.runs);
  std::set<RunId> unsaved;
  for (size_t i : changed) {
    if (!Save(dag, i)) {
      unsaved.insert(dag.runs[i].id);
      continue;
    }
    const DagRun& run = dag.runs[i];
    for (const RunFinish& f : d.finish_runs) {
      if (f.run_id != run.id) continue;
      Log(fmt::format("{}: run {} {}", dag_id, run.id.str(), RunStateName(run.state)));
      if (runs_counter_ != nullptr) {
        runs_counter_->With({dag_id, std::string(RunStateName(run.state))})->Inc();
      }
    }
  }
  for (const DataInterval& interval : d.create_runs) {
    Log(fmt::format("{}: new run for {}", dag_id, interval.ToString()));
  }
  for (const SlaMiss& miss : d.sla_misses) {
    if (unsaved.contains(miss.run_id)) continue;
    ++sla_misses_;
    if (sla_counter_ != nullptr) sla_counter_->With({dag_id})->Inc();
    Log(fmt::format("{}: SLA MISSED: run {} for {} was not finished by {}", dag_id,
                    miss.run_id.str(), miss.interval.ToString(), FormatUtc(miss.deadline)));
  }
  for (const TaskRef& ref : d.start) {
    if (unsaved.contains(ref.run_id)) continue;  // its running state is not stored: do not run
    auto run = std::find_if(dag.runs.begin(), dag.runs.end(),
                            [&](const DagRun& r) { return r.id == ref.run_id; });
    if (run == dag.runs.end()) continue;
    const TaskRequest request = planner.MakeRequest(*run, ref.task_index, ref.try_number);
    StatusOr<TaskHandle> handle = runner_->Start(request);
    if (handle.ok()) {
      live_.emplace(*handle, LiveTry{index, run->id, request.task_id, ref.try_number});
      Log(fmt::format("{}: {} {} try {}: started", dag_id, run->id.str(), request.task_id,
                      ref.try_number));
      continue;
    }
    const TaskOutcome failed{TryResult::kFailed, -1,
                             "did not start: " + handle.status().ToString()};
    store_
        ->AppendTaskLog(dag_id, run->id, request.task_id, ref.try_number,
                        "[pinpipe] " + failed.message + "\n")
        .IgnoreError();
    if (planner.RecordOutcome(&*run, request.task_id, ref.try_number, failed, now).ok()) {
      Log(fmt::format("{}: {} {} try {}: {}", dag_id, run->id.str(), request.task_id,
                      ref.try_number, failed.message));
      Save(dag, static_cast<size_t>(run - dag.runs.begin()));
    }
  }
  return d.wake_at;
}

void Executor::Run(std::stop_token stop) {
  while (!stop.stop_requested() && !stop_requested_.stop_requested()) {
    StatusOr<std::optional<Instant>> wake = Tick();
    std::chrono::milliseconds wait = options_.max_idle;
    if (wake.ok() && *wake) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(**wake - Now());
      wait = std::clamp(until, std::chrono::milliseconds(0), options_.max_idle);
    }
    if (wait.count() > 0 && !stop.stop_requested() && !stop_requested_.stop_requested())
      runner_->WaitForEnd(wait);
  }
  Drain();
}

bool Executor::RunUntilDone(std::stop_token stop) {
  while (!stop.stop_requested() && !stop_requested_.stop_requested()) {
    StatusOr<std::optional<Instant>> wake = Tick();
    bool done = wake.ok() && options_.only_runs.has_value();
    if (done) {
      for (const Dag& dag : dags_) {
        const auto it = options_.only_runs->find(dag.planner.spec().id);
        if (it == options_.only_runs->end()) continue;
        for (const RunId& id : it->second) {
          auto run = std::find_if(dag.runs.begin(), dag.runs.end(),
                                  [&](const DagRun& r) { return r.id == id; });
          done = done && (run == dag.runs.end() || run->Done());
        }
      }
    }
    if (done && live_.empty()) return true;
    std::chrono::milliseconds wait = options_.max_idle;
    if (wake.ok() && *wake) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(**wake - Now());
      wait = std::clamp(until, std::chrono::milliseconds(0), options_.max_idle);
    }
    if (wait.count() > 0) runner_->WaitForEnd(wait);
  }
  Drain();
  return false;
}

void Executor::Drain() {
  draining_ = true;
  if (live_.empty()) return;
  Log(fmt::format("stopping: waiting up to {}s for {} running tr{}",
                  options_.drain_timeout.count() / 1000, live_.size(),
                  live_.size() == 1 ? "y" : "ies"));
  using Steady = std::chrono::steady_clock;
  const Steady::time_point deadline = Steady::now() + options_.drain_timeout;
  bool stopped = false;
  // Bounded: after the drain timeout every try is stopped (SIGKILL at the latest after the
  // runner's grace), so live_ empties unless the store stays unreachable.
  const Steady::time_point give_up = deadline + std::chrono::minutes(5);
  while (!live_.empty() && Steady::now() < give_up) {
    if (!stopped && Steady::now() >= deadline) {
      Log(fmt::format("stopping {} tr{} still running", live_.size(),
                      live_.size() == 1 ? "y" : "ies"));
      for (auto& [handle, live] : live_) {
        live.shut_down = true;
        runner_->Stop(handle);
      }
      stopped = true;
    }
    Tick().status().IgnoreError();
    if (!live_.empty()) runner_->WaitForEnd(std::chrono::milliseconds(200));
  }
}

}  // namespace pinpipe::scheduler
