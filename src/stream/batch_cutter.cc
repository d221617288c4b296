#include "stream/batch_cutter.h"

#include <algorithm>

namespace pinpipe::stream {

void BatchCutter::Add(size_t bytes, Clock::time_point now) {
  if (records_ == 0) started_ = now;
  ++records_;
  bytes_ += bytes;
}

bool BatchCutter::ShouldCut(Clock::time_point now) const {
  if (records_ == 0) return false;
  return records_ >= limits_.max_records || bytes_ >= limits_.max_bytes ||
         now - started_ >= limits_.max_age;
}

std::chrono::milliseconds BatchCutter::TimeLeft(Clock::time_point now) const {
  if (records_ == 0) return limits_.max_age;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(started_ + limits_.max_age - now);
  return std::max(left, std::chrono::milliseconds(0));
}

void BatchCutter::Reset() {
  records_ = 0;
  bytes_ = 0;
}

}  // namespace pinpipe::stream
