// TimeZone: an IANA time zone read from a TZif file (RFC 8536, version 2 or later), for the
// scheduler's local-time arithmetic. libstdc++ 12 has the C++20 calendar types but not
// std::chrono::tzdb, so the zone data is read here: the transition table of the file, and for
// instants after its last transition the POSIX TZ rule of the footer ("CET-1CEST,M3.5.0,
// M10.5.0/3"), so 2100 works in a "slim" or "fat" file alike.
//
// Wall clock semantics used by the scheduler (see Resolve()): a local time maps to the first
// instant at which the zone's wall clock shows that time or a later one. So a time inside a
// spring-forward gap maps to the end of the gap (02:30 in Berlin on the last Sunday of March is
// 03:00 CEST), and a time that occurs twice on fall-back maps to its first occurrence.
//
// Thread-safety: immutable after construction; copies share the zone data (std::shared_ptr to
// const: a DAG spec, its planner and every copy of the spec use one loaded zone), so a TimeZone
// may be used from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::scheduler {

// An instant, whole seconds since the Unix epoch (UTC, no leap seconds).
using Instant = std::chrono::sys_seconds;
// A wall clock reading in some zone, whole seconds (std::chrono's "local_time").
using LocalTime = std::chrono::local_seconds;

// A change of UTC offset: from `instant` on, the offset is `offset_after`.
struct ZoneTransition {
  Instant instant;
  std::chrono::seconds offset_before;
  std::chrono::seconds offset_after;
  friend bool operator==(const ZoneTransition&, const ZoneTransition&) = default;
};

class TimeZone {
 public:
  // UTC (needs no zoneinfo file).
  TimeZone();
  static TimeZone Utc() { return TimeZone(); }

  // Loads `name` ("Europe/Berlin") from `zoneinfo_dir`, which defaults to $TZDIR or
  // /usr/share/zoneinfo. "UTC" is built in. Errors: InvalidArgument for a name that is not a
  // zone name ("../etc/passwd", empty), NotFound when no such zone file exists, InvalidArgument
  // when the file is not a valid TZif v2+ file (the message says what is wrong).
  static StatusOr<TimeZone> Load(std::string_view name, std::string_view zoneinfo_dir = {});

  // Builds a zone from the bytes of a TZif file. `name` is only used in messages and name().
  static StatusOr<TimeZone> FromTzif(std::string_view bytes, std::string name);

  // Builds a zone from a POSIX TZ string alone ("EST5EDT,M3.2.0,M11.1.0"), as found in TZif
  // footers. InvalidArgument names the position of the first error.
  static StatusOr<TimeZone> FromPosixRule(std::string_view rule);

  const std::string& name() const;

  // The UTC offset in effect at `t` (local = t + offset).
  std::chrono::seconds OffsetAt(Instant t) const;
  // The wall clock reading at `t`.
  LocalTime ToLocal(Instant t) const { return LocalTime((t + OffsetAt(t)).time_since_epoch()); }

  // The offset changes with from < instant <= to, in order (at most a few per year in real zones;
  // at most kMaxTransitionsPerQuery are returned).
  std::vector<ZoneTransition> TransitionsBetween(Instant from, Instant to) const;
  static constexpr size_t kMaxTransitionsPerQuery = 10000;

  // How a local time maps to instants.
  enum class LocalKind : uint8_t {
    kUnique,       // exactly one instant shows this wall time
    kAmbiguous,    // shown twice (fall-back): `first` and `second`
    kNonexistent,  // skipped (spring-forward gap): `first` is the end of the gap
  };
  struct LocalInfo {
    LocalKind kind = LocalKind::kUnique;
    Instant first;
    Instant second;  // == first unless kAmbiguous
  };
  LocalInfo Lookup(LocalTime local) const;

  // The first instant at which the wall clock shows `local` or later: the unique instant, the
  // first of two (fall-back) or the end of a gap (spring-forward). Monotonic in `local`.
  Instant Resolve(LocalTime local) const;

  // The largest wall clock reading shown at any instant <= t. Equal to ToLocal(t) except in the
  // hour after a fall-back, where the clock shows times it already showed once.
  LocalTime MaxLocalUpTo(Instant t) const;

  // The abbreviation in effect at `t` ("CET", "CEST", "EST"); "UTC" for UTC.
  std::string AbbreviationAt(Instant t) const;

 private:
  struct Data;
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

  std::shared_ptr<const Data> data_;
};

// "2024-01-01T00:00:00+00:00": `t` as the zone's wall clock with its offset (ISO 8601, the form
// Airflow's templates use for data_interval_start/end).
std::string FormatIso8601(Instant t, const TimeZone& zone);
// "2024-01-01T00:00:00Z".
std::string FormatUtc(Instant t);
// "2024-01-01": the zone's calendar date at `t`.
std::string FormatDate(Instant t, const TimeZone& zone);

// Parses "2024-01-01", "2024-01-01T06:00", "2024-01-01T06:00:00", "2024-01-01 06:00:00" as a wall
// time in `zone` (resolved with TimeZone::Resolve), or with an explicit "Z" / "+02:00" offset as
// that instant. InvalidArgument names what is wrong.
StatusOr<Instant> ParseInstant(std::string_view text, const TimeZone& zone);

}  // namespace pinpipe::scheduler
