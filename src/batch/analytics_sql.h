// The analytics questions of ../shared/DATA_FACTS.md as SQL: ONE definition, rendered into the
// schema `batch` (over the batch tables, by `pinpipe batch` and `pinpipe batch --views-only`) and
// into the schema `serving` (over the merged batch + speed views, by `pinpipe serving ensure`).
// The full SQL, with the rules in comments (and in COMMENT ON VIEW / FUNCTION, visible with
// psql's \d+ and \df+), is in analytics_sql.cc; docs/design.md ("Batch job / analytics" and
// "Serving layer") repeats them:
//   * sources: {schema}.pins, {schema}.geo, {schema}.users hold one row per key (pin unique_id,
//     geo/user ind) with the transform's columns, `dt` and `layer`. In `batch` they are views
//     over the batch tables (every loaded day; the earliest day's row wins); in `serving` the
//     merged views (src/serving/merged_views.h). Everything below is written once over them;
//   * posts: {schema}.posts, one row per pin, LEFT JOINed on ind with its geolocation and its
//     user: a question keeps the posts that have the records it needs (country and post-year
//     questions 1-3 a geolocation, age and join-year questions 4, 5, 7, 8 a user), so a post
//     whose user record is missing still counts where its country does;
//   * every question is a SQL function with the shared filters (date range on the post's dt,
//     category, country, age group; NULL = no filter) and a view of the same name that calls it
//     without filters, so views and functions cannot disagree; the functions plan without
//     nested loops (see analytics_sql.cc: the planner has no statistics for view columns);
//   * ties: rank() = 1, so every tied answer is a row, ordered by name;
//   * median: exact percentile_cont(0.5) (the mean of the two middle values for an even count);
//   * age groups: 18-24, 25-35, 36-50, 50+ where 50+ means 51 and older (50 is in 36-50, the
//     overlap in the question's labels resolved that way); ages under 18 are in no group.
// The SQL uses the default transform's column names (unique_id, ind, category, country,
// follower_count, ...); table names follow the transform.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "batch/batch_tables.h"
#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::batch {

// The questions' CREATE OR REPLACE statements (functions, views, comments) in `schema`, whose
// pins, geo and users relations must exist (see above).
std::string AnalyticsSql(std::string_view schema);

// batch.pins, batch.geo, batch.users over the batch tables: one row per key over every loaded
// day, the earliest day's row winning; layer = 'batch'.
std::string BatchSourcesSql(const BatchTables& tables);

// Runs BatchSourcesSql() and AnalyticsSql("batch") in one transaction. Errors: the
// connection's, with a hint when a column the views need is missing (a transform that renamed
// it).
Status CreateAnalyticsViews(pg::Connection& conn, const BatchTables& tables);

// The advisory lock that serialises DDL on the analytics objects (and the batch tables' setup):
// concurrent CREATE OR REPLACE of the same view fails with "tuple concurrently updated".
std::string AnalyticsLockSql();

// Names of the views AnalyticsSql() creates (posts, then the questions in order; for tests and
// messages) and of its question functions (each has a view of the same name).
const std::vector<std::string>& AnalyticsViewNames();
const std::vector<std::string>& AnalyticsFunctionNames();

}  // namespace pinpipe::batch
