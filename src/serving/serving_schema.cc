#include "serving/serving_schema.h"

#include "batch/analytics_sql.h"
#include "batch/batch_tables.h"
#include "pg/connection.h"
#include "pg/transaction.h"
#include "scheduler/pg_run_store.h"
#include "serving/merged_views.h"
#include "stream/pg_sink.h"

namespace pinpipe::serving {

std::string ServingSql(const transform::Transform& transform) {
  return MergedViewsSql(transform) + batch::AnalyticsSql(kSchema);
}

StatusOr<ServingReport> EnsureServing(
    const ServingOptions& options, const std::shared_ptr<const transform::Transform>& transform) {
  ServingReport report;
  ASSIGN_OR_RETURN(report.created_database, pg::EnsureDatabase(options.pg_dsn));
  ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(options.pg_dsn));
  RETURN_IF_ERROR(conn.Run("SET client_min_messages = warning"));

  RETURN_IF_ERROR(
      stream::EnsureSpeedTables(conn, *transform).WithContext("speed layer tables (public)"));
  ASSIGN_OR_RETURN(batch::BatchTables tables, batch::BatchTables::Create(transform));
  RETURN_IF_ERROR(tables.Ensure(conn).WithContext("batch tables"));
  RETURN_IF_ERROR(batch::CreateAnalyticsViews(conn, tables).WithContext("batch views"));
  RETURN_IF_ERROR(scheduler::PgRunStore::Open(options.pg_dsn)
                      .status()
                      .WithContext("scheduler run history (schema scheduler)"));
  {
    ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
    RETURN_IF_ERROR(conn.Run(batch::AnalyticsLockSql()));
    Status created = conn.Run(ServingSql(*transform));
    if (!created.ok()) {
      return created.WithContext(
          "serving views (CREATE OR REPLACE cannot change a view's columns: after a transform "
          "change, DROP SCHEMA serving CASCADE and run again)");
    }
    RETURN_IF_ERROR(tx.Commit());
  }
  RETURN_IF_ERROR(conn.Run(tables.AnalyzeSql()).WithContext("ANALYZE of the batch tables"));
  if (options.reader) RETURN_IF_ERROR(EnsureReaderRole(conn, *options.reader));

  ASSIGN_OR_RETURN(pg::Result b, conn.Exec("SELECT boundary, batch_days FROM serving.boundary"));
  if (!b.IsNull(0, 0)) report.boundary = std::string(b.GetValue(0, 0));
  report.batch_days = std::stoll(std::string(b.GetValue(0, 1)));
  return report;
}

}  // namespace pinpipe::serving
