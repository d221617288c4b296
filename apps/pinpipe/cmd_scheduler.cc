// `pinpipe scheduler ...`: the DAG scheduler (docs/design.md, "Scheduler").
//
//   run                    the daemon: every DAG in --dags-dir, history in PostgreSQL
//   list                   DAGs with schedule, next run, paused
//   trigger DAG            a manual run (of the interval at --date, or the current one)
//   backfill DAG           runs of [--from, --to] (modes skip-done|redo-failed|redo-all), run to
//                          completion in the foreground (or by the daemon if it holds the DAG)
//   runs DAG [RUN_ID]      run history / the task instances of one run
//   log DAG RUN_ID TASK    a try's log
//   pause DAG, unpause DAG
//   export-airflow DAG     an Apache Airflow DAG file running the same tasks
//   wait-sealed            the wait_sealed task as a command (used by the Airflow export)
//
// Exit codes: 0 ok, 1 error (message on stderr) or a backfill with failed runs, 2 usage.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command.h"
#include "core/duration.h"
#include "core/metrics.h"
#include "core/record_schema.h"
#include "http/server.h"
#include "lake/object_store.h"
#include "log/logger.h"
#include "scheduler/airflow_export.h"
#include "scheduler/dag_spec.h"
#include "scheduler/executor.h"
#include "scheduler/pg_run_store.h"
#include "scheduler/planner.h"
#include "scheduler/process_task_runner.h"
#include "scheduler/seal_waiter.h"
#include "stop_signals.h"
#include "topic_flags.h"
#include "worker_process.h"

namespace pinpipe::app {
namespace {

const log::Logger kSchedulerLog("scheduler");

using namespace pinpipe::scheduler;  // NOLINT: this file is the scheduler's CLI

struct SchedulerFlags {
  std::string dags_dir = "dags";
  std::string pg_dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  std::string lake = ".pinpipe/lake";
  std::vector<std::string> batch_args;
  std::string dag;
  std::string run_id;
  std::string task;
  int try_number = 0;
  std::string date;
  std::string from;
  std::string to;
  std::string mode = "skip-done";
  bool no_wait = false;
  bool dry_run = false;
  int limit = 30;
  std::string out;
  std::string pinpipe_bin;
  int kill_grace_s = 10;
  int drain_timeout_s = 60;
  std::vector<std::string> topics;
  std::array<std::string, 3> pipeline_topics = core::DefaultTopics();
  std::string poke_interval = "1m";
  std::string timeout;
  std::string not_before;
  uint16_t metrics_port = 0;
  std::string metrics_host = "127.0.0.1";
};

int FailScheduler(const std::string& what) { return CommandError("scheduler", what, 1); }

Instant Now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

std::string When(const std::optional<Instant>& t) {
  if (!t) return "-";
  std::string s = FormatUtc(*t);  // 2024-01-01T00:00:00Z -> 2024-01-01 00:00:00Z
  s[10] = ' ';
  return s;
}

// Prints rows as columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], width[c]);
    }
    std::cout << line << "\n";
  };
  print(header);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  print(rule);
  for (const auto& row : rows) print(row);
}

// --not-before: moves every DAG's start_date forward to that day (in the DAG's zone), so a fresh
// installation does not catch up on days from before it existed. Errors: InvalidArgument.
Status ApplyNotBefore(const SchedulerFlags& f, std::vector<DagSpec>* dags) {
  if (f.not_before.empty()) return Status::Ok();
  for (DagSpec& d : *dags) {
    StatusOr<Instant> at = ParseInstant(f.not_before, d.timezone);
    if (!at.ok()) return at.status().WithContext("--not-before");
    d.start_date = std::max(d.start_date, *at);
  }
  return Status::Ok();
}

StatusOr<DagSpec> FindDag(const SchedulerFlags& f) {
  std::vector<std::string> errors;
  std::vector<DagSpec> dags = LoadDagFolder(f.dags_dir, &errors);
  for (DagSpec& d : dags) {
    if (d.id == f.dag) return std::move(d);
  }
  for (const std::string& e : errors) kSchedulerLog.Error("{}", e);
  return NotFound(fmt::format("no DAG \"{}\" in {}", f.dag, f.dags_dir));
}

