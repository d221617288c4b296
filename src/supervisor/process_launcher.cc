#include "supervisor/process_launcher.h"

#include <fstream>

#include "core/check.h"

namespace pinpipe::supervisor {

StatusOr<int> ProcessLauncher::Start(const WorkerSpec& spec) {
  process::SpawnOptions options;
  options.argv = spec.argv;
  options.env = spec.env;
  options.output_file = spec.log_file;
  options.death_signal = SIGTERM;
  ASSIGN_OR_RETURN(process::Child child, process::Child::Spawn(options));
  const int pid = child.pid();
  children_.emplace(pid, std::move(child));
  return pid;
}

std::optional<process::ExitStatus> ProcessLauncher::Poll(int pid) {
  const auto it = children_.find(pid);
  PINPIPE_CHECK(it != children_.end()) << "Poll of pid " << pid << ", not a worker";
  std::optional<process::ExitStatus> status = it->second.PollKillingGroup();
  if (status) children_.erase(it);
  return status;
}

process::ExitStatus ProcessLauncher::Stop(int pid, std::chrono::milliseconds timeout) {
  const auto it = children_.find(pid);
  PINPIPE_CHECK(it != children_.end()) << "Stop of pid " << pid << ", not a worker";
  const process::ExitStatus status = it->second.Stop(timeout);
  children_.erase(it);
  return status;
}

std::string ProcessLauncher::LogTail(const WorkerSpec& spec, size_t lines) {
  return ReadLastLines(spec.log_file, lines);
}

std::string ReadLastLines(const std::string& path, size_t lines) {
  constexpr std::streamoff kMaxBytes = 64 * 1024;
  if (lines == 0) return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > kMaxBytes ? size - kMaxBytes : 0;
  in.seekg(from);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  // Walk back over `lines` newlines (a trailing newline ends the last line, it starts none).
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t begin = end;
  for (size_t found = 0; begin > 0; --begin) {
    if (text[begin - 1] == '\n' && ++found == lines) break;
  }
  return text.substr(begin);
}

}  // namespace pinpipe::supervisor
