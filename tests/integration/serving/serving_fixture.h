// Shared fixture of the serving layer's integration tests: a scratch PostgreSQL database
// (PINPIPE_TEST_PG_DSN) set up by serving::EnsureServing, and ways to put cleaned rows into each
// layer: a day of the batch tables through the batch job's own loader (batch::PgDayLoader, with
// its batch.quality rows), and rows of the speed layer's tables (with their dt).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "batch/batch_tables.h"
#include "batch/pg_day_loader.h"
#include "core/civil_day.h"
#include "pg/connection.h"
#include "pg/copy_in.h"
#include "serving/merged_views.h"
#include "serving/serving_schema.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::serving {

using core::RecordKind;
using Value = std::optional<std::string>;  // nullopt = NULL

// Cleaned rows of one kind: named columns (a subset of the transform's, plus `dt`), values as
// text (PostgreSQL casts them), the other columns NULL.
struct RowSet {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;

  size_t Column(const std::string& name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return i;
    }
    return columns.size();
  }
  // The rows whose dt is `date`.
  RowSet OfDay(const std::string& date) const {
    RowSet out{columns, {}};
    const size_t dt = Column("dt");
    for (const auto& r : rows) {
      if (dt < r.size() && r[dt] == date) out.rows.push_back(r);
    }
    return out;
  }
};
using Layers = std::array<RowSet, 3>;  // indexed by RecordKind

class ServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dsn = testing::TestPgDsn();
    if (!dsn) GTEST_SKIP() << "needs PINPIPE_TEST_PG_DSN (scripts/test)";
    db_ = std::make_unique<testing::ScratchDatabase>(*dsn);
    ASSERT_TRUE(db_->ok()) << db_->error();
    ServingOptions options;
    options.pg_dsn = db_->dsn();
    options.reader.reset();
    auto report = EnsureServing(options, transform::Transform::Default());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    auto tables = batch::BatchTables::Create(transform::Transform::Default());
    ASSERT_TRUE(tables.ok());
    tables_.emplace(std::move(*tables));
    auto conn = pg::Connection::Open(db_->dsn());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_.emplace(std::move(*conn));
    ASSERT_TRUE(conn_->Run("SET client_min_messages = warning").ok());
  }

  const transform::Transform& T() const { return tables_->transform(); }
  std::string Table(RecordKind kind) const { return T().table(kind).table; }

  // Every row of `sql` as "a|b|c" (NULL as "NULL").
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> out;
    auto r = conn_->Exec(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok()) return out;
    for (int i = 0; i < r->rows(); ++i) {
      std::string row;
      for (int c = 0; c < r->columns(); ++c) {
        if (c > 0) row += "|";
        row += r->IsNull(i, c) ? std::string("NULL") : std::string(r->GetValue(i, c));
      }
      out.push_back(std::move(row));
    }
    return out;
  }
  int64_t Q(const std::string& sql) {
    auto v = testing::QueryInt(db_->dsn(), sql);
    EXPECT_TRUE(v.ok()) << sql << ": " << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  // Replaces `date` in the batch tables with `layers`' rows of that day, as `pinpipe batch` does
  // (PgDayLoader: one transaction, batch.quality rows with `sealed`).
  void LoadBatchDay(const std::string& date, const Layers& layers, bool sealed = true) {
    const int64_t day = *core::ParseDate(date);
    auto loader = batch::PgDayLoader::Begin(&*conn_, &*tables_, day, nullptr);
    ASSERT_TRUE(loader.ok()) << loader.status().ToString();
    std::vector<batch::QualityRow> quality;
    for (RecordKind kind : core::kAllRecordKinds) {
      const RowSet rows = layers[static_cast<size_t>(kind)].OfDay(date);
      auto copy = (*loader)->StartTable(kind);
      ASSERT_TRUE(copy.ok()) << copy.status().ToString();
      ASSERT_TRUE(copy->AppendLines(CopyLines(kind, rows)).ok());
      auto stored = copy->Finish();
      ASSERT_TRUE(stored.ok()) << date << ": " << stored.status().ToString();
      batch::QualityRow q;
      q.kind = kind;
      q.sealed = sealed;
      q.records = q.rows = *stored;
      q.quality_json = "{}";
      quality.push_back(q);
    }
    Status committed = (*loader)->Commit(quality);
    ASSERT_TRUE(committed.ok()) << committed.ToString();
  }

  // Inserts rows into the speed layer's table of `kind` (columns as named; dt among them).
  void InsertSpeed(RecordKind kind, const RowSet& rows) {
    if (rows.rows.empty()) return;
    std::string columns;
    for (const std::string& c : rows.columns) {
      columns += (columns.empty() ? "" : ", ") + pg::QuoteIdentifier(c);
    }
    std::string values;
    for (const auto& r : rows.rows) {
      values += values.empty() ? "(" : ", (";
      for (size_t i = 0; i < r.size(); ++i) {
        if (i > 0) values += ", ";
        values += r[i] ? pg::QuoteLiteral(*r[i]) : "NULL";
      }
      values += ")";
    }
    Status s = conn_->Run(fmt::format("INSERT INTO public.{} ({}) VALUES {}",
                                      pg::QuoteIdentifier(Table(kind)), columns, values));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // The speed layer's view of `layers`: each key once, its earliest day's row (the speed
  // layer keeps the first occurrence; events of a case come in day order).
  static Layers SpeedCopy(const Layers& layers) {
    Layers out;
    for (RecordKind kind : core::kAllRecordKinds) {
      const RowSet& in = layers[static_cast<size_t>(kind)];
      RowSet& o = out[static_cast<size_t>(kind)];
      o.columns = in.columns;
      const size_t key = in.Column(MergeKey(kind));
      const size_t dt = in.Column("dt");
      std::map<std::string, const std::vector<Value>*> first;
      for (const auto& r : in.rows) {
        auto [it, added] = first.emplace(*r[key], &r);
        if (!added && *r[dt] < *(*it->second)[dt]) it->second = &r;
      }
      for (const auto& [k, r] : first) o.rows.push_back(*r);
    }
    return out;
  }

  // Empties both layers: the speed tables, the batch tables' partitions and batch.quality.
  void ClearLayers() {
    for (RecordKind kind : core::kAllRecordKinds) {
      ASSERT_TRUE(conn_->Run("TRUNCATE public." + pg::QuoteIdentifier(Table(kind))).ok());
      for (const std::string& partition :
           Rows(fmt::format("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                            "i.inhrelid WHERE i.inhparent = '{}'::regclass",
                            tables_->Parent(kind)))) {
        ASSERT_TRUE(conn_->Run("DROP TABLE batch." + pg::QuoteIdentifier(partition)).ok());
      }
    }
    ASSERT_TRUE(conn_->Run("DELETE FROM batch.quality").ok());
  }

  // COPY text lines of `rows` for the batch staging table: every transform column, NULL where
  // `rows` has no such column (dt comes from the staging table's default).
  std::string CopyLines(RecordKind kind, const RowSet& rows) const {
    std::string out;
    const transform::TableDef& def = T().table(kind);
    for (const auto& r : rows.rows) {
      for (size_t c = 0; c < def.columns.size(); ++c) {
        if (c > 0) out += '\t';
        const size_t at = rows.Column(def.columns[c].name);
        if (at < r.size() && r[at]) {
          pg::AppendCopyField(out, *r[at]);
        } else {
          out += "\\N";
        }
      }
      out += '\n';
    }
    return out;
  }

  std::unique_ptr<testing::ScratchDatabase> db_;
  std::optional<batch::BatchTables> tables_;
  std::optional<pg::Connection> conn_;
};

}  // namespace pinpipe::serving
