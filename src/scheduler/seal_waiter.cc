#include "scheduler/seal_waiter.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "archive/archive_layout.h"
#include "core/civil_day.h"
#include "core/mutex.h"
#include "scheduler/time_zone.h"

namespace pinpipe::scheduler {

std::vector<std::string> UtcDaysOf(const DataInterval& interval) {
  using Days = std::chrono::days;
  std::vector<std::string> out;
  if (interval.end <= interval.start) return out;
  const auto last = std::chrono::floor<Days>(interval.end - std::chrono::seconds(1));
  for (auto day = std::chrono::floor<Days>(interval.start); day <= last; day += Days(1)) {
    out.push_back(FormatDate(Instant(day), TimeZone::Utc()));
  }
  return out;
}

Status ParseSealArgs(const std::vector<std::string>& args, SealWaitOptions* options,
                     std::string* lake_url) {
  std::vector<std::string> topics;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if ((arg == "--topic" || arg == "--lake") && i + 1 < args.size()) {
      if (arg == "--topic") {
        topics.push_back(args[i + 1]);
      } else {
        *lake_url = args[i + 1];
      }
      ++i;
    } else if (arg.starts_with("--topic=")) {
      topics.push_back(arg.substr(8));
    } else if (arg.starts_with("--lake=")) {
      *lake_url = arg.substr(7);
    } else {
      return InvalidArgument(
          fmt::format("wait_sealed: unknown argument \"{}\" (known: --topic T, --lake URL)", arg));
    }
  }
  if (!topics.empty()) options->topics = std::move(topics);
  return Status::Ok();
}

void SealWaiter::Cancel() {
  core::MutexLock lock(mutex_);
  cancelled_ = true;
  cv_.notify_all();
}

Status SealWaiter::Wait(const std::vector<std::string>& days, const SealWaitOptions& options) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  std::vector<std::string> missing;
  for (const std::string& day : days) {
    const std::optional<int64_t> parsed = core::ParseDate(day);
    if (!parsed) {
      return InvalidArgument(fmt::format("wait_sealed: \"{}\" is not a date YYYY-MM-DD", day));
    }
    for (const std::string& topic : options.topics) {
      missing.push_back(archive::SuccessKey(topic, *parsed));
    }
  }
  log_(fmt::format(
      "waiting for {} seal marker(s) in {} (every {}s)", missing.size(), store_->Describe(),
      std::chrono::duration_cast<std::chrono::seconds>(options.poke_interval).count()));
  std::string last_report;
  while (true) {
    std::vector<std::string> still;
    for (const std::string& key : missing) {
      StatusOr<std::optional<lake::ObjectInfo>> head = store_->Head(key);
      if (!head.ok()) {
        log_(fmt::format("lake error (retrying at the next poke): {}", head.status().ToString()));
        still.push_back(key);
      } else if (!head->has_value()) {
        still.push_back(key);
      } else {
        log_("sealed: " + key);
      }
    }
    missing = std::move(still);
    if (missing.empty()) {
      log_("every day is sealed");
      return Status::Ok();
    }
    const std::string report = fmt::format("not sealed yet: {}", fmt::join(missing, ", "));
    if (report != last_report) log_(report);  // a line per change, not per poke
    last_report = report;
    Clock::time_point wake = Clock::now() + options.poke_interval;
    if (options.timeout) {
      const Clock::time_point deadline = start + *options.timeout;
      if (Clock::now() >= deadline) {
        return DeadlineExceeded(
            fmt::format("still not sealed after {}s: {}",
                        std::chrono::duration_cast<std::chrono::seconds>(*options.timeout).count(),
                        fmt::join(missing, ", ")));
      }
      wake = std::min(wake, deadline);
    }
    core::MutexLock lock(mutex_);
    if (lock.WaitUntil(cv_, wake, [&]() REQUIRES(mutex_) { return cancelled_; })) {
      return Cancelled("wait_sealed stopped");
    }
  }
}

}  // namespace pinpipe::scheduler
