#include "scheduler/planner.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace pinpipe::scheduler {
namespace {

using std::chrono::seconds;

bool IsDone(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailed || s == TaskState::kUpstreamFailed;
}

void Earliest(std::optional<Instant>* wake, Instant t) {
  if (!*wake || t < **wake) *wake = t;
}

// Puts a task back to pending with a fresh retry budget; try numbers keep counting so that the
// logs of earlier tries stay apart.
void ResetTask(const TaskSpec& spec, TaskInstance* task) {
  task->state = TaskState::kPending;
  task->max_tries = task->try_number + spec.retry.retries + 1;
  task->started_at.reset();
  task->ended_at.reset();
  task->retry_at.reset();
  task->message.clear();
}

constexpr std::string_view kModeNames[] = {"skip-done", "redo-failed", "redo-all"};

}  // namespace

std::string_view BackfillModeName(BackfillMode mode) {
  return kModeNames[static_cast<size_t>(mode)];
}

StatusOr<BackfillMode> ParseBackfillMode(std::string_view name) {
  for (size_t i = 0; i < std::size(kModeNames); ++i) {
    if (kModeNames[i] == name) return static_cast<BackfillMode>(i);
  }
  return InvalidArgument(
      fmt::format("unknown backfill mode \"{}\" (known: skip-done, redo-failed, redo-all)", name));
}

std::optional<DataInterval> Planner::IntervalAtOrAfter(Instant t) const {
  const std::optional<Instant> start = spec_.schedule.Next(t - seconds(1), spec_.timezone);
  if (!start) return std::nullopt;
  const std::optional<Instant> end = spec_.schedule.Next(*start, spec_.timezone);
  if (!end) return std::nullopt;
  return DataInterval{*start, *end};
}

DagRun Planner::NewRun(const DataInterval& interval, RunKind kind, Instant now) const {
  DagRun run;
  run.dag_id = spec_.id;
  run.id = MakeRunId(kind, interval);
  run.kind = kind;
  run.interval = interval;
  run.state = RunState::kQueued;
  run.queued_at = now;
  for (const TaskSpec& task : spec_.tasks) {
    TaskInstance ti;
    ti.task_id = task.id;
    ti.max_tries = task.retry.retries + 1;
    run.tasks.push_back(std::move(ti));
  }
  return run;
}

