#include "batch/pg_day_loader.h"

#include <algorithm>

#include <fmt/format.h>

#include "archive/archive_layout.h"

namespace pinpipe::batch {
namespace {

// Advisory lock keys: (space, day) for one day's loader, and one key for the swap phase.
constexpr int kDayLockSpace = 736565640;
constexpr const char* kSwapLock = "SELECT pg_advisory_xact_lock(7365656403)";

}  // namespace

StatusOr<std::unique_ptr<PgDayLoader>> PgDayLoader::Begin(pg::Connection* conn,
                                                          const BatchTables* tables, int64_t day,
                                                          const std::function<void()>& on_wait) {
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  const std::string lock_args = fmt::format("{}, {}", kDayLockSpace, day);
  ASSIGN_OR_RETURN(pg::Result tried,
                   conn->Exec(fmt::format("SELECT pg_try_advisory_xact_lock({})", lock_args)));
  if (tried.GetValue(0, 0) != "t") {
    if (on_wait) on_wait();
    RETURN_IF_ERROR(conn->Run(fmt::format("SELECT pg_advisory_xact_lock({})", lock_args)));
  }
  return std::unique_ptr<PgDayLoader>(new PgDayLoader(conn, tables, day, std::move(tx)));
}

PgDayLoader::~PgDayLoader() = default;  // tx_ rolls back unless committed

StatusOr<pg::CopyIn> PgDayLoader::StartTable(core::RecordKind kind) {
  RETURN_IF_ERROR(conn_->Run(tables_->StagingSql(kind, day_)));
  started_.push_back(kind);
  return pg::CopyIn::Start(*conn_, tables_->CopySql(kind, day_),
                           pg::CopyInOptions{.background_buffers = kCopyQueue});
}

Status PgDayLoader::Commit(const std::vector<QualityRow>& quality) {
  for (core::RecordKind kind : core::kAllRecordKinds) {
    if (std::find(started_.begin(), started_.end(), kind) == started_.end()) {
      return Internal(
          fmt::format("PgDayLoader::Commit: no table loaded for {}", core::RecordKindName(kind)));
    }
  }
  RETURN_IF_ERROR(conn_->Run(kSwapLock));
  for (core::RecordKind kind : core::kAllRecordKinds) {
    RETURN_IF_ERROR(conn_->Run(tables_->SwapSql(kind, day_)));
  }
  const std::string date = core::DateOfDay(day_);
  RETURN_IF_ERROR(conn_
                      ->ExecParams(fmt::format("DELETE FROM {}.quality WHERE dt = $1",
                                               pg::QuoteIdentifier(BatchTables::kSchema)),
                                   {date})
                      .status());
  const std::string insert = fmt::format(
      "INSERT INTO {}.quality (dt, kind, table_name, sealed, objects, input_bytes, records, "
      "rows, dropped, dead, duplicates, quality) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)",
      pg::QuoteIdentifier(BatchTables::kSchema));
  for (const QualityRow& q : quality) {
    RETURN_IF_ERROR(
        conn_
            ->ExecParams(
                insert,
                {date, std::string(core::RecordKindName(q.kind)),
                 tables_->transform().table(q.kind).table, q.sealed ? "true" : "false",
                 std::to_string(q.objects), std::to_string(q.input_bytes),
                 std::to_string(q.records), std::to_string(q.rows), std::to_string(q.dropped),
                 std::to_string(q.dead), std::to_string(q.duplicates), q.quality_json})
            .status());
  }
  return tx_.Commit();
}

}  // namespace pinpipe::batch
