// ChunkCutter: decides when a chunk is cut, by record count, bytes or age.
//
// The age clock starts with the first record of a chunk, so an idle stream costs nothing and a
// lone record waits at most `max_age` before it is written (sub-second visibility). Pure logic
// with the time passed in, so tests need no sleeping. Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>

namespace pinpipe::stream {

struct ChunkLimits {
  size_t max_records = 20000;
  size_t max_bytes = 32u << 20;  // raw record bytes; bounds memory with large records
  std::chrono::milliseconds max_age{100};
};

class ChunkCutter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ChunkCutter(ChunkLimits limits) : limits_(limits) {}

  // Counts one record of `bytes` consumed at `now`.
  void Add(size_t bytes, Clock::time_point now);
  // True when the chunk must be written now: full by count or bytes, or older than max_age.
  bool ShouldCut(Clock::time_point now) const;
  // How long a poll may wait before the chunk falls due (max_age when empty, >= 0).
  std::chrono::milliseconds TimeLeft(Clock::time_point now) const;
  void Reset();

  bool empty() const { return records_ == 0; }
  size_t records() const { return records_; }
  size_t bytes() const { return bytes_; }
  // When the first record of the chunk arrived (meaningless while empty).
  Clock::time_point started() const { return started_; }
  const ChunkLimits& limits() const { return limits_; }

 private:
  ChunkLimits limits_;
  size_t records_ = 0;
  size_t bytes_ = 0;
  Clock::time_point started_{};
};

}  // namespace pinpipe::stream