StatusOr<std::unique_ptr<PgRunStore>> OpenStore(const SchedulerFlags& f) {
  StatusOr<std::unique_ptr<PgRunStore>> store = PgRunStore::Open(f.pg_dsn, /*create=*/true);
  if (!store.ok()) return store.status().WithContext("run history (--pg-dsn)");
  return store;
}

ProcessRunnerOptions RunnerOptions(const SchedulerFlags& f) {
  ProcessRunnerOptions o;
  o.pinpipe_bin = f.pinpipe_bin;
  o.lake_url = f.lake;
  o.batch_args = f.batch_args;
  o.kill_grace = std::chrono::seconds(f.kill_grace_s);
  o.seal_topics.assign(f.pipeline_topics.begin(), f.pipeline_topics.end());
  return o;
}

int RunDaemon(const SchedulerFlags& f) {
  StopSignals signals("scheduler", "stopping (no new tries; waiting for running ones)");
  std::vector<std::string> errors;
  std::vector<DagSpec> dags = LoadDagFolder(f.dags_dir, &errors);
  for (const std::string& e : errors) kSchedulerLog.Warn("skipping {}", e);
  if (dags.empty())
    return FailScheduler(fmt::format("no DAG files (*.toml) to run in {}", f.dags_dir));
  if (Status s = ApplyNotBefore(f, &dags); !s.ok()) return FailScheduler(s.ToString());
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  ProcessTaskRunner runner(store->get(), RunnerOptions(f));
  std::vector<std::string> ids;
  for (const DagSpec& d : dags) ids.push_back(d.id + " (" + d.source_name + ")");
  kSchedulerLog.Info("running {} DAG(s): {}; history in '{}'; lake {}", dags.size(),
                     fmt::join(ids, ", "), f.pg_dsn, f.lake);
  // Run, try and SLA-miss counters (pinpipe_scheduler_*) on --metrics-port.
  core::Registry registry;
  WorkerProcess metrics;
  metrics.name = "scheduler";
  metrics.metrics_host = f.metrics_host;
  metrics.metrics_port = f.metrics_port;
  metrics.render_metrics = [&registry] { return registry.Render(); };
  std::unique_ptr<http::Server> server;
  if (Status s = StartMetricsServer(metrics, &server); !s.ok()) return FailScheduler(s.ToString());
  ExecutorOptions options;
  options.drain_timeout = std::chrono::seconds(f.drain_timeout_s);
  options.metrics = &registry;
  Executor executor(std::move(dags), store->get(), &runner, std::move(options));
  executor.Run(signals.token());
  if (server) server->Stop();
  kSchedulerLog.Info("stopped");
  return 0;
}

int RunList(const SchedulerFlags& f) {
  std::vector<std::string> errors;
  std::vector<DagSpec> dags = LoadDagFolder(f.dags_dir, &errors);
  for (const std::string& e : errors) kSchedulerLog.Error("{}", e);
  if (Status s = ApplyNotBefore(f, &dags); !s.ok()) return FailScheduler(s.ToString());
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  const Instant now = Now();
  std::vector<std::vector<std::string>> rows;
  for (const DagSpec& d : dags) {
    StatusOr<bool> paused = (*store)->IsPaused(d.id);
    StatusOr<std::vector<DagRun>> runs = (*store)->LoadRuns(d.id);
    std::string last = "-";
    if (runs.ok() && !runs->empty()) {
      const DagRun& r = runs->back();
      last = fmt::format("{} {}", FormatDate(r.interval.start, d.timezone), RunStateName(r.state));
    }
    const Planner planner(d);
    const Decisions decisions = planner.Decide(now, runs.ok() ? *runs : std::vector<DagRun>{});
    std::string next = "-";
    if (!decisions.create_runs.empty()) {
      next = fmt::format("{} runs due now", decisions.create_runs.size());
    } else if (std::optional<Instant> n = d.schedule.Next(now, d.timezone)) {
      next = When(*n);
    }
    rows.push_back({d.id, d.schedule.source(), d.timezone.name(),
                    paused.ok() ? (*paused ? "yes" : "no") : "?", last, next,
                    std::to_string(d.tasks.size()), d.source_name});
  }
  PrintTable({"DAG", "SCHEDULE", "TIMEZONE", "PAUSED", "LAST RUN", "NEXT RUN AT", "TASKS", "FILE"},
             rows);
  return errors.empty() ? 0 : 1;
}

