// Elapsed time on the monotonic clock, as the double the metrics (histograms in seconds) and the
// logs (milliseconds) want. Header-only; thread-safe.
#pragma once

#include <chrono>

namespace pinpipe::core {

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace pinpipe::core
