#include "supervisor/restart_tracker.h"

namespace pinpipe::supervisor {

RestartTracker::RestartTracker(RestartPolicy policy, const RestartOptions& options)
    : policy_(policy), options_(options), backoff_(options.backoff_initial, options.backoff_max) {}

RestartTracker::Decision RestartTracker::OnExit(std::chrono::milliseconds uptime, bool success) {
  if (success && policy_ == RestartPolicy::kOnFailure) {
    failed_starts_ = 0;
    return {Action::kFinished, {}};
  }
  failed_starts_ = uptime < options_.startup_window ? failed_starts_ + 1 : 0;
  if (failed_starts_ >= options_.max_failed_starts) return {Action::kGiveUp, {}};
  if (uptime >= options_.healthy_after) backoff_.Reset();
  ++restarts_;
  return {Action::kRestart, backoff_.Next()};
}

}  // namespace pinpipe::supervisor
