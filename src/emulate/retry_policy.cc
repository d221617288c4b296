#include "emulate/retry_policy.h"

#include <algorithm>
#include <charconv>

namespace pinpipe::emulate {

bool IsRetriableStatus(int status) { return status == 503 || status == 429; }

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.front() < '0' || value.front() > '9') return std::nullopt;
  constexpr int64_t kDay = 24 * 3600;
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (end != value.data() + value.size()) return std::nullopt;  // "Fri, 31 Dec ..." or junk
  if (ec == std::errc::result_out_of_range) seconds = kDay;
  return std::chrono::seconds(std::min(seconds, kDay));
}

std::optional<std::chrono::milliseconds> RetryBudget::Next(
    std::optional<std::chrono::seconds> retry_after) {
  using std::chrono::milliseconds;
  if (!options_.enabled || retries_ >= options_.max_retries) return std::nullopt;
  const milliseconds cap = std::max(options_.max_delay, milliseconds(0));
  const milliseconds base = std::min<milliseconds>(retry_after.value_or(kDefaultRetryAfter), cap);
  const milliseconds jitter(jitter_.Uniform(0, base.count() / 4 + 100));
  milliseconds delay = base + jitter;
  // Capped waits are spread too: many connections told "Retry-After: 3600" must not all come
  // back exactly at the cap.
  if (delay > cap) delay = cap - milliseconds(jitter_.Uniform(0, cap.count() / 4));
  if (waited_ + delay > options_.max_wait) return std::nullopt;
  ++retries_;
  waited_ += delay;
  return delay;
}

}  // namespace pinpipe::emulate
