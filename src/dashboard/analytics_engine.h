// AnalyticsEngine: the dashboard's answers to the 8 analytics questions over the merged batch +
// speed views, from an in-memory copy of the merged posts kept up to date incrementally
// (docs/design.md, "Dashboard analytics engine"). The SQL views and functions of the serving
// schema stay the reference definition (for psql users and the tests); they take seconds per
// question at a million rows, this takes milliseconds. It implements the dashboard server's
// Analytics interface (analytics.h); the server may call every method from its refresher thread
// only, but the readers below are also safe from any thread.
//
//   Refresh()    writer side, ONE thread (the dashboard's refresher). The first call, and any
//                call after the batch layer changed (serving.batch_days: a day loaded or
//                reloaded, its loaded_at or sealed flag), loads everything (FactLoader::
//                FullLoad; the old facts are freed first, so memory never holds two copies).
//                Later calls read only the speed rows committed since the last call, by the
//                speed layer's own offsets (FactLoader::ReadNew). Each call reads one
//                REPEATABLE READ snapshot, and after it the engine equals the merged views at
//                that snapshot (fact_loader.h, "Consistency rule").
//   *Json()      reader side, any thread, never blocked by Refresh: a reader takes the current
//                immutable Snapshot (a shared_ptr swapped under a mutex held for a pointer copy)
//                and computes from it; the writer builds the next state beside it (chunked.h:
//                appends in place beyond what readers see, copy on write for the few changed
//                chunks) and publishes it whole, so a reader never sees a half-applied poll.
//                While a full load runs, readers get answers over no facts, marked
//                "as_of":{"state":"loading"} (the dashboard keeps serving its cached answers
//                meanwhile); after a failed load, "state":"failed" until a load succeeds.
//
// Memory: 16 bytes per post (20 once more than 65,535 distinct (category, country) pairs or
// poster names exist) + 10 per user record in Q6's join years + ~24 per distinct person with
// its index slot (post_facts.h), plus the dictionaries: 30.2 MiB = 31.7 bytes per post for 1 M
// posts each with its own user record (bench/dashboard_bench.cc; 44.8 before issue 12);
// stats().bytes_held (and bytes()) says what is held. The heap is trimmed (malloc_trim) after a
// full load, before it (the old facts freed) and after a poll of 10,000 rows or more.
// Time: the whole AnalyticsJson at 1 M posts in ~11 ms of one thread (10-16 ms on the loaded
// 2-core machine; analytics_answers.h), so readers may compute cache misses on request threads.
// Errors of Refresh: the connection's (the engine keeps its last good state and answers from it;
// after a failed full load there is no state: the next Refresh loads again).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/mutex.h"
#include "core/status.h"
#include "dashboard/analytics.h"
#include "dashboard/analytics_answers.h"
#include "dashboard/fact_loader.h"
#include "dashboard/post_facts.h"
#include "pg/connection.h"
#include "transform/transform.h"

namespace pinpipe::dashboard {

struct EngineOptions {
  const transform::Transform* transform = nullptr;  // table names; must outlive the engine
  std::array<std::string, 3> topics;                // pin, geo, user topics of the speed layer
  std::string stream_group = "pinpipe-stream";      // pinpipe_stream_offsets.consumer_group
  // A poll reads at most about this many speed records (a larger backlog: in slices, one per
  // refresh), so a poll's staged rows stay small: with slices of 100,000 the dashboard's peak
  // RSS was 67-75 MiB while it caught up on a 1 M-record burst (issue 12 bounds it at 64 MiB;
  // bench/dashboard_bench.sh measures it).
  int64_t max_poll_records = 50000;
  // Slices follow one another within one Refresh() for up to this long (each its own read
  // transaction, published as it is applied), so a burst is caught up about as fast as in one
  // large slice while only one slice's rows are staged at a time. 0: one slice per Refresh().
  // (Pace::kYield: no poll at all; a first load still runs.)
  std::chrono::milliseconds catch_up_budget{2000};
};

class AnalyticsEngine final : public Analytics {
 public:
  // What readers see: immutable once published.
  struct Snapshot {
    FactsView facts;
    std::string state;                // "empty" (no load yet), "loading", "ready", "failed"
    std::optional<int32_t> boundary;  // the last day the batch layer serves
    std::string as_of_json;           // the "as_of" object of the answers
    std::string filters_json;         // FiltersJson()'s body
    uint64_t version = 0;             // changes whenever the facts change
    uint64_t generation = 0;          // changes with every published snapshot
  };

