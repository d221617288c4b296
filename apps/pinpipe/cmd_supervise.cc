// `pinpipe supervise`: keeps the workers of a workers file running (scripts/run starts the
// pipeline's workers through it). Restarts a worker that exits unexpectedly (back-off, a log line,
// counted in the status file and /metrics), stops everything in reverse order on SIGINT/SIGTERM
// (exit 0) or when a worker keeps failing at start-up (exit 1, with the end of its log).
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "command.h"
#include "core/duration.h"
#include "http/server.h"
#include "log/logger.h"
#include "supervisor/process_launcher.h"
#include "supervisor/status.h"
#include "supervisor/supervisor.h"
#include "supervisor/workers_file.h"
#include "worker_process.h"

namespace pinpipe::app {
namespace {

struct SuperviseFlags {
  std::string workers_file;
  std::string status_file;
  std::string log_file;
  uint16_t metrics_port = 0;
  std::string metrics_host = "127.0.0.1";
  std::string backoff_initial = "1s";
  std::string backoff_max = "30s";
  std::string healthy_after = "1m";
  std::string startup_window = "10s";
  int max_failed_starts = 5;
  bool stop_with_parent = false;
};

const log::Logger kSupervisorLog("supervisor");

int FailSupervise(const std::string& message) { return CommandError("supervisor", message, 2); }

int RunSupervise(const SuperviseFlags& f) {
  supervisor::RestartOptions options;
  const std::pair<const std::string*, std::chrono::milliseconds*> durations[] = {
      {&f.backoff_initial, &options.backoff_initial},
      {&f.backoff_max, &options.backoff_max},
      {&f.healthy_after, &options.healthy_after},
      {&f.startup_window, &options.startup_window}};
  for (const auto& [text, out] : durations) {
    StatusOr<std::chrono::seconds> d = core::ParseDuration(*text);
    if (!d.ok()) return FailSupervise(d.status().message());
    *out = *d;
  }
  if (options.backoff_initial.count() == 0)
    return FailSupervise("--backoff-initial must be at least 1s");
  options.max_failed_starts = f.max_failed_starts;
  auto workers = supervisor::LoadWorkersFile(f.workers_file);
  if (!workers.ok()) return FailSupervise(workers.status().message());

  // Stop signals and child exits are taken on this thread with sigtimedwait(); every thread
  // started later (the metrics server's) inherits the blocked mask. A background job of a
  // non-interactive bash starts with SIGINT ignored, and an ignored signal is discarded even when
  // blocked: restore the defaults first (SIGCHLD must not be SIG_IGN either, or children are
  // reaped by the kernel).
  for (int sig : {SIGINT, SIGTERM, SIGCHLD}) signal(sig, SIG_DFL);
  sigset_t waited;
  sigemptyset(&waited);
  for (int sig : {SIGINT, SIGTERM, SIGCHLD}) sigaddset(&waited, sig);
  pthread_sigmask(SIG_BLOCK, &waited, nullptr);
  if (f.stop_with_parent) {
    // scripts/run killed (even by SIGKILL): stop the workers as on Ctrl-C.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) return FailSupervise("--stop-with-parent: the parent has already exited");
  }

  // --log: every line of this process (not the workers': they have their own files) also goes
  // to that file, in the same look.
  if (!f.log_file.empty()) {
    if (Status s = log::AddFileSink(f.log_file); !s.ok()) {
      return FailSupervise("cannot open --log " + f.log_file + ": " + s.message());
    }
  }
  auto log_line = [](log::Level level, const std::string& line) {
    kSupervisorLog.Log(level, line);
  };
  bool status_warned = false;
  auto write_status = [&](const supervisor::SupervisorStatus& status) {
    if (f.status_file.empty()) return;
    Status s =
        supervisor::WriteStatusFile(f.status_file, supervisor::RenderStatusJson(status, getpid()));
    if (!s.ok() && !status_warned) log_line(log::Level::kWarn, "status file: " + s.ToString());
    status_warned = status_warned || !s.ok();
  };

  supervisor::SystemClock clock;
  supervisor::ProcessLauncher launcher;
  supervisor::Supervisor sup(std::move(workers).value(), options, &launcher, &clock, log_line,
                             write_status);

  WorkerProcess process;
  process.name = "supervisor";
  process.metrics_host = f.metrics_host;
  process.metrics_port = f.metrics_port;
  process.render_metrics = [&sup] { return supervisor::RenderMetrics(sup.Snapshot()); };
  std::unique_ptr<http::Server> server;
  if (Status s = StartMetricsServer(process, &server); !s.ok()) return FailSupervise(s.ToString());

  sup.Start();
  int stop_signal = 0;
  while (!sup.gave_up()) {
    const std::optional<supervisor::SteadyTime> next = sup.Tick();
    if (sup.gave_up()) break;
    // Until the next due restart, a child's exit (SIGCHLD) or a stop signal; the 1 s cap only
    // bounds the wait, every exit also raises SIGCHLD.
    auto wait = std::chrono::nanoseconds(std::chrono::seconds(1));
    if (next) {
      wait = std::clamp<std::chrono::nanoseconds>(*next - clock.Now(), std::chrono::nanoseconds(0),
                                                  wait);
    }
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(wait.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(wait.count() % 1000000000);
    siginfo_t info{};
    const int sig = sigtimedwait(&waited, &info, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      stop_signal = sig;
      break;
    }
  }
  if (stop_signal != 0) {
    log_line(
        log::Level::kInfo,
        fmt::format("{}: stopping the workers in reverse order (SIGTERM, then SIGKILL after each "
                    "one's stop timeout)",
                    stop_signal == SIGINT ? "SIGINT" : "SIGTERM"));
  }
  sup.StopAll();
  if (server) server->Stop();
  log_line(sup.gave_up() ? log::Level::kError : log::Level::kInfo,
           sup.gave_up() ? "stopped after giving up on a worker (exit status 1)" : "stopped");
  return sup.gave_up() ? 1 : 0;
}

CommandRegistration kSupervise(
    "supervise",
    "Keep the workers of a workers file running: restart one that exits (with back-off), stop "
    "them all on SIGINT/SIGTERM",
    [](CLI::App& sub) {
      auto f = std::make_shared<SuperviseFlags>();
      sub.add_option("--workers", f->workers_file,
                     "The workers file (TOML, [[worker]] tables; scripts/run writes "
                     ".pinpipe/run/workers.toml)")
          ->envname("PINPIPE_SUPERVISOR_WORKERS")
          ->required();
      sub.add_option("--status-file", f->status_file,
                     "Rewrite this JSON file on every change (per worker: pid, state, restarts, "
                     "last exit, start time)")
          ->envname("PINPIPE_SUPERVISOR_STATUS_FILE");
      sub.add_option("--log", f->log_file, "Also append the supervisor's own lines to this file")
          ->envname("PINPIPE_SUPERVISOR_LOG");
      sub.add_option("--metrics-port", f->metrics_port,
                     "Serve GET /metrics and /healthz on this port (0 = off)")
          ->envname("PINPIPE_SUPERVISOR_METRICS_PORT")
          ->capture_default_str();
      sub.add_option("--metrics-host", f->metrics_host, "Address of the metrics server")
          ->envname("PINPIPE_SUPERVISOR_METRICS_HOST")
          ->capture_default_str();
      sub.add_option("--backoff-initial", f->backoff_initial,
                     "Wait before the first restart of a worker (doubling for each further one)")
          ->envname("PINPIPE_SUPERVISOR_BACKOFF_INITIAL")
          ->capture_default_str();
      sub.add_option("--backoff-max", f->backoff_max, "... up to this")
          ->envname("PINPIPE_SUPERVISOR_BACKOFF_MAX")
          ->capture_default_str();
      sub.add_option("--healthy-after", f->healthy_after,
                     "A worker up this long starts over at --backoff-initial")
          ->envname("PINPIPE_SUPERVISOR_HEALTHY_AFTER")
          ->capture_default_str();
      sub.add_option("--startup-window", f->startup_window,
                     "An exit sooner than this after the start is a failed start")
          ->envname("PINPIPE_SUPERVISOR_STARTUP_WINDOW")
          ->capture_default_str();
      sub.add_option("--max-failed-starts", f->max_failed_starts,
                     "Give up (stop everything, exit 1) after this many failed starts of one "
                     "worker in a row")
          ->envname("PINPIPE_SUPERVISOR_MAX_FAILED_STARTS")
          ->check(CLI::Range(1, 1000))
          ->capture_default_str();
      sub.add_flag("--stop-with-parent", f->stop_with_parent,
                   "Stop the workers when the parent process dies (scripts/run)")
          ->envname("PINPIPE_SUPERVISOR_STOP_WITH_PARENT");
      return CommandRunner([f] { return RunSupervise(*f); });
    });

}  // namespace
}  // namespace pinpipe::app
