#include "dashboard/analytics_engine.h"

#include <malloc.h>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "core/elapsed.h"
#include "core/mutex.h"
#include "core/record_validator.h"
#include "pg/transaction.h"

namespace pinpipe::dashboard {
namespace {

// Polls applying at least this many rows trim the heap afterwards.
constexpr int64_t kTrimAfterRows = 10000;

void AppendTime(std::optional<int64_t> ms, std::string* out) {
  if (ms) {
    core::AppendJsonString(core::IsoTime(*ms), out);
  } else {
    *out += "null";
  }
}

const transform::Transform& TransformOf(const EngineOptions& options) {
  PINPIPE_CHECK(options.transform != nullptr) << "EngineOptions.transform is required";
  return *options.transform;
}

}  // namespace

AnalyticsEngine::AnalyticsEngine(EngineOptions options)
    : options_(std::move(options)),
      loader_(TransformOf(options_), options_.topics, options_.stream_group) {
  Publish("empty", nullptr, true);
}

Status AnalyticsEngine::Refresh(pg::Connection& conn, Pace pace) {
  if (pace == Pace::kYield && loaded_) return ReadBacklog(conn);  // the facts stay as they are
  const auto start = std::chrono::steady_clock::now();
  Status status;
  do {
    status = RefreshLocked(conn);
  } while (status.ok() && pace == Pace::kCatchUp && stats().backlog > 0 &&
           std::chrono::steady_clock::now() - start < options_.catch_up_budget);
  core::MutexLock lock(mu_);
  stats_.last_refresh_ms = core::MillisSince(start);
  stats_.last_error = status.ok() ? "" : status.ToString();
  if (!status.ok()) ++stats_.refresh_errors;
  return status;
}

Status AnalyticsEngine::ReadBacklog(pg::Connection& conn) {
  // The refresh header alone (three small statements: the snapshot's time, the served batch
  // days, the speed layer's offsets), so that the backlog the dashboard shows stays true while
  // the engine does not poll. A batch change seen here waits for the next normal refresh.
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn, FactLoader::kTransactionModes));
  ASSIGN_OR_RETURN(RefreshHeader header, loader_.ReadHeader(conn));
  RETURN_IF_ERROR(tx.Commit());
  core::MutexLock lock(mu_);
  if (std::optional<int64_t> backlog = FactLoader::Backlog(cursor_, header.offsets)) {
    stats_.backlog = *backlog;
  }
  return Status::Ok();
}

Status AnalyticsEngine::RefreshLocked(pg::Connection& conn) {
  for (const std::string& topic : options_.topics) {
    if (topic.empty()) return InvalidArgument("analytics engine: EngineOptions.topics is required");
  }
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn, FactLoader::kTransactionModes));
  ASSIGN_OR_RETURN(RefreshHeader header, loader_.ReadHeader(conn));
  bool full = !loaded_ || header.batch_signature != batch_signature_;
  std::optional<int64_t> backlog;
  if (!full) {
    backlog = FactLoader::Backlog(cursor_, header.offsets);
    full = !backlog;  // the group was reset
  }
  if (full) {
    RETURN_IF_ERROR(FullLoad(conn, header));
    return tx.Commit();
  }
  // A large backlog (a burst, or the dashboard was away) is read in slices of at most
  // max_poll_records per refresh, so a poll's staging stays small and a slow cycle never turns
  // into full reloads back to back (each taking longer than the backlog it caught up on).
  RefreshHeader upto = header;
  upto.offsets = FactLoader::Slice(cursor_, header.offsets, options_.max_poll_records);
  FactLoader::Staged staged;
  if (*backlog > 0) {
    ASSIGN_OR_RETURN(staged, loader_.ReadNew(conn, upto, cursor_));
  }
  // Read-only: a failed COMMIT (lost connection) changes nothing that was read.
  RETURN_IF_ERROR(tx.Commit());
  const LoadCounts counts = FactLoader::Apply(staged, &facts_);
  staged = {};
  // A large poll leaves freed staging buffers and copied chunks: give the pages back.
  if (counts.pins + counts.geo + counts.users >= kTrimAfterRows) malloc_trim(0);
  cursor_ = upto.offsets;
  snapshot_ms_ = header.snapshot_ms;
  Publish("ready", &upto, counts.pins + counts.geo + counts.users > 0);
  core::MutexLock lock(mu_);
  ++stats_.polls;
  stats_.backlog = FactLoader::Backlog(upto.offsets, header.offsets).value_or(0);
  stats_.skipped_rows += counts.skipped;
  return Status::Ok();
}

