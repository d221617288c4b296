#include "process/child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace pinpipe::process {
namespace {

using Steady = std::chrono::steady_clock;

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

// The parent's environment with `overrides` replacing or adding variables.
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : overrides) {
      overridden = overridden || (entry.size() > name.size() && entry.starts_with(name) &&
                                  entry[name.size()] == '=');
    }
    if (!overridden) out.emplace_back(entry);
  }
  for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
  return out;
}

void CloseQuietly(int fd) {
  if (fd >= 0) close(fd);
}

}  // namespace

ExitStatus ExitStatus::Exited(int code) { return ExitStatus((code & 0xff) << 8); }
ExitStatus ExitStatus::Killed(int signal) { return ExitStatus(signal & 0x7f); }

bool ExitStatus::exited() const { return WIFEXITED(wait_status_); }
int ExitStatus::code() const { return exited() ? WEXITSTATUS(wait_status_) : -1; }
bool ExitStatus::signaled() const { return WIFSIGNALED(wait_status_); }
int ExitStatus::signal() const { return signaled() ? WTERMSIG(wait_status_) : 0; }
int ExitStatus::ShellCode() const { return signaled() ? 128 + signal() : code(); }

std::string ExitStatus::Describe() const {
  if (signaled()) return "was killed by " + SignalName(signal());
  return fmt::format("exited with status {}", code());
}

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  if (abbrev == nullptr) return fmt::format("signal {}", signal);
  return std::string("SIG") + abbrev;
}

StatusOr<Child> Child::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("no program to run (empty argv)");
  // Everything the child needs, built before fork.
  const std::string program = ResolveProgram(options.argv[0]);
  const std::vector<std::string> env_strings = ChildEnvironment(options.env);
  std::vector<char*> child_argv;
  for (const std::string& a : options.argv) child_argv.push_back(const_cast<char*>(a.c_str()));
  child_argv.push_back(nullptr);
  std::vector<char*> child_env;
  for (const std::string& e : env_strings) child_env.push_back(const_cast<char*>(e.c_str()));
  child_env.push_back(nullptr);

  int output_read = -1;
  int output_write = -1;
  if (!options.output_file.empty()) {
    output_write =
        open(options.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (output_write < 0) {
      return Internal(fmt::format("cannot open {}: {}", options.output_file, strerror(errno)));
    }
  } else {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
    output_read = out[0];
    output_write = out[1];
  }
  int exec_error[2];
  if (pipe2(exec_error, O_CLOEXEC) != 0) {
    const int err = errno;
    CloseQuietly(output_read);
    CloseQuietly(output_write);
    return Internal(fmt::format("pipe: {}", strerror(err)));
  }
  const pid_t parent = getpid();
  const int death_signal = options.death_signal;
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {output_read, output_write, exec_error[0], exec_error[1]}) CloseQuietly(fd);
    return Internal(fmt::format("fork: {}", strerror(err)));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    setsid();
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent) _exit(128 + death_signal);  // the parent died before prctl
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
    dup2(output_write, 1);
    dup2(output_write, 2);
    fcntl(1, F_SETFD, 0);  // dup2 onto the same number would keep close-on-exec
    fcntl(2, F_SETFD, 0);
    // Nothing else leaks into the program (a listening socket of the parent, say).
    if (exec_error[1] > 3) close_range(3, static_cast<unsigned>(exec_error[1]) - 1, 0);
    close_range(static_cast<unsigned>(exec_error[1]) + 1, ~0U, 0);
    execve(program.c_str(), child_argv.data(), child_env.data());
    const int err = errno;
    [[maybe_unused]] ssize_t n = write(exec_error[1], &err, sizeof err);
    _exit(127);
  }
  close(output_write);
  close(exec_error[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(exec_error[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  close(exec_error[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    CloseQuietly(output_read);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    const std::string what = fmt::format("cannot run {}: {}", program, strerror(err));
    return err == ENOENT ? NotFound(what) : Internal(what);
  }
  return Child(pid, output_read);
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_fd_(std::exchange(other.output_fd_, -1)),
      exit_status_(other.exit_status_),
      stop_begun_(other.stop_begun_),
      killed_(other.killed_) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    Child dying(std::move(*this));
    pid_ = std::exchange(other.pid_, -1);
    output_fd_ = std::exchange(other.output_fd_, -1);
    exit_status_ = other.exit_status_;
    stop_begun_ = other.stop_begun_;
    killed_ = other.killed_;
  }
  return *this;
}

Child::~Child() {
  CloseOutput();
  if (pid_ > 0 && !exit_status_) {
    KillGroup();
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void Child::CloseOutput() {
  CloseQuietly(output_fd_);
  output_fd_ = -1;
}

std::optional<ExitStatus> Child::Poll() {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  int status = 0;
  const pid_t w = waitpid(pid_, &status, WNOHANG);
  // ECHILD: reaped elsewhere (only if someone set SIGCHLD to SIG_IGN); nothing left to wait for.
  if (w == pid_ || (w < 0 && errno == ECHILD)) exit_status_ = ExitStatus::FromWait(status);
  return exit_status_;
}

std::optional<ExitStatus> Child::PollKillingGroup() {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      info.si_pid == pid_) {
    KillGroup();
  }
  return Poll();
}

void Child::SignalGroup(int sig) const {
  if (pid_ > 0) kill(-pid_, sig);
}

void Child::BeginStop(Steady::time_point now) {
  if (stop_begun_) return;
  stop_begun_ = now;
  SignalGroup(SIGTERM);
}

bool Child::EscalateStop(Steady::time_point now, std::chrono::milliseconds grace) {
  if (stop_begun_ && !killed_ && !exit_status_ && now >= *stop_begun_ + grace) {
    SignalGroup(SIGKILL);
    killed_ = true;
  }
  return killed_;
}

ExitStatus Child::Stop(std::chrono::milliseconds grace) {
  PINPIPE_CHECK(pid_ > 0) << "Stop() of a moved-from Child";
  if (!exit_status_) {
    BeginStop(Steady::now());
    while (!PollKillingGroup()) {
      EscalateStop(Steady::now(), grace);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return *exit_status_;
}

bool IsEnvName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

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

}  // namespace pinpipe::process