Decisions Planner::Decide(Instant now, const std::vector<DagRun>& runs) const {
  Decisions d;
  const size_t task_count = spec_.tasks.size();

  // 1. New scheduled runs.
  std::set<Instant> taken;  // interval starts that have a run
  const DagRun* latest_scheduled = nullptr;
  for (const DagRun& run : runs) {
    taken.insert(run.interval.start);
    if (run.kind == RunKind::kScheduled &&
        (latest_scheduled == nullptr || run.interval.end > latest_scheduled->interval.end)) {
      latest_scheduled = &run;
    }
  }
  const Instant first_start =
      latest_scheduled != nullptr ? latest_scheduled->interval.end : spec_.start_date;
  auto within_end_date = [&](Instant start) { return !spec_.end_date || start <= *spec_.end_date; };
  std::vector<DagRun> new_runs;
  if (spec_.catchup) {
    std::optional<DataInterval> interval = IntervalAtOrAfter(first_start);
    // Bounded: intervals already taken (backfilled) are skipped without counting as new.
    for (size_t steps = 0; interval && within_end_date(interval->start); ++steps) {
      if (interval->end > now) {
        Earliest(&d.wake_at, interval->end);
        break;
      }
      if (d.create_runs.size() == kMaxNewRunsPerDecide ||
          steps > kMaxNewRunsPerDecide + runs.size()) {
        Earliest(&d.wake_at, now);  // more next time
        break;
      }
      if (!taken.contains(interval->start)) d.create_runs.push_back(*interval);
      interval = IntervalAtOrAfter(interval->end);
    }
  } else {
    // The latest interval that has ended: [Prev(e), e) with e the last fire time <= now.
    const std::optional<Instant> end = spec_.schedule.Prev(now + seconds(1), spec_.timezone);
    const std::optional<Instant> start =
        end ? spec_.schedule.Prev(*end, spec_.timezone) : std::nullopt;
    const std::optional<DataInterval> first = IntervalAtOrAfter(first_start);
    if (start && first && *start >= first->start && within_end_date(*start) &&
        !taken.contains(*start)) {
      d.create_runs.push_back({*start, *end});
    }
    if (const std::optional<Instant> next = spec_.schedule.Next(now, spec_.timezone)) {
      const std::optional<Instant> next_start =
          end ? std::optional<Instant>(*end) : spec_.schedule.Prev(*next, spec_.timezone);
      if (next_start && within_end_date(*next_start)) Earliest(&d.wake_at, *next);
    }
  }
  for (const DataInterval& interval : d.create_runs) {
    new_runs.push_back(NewRun(interval, RunKind::kScheduled, now));
  }

  // Every run, oldest interval first (new runs included: their first tasks may start now).
  std::vector<const DagRun*> order;
  for (const DagRun& run : runs) order.push_back(&run);
  for (const DagRun& run : new_runs) order.push_back(&run);
  std::stable_sort(order.begin(), order.end(), [](const DagRun* a, const DagRun* b) {
    return a->interval.start < b->interval.start;
  });

  // 2. Per run: upstream failures, timeouts, completion, SLA, and the tries that could start.
  struct Candidate {
    const DagRun* run;
    size_t task;
    int try_number;
  };
  std::vector<Candidate> candidates;
  int running_runs = 0;
  int running_tasks = 0;
  std::vector<const TaskInstance*> instances(task_count);
  std::vector<TaskState> state(task_count);
  for (const DagRun* run : order) {
    for (const TaskInstance& ti : run->tasks) {
      if (ti.state == TaskState::kRunning) ++running_tasks;
    }
    if (run->Done()) continue;
    // The run's instance of each spec task (a task added to the file since is pending).
    for (size_t i = 0; i < task_count; ++i) {
      instances[i] = run->FindTask(spec_.tasks[i].id);
      state[i] = instances[i] != nullptr ? instances[i]->state : TaskState::kPending;
    }
    for (size_t i : spec_.topological_order) {
      if (state[i] != TaskState::kPending) continue;
      for (size_t up : spec_.tasks[i].upstream) {
        if (state[up] == TaskState::kFailed || state[up] == TaskState::kUpstreamFailed) {
          state[i] = TaskState::kUpstreamFailed;
          d.upstream_failed.push_back({run->id, i, instances[i] ? instances[i]->try_number : 0});
          break;
        }
      }
    }
    bool all_done = true;
    bool all_success = true;
    Instant last_end = run->queued_at;  // when the last task ended
    for (size_t i : spec_.topological_order) {
      const TaskInstance* ti = instances[i];
      all_done = all_done && IsDone(state[i]);
      all_success = all_success && state[i] == TaskState::kSuccess;
      if (IsDone(state[i])) {
        const bool ended_now = state[i] == TaskState::kUpstreamFailed && (!ti || !ti->ended_at);
        last_end = std::max(last_end, ended_now ? now : ti->ended_at.value_or(now));
      }
      if (state[i] == TaskState::kRunning && spec_.tasks[i].timeout && ti && ti->started_at) {
        const Instant deadline = *ti->started_at + *spec_.tasks[i].timeout;
        if (now >= deadline) {
          d.time_out.push_back({run->id, i, ti->try_number});
        } else {
          Earliest(&d.wake_at, deadline);
        }
      }
      const int try_number = ti ? ti->try_number : 0;
      if (state[i] == TaskState::kUpForRetry) {
        if (ti->retry_at && *ti->retry_at > now) {
          Earliest(&d.wake_at, *ti->retry_at);
        } else {
          candidates.push_back({run, i, try_number + 1});
        }
      } else if (state[i] == TaskState::kPending) {
        bool ready = true;
        for (size_t up : spec_.tasks[i].upstream) ready = ready && state[up] == TaskState::kSuccess;
        if (ready) candidates.push_back({run, i, try_number + 1});
      }
    }
    if (all_done) {
      d.finish_runs.push_back(
          {run->id, all_success ? RunState::kSuccess : RunState::kFailed, last_end});
    } else if (run->state == RunState::kRunning) {
      ++running_runs;
    }
    // SLA: scheduled runs only (a backfill of last year is late by design).
    if (spec_.sla && run->kind == RunKind::kScheduled && !run->sla_missed) {
      const Instant deadline = run->interval.end + *spec_.sla;
      const bool late = all_done ? last_end > deadline : now >= deadline;
      if (late) {
        d.sla_misses.push_back({run->id, run->interval, deadline});
      } else if (!all_done) {
        Earliest(&d.wake_at, deadline);
      }
    }
  }

  // 3. Start what the limits allow: oldest run first, upstream tasks first.
  std::set<const DagRun*> activated;
  for (const Candidate& c : candidates) {
    if (running_tasks >= spec_.max_active_tasks) break;
    if (c.run->state != RunState::kRunning && !activated.contains(c.run)) {
      if (running_runs >= spec_.max_active_runs) continue;
      activated.insert(c.run);
      ++running_runs;
    }
    d.start.push_back({c.run->id, c.task, c.try_number});
    ++running_tasks;
  }
  return d;
}

