// SleepUnlessStopped: the one way a stoppable loop waits (a back-off, a pacing pause). It sleeps
// on a std::condition_variable_any tied to the std::stop_token, so a stop request wakes it at
// once instead of at the next polling step. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <stop_token>

namespace pinpipe::core {

// Sleeps `duration` or until stop is requested on `stop`, whichever comes first. True when the
// whole duration passed without a stop request; false (at once) when stop was or is requested.
bool SleepUnlessStopped(std::stop_token stop, std::chrono::steady_clock::duration duration);

}  // namespace pinpipe::core
