// Helpers for the tests of `pinpipe supervise` and scripts/run: the supervisor's status file, and
// the speed layer's exactly-once bookkeeping to check against Kafka.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace pinpipe::testing {

// The supervisor's status file (src/supervisor/status.h), the fields tests look at.
struct SupervisedWorker {
  std::string name;
  std::string state;
  int pid = 0;
  int restarts = 0;
  int failed_starts = 0;
  std::string last_exit;
};
struct SupervisorStatusFile {
  int pid = 0;
  std::string state;
  std::vector<SupervisedWorker> workers;
  // The worker called `name`, or nullptr.
  const SupervisedWorker* Find(const std::string& name) const;
};
// Errors: NotFound when there is no file yet; DataLoss when it is not the expected JSON.
StatusOr<SupervisorStatusFile> ReadSupervisorStatus(const std::string& path);

// What the speed layer stored for `group`, summed over its batches (pinpipe_stream_batches) and
// counted in its tables, for an exactly-once check against the topics' record counts.
struct StreamBookkeeping {
  int64_t records = 0;       // sum(records): records the batches consumed
  int64_t offsets = 0;       // sum(next_offset) of the group in pinpipe_stream_offsets
  int64_t table_rows = 0;    // rows in experimental_data + geolocation_data_clean + user_data_clean
  int64_t dedup = 0;         // duplicates dropped (in the batch or against the table)
  int64_t dead = 0;          // dead-lettered at the transform
  int64_t dropped = 0;       // dropped by the transform's rules
  int64_t rejected = 0;      // refused by PostgreSQL, dead-lettered
  int64_t dead_letters = 0;  // rows in pinpipe_dead_letters
  // Rows whose dedup key occurs more than once (unique_id for pins, ind for geo and user).
  int64_t duplicate_keys = 0;
};
StatusOr<StreamBookkeeping> ReadStreamBookkeeping(const std::string& dsn, const std::string& group);

}  // namespace pinpipe::testing
