// DayInputs: what the archive holds for one topic and one day, as the archiver lays it out
// (archive/archive_layout.h):
//   <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first offset, 20 digits>.jsonl.zst   records
//   <topic>/dt=YYYY-MM-DD/_SUCCESS                                                   sealed
// The objects come sorted by key in byte order (so by hour, then partition as text, then first
// offset, which is zero-padded): the order the batch job commits them in, and the order that
// "first occurrence wins" de-duplication is defined by. Within one hour and partition this is
// offset order, and one post's duplicates share a partition (Kafka key = the post's index).
// Other names under the day (another tool's files, the original layout's objects) are not
// records of this layout: they are listed in `ignored` so the job can warn, and never read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::batch {

struct DayInputs {
  std::string topic;
  int64_t day = 0;                        // days since 1970-01-01
  std::vector<lake::ObjectInfo> objects;  // record objects, sorted by key
  std::vector<std::string> ignored;       // other keys under the day
  bool sealed = false;                    // <topic>/dt=.../_SUCCESS exists
  // The record count of the archiver's _SUCCESS marker (archive::SuccessMarker), when the marker
  // is one.
  std::optional<int64_t> sealed_records;
  uint64_t total_bytes = 0;  // sum of the objects' sizes (compressed)
};

// Lists the day (and reads _SUCCESS, for its record count). Errors: the store's (List, Get):
// Unavailable, Unauthenticated, ...
StatusOr<DayInputs> ListDayInputs(lake::ObjectStore* store, const std::string& topic, int64_t day);

}  // namespace pinpipe::batch
