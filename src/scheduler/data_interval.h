// DataInterval: the span of data one DAG run covers, [start, end). For a scheduled run it is the
// span between two consecutive fire times of the schedule; the run is created once `end` has
// passed (Airflow's data intervals). Tasks get it as {{ data_interval_start }} etc.
#pragma once

#include <string>

#include "scheduler/time_zone.h"

namespace pinpipe::scheduler {

struct DataInterval {
  Instant start;
  Instant end;

  // "[2024-01-01T00:00:00Z, 2024-01-02T00:00:00Z)".
  std::string ToString() const { return "[" + FormatUtc(start) + ", " + FormatUtc(end) + ")"; }
  friend bool operator==(const DataInterval&, const DataInterval&) = default;
};

}  // namespace pinpipe::scheduler
