// Shared fixture of the analytics engine's integration tests: the serving layer's scratch
// database (serving_fixture.h: `serving ensure`, batch days through the batch job's loader), a
// speed layer written as `pinpipe stream` writes it (rows with kafka_partition/kafka_offset and
// the partition's pinpipe_stream_offsets.next_offset in one transaction), the engine reading as
// the SELECT-only reader role, and the comparison of the engine's answers with the serving
// schema's SQL functions (the reference definition).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dashboard/analytics_engine.h"
#include "integration/serving/serving_fixture.h"
#include "pg/transaction.h"
#include "serving/reader_role.h"

namespace pinpipe::dashboard {

using core::RecordKind;
using serving::Layers;
using serving::RowSet;
using serving::Value;

inline const std::array<std::string, 3> kTopics = {"t-pin", "t-geo", "t-user"};

class AnalyticsEngineTest : public serving::ServingTest {
 protected:
  void SetUp() override {
    ServingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    static std::atomic<int> n{0};
    role_ = fmt::format("pinpipe_reader_e_{}_{}", getpid(), n.fetch_add(1));
    serving::ReaderRoleOptions reader;
    reader.name = role_;
    reader.login = true;
    Status made = serving::EnsureReaderRole(*conn_, reader);
    ASSERT_TRUE(made.ok()) << made.ToString();
    auto dsn = pg::ConninfoWith(db_->dsn(), "user", role_);
    ASSERT_TRUE(dsn.ok());
    reader_dsn_ = *dsn;
    auto reader_conn = pg::Connection::Open(reader_dsn_);
    ASSERT_TRUE(reader_conn.ok()) << reader_conn.status().ToString();
    engine_conn_ = std::make_unique<pg::Connection>(std::move(*reader_conn));
    NewEngine(EngineOptions{}.max_poll_records);
    auto collation =
        conn_->Exec("SELECT datcollate FROM pg_database WHERE datname = current_database()");
    ASSERT_TRUE(collation.ok());
    const std::string c(collation->GetValue(0, 0));
    byte_order_collation_ = c == "C" || c == "POSIX" || c == "C.UTF-8" || c == "C.utf8";
  }

  void TearDown() override {
    if (role_.empty()) return;
    engine_.reset();
    engine_conn_.reset();
    conn_.reset();
    db_.reset();
    auto admin = pg::Connection::Open(*testing::TestPgDsn());
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    EXPECT_TRUE(admin->Run("DROP ROLE IF EXISTS " + pg::QuoteIdentifier(role_)).ok());
  }

  // Writes `rows` (columns as named, dt among them) into the speed layer's table of `kind` as
  // one chunk of `pinpipe stream`: each row at the next offset of its partition (ind % 3),
  // the partitions' next_offset advanced in the same transaction; a row whose key the table
  // has is not stored but its offset is consumed (the unique index; ON CONFLICT DO NOTHING).
  void CommitSpeed(RecordKind kind, const RowSet& rows, pg::Connection* conn = nullptr) {
    if (rows.rows.empty()) return;
    if (conn == nullptr) conn = &*conn_;
    const size_t k = static_cast<size_t>(kind);
    const size_t ind = rows.Column("ind");
    std::string columns;
    for (const std::string& c : rows.columns) {
      if (c == "layer") continue;
      columns += pg::QuoteIdentifier(c) + ", ";
    }
    std::string values;
    std::map<int32_t, int64_t> next;
    for (const auto& r : rows.rows) {
      const int32_t partition = r[ind] ? std::atoi(r[ind]->c_str()) % 3 : 0;
      auto [it, added] = next.emplace(partition, next_offset_[k][partition]);
      values += values.empty() ? "(" : ", (";
      for (size_t i = 0; i < r.size(); ++i) {
        if (rows.columns[i] == "layer") continue;
        values += (r[i] ? pg::QuoteLiteral(*r[i]) : "NULL") + ", ";
      }
      values += fmt::format("{}, {})", partition, it->second++);
    }
    auto tx = pg::Transaction::Begin(*conn);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    Status s = conn->Run(fmt::format(
        "INSERT INTO public.{} ({}kafka_partition, kafka_offset) VALUES {} ON CONFLICT DO NOTHING",
        pg::QuoteIdentifier(Table(kind)), columns, values));
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (const auto& [partition, offset] : next) {
      s = conn->Run(fmt::format(
          "INSERT INTO public.pinpipe_stream_offsets (consumer_group, topic, partition, "
          "next_offset) VALUES ('pinpipe-stream', {}, {}, {}) ON CONFLICT (consumer_group, "
          "topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
          pg::QuoteLiteral(kTopics[k]), partition, offset));
      ASSERT_TRUE(s.ok()) << s.ToString();
      next_offset_[k][partition] = offset;
    }
    ASSERT_TRUE(tx->Commit().ok());
  }

  // A new engine (nothing loaded) reading at most `max_poll_records` per poll, and slices one
  // after the other within a refresh for up to `catch_up_budget`.
  void NewEngine(int64_t max_poll_records,
                 std::chrono::milliseconds catch_up_budget = EngineOptions{}.catch_up_budget) {
    EngineOptions options;
    options.transform = &T();
    options.topics = kTopics;
    options.max_poll_records = max_poll_records;
    options.catch_up_budget = catch_up_budget;
    engine_ = std::make_unique<AnalyticsEngine>(options);
  }
  Status Refresh(Analytics::Pace pace = Analytics::Pace::kCatchUp) {
    return engine_->Refresh(*engine_conn_, pace);
  }