int RunTrigger(const SchedulerFlags& f) {
  StatusOr<DagSpec> spec = FindDag(f);
  if (!spec.ok()) return FailScheduler(spec.status().message());
  const Planner planner(*spec);
  const Instant now = Now();
  std::optional<DataInterval> interval;
  if (!f.date.empty()) {
    StatusOr<Instant> at = ParseInstant(f.date, spec->timezone);
    if (!at.ok()) return FailScheduler("--date: " + at.status().message());
    interval = planner.IntervalAtOrAfter(*at);
  } else if (std::optional<Instant> start =
                 spec->schedule.Prev(now + std::chrono::seconds(1), spec->timezone)) {
    interval = planner.IntervalAtOrAfter(*start);  // the interval in progress now
  }
  if (!interval) return FailScheduler("the schedule has no interval there");
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  DagRun run = planner.NewRun(*interval, RunKind::kManual, now);
  StatusOr<std::vector<DagRun>> runs = (*store)->LoadRuns(spec->id);
  if (!runs.ok()) return FailScheduler(runs.status().ToString());
  for (const DagRun& r : *runs) {
    if (r.interval.start == interval->start) {
      return FailScheduler(
          fmt::format("{} already has run {} ({}) for {}; use `pinpipe scheduler backfill "
                      "{} --from {} --to {} --mode redo-all` to run it again",
                      spec->id, r.id.str(), RunStateName(r.state), interval->ToString(), spec->id,
                      FormatDate(interval->start, spec->timezone),
                      FormatDate(interval->start, spec->timezone)));
    }
  }
  Status s = (*store)->SaveRun(&run);
  if (!s.ok()) return FailScheduler(s.ToString());
  std::cout << fmt::format(
      "queued {} for {}; the scheduler daemon starts it (pinpipe scheduler "
      "runs {})\n",
      run.id.str(), interval->ToString(), spec->id);
  return 0;
}

std::vector<std::vector<std::string>> RunRows(const std::vector<DagRun>& runs, const DagSpec& d,
                                              size_t limit) {
  std::vector<std::vector<std::string>> rows;
  const size_t first = runs.size() > limit ? runs.size() - limit : 0;
  for (size_t i = first; i < runs.size(); ++i) {
    const DagRun& r = runs[i];
    int ok = 0;
    std::string failed;
    for (const TaskInstance& ti : r.tasks) {
      if (ti.state == TaskState::kSuccess) ++ok;
      if (ti.state == TaskState::kFailed)
        failed += (failed.empty() ? " failed: " : ",") + ti.task_id;
    }
    std::string duration = "-";
    if (r.started_at) {
      const auto secs = (r.ended_at.value_or(Now()) - *r.started_at).count();
      duration = core::FormatDuration(std::chrono::seconds(secs));
    }
    rows.push_back(
        {r.id.str(), std::string(RunKindName(r.kind)), FormatDate(r.interval.start, d.timezone),
         std::string(RunStateName(r.state)), When(r.started_at), When(r.ended_at), duration,
         fmt::format("{}/{} ok{}", ok, r.tasks.size(), failed), r.sla_missed ? "missed" : ""});
  }
  return rows;
}

const std::vector<std::string> kRunHeader = {"RUN ID", "KIND", "DS",    "STATE", "STARTED",
                                             "ENDED",  "TOOK", "TASKS", "SLA"};

