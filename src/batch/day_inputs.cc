#include "batch/day_inputs.h"

#include <algorithm>

#include "archive/archive_layout.h"

namespace pinpipe::batch {

StatusOr<DayInputs> ListDayInputs(lake::ObjectStore* store, const std::string& topic, int64_t day) {
  DayInputs out;
  out.topic = topic;
  out.day = day;
  const std::string prefix = archive::DayPrefix(topic, day);
  const std::string success = archive::SuccessKey(topic, day);
  ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> listed, store->List(prefix));
  for (lake::ObjectInfo& info : listed) {
    if (info.key == success) {
      out.sealed = true;
      ASSIGN_OR_RETURN(std::string marker, store->Get(success));
      // The archiver's marker carries the day's record count; another one (an empty marker, as
      // another tool may write) has none.
      if (StatusOr<archive::SuccessMarker> m = archive::ParseSuccessMarker(marker); m.ok()) {
        out.sealed_records = m->records;
      }
      continue;
    }
    auto name = archive::ParseSegmentObjectKey(info.key);
    // The name must also belong to this topic and day: a topic called "a" must not pick up
    // "a/dt=.../..." keys of a topic "a/dt=..." (impossible in Kafka, cheap to rule out).
    if (!name || name->topic != topic || core::DayOfHour(name->hour) != day) {
      out.ignored.push_back(std::move(info.key));
      continue;
    }
    out.total_bytes += info.size;
    out.objects.push_back(std::move(info));
  }
  // List() is sorted already; sorting again keeps the order a property of this function.
  std::sort(out.objects.begin(), out.objects.end(),
            [](const lake::ObjectInfo& a, const lake::ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace pinpipe::batch
