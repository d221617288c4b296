// Durations in configuration files (DAG files, the supervisor's workers file): "90s", "5m",
// "1h30m", "2d", "1h30m15s" (units d, h, m, s in that order, each at most once, no spaces).
// Pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pinpipe::core {

// InvalidArgument (without file context; the caller adds it):
// `bad duration "5x": unknown unit 'x' (use d, h, m, s as in "5m", "1h30m", "90s")`.
StatusOr<std::chrono::seconds> ParseDuration(std::string_view text);

// The canonical form: "1h30m", "90s" -> "1m30s", "0s".
std::string FormatDuration(std::chrono::seconds d);

}  // namespace pinpipe::core