int RunBackfill(const SchedulerFlags& f) {
  StatusOr<DagSpec> spec = FindDag(f);
  if (!spec.ok()) return FailScheduler(spec.status().message());
  StatusOr<BackfillMode> mode = ParseBackfillMode(f.mode);
  if (!mode.ok()) return FailScheduler("--mode: " + mode.status().message());
  StatusOr<Instant> from = ParseInstant(f.from, spec->timezone);
  if (!from.ok()) return FailScheduler("--from: " + from.status().message());
  // --to is a day included in the range: intervals starting before the next day's midnight.
  StatusOr<Instant> to_day = ParseInstant(f.to, TimeZone::Utc());
  if (!to_day.ok()) return FailScheduler("--to: " + to_day.status().message());
  StatusOr<Instant> to =
      ParseInstant(FormatDate(*to_day + std::chrono::hours(36), TimeZone::Utc()), spec->timezone);
  if (!to.ok()) return FailScheduler("--to: " + to.status().message());

  StopSignals signals("scheduler", "stopping (no new tries; waiting for running ones)");
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  const Planner planner(*spec);
  StatusOr<std::vector<DagRun>> runs = (*store)->LoadRuns(spec->id);
  if (!runs.ok()) return FailScheduler(runs.status().ToString());
  const Instant now = Now();
  StatusOr<std::vector<BackfillItem>> items = planner.Backfill(*from, *to, *mode, now, *runs);
  if (!items.ok()) return FailScheduler(items.status().message());
  std::vector<std::vector<std::string>> plan;
  for (const BackfillItem& item : *items) {
    static constexpr std::string_view kActions[] = {"create", "rerun failed tasks", "rerun all",
                                                    "skip"};
    plan.push_back({FormatDate(item.interval.start, spec->timezone), item.interval.ToString(),
                    std::string(kActions[static_cast<size_t>(item.action)]),
                    item.existing ? item.existing->str() : "", item.reason});
  }
  std::cout << fmt::format("backfill {} [{}, {}] mode {}:\n", spec->id, f.from, f.to, f.mode);
  PrintTable({"DS", "INTERVAL", "ACTION", "EXISTING RUN", "WHY"}, plan);
  if (f.dry_run) return 0;
  const std::vector<size_t> changed = planner.ApplyBackfill(*items, now, &*runs);
  std::set<RunId> ids;
  for (size_t i : changed) {
    Status s = (*store)->SaveRun(&(*runs)[i]);
    if (!s.ok()) return FailScheduler(s.ToString());
    ids.insert((*runs)[i].id);
  }
  if (ids.empty()) {
    std::cout << "nothing to run\n";
    return 0;
  }
  if (f.no_wait) {
    std::cout << fmt::format("queued {} run(s); the scheduler daemon runs them\n", ids.size());
    return 0;
  }
  ProcessTaskRunner runner(store->get(), RunnerOptions(f));
  ExecutorOptions options;
  options.only_runs = std::map<std::string, std::set<RunId>>{{spec->id, ids}};
  options.drain_timeout = std::chrono::seconds(f.drain_timeout_s);
  Executor executor({*spec}, store->get(), &runner, std::move(options));
  const bool finished = executor.RunUntilDone(signals.token());
  StatusOr<std::vector<DagRun>> after = (*store)->LoadRuns(spec->id);
  if (!after.ok()) return FailScheduler(after.status().ToString());
  std::vector<DagRun> mine;
  bool all_ok = finished;
  for (const DagRun& r : *after) {
    if (!ids.contains(r.id)) continue;
    all_ok = all_ok && r.state == RunState::kSuccess;
    mine.push_back(r);
  }
  std::cout << "\n";
  PrintTable(kRunHeader, RunRows(mine, *spec, mine.size()));
  return all_ok ? 0 : 1;
}