Status AnalyticsEngine::FullLoad(pg::Connection& conn, const RefreshHeader& header) {
  const auto start = std::chrono::steady_clock::now();
  // Free the old facts first: readers that hold the old snapshot keep it until they finish;
  // new readers see "loading".
  loaded_ = false;
  Publish("loading", nullptr, true);
  facts_.Clear();
  malloc_trim(0);
  auto counts = loader_.FullLoad(conn, header, &facts_);
  if (!counts.ok()) {
    facts_.Clear();
    malloc_trim(0);
    Publish("failed", nullptr, true);
    return counts.status().WithContext("analytics engine: full load");
  }
  loaded_ = true;
  malloc_trim(0);  // the load's transient buffers (COPY rows, dictionary growth) are freed
  cursor_ = header.offsets;
  batch_signature_ = header.batch_signature;
  boundary_ = header.boundary;
  loaded_at_ms_ = header.snapshot_ms;
  snapshot_ms_ = header.snapshot_ms;
  Publish("ready", &header, true);
  core::MutexLock lock(mu_);
  ++stats_.full_loads;
  stats_.backlog = 0;
  stats_.skipped_rows += counts->skipped;
  stats_.last_full_load_ms = core::MillisSince(start);
  return Status::Ok();
}

void AnalyticsEngine::Publish(const std::string& state, const RefreshHeader* header,
                              bool facts_changed) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->state = state;
  if (state == "ready") {
    snapshot->facts = facts_.View();
    snapshot->boundary = boundary_;
  }
  if (facts_changed) ++version_;
  snapshot->version = version_;
  snapshot->generation = ++generation_;
  std::string& as_of = snapshot->as_of_json;
  as_of = "{\"state\":";
  core::AppendJsonString(state, &as_of);
  as_of += ",\"snapshot_at\":";
  AppendTime(state == "ready" ? snapshot_ms_ : std::nullopt, &as_of);
  as_of += ",\"loaded_at\":";
  AppendTime(state == "ready" ? loaded_at_ms_ : std::nullopt, &as_of);
  as_of +=
      fmt::format(",\"posts\":{},\"waiting_for_geo\":{},\"waiting_for_user\":{}",
                  snapshot->facts.post_count(), state == "ready" ? facts_.waiting_for_geo() : 0,
                  state == "ready" ? facts_.waiting_for_user() : 0);
  as_of += ",\"speed_offsets\":{";
  if (header != nullptr) {
    for (size_t k = 0; k < options_.topics.size(); ++k) {
      if (k > 0) as_of += ',';
      core::AppendJsonString(options_.topics[k], &as_of);
      as_of += ":{";
      bool first = true;
      for (const auto& [partition, next] : header->offsets[k]) {
        as_of += fmt::format("{}\"{}\":{}", first ? "" : ",", partition, next);
        first = false;
      }
      as_of += '}';
    }
  }
  as_of += "}}";
  AppendFiltersJson(snapshot->facts, &snapshot->filters_json);

  core::MutexLock lock(mu_);
  snapshot_ = std::move(snapshot);
  stats_.state = state;
  stats_.posts = static_cast<int64_t>(facts_.posts());
  stats_.user_records = static_cast<int64_t>(facts_.users());
  stats_.persons = static_cast<int64_t>(facts_.persons());
  stats_.waiting_for_geo = static_cast<int64_t>(facts_.waiting_for_geo());
  stats_.waiting_for_user = static_cast<int64_t>(facts_.waiting_for_user());
  stats_.bytes_held = static_cast<int64_t>(facts_.bytes());
  stats_.as_of_ms = state == "ready" ? snapshot_ms_ : std::nullopt;
  stats_.version = version_;
}

std::shared_ptr<const AnalyticsEngine::Snapshot> AnalyticsEngine::snapshot() const {
  core::MutexLock lock(mu_);
  return snapshot_;
}

std::string AnalyticsEngine::AnalyticsJson(const AnalyticsFilters& filters) const {
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const std::vector<AnswerTable> tables = ComputeAnalytics(snap->facts, filters);
  std::string out = "{\"boundary\":";
  if (snap->boundary) {
    core::AppendJsonString(core::DateOfDay(*snap->boundary), &out);
  } else {
    out += "null";
  }
  out += ",\"as_of\":";
  out += snap->as_of_json;
  out += ",\"tables\":";
  AppendTablesJson(tables, &out);
  out += '}';
  return out;
}

std::string AnalyticsEngine::FiltersJson() const { return snapshot()->filters_json; }

std::string AnalyticsEngine::PinDaysJson(const AnalyticsFilters& filters) const {
  const std::shared_ptr<const Snapshot> snap = snapshot();
  std::string out;
  AppendPinDaysJson(ComputePinDays(snap->facts, filters), &out);
  return out;
}

size_t AnalyticsEngine::bytes() const {
  core::MutexLock lock(mu_);
  return static_cast<size_t>(stats_.bytes_held);
}

AnalyticsEngine::Stats AnalyticsEngine::stats() const {
  core::MutexLock lock(mu_);
  return stats_;
}

}  // namespace pinpipe::dashboard
