// Settings shared by several subcommands' flags: durations with units, and the event-time window
// of `pinpipe archive` and `pinpipe stream`. Both put a record on the UTC day of its event time
// (core/event_time.h), so they must use the same window: one pair of flags and environment
// variables (PINPIPE_EVENT_TIME_MAX_LAG, PINPIPE_EVENT_TIME_MAX_LEAD) drives both.
#pragma once

#include <CLI/CLI.hpp>

#include "core/event_time.h"

namespace pinpipe::app {

// Durations: a number of milliseconds, or with a unit (500ms, 30s, 5min, 1h, 7d).
CLI::AsNumberWithUnit DurationMs();

// Adds --event-time-max-lag and --event-time-max-lead (PINPIPE_EVENT_TIME_MAX_LAG / _LEAD,
// defaults 7d and 1h as core::EventTimePolicy) to `sub`, bound to `*policy`.
void AddEventTimeFlags(CLI::App& sub, core::EventTimePolicy* policy);

}  // namespace pinpipe::app
