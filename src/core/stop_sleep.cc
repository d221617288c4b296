#include "core/stop_sleep.h"

#include <condition_variable>
#include <mutex>

namespace pinpipe::core {

bool SleepUnlessStopped(std::stop_token stop, std::chrono::steady_clock::duration duration) {
  if (stop.stop_requested()) return false;
  if (duration <= std::chrono::steady_clock::duration::zero()) return true;
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  // Nothing else notifies `wake`: it returns on the timeout or on the stop request.
  wake.wait_for(lock, stop, duration, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace pinpipe::core
