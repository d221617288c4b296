// EnsureServing: `pinpipe serving ensure`. Makes one database hold everything a reader needs,
// idempotently, in this order:
//   1. the database (created if missing);
//   2. the speed layer's tables (schema public), by the speed layer's own
//      stream::EnsureSpeedTables;
//   3. the batch tables (schema batch) and the batch analytics views, by
//      batch::BatchTables::Ensure and batch::CreateAnalyticsViews;
//   4. the scheduler's run history (schema scheduler), by scheduler::PgRunStore;
//   5. the schema serving: the merged views (merged_views.h) and the analytics questions over
//      them (batch::AnalyticsSql, the one definition the batch schema uses too), in one
//      transaction; then ANALYZE of the batch tables' parents (the views plan on their
//      statistics);
//   6. the SELECT-only reader role (reader_role.h), unless none is asked for.
// Nothing is dropped: views are CREATE OR REPLACE'd, so a reader never sees them missing.
// Not thread-safe (one call at a time per object; concurrent calls from several processes are
// serialised by advisory locks in the database).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "serving/reader_role.h"
#include "transform/transform.h"

namespace pinpipe::serving {

struct ServingOptions {
  std::string pg_dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  std::optional<ReaderRoleOptions> reader = ReaderRoleOptions{};  // nullopt: no reader role
};

struct ServingReport {
  bool created_database = false;
  std::optional<std::string> boundary;  // serving.boundary afterwards ("YYYY-MM-DD"), if any
  int64_t batch_days = 0;               // sealed loaded days
};

// Errors: the first step's that failed, with the step named (e.g. "batch tables: ...").
StatusOr<ServingReport> EnsureServing(const ServingOptions& options,
                                      const std::shared_ptr<const transform::Transform>& transform);

// The SQL of step 5 (the serving schema's views, functions and comments), for tests and docs.
std::string ServingSql(const transform::Transform& transform);

}  // namespace pinpipe::serving
