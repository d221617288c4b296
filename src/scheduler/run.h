// The state of DAG runs and their task instances: what RunStore keeps and the Planner reads and
// changes. Plain values; the rules that move them between states live in the Planner.
//
//   run:  queued -> running (first task started) -> success | failed (every task done)
//   task: pending -> running -> success
//                            -> up_for_retry (a try failed or timed out, tries left)
//                                 -> running (retry time reached) ...
//                            -> failed (no tries left)
//         pending -> upstream_failed (an upstream task failed: it will never run)
// Backfill's redo modes put a finished run back to queued and its tasks back to pending.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scheduler/data_interval.h"
#include "scheduler/time_zone.h"

namespace pinpipe::scheduler {

// A run's id, unique within its DAG: "scheduled__2024-01-01T00:00:00+00:00" (Airflow's form:
// kind and interval start in UTC).
class RunId {
 public:
  RunId() = default;
  explicit RunId(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the synthesized comparison's 0
  friend auto operator<=>(const RunId&, const RunId&) = default;

 private:
  std::string value_;
};

enum class RunKind : uint8_t { kScheduled, kBackfill, kManual };
enum class RunState : uint8_t { kQueued, kRunning, kSuccess, kFailed };
enum class TaskState : uint8_t {
  kPending,
  kRunning,
  kUpForRetry,
  kSuccess,
  kFailed,
  kUpstreamFailed,
};

// Lowercase names ("scheduled", "up_for_retry") for stores and logs, and their inverses
// (InvalidArgument for an unknown name).
std::string_view RunKindName(RunKind kind);
std::string_view RunStateName(RunState state);
std::string_view TaskStateName(TaskState state);
StatusOr<RunKind> ParseRunKind(std::string_view name);
StatusOr<RunState> ParseRunState(std::string_view name);
StatusOr<TaskState> ParseTaskState(std::string_view name);

RunId MakeRunId(RunKind kind, const DataInterval& interval);

struct TaskInstance {
  std::string task_id;
  TaskState state = TaskState::kPending;
  int try_number = 0;                 // tries started so far: the current or last try
  int max_tries = 1;                  // a failed try is retried while try_number < max_tries
  std::optional<Instant> started_at;  // of the current or last try
  std::optional<Instant> ended_at;    // of the last finished try
  std::optional<Instant> retry_at;    // kUpForRetry: the next try may start from then on
  std::string message;                // why the last try failed
  std::optional<int> exit_code;       // of the last finished try (set by the executor)

  bool Done() const {
    return state == TaskState::kSuccess || state == TaskState::kFailed ||
           state == TaskState::kUpstreamFailed;
  }
  friend bool operator==(const TaskInstance&, const TaskInstance&) = default;
};

struct DagRun {
  std::string dag_id;
  RunId id;
  RunKind kind = RunKind::kScheduled;
  DataInterval interval;
  RunState state = RunState::kQueued;
  Instant queued_at{};
  std::optional<Instant> started_at;
  std::optional<Instant> ended_at;
  bool sla_missed = false;  // the SLA miss was reported (once per run)
  // Bumped by RunStore::SaveRun; a save with a stale version is refused (two schedulers).
  int64_t version = 0;
  std::vector<TaskInstance> tasks;  // one per task of the DAG, in the DAG file's order

  bool Done() const { return state == RunState::kSuccess || state == RunState::kFailed; }
  // nullptr if the run has no such task.
  TaskInstance* FindTask(std::string_view task_id);
  const TaskInstance* FindTask(std::string_view task_id) const;
  friend bool operator==(const DagRun&, const DagRun&) = default;
};

}  // namespace pinpipe::scheduler
