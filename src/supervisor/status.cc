#include "supervisor/status.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>

#include <fmt/format.h>

#include "core/record_validator.h"

namespace pinpipe::supervisor {
namespace {

void AppendTime(const std::optional<WallTime>& t, std::string* out) {
  if (t) {
    core::AppendJsonString(FormatUtc(*t), out);
  } else {
    *out += "null";
  }
}

}  // namespace

std::string_view WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kRunning: return "running";
    case WorkerState::kRestarting: return "restarting";
    case WorkerState::kFinished: return "finished";
    case WorkerState::kStopping: return "stopping";
    case WorkerState::kStopped: return "stopped";
    case WorkerState::kFailed: return "failed";
  }
  return "unknown";
}

std::string_view SupervisorStateName(SupervisorState state) {
  switch (state) {
    case SupervisorState::kRunning: return "running";
    case SupervisorState::kStopping: return "stopping";
    case SupervisorState::kStopped: return "stopped";
    case SupervisorState::kFailed: return "failed";
  }
  return "unknown";
}

std::string FormatUtc(WallTime t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
}

std::string RenderStatusJson(const SupervisorStatus& status, int pid) {
  std::string out = fmt::format("{{\"pid\":{},\"state\":", pid);
  core::AppendJsonString(SupervisorStateName(status.state), &out);
  out += ",\"started_at\":";
  AppendTime(status.started_at, &out);
  out += ",\"updated_at\":";
  AppendTime(status.updated_at, &out);
  out += ",\"workers\":[";
  for (size_t i = 0; i < status.workers.size(); ++i) {
    const WorkerStatus& w = status.workers[i];
    if (i > 0) out += ',';
    out += "{\"name\":";
    core::AppendJsonString(w.name, &out);
    out += ",\"title\":";
    core::AppendJsonString(w.title, &out);
    out += ",\"state\":";
    core::AppendJsonString(WorkerStateName(w.state), &out);
    fmt::format_to(std::back_inserter(out), ",\"pid\":{},\"restarts\":{},\"failed_starts\":{}",
                   w.pid, w.restarts, w.failed_starts);
    out += ",\"started_at\":";
    AppendTime(w.started_at, &out);
    out += ",\"last_exit\":";
    if (w.last_exit.empty()) {
      out += "null";
    } else {
      core::AppendJsonString(w.last_exit, &out);
    }
    out += ",\"last_exit_at\":";
    AppendTime(w.last_exit_at, &out);
    out += ",\"restart_at\":";
    AppendTime(w.restart_at, &out);
    out += ",\"log\":";
    core::AppendJsonString(w.log_file, &out);
    out += '}';
  }
  out += "]}\n";
  return out;
}

std::string RenderMetrics(const SupervisorStatus& status) {
  // Worker names are [A-Za-z0-9_.-] (IsWorkerName): nothing in a label value needs escaping.
  std::string out;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help,
                    auto value_of) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const WorkerStatus& w : status.workers) {
      fmt::format_to(std::back_inserter(out), "{}{{worker=\"{}\"}} {}\n", name, w.name,
                     value_of(w));
    }
  };
  family("pinpipe_supervisor_restarts_total", "counter",
         "Restarts of the worker after its process exited unexpectedly",
         [](const WorkerStatus& w) { return std::to_string(w.restarts); });
  family("pinpipe_supervisor_worker_up", "gauge", "1 while the worker's process runs",
         [](const WorkerStatus& w) { return std::string(w.pid > 0 ? "1" : "0"); });
  family("pinpipe_supervisor_worker_failed_starts", "gauge",
         "Exits soon after the start in a row (the supervisor gives up at --max-failed-starts)",
         [](const WorkerStatus& w) { return std::to_string(w.failed_starts); });
  family("pinpipe_supervisor_worker_start_time_seconds", "gauge",
         "Unix time the worker's current process started (0: none)", [](const WorkerStatus& w) {
           if (w.pid <= 0 || !w.started_at) return std::string("0");
           return fmt::format(
               "{:.3f}", std::chrono::duration<double>(w.started_at->time_since_epoch()).count());
         });
  fmt::format_to(std::back_inserter(out),
                 "# HELP pinpipe_supervisor_stopping 1 once the supervisor stops its workers\n"
                 "# TYPE pinpipe_supervisor_stopping gauge\npinpipe_supervisor_stopping {}\n",
                 status.state == SupervisorState::kRunning ? 0 : 1);
  return out;
}

Status WriteStatusFile(const std::string& path, std::string_view content) {
  const std::string temp = fmt::format("{}.tmp-{}", path, getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(fmt::format("cannot write {}: {}", temp, strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      unlink(temp.c_str());
      return Internal(fmt::format("cannot write {}: {}", temp, strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(temp.c_str());
    return Internal(fmt::format("cannot rename {} to {}: {}", temp, path, strerror(err)));
  }
  return Status::Ok();
}

}  // namespace pinpipe::supervisor