  // Counters for /metrics and the overview.
  struct Stats {
    std::string state;             // as Snapshot::state
    int64_t posts = 0;             // merged posts held
    int64_t user_records = 0;      // Q6 user records held
    int64_t persons = 0;           // distinct people among them
    int64_t waiting_for_geo = 0;   // posts whose geolocation has not arrived (yet)
    int64_t waiting_for_user = 0;  // posts whose user record has not arrived (yet)
    int64_t bytes_held = 0;        // facts, dictionaries and maps
    int64_t full_loads = 0;        // successful full loads
    int64_t polls = 0;             // successful incremental polls
    int64_t backlog = 0;           // speed records the last refresh left for the next ones (slices)
    int64_t refresh_errors = 0;
    int64_t skipped_rows = 0;  // rows whose dt the facts cannot hold (outside 1970..2149)
    double last_refresh_ms = 0;
    double last_full_load_ms = 0;
    std::optional<int64_t> as_of_ms;  // snapshot time of the published facts (epoch ms)
    uint64_t version = 0;
    std::string last_error;  // of the last failed Refresh, "" after a success
  };

  explicit AnalyticsEngine(EngineOptions options);
  AnalyticsEngine(const AnalyticsEngine&) = delete;
  AnalyticsEngine& operator=(const AnalyticsEngine&) = delete;

  // Writer side (one thread; see the class comment). Errors: the connection's; InvalidArgument
  // when the options name no transform or topics.
  Status Refresh(pg::Connection& conn, Pace pace) override;

  // Reader side, any thread:
  // {"boundary":"YYYY-MM-DD"|null,"as_of":{...},"tables":[...]} (dashboard_api.md, without
  // "generated_at", which the server adds). as_of: {"state", "snapshot_at" (RFC 3339 UTC, the
  // snapshot the facts equal), "loaded_at" (the last full load's snapshot), "posts",
  // "waiting_for_geo", "waiting_for_user", "speed_offsets": {"<topic>": {"<partition>":
  // next_offset}}}.
  std::string AnalyticsJson(const AnalyticsFilters& filters) const override;
  // {"categories":[..],"countries":[..],"age_groups":[..],"days":{"min":..,"max":..}}
  std::string FiltersJson() const override;
  // The merged pins per day and layer among the posts the filters keep:
  // [{"dt":"YYYY-MM-DD","batch":n,"speed":n},...]
  std::string PinDaysJson(const AnalyticsFilters& filters) const override;
  // The published snapshot's generation (Analytics).
  uint64_t generation() const override { return snapshot()->generation; }
  // stats().bytes_held (Analytics).
  size_t bytes() const override;
  Stats stats() const;
  // The published snapshot (for tests and benchmarks).
  std::shared_ptr<const Snapshot> snapshot() const;

 private:
  Status RefreshLocked(pg::Connection& conn);
  // Pace::kYield once loaded: updates stats().backlog from the speed layer's offsets only.
  Status ReadBacklog(pg::Connection& conn);
  Status FullLoad(pg::Connection& conn, const RefreshHeader& header);
  void Publish(const std::string& state, const RefreshHeader* header, bool facts_changed);

  const EngineOptions options_;
  const FactLoader loader_;

  // Writer state: the refresher thread only.
  PostFacts facts_;
  SpeedCursor cursor_;
  std::string batch_signature_;
  bool loaded_ = false;
  std::optional<int64_t> loaded_at_ms_;  // snapshot of the last full load
  std::optional<int64_t> snapshot_ms_;   // snapshot of the last successful refresh
  std::optional<int32_t> boundary_;
  uint64_t version_ = 0;
  uint64_t generation_ = 0;

  // Published state.
  mutable core::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ GUARDED_BY(mu_);  // never null
  Stats stats_ GUARDED_BY(mu_);
};

}  // namespace pinpipe::dashboard