int RunRuns(const SchedulerFlags& f) {
  StatusOr<DagSpec> spec = FindDag(f);
  if (!spec.ok()) return FailScheduler(spec.status().message());
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  StatusOr<std::vector<DagRun>> runs = (*store)->LoadRuns(spec->id);
  if (!runs.ok()) return FailScheduler(runs.status().ToString());
  if (f.run_id.empty()) {
    PrintTable(kRunHeader, RunRows(*runs, *spec, static_cast<size_t>(f.limit)));
    return 0;
  }
  for (const DagRun& r : *runs) {
    if (r.id.str() != f.run_id) continue;
    std::cout << fmt::format("{} {}: {} ({}), interval {}\n", spec->id, r.id.str(),
                             RunStateName(r.state), RunKindName(r.kind), r.interval.ToString());
    std::vector<std::vector<std::string>> rows;
    for (const TaskInstance& ti : r.tasks) {
      rows.push_back({ti.task_id, std::string(TaskStateName(ti.state)),
                      fmt::format("{}/{}", ti.try_number, ti.max_tries), When(ti.started_at),
                      When(ti.ended_at), ti.exit_code ? std::to_string(*ti.exit_code) : "-",
                      ti.state == TaskState::kUpForRetry
                          ? "retry at " + When(ti.retry_at) + "; " + ti.message
                          : ti.message});
    }
    PrintTable({"TASK", "STATE", "TRY", "STARTED", "ENDED", "EXIT", "MESSAGE"}, rows);
    return 0;
  }
  return FailScheduler(fmt::format("{} has no run {}", spec->id, f.run_id));
}

int RunLog(const SchedulerFlags& f) {
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  int try_number = f.try_number;
  if (try_number == 0) {
    StatusOr<std::vector<DagRun>> runs = (*store)->LoadRuns(f.dag);
    if (!runs.ok()) return FailScheduler(runs.status().ToString());
    for (const DagRun& r : *runs) {
      if (r.id.str() != f.run_id) continue;
      if (const TaskInstance* ti = r.FindTask(f.task)) try_number = ti->try_number;
    }
    if (try_number == 0) {
      return FailScheduler(
          fmt::format("{} {} {}: no such task or it never started", f.dag, f.run_id, f.task));
    }
  }
  StatusOr<std::string> text = (*store)->ReadTaskLog(f.dag, RunId(f.run_id), f.task, try_number);
  if (!text.ok()) return FailScheduler(text.status().ToString());
  std::cerr << fmt::format("--- {} {} {} try {} ---\n", f.dag, f.run_id, f.task, try_number);
  std::cout << *text << std::flush;
  return 0;
}

int RunPause(const SchedulerFlags& f, bool paused) {
  StatusOr<std::unique_ptr<PgRunStore>> store = OpenStore(f);
  if (!store.ok()) return FailScheduler(store.status().ToString());
  if (!FindDag(f).ok()) {
    kSchedulerLog.Warn("no DAG {} in {}", f.dag, f.dags_dir);
  }
  Status s = (*store)->SetPaused(f.dag, paused);
  if (!s.ok()) return FailScheduler(s.ToString());
  std::cout << fmt::format("{} {}\n", f.dag, paused ? "paused" : "unpaused");
  return 0;
}

int RunExport(const SchedulerFlags& f) {
  StatusOr<DagSpec> spec = FindDag(f);
  if (!spec.ok()) return FailScheduler(spec.status().message());
  AirflowExportOptions o;
  o.pinpipe_bin = f.pinpipe_bin;
  if (o.pinpipe_bin.empty()) {
    std::error_code ec;
    o.pinpipe_bin = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  }
  std::error_code ec;
  o.lake_url = f.lake;
  if (!f.lake.empty() && f.lake.find("://") == std::string::npos) {
    o.lake_url = std::filesystem::absolute(f.lake, ec).string();  // workers run elsewhere
  }
  o.batch_args = f.batch_args;
  const std::string py = ExportAirflow(*spec, o);
  if (f.out.empty() || f.out == "-") {
    std::cout << py;
    return 0;
  }
  std::ofstream out(f.out, std::ios::binary | std::ios::trunc);
  out << py;
  out.close();
  if (!out) return FailScheduler("cannot write " + f.out);
  kSchedulerLog.Info("wrote {} ({} tasks)", f.out, spec->tasks.size());
  return 0;
}

