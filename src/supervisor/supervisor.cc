#include "supervisor/supervisor.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/mutex.h"

namespace pinpipe::supervisor {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string FormatSpan(milliseconds span) {
  if (span < std::chrono::seconds(10)) {
    return fmt::format("{:.1f} s", std::chrono::duration<double>(span).count());
  }
  if (span < std::chrono::seconds(120)) {
    const auto rounded = duration_cast<std::chrono::seconds>(span + milliseconds(500));
    return fmt::format("{} s", rounded.count());
  }
  return core::FormatDuration(duration_cast<std::chrono::seconds>(span));
}

Supervisor::Supervisor(std::vector<WorkerSpec> workers, RestartOptions options, Launcher* launcher,
                       const Clock* clock, LogSink log, ChangeSink on_change)
    : options_(options),
      launcher_(launcher),
      clock_(clock),
      log_(std::move(log)),
      on_change_(std::move(on_change)) {
  started_at_ = clock_->WallNow();
  for (WorkerSpec& spec : workers) {
    RestartTracker tracker(spec.restart, options_);
    workers_.push_back(Worker{.spec = std::move(spec), .tracker = tracker});
  }
}

void Supervisor::Start() {
  for (Worker& w : workers_) StartWorker(&w);
  Publish();
}

void Supervisor::StartWorker(Worker* w) {
  const bool first = !w->started_wall && w->last_exit.empty();
  StatusOr<int> pid = launcher_->Start(w->spec);
  if (!pid.ok()) {
    w->last_exit = "could not be started: " + pid.status().message();
    OnExit(w, fmt::format("{} {}", w->spec.title, w->last_exit), false, milliseconds(0));
    return;
  }
  w->pid = *pid;
  w->state = WorkerState::kRunning;
  w->started = clock_->Now();
  w->started_wall = clock_->WallNow();
  log_(log::Level::kInfo, fmt::format("{} {} (pid {}, log {})", first ? "started" : "restarted",
                                      w->spec.title, w->pid, w->spec.log_file));
}

void Supervisor::OnExit(Worker* w, const std::string& what, bool success, milliseconds uptime) {
  w->pid = 0;
  w->last_exit_at = clock_->WallNow();
  const RestartTracker::Decision d = w->tracker.OnExit(uptime, success);
  switch (d.action) {
    case RestartTracker::Action::kFinished:
      w->state = WorkerState::kFinished;
      log_(log::Level::kInfo, what + "; finished (restart policy on-failure: not restarted)");
      return;
    case RestartTracker::Action::kRestart:
      w->state = WorkerState::kRestarting;
      w->restart_at = clock_->Now() + d.delay;
      log_(log::Level::kWarn, fmt::format("{}; restarting in {} (restart {})", what,
                                          FormatSpan(d.delay), w->tracker.restarts()));
      return;
    case RestartTracker::Action::kGiveUp: {
      w->state = WorkerState::kFailed;
      gave_up_ = true;
      std::string tail = launcher_->LogTail(w->spec, options_.log_tail_lines);
      while (!tail.empty() && tail.back() == '\n') tail.pop_back();  // the sink ends the line
      log_(
          log::Level::kError,
          fmt::format(
              "{}; that is {} failed starts in a row (each exit within {} of the start): giving up "
              "and stopping everything. The last lines of {}:\n{}",
              what, w->tracker.failed_starts(), FormatSpan(options_.startup_window),
              w->spec.log_file, tail.empty() ? "(empty)" : tail));
      return;
    }
  }
}

std::optional<SteadyTime> Supervisor::Tick() {
  if (state_ != SupervisorState::kRunning) return std::nullopt;
  bool changed = false;
  for (Worker& w : workers_) {
    if (w.state != WorkerState::kRunning) continue;
    const std::optional<process::ExitStatus> status = launcher_->Poll(w.pid);
    if (!status) continue;
    const auto uptime = duration_cast<milliseconds>(clock_->Now() - w.started);
    w.last_exit = fmt::format("{} after {}", status->Describe(), FormatSpan(uptime));
    OnExit(&w, fmt::format("{} (pid {}) {}", w.spec.title, w.pid, w.last_exit), status->success(),
           uptime);
    changed = true;
  }
  std::optional<SteadyTime> next;
  if (!gave_up_) {
    for (Worker& w : workers_) {
      if (w.state != WorkerState::kRestarting) continue;
      if (w.restart_at <= clock_->Now()) {
        StartWorker(&w);
        changed = true;
      }
      if (w.state == WorkerState::kRestarting) {
        next = std::min(next.value_or(w.restart_at), w.restart_at);
      }
      if (gave_up_) break;
    }
  }
  if (changed) Publish();
  return gave_up_ ? std::nullopt : next;
}

void Supervisor::StopAll() {
  state_ = SupervisorState::kStopping;
  Publish();
  for (auto it = workers_.rbegin(); it != workers_.rend(); ++it) {
    Worker& w = *it;
    if (w.state == WorkerState::kRestarting) {
      w.state = WorkerState::kStopped;
      Publish();
      continue;
    }
    if (w.state != WorkerState::kRunning) continue;
    w.state = WorkerState::kStopping;
    Publish();
    log_(log::Level::kInfo, fmt::format("stopping {} (pid {}; SIGKILL after {})", w.spec.title,
                                        w.pid, FormatSpan(w.spec.stop_timeout)));
    const SteadyTime begin = clock_->Now();
    const process::ExitStatus status = launcher_->Stop(w.pid, w.spec.stop_timeout);
    const SteadyTime end = clock_->Now();
    w.last_exit = fmt::format("{} after {} (stopped)", status.Describe(),
                              FormatSpan(duration_cast<milliseconds>(end - w.started)));
    w.last_exit_at = clock_->WallNow();
    log_(log::Level::kInfo,
         fmt::format("{} stopped in {} ({})", w.spec.title,
                     FormatSpan(duration_cast<milliseconds>(end - begin)), status.Describe()));
    w.pid = 0;
    w.state = WorkerState::kStopped;
    Publish();
  }
  state_ = gave_up_ ? SupervisorState::kFailed : SupervisorState::kStopped;
  Publish();
}

void Supervisor::Publish() {
  SupervisorStatus s;
  s.state = state_;
  s.started_at = started_at_;
  const SteadyTime now = clock_->Now();
  s.updated_at = clock_->WallNow();
  for (const Worker& w : workers_) {
    WorkerStatus ws;
    ws.name = w.spec.name;
    ws.title = w.spec.title;
    ws.log_file = w.spec.log_file;
    ws.state = w.state;
    ws.pid = w.pid;
    ws.restarts = w.tracker.restarts();
    ws.failed_starts = w.tracker.failed_starts();
    ws.started_at = w.started_wall;
    ws.last_exit = w.last_exit;
    ws.last_exit_at = w.last_exit_at;
    if (w.state == WorkerState::kRestarting) {
      ws.restart_at = s.updated_at + duration_cast<WallTime::duration>(w.restart_at - now);
    }
    s.workers.push_back(std::move(ws));
  }
  if (on_change_) on_change_(s);
  core::MutexLock lock(snapshot_mu_);
  snapshot_ = std::move(s);
}

SupervisorStatus Supervisor::Snapshot() const {
  core::MutexLock lock(snapshot_mu_);
  return snapshot_;
}

}  // namespace pinpipe::supervisor
