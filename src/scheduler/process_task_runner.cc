#include "scheduler/process_task_runner.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/mutex.h"
#include "lake/object_store.h"
#include "log/logger.h"
#include "process/child.h"
#include "scheduler/seal_waiter.h"

namespace pinpipe::scheduler {
namespace {

const log::Logger kSchedulerLog("scheduler");

using Steady = std::chrono::steady_clock;

std::string Seconds(Steady::duration d) {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

}  // namespace

struct ProcessTaskRunner::Try {
  TaskRequest request;
  Steady::time_point started = Steady::now();
  std::optional<process::Child> child;  // empty for in-process tries (wait_sealed)
  std::unique_ptr<lake::ObjectStore> lake;
  std::unique_ptr<SealWaiter> waiter;
  SealWaitOptions seal;
  // Guarded by the runner's mutex_:
  // (also the child: the pump polls it, Stop() signals it)
  bool stop_requested = false;
  std::optional<TaskOutcome> outcome;
  // Last: joined (destroyed) first, before the fields it uses.
  std::jthread thread;
};

ProcessTaskRunner::ProcessTaskRunner(RunStore* logs, ProcessRunnerOptions options)
    : logs_(logs), options_(std::move(options)) {
  if (options_.pinpipe_bin.empty()) options_.pinpipe_bin = "/proc/self/exe";
}

ProcessTaskRunner::~ProcessTaskRunner() {
  std::map<TaskHandle, std::unique_ptr<Try>> tries;
  {
    core::MutexLock lock(mutex_);
    for (auto& [handle, t] : tries_) {
      if (t->outcome) continue;
      t->stop_requested = true;
      if (t->child) t->child->BeginStop(Steady::now());
      if (t->waiter) t->waiter->Cancel();
    }
    tries.swap(tries_);
  }
  tries.clear();  // joins the pumps outside the lock (they take it to finish)
}

std::vector<std::string> ProcessTaskRunner::CommandLine(const TaskRequest& request) const {
  std::vector<std::string> argv;
  switch (request.kind) {
    case TaskKind::kWaitSealed: return {};
    case TaskKind::kShell:
      if (!request.command.empty()) return {"/bin/sh", "-c", request.command};
      return request.argv;
    case TaskKind::kBatch: {
      argv = {options_.pinpipe_bin, "batch"};
      const std::vector<std::string> days = UtcDaysOf(request.interval);
      if (days.size() == 1) {
        argv.insert(argv.end(), {"--date", days[0]});
      } else if (!days.empty()) {
        argv.insert(argv.end(), {"--from", days.front(), "--to", days.back()});
      }
      break;
    }
    case TaskKind::kRefreshViews: argv = {options_.pinpipe_bin, "batch", "--views-only"}; break;
  }
  if (!options_.lake_url.empty() && request.kind == TaskKind::kBatch) {
    argv.insert(argv.end(), {"--lake", options_.lake_url});
  }
  argv.insert(argv.end(), options_.batch_args.begin(), options_.batch_args.end());
  argv.insert(argv.end(), request.argv.begin(), request.argv.end());
  return argv;
}

StatusOr<TaskHandle> ProcessTaskRunner::Start(const TaskRequest& request) {
  auto t = std::make_unique<Try>();
  t->request = request;
  auto log = [this, r = &t->request](const std::string& text) {
    logs_->AppendTaskLog(r->dag_id, r->run_id, r->task_id, r->try_number, text).IgnoreError();
  };

  if (request.kind == TaskKind::kWaitSealed) {
    std::string lake_url = options_.lake_url;
    t->seal.poke_interval = request.poke_interval;
    if (!options_.seal_topics.empty()) t->seal.topics = options_.seal_topics;
    if (request.timeout) t->seal.timeout = *request.timeout;
    RETURN_IF_ERROR(ParseSealArgs(request.argv, &t->seal, &lake_url));
    if (lake_url.empty()) {
      return InvalidArgument(
          "wait_sealed: no lake (give the scheduler --lake, or --lake URL in "
          "the task's args)");
    }
    ASSIGN_OR_RETURN(t->lake, lake::OpenObjectStore(lake_url));
    t->waiter = std::make_unique<SealWaiter>(
        t->lake.get(), [log](const std::string& line) { log("[wait_sealed] " + line + "\n"); });
  } else {
    const std::vector<std::string> argv = CommandLine(request);
    if (argv.empty()) return InvalidArgument("shell task without command or argv");
    process::SpawnOptions spawn;
    spawn.argv = argv;
    spawn.env = {request.env.begin(), request.env.end()};
    spawn.env.emplace_back("PINPIPE_DAG_ID", request.dag_id);
    spawn.env.emplace_back("PINPIPE_RUN_ID", request.run_id.str());
    spawn.env.emplace_back("PINPIPE_TASK_ID", request.task_id);
    spawn.env.emplace_back("PINPIPE_TRY_NUMBER", std::to_string(request.try_number));
    spawn.death_signal = SIGKILL;
    ASSIGN_OR_RETURN(process::Child child, process::Child::Spawn(spawn));
    t->child.emplace(std::move(child));
    log(fmt::format("[pinpipe] try {} of {}.{} ({}): $ {}\n", request.try_number, request.dag_id,
                    request.task_id, request.run_id.str(), process::ShellQuote(argv)));
  }

  core::MutexLock lock(mutex_);
  const TaskHandle handle{next_handle_++};
  Try* raw = t.get();
  raw->thread = std::jthread([this, raw] { Pump(raw); });
  tries_.emplace(handle, std::move(t));
  return handle;
}

void ProcessTaskRunner::Pump(Try* t) {
  const TaskRequest& r = t->request;
  auto append = [&](std::string_view text) {
    Status s = logs_->AppendTaskLog(r.dag_id, r.run_id, r.task_id, r.try_number, text);
    if (!s.ok()) {
      kSchedulerLog.Log(log::Level::kWarn, "cannot save a task's log",
                        {{"dag", r.dag_id},
                         {"task", r.task_id},
                         {"run", r.run_id.str()},
                         {"try", r.try_number},
                         {"error", s.ToString()}});
    }
  };

  if (t->waiter) {
    const Status s = t->waiter->Wait(UtcDaysOf(r.interval), t->seal);
    TaskOutcome outcome;
    if (s.ok()) {
      outcome = {TryResult::kSuccess, 0, ""};
    } else if (s.code() == StatusCode::kCancelled || s.code() == StatusCode::kDeadlineExceeded) {
      outcome = {TryResult::kTimedOut, 1, s.message()};
    } else {
      outcome = {TryResult::kFailed, 1, s.ToString()};
    }
    if (!s.ok()) append("[wait_sealed] " + s.message() + "\n");
    Finish(t, std::move(outcome));
    return;
  }

  std::string buffer;
  Steady::time_point last_flush = Steady::now();
  bool eof = false;
  std::optional<process::ExitStatus> status;
  bool killed = false;
  Steady::time_point exited_at{};
  const int out_fd = t->child->output_fd();
  char chunk[16384];
  while (true) {
    if (!eof) {
      pollfd p{out_fd, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        const ssize_t n = read(out_fd, chunk, sizeof chunk);
        if (n > 0) {
          buffer.append(chunk, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          eof = true;
        }
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const Steady::time_point now = Steady::now();
    {
      core::MutexLock lock(mutex_);
      if (!status) {
        status = t->child->Poll();
        if (status) exited_at = now;
      }
      if (t->stop_requested) {
        killed = t->child->EscalateStop(now, options_.kill_grace);
        // Once stopped, nothing of the tree may outlive the try.
        if (status) t->child->KillGroup();
      }
    }
    if (buffer.size() >= options_.log_chunk_bytes ||
        (!buffer.empty() && now - last_flush >= options_.log_flush_interval)) {
      append(buffer);
      buffer.clear();
      last_flush = now;
    }
    // A background grandchild may keep the pipe open: stop reading 2s after the exit.
    if (status && (eof || now - exited_at > std::chrono::seconds(2))) break;
  }
  bool stopped = false;
  {
    core::MutexLock lock(mutex_);
    t->child->CloseOutput();
    stopped = t->stop_requested;
  }

  TaskOutcome outcome;
  if (status->exited()) {
    outcome.exit_code = status->code();
    outcome.result = outcome.exit_code == 0 ? TryResult::kSuccess : TryResult::kFailed;
    if (outcome.exit_code != 0) outcome.message = fmt::format("exit code {}", outcome.exit_code);
  } else if (status->signaled()) {
    outcome.exit_code = status->ShellCode();
    outcome.result = TryResult::kFailed;
    outcome.message =
        fmt::format("killed by signal {} ({})", status->signal(), strsignal(status->signal()));
  }
  if (stopped) {
    outcome.result = TryResult::kTimedOut;
    outcome.message = fmt::format("stopped (SIGTERM to the process group{}); {}",
                                  killed ? ", SIGKILL after the grace period" : "",
                                  outcome.message.empty() ? "exit code 0" : outcome.message);
  }
  buffer += fmt::format("[pinpipe] {} after {}\n",
                        outcome.result == TryResult::kSuccess ? "exit code 0" : outcome.message,
                        Seconds(Steady::now() - t->started));
  append(buffer);
  Finish(t, std::move(outcome));
}

void ProcessTaskRunner::Finish(Try* t, TaskOutcome outcome) {
  core::MutexLock lock(mutex_);
  t->outcome = std::move(outcome);
  ended_cv_.notify_all();
}

std::optional<TaskOutcome> ProcessTaskRunner::Poll(TaskHandle handle) {
  std::unique_ptr<Try> done;  // joined outside the lock: a finished thread keeps its stack
  std::optional<TaskOutcome> outcome;
  {
    core::MutexLock lock(mutex_);
    if (const auto f = finished_.find(handle); f != finished_.end()) return f->second;
    const auto it = tries_.find(handle);
    if (it == tries_.end() || !it->second->outcome) return std::nullopt;
    outcome = it->second->outcome;
    finished_.emplace(handle, *outcome);
    done = std::move(it->second);
    tries_.erase(it);
  }
  return outcome;
}

void ProcessTaskRunner::Stop(TaskHandle handle) {
  core::MutexLock lock(mutex_);
  const auto it = tries_.find(handle);
  if (it == tries_.end()) return;
  Try* t = it->second.get();
  if (t->outcome || t->stop_requested) return;
  t->stop_requested = true;
  if (t->child) t->child->BeginStop(Steady::now());
  if (t->waiter) t->waiter->Cancel();
}

void ProcessTaskRunner::WaitForEnd(std::chrono::milliseconds max_wait) {
  core::MutexLock lock(mutex_);
  // Any try ended and not yet reported by Poll (not "a try ends from now on": one that ended
  // between the executor's last Poll and this call must not cost a whole wait).
  lock.WaitFor(ended_cv_, max_wait, [&]() REQUIRES(mutex_) {
    for (const auto& [handle, t] : tries_) {
      if (t->outcome) return true;
    }
    return false;
  });
}

size_t ProcessTaskRunner::running() const {
  core::MutexLock lock(mutex_);
  size_t n = 0;
  for (const auto& [handle, t] : tries_) n += t->outcome ? 0 : 1;
  return n;
}

}  // namespace pinpipe::scheduler
