// libFuzzer target for the time zone parsers: the first byte picks TimeZone::FromTzif (even) or
// TimeZone::FromPosixRule (odd), the rest is the file or the rule. Errors must be
// InvalidArgument; a zone that loads must answer consistently: transitions ascend, each starts
// from the previous one's offset and changes it, OffsetAt agrees with them, and every local
// time resolves to an instant at or after the wall-clock rule (Resolve is monotonic).
// Seed corpus: tests/fuzz/corpus/time_zone/ (TZif files from tzdata, POSIX rules).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "scheduler/time_zone.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pinpipe::scheduler::Instant;
  using pinpipe::scheduler::LocalTime;
  using pinpipe::scheduler::TimeZone;
  using pinpipe::scheduler::ZoneTransition;
  using std::chrono::seconds;
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  pinpipe::StatusOr<TimeZone> zone =
      (data[0] % 2 == 0) ? TimeZone::FromTzif(bytes, "fuzz") : TimeZone::FromPosixRule(bytes);
  if (!zone.ok()) {
    PINPIPE_CHECK(zone.status().code() == pinpipe::StatusCode::kInvalidArgument)
        << zone.status().ToString();
    return 0;
  }
  // 1990-2050: inside and past the tables of real files.
  const Instant from(seconds(631152000));
  const Instant to(seconds(2556144000));
  const std::vector<ZoneTransition> transitions = zone->TransitionsBetween(from, to);
  PINPIPE_CHECK(transitions.size() <= TimeZone::kMaxTransitionsPerQuery);
  seconds offset = zone->OffsetAt(from);
  Instant last = from;
  for (const ZoneTransition& t : transitions) {
    PINPIPE_CHECK(t.instant > last) << "transitions not ascending";
    PINPIPE_CHECK(t.offset_before == offset) << "transition does not start from the current offset";
    PINPIPE_CHECK(t.offset_before != t.offset_after) << "transition without a change";
    PINPIPE_CHECK(zone->OffsetAt(t.instant) == t.offset_after);
    PINPIPE_CHECK(zone->OffsetAt(t.instant - seconds(1)) == t.offset_before);
    offset = t.offset_after;
    last = t.instant;
  }
  PINPIPE_CHECK(zone->OffsetAt(to) == offset) << "OffsetAt disagrees with the transitions";
  // Resolve is monotonic and lands where the clock shows the time or later.
  Instant previous = zone->Resolve(LocalTime(from.time_since_epoch()));
  for (int64_t step = 1; step < 200; ++step) {
    const LocalTime local(from.time_since_epoch() + seconds(step * 9'999'991));
    const Instant resolved = zone->Resolve(local);
    PINPIPE_CHECK(resolved >= previous) << "Resolve is not monotonic";
    PINPIPE_CHECK(zone->ToLocal(resolved) >= local || zone->MaxLocalUpTo(resolved) >= local)
        << "Resolve lands before the wall time";
    previous = resolved;
  }
  (void)zone->AbbreviationAt(to);
  return 0;
}
