#include "scheduler/process_task_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lake/object_store.h"
#include "scheduler/seal_waiter.h"

extern char** environ;

namespace pinpipe::scheduler {
namespace {

using Steady = std::chrono::steady_clock;

// "a b 'c d'": a command line as a shell would need it, for the log header.
std::string ShellQuote(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += arg;
    } else {
      out += '\'';
      for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

// PATH lookup in the parent: after fork only async-signal-safe calls are allowed.
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(begin, end - begin);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  return name;  // execve fails with ENOENT, reported as such
}

std::string Seconds(Steady::duration d) {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

}  // namespace

struct ProcessTaskRunner::Try {
  TaskRequest request;
  Steady::time_point started = Steady::now();
  pid_t pid = -1;  // also the process group id; -1 for in-process tries
  int out_fd = -1;
  std::unique_ptr<lake::ObjectStore> lake;
  std::unique_ptr<SealWaiter> waiter;
  SealWaitOptions seal;
  // Guarded by the runner's mutex_:
  bool stop_requested = false;
  Steady::time_point stop_at{};
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
    std::lock_guard lock(mutex_);
    for (auto& [handle, t] : tries_) {
      if (t->outcome) continue;
      t->stop_requested = true;
      t->stop_at = Steady::now();
      if (t->pid > 0) kill(-t->pid, SIGTERM);
      if (t->waiter) t->waiter->Cancel();
    }
    tries.swap(tries_);
  }
  tries.clear();  // joins the pumps outside the lock (they take it to finish)
}

std::vector<std::string> ProcessTaskRunner::CommandLine(const TaskRequest& request) const {
  std::vector<std::string> argv;
  switch (request.kind) {
    case TaskKind::kWaitSealed:
      return {};
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
    case TaskKind::kRefreshViews:
      argv = {options_.pinpipe_bin, "batch", "--views-only"};
      break;
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
    if (request.timeout) t->seal.timeout = *request.timeout;
    RETURN_IF_ERROR(ParseSealArgs(request.argv, &t->seal, &lake_url));
    if (lake_url.empty()) {
      return InvalidArgument("wait_sealed: no lake (give the scheduler --lake, or --lake URL in "
                             "the task's args)");
    }
    ASSIGN_OR_RETURN(t->lake, lake::OpenObjectStore(lake_url));
    t->waiter = std::make_unique<SealWaiter>(
        t->lake.get(), [log](const std::string& line) { log("[wait_sealed] " + line + "\n"); });
  } else {
    const std::vector<std::string> argv = CommandLine(request);
    if (argv.empty()) return InvalidArgument("shell task without command or argv");
    // Everything the child needs, built before fork (only async-signal-safe calls after it).
    const std::string program = ResolveProgram(argv[0]);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      bool overridden = false;
      for (const auto& [name, value] : request.env) {
        overridden = overridden || (entry.starts_with(name) && entry.size() > name.size() &&
                                    entry[name.size()] == '=');
      }
      if (!overridden) env_strings.emplace_back(entry);
    }
    for (const auto& [name, value] : request.env) env_strings.push_back(name + "=" + value);
    env_strings.push_back("PINPIPE_DAG_ID=" + request.dag_id);
    env_strings.push_back("PINPIPE_RUN_ID=" + request.run_id.str());
    env_strings.push_back("PINPIPE_TASK_ID=" + request.task_id);
    env_strings.push_back("PINPIPE_TRY_NUMBER=" + std::to_string(request.try_number));
    std::vector<char*> child_argv;
    for (const std::string& a : argv) child_argv.push_back(const_cast<char*>(a.c_str()));
    child_argv.push_back(nullptr);
    std::vector<char*> child_env;
    for (const std::string& e : env_strings) child_env.push_back(const_cast<char*>(e.c_str()));
    child_env.push_back(nullptr);

    int out[2];
    int exec_error[2];
    if (pipe2(out, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
    if (pipe2(exec_error, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return Internal(fmt::format("pipe: {}", strerror(errno)));
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      const int err = errno;
      for (int fd : {out[0], out[1], exec_error[0], exec_error[1]}) close(fd);
      return Internal(fmt::format("fork: {}", strerror(err)));
    }
    if (pid == 0) {
      // Child: async-signal-safe calls only.
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(137);  // the scheduler died before prctl took effect
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
      }
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      const int null_fd = open("/dev/null", O_RDONLY);
      if (null_fd >= 0) dup2(null_fd, 0);
      dup2(out[1], 1);
      dup2(out[1], 2);
      execve(program.c_str(), child_argv.data(), child_env.data());
      const int err = errno;
      [[maybe_unused]] ssize_t n = write(exec_error[1], &err, sizeof err);
      _exit(127);
    }
    setpgid(pid, pid);  // also from the parent, so a Stop() right away finds the group
    close(out[1]);
    close(exec_error[1]);
    int err = 0;
    ssize_t n;
    do {
      n = read(exec_error[0], &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    close(exec_error[0]);
    if (n == static_cast<ssize_t>(sizeof err)) {
      close(out[0]);
      waitpid(pid, nullptr, 0);
      const std::string what = fmt::format("cannot run {}: {}", program, strerror(err));
      return err == ENOENT ? NotFound(what) : Internal(what);
    }
    t->pid = pid;
    t->out_fd = out[0];
    log(fmt::format("[pinpipe] try {} of {}.{} ({}): $ {}\n", request.try_number,
                    request.dag_id, request.task_id, request.run_id.str(), ShellQuote(argv)));
  }

  std::lock_guard lock(mutex_);
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
      fmt::print(stderr, "pinpipe scheduler: log of {}.{} try {}: {}\n", r.task_id,
                 r.run_id.str(), r.try_number, s.ToString());
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
  bool exited = false;
  bool killed = false;
  int status = 0;
  Steady::time_point exited_at{};
  char chunk[16384];
  while (true) {
    if (!eof) {
      pollfd p{t->out_fd, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        const ssize_t n = read(t->out_fd, chunk, sizeof chunk);
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
    if (!exited) {
      const pid_t w = waitpid(t->pid, &status, WNOHANG);
      if (w == t->pid || (w < 0 && errno == ECHILD)) {
        exited = true;
        exited_at = now;
      }
    }
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      stopping = t->stop_requested;
      if (stopping && !exited && !killed && now >= t->stop_at + options_.kill_grace) {
        kill(-t->pid, SIGKILL);
        killed = true;
      }
    }
    // Once stopped, nothing of the tree may outlive the try.
    if (stopping && exited) kill(-t->pid, SIGKILL);
    if (buffer.size() >= options_.log_chunk_bytes ||
        (!buffer.empty() && now - last_flush >= options_.log_flush_interval)) {
      append(buffer);
      buffer.clear();
      last_flush = now;
    }
    // A background grandchild may keep the pipe open: stop reading 2s after the exit.
    if (exited && (eof || now - exited_at > std::chrono::seconds(2))) break;
  }
  close(t->out_fd);
  t->out_fd = -1;

  TaskOutcome outcome;
  bool stopped = false;
  {
    std::lock_guard lock(mutex_);
    stopped = t->stop_requested;
  }
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
    outcome.result = outcome.exit_code == 0 ? TryResult::kSuccess : TryResult::kFailed;
    if (outcome.exit_code != 0) outcome.message = fmt::format("exit code {}", outcome.exit_code);
  } else if (WIFSIGNALED(status)) {
    outcome.exit_code = 128 + WTERMSIG(status);
    outcome.result = TryResult::kFailed;
    outcome.message = fmt::format("killed by signal {} ({})", WTERMSIG(status),
                                  strsignal(WTERMSIG(status)));
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
  std::lock_guard lock(mutex_);
  t->outcome = std::move(outcome);
  ended_cv_.notify_all();
}

std::optional<TaskOutcome> ProcessTaskRunner::Poll(TaskHandle handle) {
  std::unique_ptr<Try> done;  // joined outside the lock: a finished thread keeps its stack
  std::optional<TaskOutcome> outcome;
  {
    std::lock_guard lock(mutex_);
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
  std::lock_guard lock(mutex_);
  const auto it = tries_.find(handle);
  if (it == tries_.end()) return;
  Try* t = it->second.get();
  if (t->outcome || t->stop_requested) return;
  t->stop_requested = true;
  t->stop_at = Steady::now();
  if (t->pid > 0) kill(-t->pid, SIGTERM);
  if (t->waiter) t->waiter->Cancel();
}

void ProcessTaskRunner::WaitForEnd(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mutex_);
  // Any try ended and not yet reported by Poll (not "a try ends from now on": one that ended
  // between the executor's last Poll and this call must not cost a whole wait).
  ended_cv_.wait_for(lock, max_wait, [&] {
    for (const auto& [handle, t] : tries_) {
      if (t->outcome) return true;
    }
    return false;
  });
}

size_t ProcessTaskRunner::running() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [handle, t] : tries_) n += t->outcome ? 0 : 1;
  return n;
}

}  // namespace pinpipe::scheduler