  // The SQL function's rows as text ("NULL" for NULL).
  std::vector<std::vector<std::string>> SqlRows(const std::string& sql,
                                                const std::vector<pg::Param>& params) {
    std::vector<std::vector<std::string>> out;
    auto r = conn_->ExecParams(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok()) return out;
    for (int i = 0; i < r->rows(); ++i) {
      auto& row = out.emplace_back();
      for (int c = 0; c < r->columns(); ++c) {
        row.push_back(r->IsNull(i, c) ? std::string("NULL") : std::string(r->GetValue(i, c)));
      }
    }
    return out;
  }

  static std::vector<pg::Param> Params(const AnalyticsFilters& f) {
    auto day = [](const std::optional<std::chrono::sys_days>& d) -> pg::Param {
      if (!d) return std::nullopt;
      return core::DateOfDay(d->time_since_epoch().count());
    };
    return {day(f.from), day(f.to), f.category, f.country, f.age_group};
  }

  static std::string Describe(const AnalyticsFilters& f) {
    auto text = [](const pg::Param& p) { return p ? "'" + *p + "'" : std::string("NULL"); };
    const auto p = Params(f);
    return fmt::format("({}, {}, {}, {}, {})", text(p[0]), text(p[1]), text(p[2]), text(p[3]),
                       text(p[4]));
  }

  // Engine rows == SQL rows, cell by cell (doubles as numbers); in order when the database
  // sorts text by its bytes (the clusters scripts/services makes), else as multisets.
  void ExpectSameRows(const std::vector<std::vector<Cell>>& engine,
                      std::vector<std::vector<std::string>> sql, const std::string& what) {
    std::vector<std::vector<std::string>> got;
    for (const auto& row : engine) {
      auto& text = got.emplace_back();
      for (const Cell& cell : row) text.push_back(CellText(cell));
    }
    // Doubles: PostgreSQL prints the shortest text that reads back exactly, as CellText does,
    // except for its exponent style; normalise both through strtod.
    auto normalise = [&](std::vector<std::vector<std::string>>* rows) {
      for (auto& row : *rows) {
        for (size_t c = 0; c < row.size(); ++c) {
          if (!engine.empty() && c < engine[0].size() &&
              std::holds_alternative<double>(engine[0][c])) {
            row[c] = fmt::format("{}", std::strtod(row[c].c_str(), nullptr));
          }
        }
      }
    };
    normalise(&got);
    normalise(&sql);
    if (!byte_order_collation_) {
      std::sort(got.begin(), got.end());
      std::sort(sql.begin(), sql.end());
    }
    EXPECT_EQ(got, sql) << what;
  }

  // Every table of the engine's published snapshot == the serving functions under `filters`,
  // and the pins per day and layer == serving.posts counted by dt and layer.
  void ExpectEngineEqualsSql(const AnalyticsFilters& filters, const std::string& context) {
    const auto snapshot = engine_->snapshot();
    ASSERT_EQ(snapshot->state, "ready") << context;
    const std::vector<AnswerTable> tables = ComputeAnalytics(snapshot->facts, filters);
    const auto params = Params(filters);
    for (const AnswerTable& table : tables) {
      ExpectSameRows(table.rows,
                     SqlRows(fmt::format("SELECT * FROM serving.{}($1::date, $2::date, $3::text, "
                                         "$4::text, $5::text)",
                                         table.spec->id),
                             params),
                     fmt::format("{}{} {}", table.spec->id, Describe(filters), context));
    }
    std::vector<std::vector<std::string>> days;
    for (const PinDay& d : ComputePinDays(snapshot->facts, filters)) {
      days.push_back({core::DateOfDay(d.day), std::to_string(d.batch), std::to_string(d.speed)});
    }
    EXPECT_EQ(days, SqlRows(PinDaysSql(), params))
        << "pin days" << Describe(filters) << " " << context;
  }

  static std::string PinDaysSql() {
    return "SELECT p.dt::text, count(*) FILTER (WHERE p.layer = 'batch'), "
           "count(*) FILTER (WHERE p.layer = 'speed') FROM serving.posts p "
           "WHERE ($1::date IS NULL OR p.dt >= $1::date) AND ($2::date IS NULL OR p.dt <= "
           "$2::date) "
           "AND ($3::text IS NULL OR p.category = $3::text) AND ($4::text IS NULL OR p.country = "
           "$4::text) "
           "AND ($5::text IS NULL OR p.age_group = $5::text) GROUP BY p.dt ORDER BY p.dt";
  }

  int64_t MergedPins() { return Q("SELECT count(*) FROM serving.pins"); }

  std::string role_;
  std::string reader_dsn_;
  std::unique_ptr<pg::Connection> engine_conn_;
  std::unique_ptr<AnalyticsEngine> engine_;
  bool byte_order_collation_ = true;
  std::array<std::map<int32_t, int64_t>, 3> next_offset_;  // the speed layer's offsets
};

}  // namespace pinpipe::dashboard
