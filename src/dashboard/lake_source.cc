#include "dashboard/lake_source.h"

#include <cmath>

#include "archive/archive_layout.h"

namespace pinpipe::dashboard {

LakeSource::LakeSource(std::unique_ptr<lake::ObjectStore> store, std::vector<std::string> topics,
                       std::chrono::milliseconds interval, int max_days_back)
    : store_(std::move(store)),
      topics_(std::move(topics)),
      interval_(interval),
      max_days_back_(max_days_back) {
  if (store_ == nullptr) error_ = "no lake configured (--lake)";
}

StatusOr<bool> LakeSource::Sealed(int64_t day) {
  for (const std::string& topic : topics_) {
    ++requests_;
    ASSIGN_OR_RETURN(std::optional<lake::ObjectInfo> marker,
                     store_->Head(archive::SuccessKey(topic, day)));
    if (!marker) return false;
  }
  return true;
}

void LakeSource::Refresh(double now) {
  if (store_ == nullptr || now < next_) return;
  next_ = now + static_cast<double>(interval_.count()) / 1000.0;
  const int64_t today = static_cast<int64_t>(std::floor(now / 86400.0));
  // Newest first: from today back to the last sealed day known (or max_days_back days).
  const int64_t floor_day = last_sealed_ ? *last_sealed_ + 1 : today - max_days_back_;
  for (int64_t day = today; day >= floor_day; --day) {
    StatusOr<bool> sealed = Sealed(day);
    if (!sealed.ok()) {
      ok_ = false;
      error_ = sealed.status().ToString();
      return;
    }
    if (*sealed) {
      last_sealed_ = day;
      break;
    }
  }
  ok_ = true;
  error_.clear();
  last_ok_ = now;
}

}  // namespace pinpipe::dashboard
