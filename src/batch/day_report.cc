#include "batch/day_report.h"

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "core/record_validator.h"

namespace pinpipe::batch {
namespace {

template <typename F>
int64_t Sum(const std::vector<KindReport>& kinds, F field) {
  int64_t total = 0;
  for (const KindReport& k : kinds) total += field(k);
  return total;
}

}  // namespace

bool DayReport::sealed() const {
  for (const KindReport& k : kinds) {
    if (!k.sealed) return false;
  }
  return !kinds.empty();
}
int64_t DayReport::records() const {
  return Sum(kinds, [](const KindReport& k) { return k.records; });
}
int64_t DayReport::rows() const {
  return Sum(kinds, [](const KindReport& k) { return k.rows; });
}
int64_t DayReport::dropped() const {
  return Sum(kinds, [](const KindReport& k) { return k.dropped; });
}
int64_t DayReport::dead() const {
  return Sum(kinds, [](const KindReport& k) { return k.dead; });
}
int64_t DayReport::duplicates() const {
  return Sum(kinds, [](const KindReport& k) { return k.duplicates; });
}
int64_t DayReport::input_bytes() const {
  return Sum(kinds, [](const KindReport& k) { return k.input_bytes; });
}

std::string DayQualityJson(const DayReport& report) {
  std::string out = fmt::format("{{\"dt\":\"{}\",\"sealed\":{},\"kinds\":[",
                                core::DateOfDay(report.day), report.sealed() ? "true" : "false");
  for (size_t i = 0; i < report.kinds.size(); ++i) {
    const KindReport& k = report.kinds[i];
    if (i > 0) out.push_back(',');
    out.append("{\"kind\":");
    core::AppendJsonString(core::RecordKindName(k.kind), &out);
    out.append(",\"topic\":");
    core::AppendJsonString(k.topic, &out);
    out.append(",\"table\":");
    core::AppendJsonString(k.table, &out);
    fmt::format_to(std::back_inserter(out),
                   ",\"sealed\":{},\"objects\":{},\"input_bytes\":{},\"records\":{},\"rows\":{},"
                   "\"dropped\":{},\"dead\":{},\"duplicates\":{},\"parts\":{},\"quality\":",
                   k.sealed ? "true" : "false", k.objects, k.input_bytes, k.records, k.rows,
                   k.dropped, k.dead, k.duplicates, k.parts);
    out.append(k.quality.ToJson());
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

}  // namespace pinpipe::batch
