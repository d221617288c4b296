#include "batch/day_inputs.h"

#include <algorithm>

#include "archive/archive_layout.h"

namespace pinpipe::batch {
namespace {

// The archiver's marker is one JSON object with a "records" count (docs/design.md, "Sealing
// days"); anything else (an empty marker, another tool's) has no count.
std::optional<int64_t> SealedRecordCount(std::string_view marker) {
  constexpr std::string_view kField = "\"records\":";
  size_t at = marker.find(kField);
  if (at == std::string_view::npos) return std::nullopt;
  at += kField.size();
  while (at < marker.size() && marker[at] == ' ') ++at;
  int64_t value = 0;
  const size_t start = at;
  while (at < marker.size() && marker[at] >= '0' && marker[at] <= '9' && at - start < 18) {
    value = value * 10 + (marker[at++] - '0');
  }
  if (at == start) return std::nullopt;
  return value;
}

}  // namespace

StatusOr<DayInputs> ListDayInputs(lake::ObjectStore* store, const std::string& topic,
                                  int64_t day) {
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
      out.sealed_records = SealedRecordCount(marker);
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