std::vector<size_t> Planner::Apply(const Decisions& decisions, Instant now,
                                   std::vector<DagRun>* runs) const {
  std::set<size_t> changed;
  for (const DataInterval& interval : decisions.create_runs) {
    runs->push_back(NewRun(interval, RunKind::kScheduled, now));
    changed.insert(runs->size() - 1);
  }
  std::map<RunId, size_t> index;
  for (size_t i = 0; i < runs->size(); ++i) index.emplace((*runs)[i].id, i);
  // The run and its instance of a spec task (added if the run predates the task).
  auto find = [&](const RunId& id, size_t task) -> std::pair<DagRun*, TaskInstance*> {
    const auto it = index.find(id);
    if (it == index.end() || task >= spec_.tasks.size()) return {nullptr, nullptr};
    DagRun& run = (*runs)[it->second];
    changed.insert(it->second);
    TaskInstance* ti = run.FindTask(spec_.tasks[task].id);
    if (ti == nullptr) {
      TaskInstance added;
      added.task_id = spec_.tasks[task].id;
      added.max_tries = spec_.tasks[task].retry.retries + 1;
      run.tasks.push_back(std::move(added));
      ti = &run.tasks.back();
    }
    return {&run, ti};
  };
  for (const TaskRef& ref : decisions.upstream_failed) {
    auto [run, ti] = find(ref.run_id, ref.task_index);
    if (ti == nullptr) continue;
    ti->state = TaskState::kUpstreamFailed;
    ti->ended_at = now;
  }
  for (const TaskRef& ref : decisions.start) {
    auto [run, ti] = find(ref.run_id, ref.task_index);
    if (ti == nullptr) continue;
    ti->state = TaskState::kRunning;
    ti->try_number = ref.try_number;
    ti->started_at = now;
    ti->ended_at.reset();
    ti->retry_at.reset();
    if (run->state == RunState::kQueued) {
      run->state = RunState::kRunning;
      if (!run->started_at) run->started_at = now;
    }
  }
  for (const RunFinish& finish : decisions.finish_runs) {
    const auto it = index.find(finish.run_id);
    if (it == index.end()) continue;
    DagRun& run = (*runs)[it->second];
    run.state = finish.state;
    run.ended_at = finish.ended_at;
    changed.insert(it->second);
  }
  for (const SlaMiss& miss : decisions.sla_misses) {
    const auto it = index.find(miss.run_id);
    if (it == index.end()) continue;
    (*runs)[it->second].sla_missed = true;
    changed.insert(it->second);
  }
  return {changed.begin(), changed.end()};
}

Status Planner::RecordOutcome(DagRun* run, std::string_view task_id, int try_number,
                              const TaskOutcome& outcome, Instant now) const {
  const std::optional<size_t> index = spec_.TaskIndex(task_id);
  TaskInstance* ti = run->FindTask(task_id);
  if (!index || ti == nullptr) {
    return NotFound(
        fmt::format("run {} of DAG {} has no task \"{}\"", run->id.str(), run->dag_id, task_id));
  }
  if (ti->state != TaskState::kRunning || ti->try_number != try_number) {
    return FailedPrecondition(
        fmt::format("task \"{}\" of run {}: try {} is not running (state {}, try {})", task_id,
                    run->id.str(), try_number, TaskStateName(ti->state), ti->try_number));
  }
  const RetryPolicy& retry = spec_.tasks[*index].retry;
  ti->ended_at = now;
  if (outcome.result == TryResult::kSuccess) {
    ti->state = TaskState::kSuccess;
    ti->message.clear();
    return Status::Ok();
  }
  if (!outcome.message.empty()) {
    ti->message = outcome.message;
  } else if (outcome.result == TryResult::kTimedOut) {
    ti->message = "timed out";
  } else {
    ti->message = fmt::format("exit code {}", outcome.exit_code);
  }
  if (ti->try_number < ti->max_tries) {
    // The try's number within the current budget (backfill resets start a new budget).
    const int attempt = ti->try_number - (ti->max_tries - (retry.retries + 1));
    ti->state = TaskState::kUpForRetry;
    ti->retry_at = now + retry.DelayAfterTry(std::max(attempt, 1));
  } else {
    ti->state = TaskState::kFailed;
  }
  return Status::Ok();
}

