// The analytics questions of ../shared/DATA_FACTS.md as SQL views over the batch tables
// (schema `batch`), created by `pinpipe batch` (and `pinpipe batch --views-only`). The full SQL,
// with the definitions in comments (and in COMMENT ON VIEW, visible with psql's \d+), is in
// analytics_sql.cc; docs/design.md ("Batch job / analytics") repeats the rules:
//   * posts: batch.posts, one row per pin de-duplicated over every loaded day by unique_id (the
//     earliest day's row wins), inner-joined on ind with its geolocation and its user (each
//     likewise the earliest day's row per ind);
//   * ties: rank() = 1, so every tied answer is a row, ordered by name;
//   * median: exact percentile_cont(0.5) (the mean of the two middle values for an even count);
//   * age groups: 18-24, 25-35, 36-50, 50+ where 50+ means 51 and older (50 is in 36-50, the
//     overlap in the question's labels resolved that way); ages under 18 are in no group.
// The views use the default transform's column names (category, country, follower_count, ...);
// table names follow the transform.
#pragma once

#include <string>
#include <vector>

#include "batch/batch_tables.h"
#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::batch {

// The CREATE OR REPLACE VIEW statements (and their comments) for `tables`.
std::string AnalyticsSql(const BatchTables& tables);

// Runs AnalyticsSql() in one transaction. Errors: the connection's, with a hint when a column
// the views need is missing (a transform that renamed it).
Status CreateAnalyticsViews(pg::Connection& conn, const BatchTables& tables);

// The names of the views, in the order of the questions (for tests and --help).
const std::vector<std::string>& AnalyticsViewNames();

}  // namespace pinpipe::batch
