// Producing records with chosen Kafka timestamps (CreateTime), for tests whose records must fall
// on given days: pins have no event time of their own, so the archiver files them under their
// Kafka timestamp (docs/design.md, "Archiver", event time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace pinpipe::testing {

struct TimedRecord {
  std::string key;
  std::string value;
  int64_t timestamp_ms = 0;  // the message's CreateTime, milliseconds since the epoch (UTC)
};

// Produces every record to `topic` with its own timestamp (idempotent producer, acks=all) and
// waits for every acknowledgement. Errors: InvalidArgument for a bad configuration, the first
// failed delivery, DeadlineExceeded when not everything was acknowledged within 60 s.
Status ProduceWithTimestamps(const std::string& brokers, const std::string& topic,
                             const std::vector<TimedRecord>& records);

}  // namespace pinpipe::testing
