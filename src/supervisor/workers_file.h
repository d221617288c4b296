// The workers file of `pinpipe supervise` (TOML; scripts/run writes $STATE/run/workers.toml):
//
//   [[worker]]                       # workers start in file order and stop in reverse order
//   name = "stream"                  # [A-Za-z0-9_.-]{1,64}, unique: metrics label, status key
//   title = "speed layer"            # optional, for log lines (default: the name)
//   argv = ["/path/pinpipe", "stream", "--kafka-brokers", "127.0.0.1:19092"]
//   log = "/path/logs/stream.log"    # stdout and stderr appended here
//   restart = "always"               # optional: always (default) | on-failure (exit 0 = finished)
//   stop_timeout = "15s"             # optional (default 15s): SIGTERM, then SIGKILL after this
//   env = { PINPIPE_BATCH_PG_DSN = "..." }   # optional, on top of the supervisor's environment
//
// Unknown keys are errors (a typo must not be ignored). Pure: parsing only; LoadWorkersFile
// reads the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "supervisor/worker_spec.h"

namespace pinpipe::supervisor {

// Errors: InvalidArgument "<source_name>: worker.<name>.<key> (line N): <what>" (or a TOML
// syntax error with line and column); at least one and at most kMaxWorkers workers.
StatusOr<std::vector<WorkerSpec>> ParseWorkersFile(std::string_view text,
                                                   std::string_view source_name);

// Reads and parses `path`. Errors: NotFound when it cannot be read; ParseWorkersFile's.
StatusOr<std::vector<WorkerSpec>> LoadWorkersFile(const std::string& path);

}  // namespace pinpipe::supervisor