int RunWaitSealed(const SchedulerFlags& f) {
  DataInterval interval;
  const std::string from = f.date.empty() ? f.from : f.date;
  const std::string to = f.date.empty() ? f.to : f.date;
  StatusOr<Instant> a = ParseInstant(from, TimeZone::Utc());
  StatusOr<Instant> b = ParseInstant(to, TimeZone::Utc());
  if (!a.ok() || !b.ok()) return FailScheduler("give --date D, or --from D1 --to D2 (YYYY-MM-DD)");
  interval = {*a, *b + std::chrono::hours(24)};
  SealWaitOptions o;
  if (!f.topics.empty()) o.topics = f.topics;
  StatusOr<std::chrono::seconds> poke = core::ParseDuration(f.poke_interval);
  if (!poke.ok()) return FailScheduler("--poke-interval: " + poke.status().message());
  o.poke_interval = *poke;
  if (!f.timeout.empty()) {
    StatusOr<std::chrono::seconds> t = core::ParseDuration(f.timeout);
    if (!t.ok()) return FailScheduler("--timeout: " + t.status().message());
    o.timeout = *t;
  }
  StatusOr<std::unique_ptr<lake::ObjectStore>> lake = lake::OpenObjectStore(f.lake);
  if (!lake.ok()) return FailScheduler(lake.status().ToString());
  SealWaiter waiter(lake->get(), [](const std::string& line) { std::cout << line << std::endl; });
  Status s = waiter.Wait(UtcDaysOf(interval), o);
  if (!s.ok()) return FailScheduler(s.ToString());
  return 0;
}

void AddStoreFlags(CLI::App* c, SchedulerFlags* f) {
  c->add_option("--dags-dir", f->dags_dir, "Folder of DAG files (*.toml)")
      ->envname("PINPIPE_SCHEDULER_DAGS_DIR")
      ->capture_default_str();
  c->add_option("--pg-dsn", f->pg_dsn,
                "PostgreSQL conninfo of the run history (schema scheduler; the database is created "
                "if missing)")
      ->envname("PINPIPE_SCHEDULER_PG_DSN")
      ->capture_default_str();
}

void AddNotBeforeFlag(CLI::App* c, SchedulerFlags* f) {
  c->add_option("--not-before", f->not_before,
                "Schedule no interval starting before this day (YYYY-MM-DD or a date-time, in "
                "the DAG's zone): a later start_date for every DAG (backfill ignores it)")
      ->envname("PINPIPE_SCHEDULER_NOT_BEFORE");
}

void AddRunnerFlags(CLI::App* c, SchedulerFlags* f) {
  c->add_option("--lake", f->lake, "Object store URL of the lake (wait_sealed; passed to batch)")
      ->envname("PINPIPE_LAKE")
      ->capture_default_str();
  c->add_option("--batch-arg", f->batch_args,
                "Extra argument for every batch / refresh_views command (repeatable, e.g. "
                "--batch-arg=--pg-dsn=...)")
      ->envname("PINPIPE_SCHEDULER_BATCH_ARGS")
      ->allow_extra_args(false);
  c->add_option("--pinpipe-bin", f->pinpipe_bin,
                "The pinpipe binary the built-in tasks run (default: this one)")
      ->envname("PINPIPE_SCHEDULER_PINPIPE_BIN");
  c->add_option("--kill-grace", f->kill_grace_s,
                "Seconds between SIGTERM and SIGKILL when a try is stopped")
      ->envname("PINPIPE_SCHEDULER_KILL_GRACE")
      ->capture_default_str();
  c->add_option("--drain-timeout", f->drain_timeout_s,
                "On SIGTERM, seconds to let running tries finish before stopping them")
      ->envname("PINPIPE_SCHEDULER_DRAIN_TIMEOUT")
      ->capture_default_str();
  AddTopicFlags(
      *c, {&f->pipeline_topics[0], &f->pipeline_topics[1], &f->pipeline_topics[2]},
      "Topic of {} records (wait_sealed waits for the three unless a task names its own --topic)");
}

