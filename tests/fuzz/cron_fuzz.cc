// libFuzzer target for CronSchedule. Input: a cron expression, optionally followed by a newline,
// a zone letter (U UTC, B Europe/Berlin, N America/New_York, L Australia/Lord_Howe, S
// Australia/Sydney) and an instant ("2024-03-31T00:00:00Z"). Besides "no crash, no sanitizer
// report", it checks the properties the scheduler relies on:
//   * parse -> ToString -> parse gives the same schedule, and ToString is a fixed point;
//   * errors are InvalidArgument and quote the expression;
//   * from the instant, Next is strictly increasing over 24 steps (across DST changes), and
//     Prev inverts it: Prev(Next(t) + 1s) == Next(t), Next(Prev(x)) == x for a fire time x.
// Seed corpus: tests/fuzz/corpus/cron/.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/check.h"
#include "scheduler/cron.h"
#include "scheduler/time_zone.h"

namespace {

using pinpipe::scheduler::CronSchedule;
using pinpipe::scheduler::Instant;
using pinpipe::scheduler::TimeZone;

const TimeZone& ZoneFor(char letter) {
  static const TimeZone* zones[] = {
      new TimeZone(TimeZone::Utc()),
      new TimeZone(*TimeZone::Load("Europe/Berlin")),
      new TimeZone(*TimeZone::Load("America/New_York")),
      new TimeZone(*TimeZone::Load("Australia/Lord_Howe")),
      new TimeZone(*TimeZone::Load("Australia/Sydney")),
  };
  switch (letter) {
    case 'U': return *zones[0];
    case 'B': return *zones[1];
    case 'N': return *zones[2];
    case 'L': return *zones[3];
    case 'S': return *zones[4];
    default: return *zones[static_cast<unsigned char>(letter) % 5];
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view expression = input.substr(0, newline);
  const std::string_view rest =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  pinpipe::StatusOr<CronSchedule> cron = CronSchedule::Parse(expression);
  if (!cron.ok()) {
    PINPIPE_CHECK(cron.status().code() == pinpipe::StatusCode::kInvalidArgument)
        << cron.status().ToString();
    PINPIPE_CHECK(cron.status().message().rfind("cron \"", 0) == 0) << cron.status().message();
    return 0;
  }
  const std::string canonical = cron->ToString();
  pinpipe::StatusOr<CronSchedule> again = CronSchedule::Parse(canonical);
  PINPIPE_CHECK(again.ok()) << "canonical form does not parse: \"" << canonical << "\" from \""
                            << expression << "\": " << again.status().ToString();
  PINPIPE_CHECK(*again == *cron) << "\"" << expression << "\" -> \"" << canonical
                                 << "\" is another schedule";
  PINPIPE_CHECK(again->ToString() == canonical) << "ToString is not a fixed point: " << canonical;

  const TimeZone& zone = ZoneFor(rest.empty() ? 'U' : rest[0]);
  Instant t = Instant(std::chrono::seconds(1711800000));  // 2024-03-30T12:00:00Z
  if (rest.size() > 1) {
    pinpipe::StatusOr<Instant> parsed =
        pinpipe::scheduler::ParseInstant(rest.substr(1), TimeZone::Utc());
    if (parsed.ok()) t = *parsed;
  }
  for (int step = 0; step < 24; ++step) {
    const std::optional<Instant> next = cron->Next(t, zone);
    if (!next) break;  // past the year 9999
    PINPIPE_CHECK(*next > t) << "Next is not after its argument: " << canonical << " in "
                             << zone.name() << " from " << pinpipe::scheduler::FormatUtc(t);
    const std::optional<Instant> prev = cron->Prev(*next + std::chrono::seconds(1), zone);
    PINPIPE_CHECK(prev == next) << "Prev(Next + 1s) != Next: " << canonical << " in " << zone.name()
                                << " at " << pinpipe::scheduler::FormatUtc(*next);
    const std::optional<Instant> before = cron->Prev(*next, zone);
    if (before) {
      PINPIPE_CHECK(*before < *next);
      PINPIPE_CHECK(cron->Next(*before, zone) == next)
          << "Next(Prev(x)) != x: " << canonical << " in " << zone.name() << " at "
          << pinpipe::scheduler::FormatUtc(*next);
    }
    t = *next;
  }
  return 0;
}
