// What the dashboard server needs from the analytics engine (the 8 questions and the live pin
// counts over the merged view, kept in memory): the server parses and validates the filters,
// calls Refresh() once per refresh interval on its refresher thread, and reads the JSON bodies
// from there too. The engine (AnalyticsEngine, src/dashboard/analytics_engine.h) implements it;
// tests use a fake (tests/testing/fake_analytics.h). The dashboard runs without one: the
// analytics endpoints then answer 503 and /api/lambda takes its pin counts from the SQL views.
//
// Thread-safety: Refresh() from the refresher thread only; the readers (the JSON bodies,
// generation(), bytes()) from any thread, several at once, concurrently with Refresh (the server
// computes analytics answers on its request threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::dashboard {

// Filters of the analytics and lambda endpoints; nullopt = no filter. Parsed and validated by
// the server (400/422 on bad values); the engine trusts them.
struct AnalyticsFilters {
  std::optional<std::chrono::sys_days> from, to;            // inclusive, on the post's dt
  std::optional<std::string> category, country, age_group;  // age_group: "18-24" ... "50+"
};

class Analytics {
 public:
  virtual ~Analytics() = default;
  // How much one Refresh reads. kCatchUp: as much of a backlog as the implementation allows per
  // refresh; kYield: nothing but a first load and the backlog's size (the speed layer is
  // draining a backlog: the dashboard leaves PostgreSQL to it, pg_source.h "Yielding"; the
  // answers keep their as_of).
  enum class Pace { kCatchUp, kYield };
  // Brings the in-memory state up to date (the first call loads everything). Errors: the
  // connection's; the previous state stays and keeps answering.
  virtual Status Refresh(pg::Connection& conn, Pace pace) = 0;
  // JSON object bodies without "generated_at" (the server adds it), per the API contract:
  // {"boundary":..,"as_of":{..},"tables":[..]}
  virtual std::string AnalyticsJson(const AnalyticsFilters& filters) const = 0;
  // {"categories":[..],"countries":[..],"age_groups":[..],"days":{"min":..,"max":..}}
  virtual std::string FiltersJson() const = 0;
  // The merged pins per day and layer: [{"dt":"YYYY-MM-DD","batch":n,"speed":n},...]
  virtual std::string PinDaysJson(const AnalyticsFilters& filters) const = 0;
  // Changes whenever what the readers return may have changed (each published refresh), so an
  // answer computed at one generation can be served until the next.
  virtual uint64_t generation() const = 0;
  // Bytes held in memory (for the dashboard's /metrics); 0 if unknown.
  virtual size_t bytes() const = 0;
};

}  // namespace pinpipe::dashboard
