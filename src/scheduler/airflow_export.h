// ExportAirflow: a DAG as an Apache Airflow 2 DAG file (Python) that runs the same tasks through
// pinpipe commands, for teams that already run Airflow. One BashOperator per task:
//
//   shell          the command (or the argv, shell-quoted)
//   wait_sealed    <pinpipe> scheduler wait-sealed --lake L --date/--from/--to ... (same wait)
//   batch          <pinpipe> batch --date {{ ds }} (or --from/--to for longer intervals)
//   refresh_views  <pinpipe> batch --views-only
//
// and the DAG's schedule, time zone (a pendulum start_date), start/end dates, catchup,
// max_active_runs, max_active_tasks; per task retries, retry_delay, retry_exponential_backoff
// (Airflow's back-off doubles, so any retry_backoff > 1 maps to it), max_retry_delay,
// execution_timeout; the DAG's sla as each task's `sla` (Airflow 2 measures it from the end of
// the run's data interval, as pinpipe does). Template variables are translated to Airflow's
// ({{ task_id }} -> {{ task.task_id }}, {{ try_number }} -> {{ ti.try_number }}, ...).
// Pure function; no I/O.
#pragma once

#include <string>
#include <vector>

#include "scheduler/dag_spec.h"

namespace pinpipe::scheduler {

struct AirflowExportOptions {
  std::string pinpipe_bin = "pinpipe";  // absolute path of the binary on the Airflow workers
  std::string lake_url;                 // for wait_sealed and batch (empty: pinpipe's default)
  std::vector<std::string> batch_args;  // as the scheduler's --batch-arg
};

std::string ExportAirflow(const DagSpec& spec, const AirflowExportOptions& options);

// The shell command an exported task runs (its BashOperator's bash_command), for tests.
std::string AirflowBashCommand(const DagSpec& spec, const TaskSpec& task,
                               const AirflowExportOptions& options);

}  // namespace pinpipe::scheduler
