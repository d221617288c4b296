// ProcessLauncher: the supervisor's Launcher over real child processes (process::Child). Each
// worker runs in its own session and process group, stdout and stderr appended to its log file,
// with PR_SET_PDEATHSIG = SIGTERM: if the supervisor is killed, the workers get the same stop
// signal as on Ctrl-C (the speed layer commits its chunk, the archiver writes its segments)
// instead of running on unsupervised. A worker that exited has what is left of its process
// group killed (a scheduler's task try), so a restarted worker never meets its predecessor's
// children.
//
// Thread-safety: none; use it from the thread that owns the supervisor, which must live as long
// as the workers (the death signal follows the thread that forked).
#pragma once

#include <map>
#include <string>

#include "process/child.h"
#include "supervisor/supervisor.h"

namespace pinpipe::supervisor {

class ProcessLauncher final : public Launcher {
 public:
  StatusOr<int> Start(const WorkerSpec& spec) override;
  std::optional<process::ExitStatus> Poll(int pid) override;
  process::ExitStatus Stop(int pid, std::chrono::milliseconds timeout) override;
  std::string LogTail(const WorkerSpec& spec, size_t lines) override;

 private:
  std::map<int, process::Child> children_;  // by pid, until reaped
};

// The last `lines` lines of the file at `path` (reads at most its last 64 KiB); empty when it
// cannot be read.
std::string ReadLastLines(const std::string& path, size_t lines);

}  // namespace pinpipe::supervisor
