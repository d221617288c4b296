// DayLedger: the archiver's day bookkeeping in the lake (hourly layout): which days are open
// (have archived records and no _SUCCESS yet), sealing a day, and spotting late records.
//
//   _archiver/<group>/<topic>/_open_days/YYYY-MM-DD   created before a segment's first object of
//                                                     that day is written, deleted after sealing
//   <topic>/dt=YYYY-MM-DD/_SUCCESS                    a SuccessMarker (archive_layout.h)
//
// A segment holding records of a day that is already sealed is still written (nothing is lost);
// those records are reported as late, and the day's _SUCCESS is left as it was: a backfill of
// that day (the batch job re-reading dt=YYYY-MM-DD/) picks them up.
//
// Seal counts the day's records from the objects listed under dt=YYYY-MM-DD/: from this
// process's memory of the segments it wrote, else from the segment's intent, else (intent
// pruned or foreign object) by decompressing the object and counting lines.
// Thread-safety: one thread (the archive writer thread); the store may be shared.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "archive/segment_builder.h"
#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::archive {

struct SealResult {
  bool already_sealed = false;  // _SUCCESS was there (sealed before, e.g. by a previous run)
  int64_t records = 0;
  int64_t objects = 0;
  int64_t bytes = 0;
};

class DayLedger {
 public:
  DayLedger(lake::ObjectStore* store, std::string group)
      : store_(store), group_(std::move(group)) {}

  // Before a segment's objects are written: opens each of its days that is neither known open
  // nor sealed, and returns how many of its records fall on days that are already sealed.
  StatusOr<int64_t> PrepareDays(const Segment& segment, std::vector<int64_t>* late_days);
  // After a segment is done: remembers its objects' record counts for Seal.
  void Remember(const Segment& segment);
  // Writes <topic>/dt=<day>/_SUCCESS (if_none_match) and deletes the open-day marker.
  StatusOr<SealResult> Seal(const std::string& topic, int64_t day, int64_t watermark_ms,
                            int64_t lateness_ms);

 private:
  StatusOr<int64_t> CountRecords(const std::string& topic, const std::string& key);

  lake::ObjectStore* store_;
  std::string group_;
  std::set<std::pair<std::string, int64_t>> open_;    // (topic, day) known open
  std::set<std::pair<std::string, int64_t>> sealed_;  // (topic, day) known sealed
  std::map<std::string, int64_t> records_of_;         // object key -> records (unsealed days)
};

// Days of `topic` with an open-day marker (the archiver's list of days to seal), ascending.
StatusOr<std::vector<int64_t>> ListOpenDays(lake::ObjectStore* store, const std::string& group,
                                            const std::string& topic);

}  // namespace pinpipe::archive
