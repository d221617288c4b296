#include "archive/rotation_policy.h"

#include <algorithm>

namespace pinpipe::archive {

std::string_view RotateReasonName(RotateReason reason) {
  switch (reason) {
    case RotateReason::kNone: return "none";
    case RotateReason::kRecords: return "records";
    case RotateReason::kBytes: return "bytes";
    case RotateReason::kIdle: return "idle";
    case RotateReason::kAge: return "age";
    case RotateReason::kHours: return "hours";
  }
  return "none";
}

RotateReason RotationPolicy::AfterAdd(int64_t records, int64_t bytes) const {
  if (records >= limits_.max_records) return RotateReason::kRecords;
  if (bytes >= limits_.max_bytes) return RotateReason::kBytes;
  return RotateReason::kNone;
}

RotateReason RotationPolicy::Due(TimePoint first, TimePoint last, TimePoint now) const {
  if (now - last >= limits_.idle) return RotateReason::kIdle;
  if (now - first >= limits_.max_age) return RotateReason::kAge;
  return RotateReason::kNone;
}

RotationPolicy::TimePoint RotationPolicy::Deadline(TimePoint first, TimePoint last) const {
  return std::min(last + limits_.idle, first + limits_.max_age);
}

}  // namespace pinpipe::archive
