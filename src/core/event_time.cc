#include "core/event_time.h"

#include <chrono>

#include "core/timestamp_parser.h"

namespace pinpipe::core {

std::optional<int64_t> RecordTimestampToEpochMs(std::string_view text) {
  CivilTimestamp t;
  std::string_view reason;
  if (!ParseTimestamp(text, &t, &reason)) return std::nullopt;
  const std::chrono::year_month_day ymd(std::chrono::year(t.year),
                                        std::chrono::month(static_cast<unsigned>(t.month)),
                                        std::chrono::day(static_cast<unsigned>(t.day)));
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  const int64_t seconds = days * 86400 + t.hour * 3600 + t.minute * 60 + t.second -
                          static_cast<int64_t>(t.offset_minutes) * 60;
  return seconds * 1000 + t.nanos / 1000000;
}

EventTime EventTimeExtractor::Extract(RecordKind kind, std::string_view value,
                                      int64_t kafka_timestamp_ms) {
  const std::string_view field = SchemaFor(kind).event_time_field;
  if (!field.empty()) {
    if (auto text = reader_.String(value, field)) {
      if (auto ms = RecordTimestampToEpochMs(*text)) {
        const bool known = kafka_timestamp_ms >= 0;
        const bool too_old =
            known && policy_.max_lag_ms > 0 && *ms < kafka_timestamp_ms - policy_.max_lag_ms;
        const bool too_new =
            known && policy_.max_lead_ms > 0 && *ms > kafka_timestamp_ms + policy_.max_lead_ms;
        if (!too_old && !too_new) return {*ms, EventTimeSource::kRecord};
      }
    }
  }
  if (kafka_timestamp_ms >= 0) return {kafka_timestamp_ms, EventTimeSource::kKafka};
  return {0, EventTimeSource::kNone};
}

}  // namespace pinpipe::core