TaskRequest Planner::MakeRequest(const DagRun& run, size_t task_index, int try_number) const {
  const TaskSpec& task = spec_.tasks[task_index];
  const TemplateValues values = TemplateValues::For(spec_.id, task.id, run.id.str(), try_number,
                                                    run.interval, spec_.timezone);
  TaskRequest request;
  request.dag_id = spec_.id;
  request.run_id = run.id;
  request.task_id = task.id;
  request.kind = task.kind;
  request.try_number = try_number;
  request.interval = run.interval;
  if (task.command) request.command = task.command->Render(values);
  for (const TaskTemplate& arg : task.kind == TaskKind::kShell ? task.argv : task.args) {
    request.argv.push_back(arg.Render(values));
  }
  for (const auto& [name, value] : task.env) request.env.emplace_back(name, value.Render(values));
  request.timeout = task.timeout;
  request.poke_interval = task.poke_interval;
  return request;
}

StatusOr<std::vector<BackfillItem>> Planner::Backfill(Instant from, Instant to, BackfillMode mode,
                                                      Instant now,
                                                      const std::vector<DagRun>& runs) const {
  if (from >= to) {
    return InvalidArgument(
        fmt::format("backfill: the range [{}, {}) is empty", FormatUtc(from), FormatUtc(to)));
  }
  std::map<Instant, const DagRun*> by_start;
  for (const DagRun& run : runs) {
    // Two runs of one interval (a scheduled and a backfill one) cannot both exist when the
    // planner made them; if they do, the latest queued decides.
    const auto [it, inserted] = by_start.emplace(run.interval.start, &run);
    if (!inserted && run.queued_at > it->second->queued_at) it->second = &run;
  }
  std::vector<BackfillItem> items;
  std::optional<DataInterval> interval = IntervalAtOrAfter(std::max(from, spec_.start_date));
  for (; interval && interval->start < to; interval = IntervalAtOrAfter(interval->end)) {
    if (spec_.end_date && interval->start > *spec_.end_date) break;
    if (interval->end > now) break;  // not over yet: the scheduler will run it
    if (items.size() == kMaxBackfillIntervals) {
      return InvalidArgument(
          fmt::format("backfill: [{}, {}) holds more than {} intervals; split the range",
                      FormatUtc(from), FormatUtc(to), kMaxBackfillIntervals));
    }
    BackfillItem item;
    item.interval = *interval;
    const auto it = by_start.find(interval->start);
    if (it == by_start.end()) {
      item.action = BackfillItem::Action::kCreate;
      items.push_back(std::move(item));
      continue;
    }
    const DagRun& run = *it->second;
    item.existing = run.id;
    item.action = BackfillItem::Action::kSkip;
    if (!run.Done()) {
      item.reason = "run in progress";
    } else if (mode == BackfillMode::kRedoAll) {
      item.action = BackfillItem::Action::kRerunAll;
    } else if (run.state == RunState::kSuccess) {
      item.reason = "already succeeded";
    } else if (mode == BackfillMode::kRedoFailed) {
      item.action = BackfillItem::Action::kRerunFailed;
    } else {
      item.reason = "failed (redo-failed runs it again)";
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<size_t> Planner::ApplyBackfill(const std::vector<BackfillItem>& items, Instant now,
                                           std::vector<DagRun>* runs) const {
  std::set<size_t> changed;
  std::map<RunId, size_t> index;
  for (size_t i = 0; i < runs->size(); ++i) index.emplace((*runs)[i].id, i);
  for (const BackfillItem& item : items) {
    if (item.action == BackfillItem::Action::kSkip) continue;
    if (item.action == BackfillItem::Action::kCreate) {
      runs->push_back(NewRun(item.interval, RunKind::kBackfill, now));
      changed.insert(runs->size() - 1);
      continue;
    }
    const auto it = item.existing ? index.find(*item.existing) : index.end();
    if (it == index.end()) continue;
    DagRun& run = (*runs)[it->second];
    const bool failed_only = item.action == BackfillItem::Action::kRerunFailed;
    for (size_t t = 0; t < spec_.tasks.size(); ++t) {
      TaskInstance* ti = run.FindTask(spec_.tasks[t].id);
      if (ti == nullptr) continue;  // a task added since: pending anyway
      const bool failed =
          ti->state == TaskState::kFailed || ti->state == TaskState::kUpstreamFailed;
      if (!failed_only || failed) ResetTask(spec_.tasks[t], ti);
    }
    run.state = RunState::kQueued;
    run.queued_at = now;
    run.ended_at.reset();
    changed.insert(it->second);
  }
  return {changed.begin(), changed.end()};
}

}  // namespace pinpipe::scheduler
