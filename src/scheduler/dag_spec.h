// DagSpec: a DAG as defined in a TOML file (dags/pinterest_daily.toml is the documented example
// and docs/design.md "Scheduler" the reference), parsed and validated up front: unknown tables or
// keys, bad types, bad cron expressions, durations, time zones or dates, duplicate task ids,
// unknown dependencies, dependency cycles and unknown template variables are all refused with
// InvalidArgument `<file>: <table.key> (line N): <what is wrong>`.
//
//   [dag]       id, schedule, start_date (required); timezone, end_date, catchup,
//               max_active_runs, max_active_tasks, sla, description
//   [defaults]  retries, retry_delay, retry_backoff, max_retry_delay, timeout (for every task)
//   [[tasks]]   id, kind (required); depends_on, description, the [defaults] keys, and by kind:
//               shell: command (run by /bin/sh -c) or argv, env
//               wait_sealed, batch, refresh_views: args (extra arguments for the built-in job)
//               wait_sealed: poke_interval
//
// Thread-safety: an immutable value once parsed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "scheduler/cron.h"
#include "scheduler/task_template.h"
#include "scheduler/time_zone.h"

namespace pinpipe::scheduler {

enum class TaskKind : uint8_t {
  kWaitSealed,    // wait for the lake's _SUCCESS marker of each day in the interval
  kBatch,         // run the batch job over the interval
  kRefreshViews,  // refresh the serving views
  kShell,         // any command
};
std::string_view TaskKindName(TaskKind kind);  // "wait_sealed", "batch", "refresh_views", "shell"

// How a failed try is retried: try n+1 starts `DelayAfterTry(n)` after try n ended.
struct RetryPolicy {
  int retries = 0;                                       // tries after the first
  std::chrono::seconds delay = std::chrono::minutes(5);  // Airflow's default retry_delay
  double backoff = 1.0;                                  // 1: fixed delay; 2: doubling
  std::chrono::seconds max_delay = std::chrono::hours(24);

  // delay * backoff^(try_number - 1), capped at max_delay (try_number >= 1 is the failed try).
  std::chrono::seconds DelayAfterTry(int try_number) const;
};

struct TaskSpec {
  std::string id;
  TaskKind kind = TaskKind::kShell;
  std::string description;
  std::vector<std::string> depends_on;  // task ids, as written
  std::vector<size_t> upstream;         // the same, as indexes into DagSpec::tasks
  RetryPolicy retry;
  std::optional<std::chrono::seconds> timeout;  // per try; none: no limit
  // kShell: exactly one of command / argv.
  std::optional<TaskTemplate> command;
  std::vector<TaskTemplate> argv;
  std::vector<std::pair<std::string, TaskTemplate>> env;
  // Built-in kinds: extra arguments for the job.
  std::vector<TaskTemplate> args;
  // kWaitSealed: how often to look for the marker.
  std::chrono::seconds poke_interval = std::chrono::minutes(1);
  int line = 0;  // of its [[tasks]] header, for messages
};

struct DagSpec {
  std::string id;
  std::string description;
  std::string source_name;  // the file it came from
  CronSchedule schedule;
  TimeZone timezone;
  Instant start_date{};
  std::optional<Instant> end_date;          // no interval starts after it
  bool catchup = true;                      // Airflow 2's default
  int max_active_runs = 16;                 // Airflow's default
  int max_active_tasks = 16;                // running task tries over all runs
  std::optional<std::chrono::seconds> sla;  // a run not finished sla after its interval end is late
  std::vector<TaskSpec> tasks;              // in file order
  std::vector<size_t> topological_order;    // every task after its upstream tasks

  // nullopt if there is no such task.
  std::optional<size_t> TaskIndex(std::string_view task_id) const;
};

// Parses a DAG file's text; `source_name` (the path) starts every error message.
StatusOr<DagSpec> ParseDagSpec(std::string_view text, std::string_view source_name);
// Reads and parses a DAG file. NotFound if it cannot be read.
StatusOr<DagSpec> LoadDagSpec(const std::string& path);
// Every DAG file (*.toml) of a folder, sorted by path; other files are ignored. A file that does
// not parse, or whose DAG id an earlier file already defined, is left out and its error (which
// names the file) appended to `errors`, as is a folder that cannot be read.
std::vector<DagSpec> LoadDagFolder(const std::string& dir, std::vector<std::string>* errors);

}  // namespace pinpipe::scheduler