CommandRegistration kScheduler(
    "scheduler", "The DAG scheduler: run the daemon, list, trigger, backfill, runs, log, pause",
    [](CLI::App& sub) {
      auto f = std::make_shared<SchedulerFlags>();  // shared: outlives setup, used by run
      sub.require_subcommand(1);
      auto runner = std::make_shared<std::function<int()>>();
      auto add = [&](const std::string& name, const std::string& help, auto fn) {
        CLI::App* c = sub.add_subcommand(name, help);
        c->callback([runner, fn, f] { *runner = [fn, f] { return fn(*f); }; });
        return c;
      };
      CLI::App* c = add("run", "Run the scheduler daemon over every DAG in --dags-dir", RunDaemon);
      AddStoreFlags(c, f.get());
      AddRunnerFlags(c, f.get());
      AddNotBeforeFlag(c, f.get());
      c->add_option(
           "--metrics-port", f->metrics_port,
           "Serve GET /metrics (runs, tries, SLA misses) and /healthz on this port (0 = off)")
          ->envname("PINPIPE_SCHEDULER_METRICS_PORT")
          ->capture_default_str();
      c->add_option("--metrics-host", f->metrics_host, "Address of the metrics server")
          ->envname("PINPIPE_SCHEDULER_METRICS_HOST")
          ->capture_default_str();
      c = add("list", "List DAGs with schedule, next run and paused state", RunList);
      AddStoreFlags(c, f.get());
      AddNotBeforeFlag(c, f.get());
      c = add("trigger", "Queue a manual run of a DAG", RunTrigger);
      AddStoreFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c->add_option("--date", f->date,
                    "The run covers the interval starting at the first fire time at or after "
                    "this date (default: the interval in progress)");
      c = add("backfill", "Create or redo the runs of a date range and run them to completion",
              RunBackfill);
      AddStoreFlags(c, f.get());
      AddRunnerFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c->add_option("--from", f->from, "First day (YYYY-MM-DD, in the DAG's zone)")->required();
      c->add_option("--to", f->to, "Last day, inclusive")->required();
      c->add_option("--mode", f->mode, "skip-done, redo-failed or redo-all")
          ->check(CLI::IsMember({"skip-done", "redo-failed", "redo-all"}))
          ->capture_default_str();
      c->add_flag("--no-wait", f->no_wait, "Only queue the runs (the daemon runs them)");
      c->add_flag("--dry-run", f->dry_run, "Only show what would be done");
      c = add("runs", "Run history of a DAG, or the tasks of one run", RunRuns);
      AddStoreFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c->add_option("run_id", f->run_id, "A run id: show its task instances");
      c->add_option("--limit", f->limit, "Show the last N runs")->capture_default_str();
      c = add("log", "Print the log of a task try", RunLog);
      AddStoreFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c->add_option("run_id", f->run_id, "Run id")->required();
      c->add_option("task", f->task, "Task id")->required();
      c->add_option("--try", f->try_number, "Try number (default: the last)");
      c = add("pause", "Pause a DAG: no new runs or tries",
              [](const SchedulerFlags& x) { return RunPause(x, true); });
      AddStoreFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c = add("unpause", "Unpause a DAG",
              [](const SchedulerFlags& x) { return RunPause(x, false); });
      AddStoreFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c = add("export-airflow", "Write an Apache Airflow DAG file running the same tasks",
              RunExport);
      c->add_option("--dags-dir", f->dags_dir, "Folder of DAG files (*.toml)")
          ->envname("PINPIPE_SCHEDULER_DAGS_DIR")
          ->capture_default_str();
      AddRunnerFlags(c, f.get());
      c->add_option("dag", f->dag, "DAG id")->required();
      c->add_option("--out", f->out, "Output file (default: stdout)");
      c = add("wait-sealed", "Wait until days are sealed in the lake (the wait_sealed task)",
              RunWaitSealed);
      c->add_option("--lake", f->lake, "Object store URL of the lake")
          ->envname("PINPIPE_LAKE")
          ->capture_default_str();
      c->add_option("--date", f->date, "The day (YYYY-MM-DD, UTC)");
      c->add_option("--from", f->from, "First day");
      c->add_option("--to", f->to, "Last day, inclusive");
      c->add_option("--topic", f->topics, "Topic (repeatable; default: the three pipeline topics)");
      c->add_option("--poke-interval", f->poke_interval, "How often to look")
          ->capture_default_str();
      c->add_option("--timeout", f->timeout, "Give up after this long (default: never)");
      return [runner] { return *runner ? (*runner)() : 2; };
    });

}  // namespace
}  // namespace pinpipe::app
