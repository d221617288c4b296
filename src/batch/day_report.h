// DayReport: what the batch job did with one day, per record kind, and its JSON forms: the
// data-quality report the job writes to the lake (clean/_quality/dt=YYYY-MM-DD.json) and the
// QualityStats JSON stored in batch.quality.quality.
//
// The lake report holds only values that follow from the input (no times, no durations), so a
// re-run over the same archive writes the same bytes:
//   {"dt":"2024-01-01","sealed":true,"kinds":[{"kind":"pin","topic":"pinterest",
//    "table":"experimental_data","sealed":true,"objects":3,"input_bytes":123,"records":10,
//    "rows":7,"dropped":1,"dead":1,"duplicates":1,"parts":1,"quality":{...}}, ...]}
// Counting: records = rows + dropped + dead + duplicates. The quality counters count every
// valid record before de-duplication (as the speed layer's per-batch counters do).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/record_schema.h"
#include "core/status.h"
#include "transform/transform.h"

namespace pinpipe::batch {

struct KindReport {
  core::RecordKind kind = core::RecordKind::kPin;
  std::string topic;
  std::string table;
  bool sealed = false;
  int64_t objects = 0;
  int64_t input_bytes = 0;  // compressed bytes read
  int64_t records = 0;      // lines read
  int64_t rows = 0;         // rows written (after de-duplication)
  int64_t dropped = 0;      // removed by a row rule (drop_if_null)
  int64_t dead = 0;         // invalid records (clean/_rejected/...)
  int64_t duplicates = 0;   // later occurrences of a dedup key already seen that day
  int parts = 0;            // lake parts written per form
  transform::QualityStats quality;
  double seconds = 0;  // wall time of this kind (not in the JSON: it is not deterministic)
};

struct DayReport {
  int64_t day = 0;
  std::vector<KindReport> kinds;  // in kind order, the kinds processed so far
  Status status;                  // why the day failed, if it did
  double seconds = 0;

  bool sealed() const;  // every kind's topic sealed
  int64_t records() const;
  int64_t rows() const;
  int64_t dropped() const;
  int64_t dead() const;
  int64_t duplicates() const;
  int64_t input_bytes() const;
};

// The lake report of a finished day (see the file comment), ending in '\n'.
std::string DayQualityJson(const DayReport& report);

}  // namespace pinpipe::batch
