#include "stream/chunk_cutter.h"

#include <algorithm>

namespace pinpipe::stream {

void ChunkCutter::Add(size_t bytes, Clock::time_point now) {
  if (records_ == 0) started_ = now;
  ++records_;
  bytes_ += bytes;
}

bool ChunkCutter::ShouldCut(Clock::time_point now) const {
  if (records_ == 0) return false;
  return records_ >= limits_.max_records || bytes_ >= limits_.max_bytes ||
         now - started_ >= limits_.max_age;
}

std::chrono::milliseconds ChunkCutter::TimeLeft(Clock::time_point now) const {
  if (records_ == 0) return limits_.max_age;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(started_ + limits_.max_age - now);
  return std::max(left, std::chrono::milliseconds(0));
}

void ChunkCutter::Reset() {
  records_ = 0;
  bytes_ = 0;
}

}  // namespace pinpipe::stream
