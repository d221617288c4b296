#include "scheduler/run.h"

#include <fmt/format.h>

namespace pinpipe::scheduler {
namespace {

constexpr RunKind kRunKinds[] = {RunKind::kScheduled, RunKind::kBackfill, RunKind::kManual};
constexpr RunState kRunStates[] = {RunState::kQueued, RunState::kRunning, RunState::kSuccess,
                                   RunState::kFailed};
constexpr TaskState kTaskStates[] = {TaskState::kPending,    TaskState::kRunning,
                                     TaskState::kUpForRetry, TaskState::kSuccess,
                                     TaskState::kFailed,     TaskState::kUpstreamFailed};

template <typename Enum, size_t N>
StatusOr<Enum> ParseName(std::string_view what, std::string_view name, const Enum (&values)[N],
                         std::string_view (*name_of)(Enum)) {
  std::string known;
  for (Enum v : values) {
    if (name_of(v) == name) return v;
    known += (known.empty() ? "" : ", ") + std::string(name_of(v));
  }
  return InvalidArgument(fmt::format("unknown {} \"{}\" (known: {})", what, name, known));
}

}  // namespace

std::string_view RunKindName(RunKind kind) {
  switch (kind) {
    case RunKind::kScheduled: return "scheduled";
    case RunKind::kBackfill: return "backfill";
    case RunKind::kManual: return "manual";
  }
  return "?";
}

std::string_view RunStateName(RunState state) {
  switch (state) {
    case RunState::kQueued: return "queued";
    case RunState::kRunning: return "running";
    case RunState::kSuccess: return "success";
    case RunState::kFailed: return "failed";
  }
  return "?";
}

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kPending: return "pending";
    case TaskState::kRunning: return "running";
    case TaskState::kUpForRetry: return "up_for_retry";
    case TaskState::kSuccess: return "success";
    case TaskState::kFailed: return "failed";
    case TaskState::kUpstreamFailed: return "upstream_failed";
  }
  return "?";
}

StatusOr<RunKind> ParseRunKind(std::string_view name) {
  return ParseName("run kind", name, kRunKinds, &RunKindName);
}
StatusOr<RunState> ParseRunState(std::string_view name) {
  return ParseName("run state", name, kRunStates, &RunStateName);
}
StatusOr<TaskState> ParseTaskState(std::string_view name) {
  return ParseName("task state", name, kTaskStates, &TaskStateName);
}

RunId MakeRunId(RunKind kind, const DataInterval& interval) {
  return RunId(
      fmt::format("{}__{}", RunKindName(kind), FormatIso8601(interval.start, TimeZone::Utc())));
}

TaskInstance* DagRun::FindTask(std::string_view task_id) {
  for (TaskInstance& t : tasks) {
    if (t.task_id == task_id) return &t;
  }
  return nullptr;
}

const TaskInstance* DagRun::FindTask(std::string_view task_id) const {
  for (const TaskInstance& t : tasks) {
    if (t.task_id == task_id) return &t;
  }
  return nullptr;
}

}  // namespace pinpipe::scheduler
