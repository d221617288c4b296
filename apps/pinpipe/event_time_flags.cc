#include "event_time_flags.h"

#include <map>
#include <string>

namespace pinpipe::app {

CLI::AsNumberWithUnit DurationMs() {
  return CLI::AsNumberWithUnit(
      std::map<std::string, int64_t>{
          {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}},
      CLI::AsNumberWithUnit::CASE_SENSITIVE);
}

void AddEventTimeFlags(CLI::App& sub, core::EventTimePolicy* policy) {
  sub.add_option(
         "--event-time-max-lag", policy->max_lag_ms,
         "A record's own timestamp (geo timestamp, user date_joined) is its event time only if at "
         "most this much older than its Kafka timestamp, else the Kafka timestamp is (0 = no "
         "bound). The archiver files a record under its event day and the speed layer stores that "
         "day as the row's dt: give both the same window (this variable is read by both)")
      ->envname("PINPIPE_EVENT_TIME_MAX_LAG")
      ->transform(DurationMs())
      ->default_str("7d");
  sub.add_option("--event-time-max-lead", policy->max_lead_ms,
                 "... and at most this much newer (0 = no bound)")
      ->envname("PINPIPE_EVENT_TIME_MAX_LEAD")
      ->transform(DurationMs())
      ->default_str("1h");
}

}  // namespace pinpipe::app
