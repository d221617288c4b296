#include "core/backoff.h"

#include <algorithm>

namespace pinpipe::core {

std::chrono::milliseconds Backoff::Next() {
  std::chrono::milliseconds delay = std::min(next_, max_);
  next_ = std::min(next_ * 2, max_);
  ++attempts_;
  return delay;
}

}  // namespace pinpipe::core
