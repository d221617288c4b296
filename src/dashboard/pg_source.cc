#include "dashboard/pg_source.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace pinpipe::dashboard {
namespace {

int64_t Int(const pg::Result& r, int row, int col) {
  if (r.IsNull(row, col)) return 0;
  const std::string_view text = r.GetValue(row, col);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::optional<double> OptDouble(const pg::Result& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  const std::string_view text = r.GetValue(row, col);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

std::optional<std::string> OptText(const pg::Result& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return std::string(r.GetValue(row, col));
}

std::string Text(const pg::Result& r, int row, int col) {
  return std::string(r.GetValue(row, col));
}

bool Bool(const pg::Result& r, int row, int col) {
  return !r.IsNull(row, col) && r.GetValue(row, col) == "t";
}

// bytea in PostgreSQL's hex output form ("\x4142") to bytes.
std::string DecodeBytea(std::string_view text) {
  if (!text.starts_with("\\x")) return std::string(text);
  std::string out;
  out.reserve((text.size() - 2) / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1])));
  }
  return out;
}

void MarkOk(PartStatus* s, double now) {
  s->ok = true;
  s->error.clear();
  s->last_ok = now;
}

void MarkFailed(PartStatus* s, const Status& error) {
  s->ok = false;
  s->error = error.ToString();
}

// A schema or table that is not there yet (the layer has not run): said plainly.
std::string Explain(const Status& s, std::string_view what) {
  if (s.message().find("does not exist") != std::string::npos) {
    return fmt::format("{} not there yet ({})", what, s.message());
  }
  return s.ToString();
}

constexpr const char* kLayerDaysSql =
    "SELECT dt::text, kind, batch_rows, speed_rows, merged_from_batch, merged_from_speed "
    "FROM serving.layer_days ORDER BY dt, kind LIMIT 20000";
constexpr const char* kReconciliationSql =
    "SELECT dt::text, kind, batch_rows, speed_rows, difference, batch_only_keys, speed_only_keys "
    "FROM serving.reconciliation ORDER BY dt, kind LIMIT 20000";
constexpr const char* kDeadLetterCountSql = "SELECT count(*) FROM pinpipe_dead_letters";

}  // namespace

StatusOr<pg::Connection> OpenReaderConnection(const std::string& dsn, const std::string& role,
                                              std::chrono::milliseconds statement_timeout) {
  ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(dsn));
  // The session can only read: read-only transactions, and (with a role) the SELECT-only
  // reader's privileges. UTC so that days compare as the pipeline's days do.
  std::string setup =
      "SET application_name = 'pinpipe-dashboard'; SET default_transaction_read_only = on; "
      "SET TIME ZONE 'UTC'; ";
  setup += fmt::format("SET statement_timeout = {};", statement_timeout.count());
  RETURN_IF_ERROR(conn.Run(setup));
  if (!role.empty()) {
    Status s = conn.Run("SET ROLE " + pg::QuoteIdentifier(role));
    if (!s.ok()) {
      return FailedPrecondition(fmt::format(
          "cannot act as the reader role {} ({}); create it with `pinpipe serving ensure`, or "
          "pass --pg-role ''",
          role, s.message()));
    }
  }
  return conn;
}

PgSource::PgSource(PgSourceOptions options, Analytics* analytics)
    : options_(std::move(options)), analytics_(analytics) {}

bool PgSource::EnsureConnected(std::optional<pg::Connection>* conn,
                               std::chrono::milliseconds timeout, PartStatus* status, double now) {
  if (conn->has_value() && (*conn)->healthy()) return true;
  conn->reset();
  StatusOr<pg::Connection> opened = OpenReaderConnection(options_.dsn, options_.role, timeout);
  if (!opened.ok()) {
    MarkFailed(status, opened.status());
    return false;
  }
  conn->emplace(std::move(*opened));
  MarkOk(status, now);
  return true;
}

StatusOr<pg::Result> PgSource::Query(const std::string& sql, const std::vector<pg::Param>& params) {
  // On-request reads (runs, logs) may come before the first refresh opened the connection.
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!EnsureConnected(&conn_, options_.statement_timeout, &connection_, now)) {
    return Unavailable("PostgreSQL: not connected (" + connection_.error + ")");
  }
  ++statements_;
  StatusOr<pg::Result> r = params.empty() ? conn_->Exec(sql) : conn_->ExecParams(sql, params);
  if (!r.ok() && !conn_->healthy()) conn_.reset();
  return r;
}

void PgSource::Refresh(double now) {
  if (EnsureConnected(&conn_, options_.statement_timeout, &connection_, now)) {
    ReadBoundary(now);
    ReadBatchDays(now);
    ReadStream(now);
    ReadScheduler(now);
  }
  const bool yield = Yield(now);
  PollSlow(now, yield);
  RefreshAnalytics(now, yield);
}

bool PgSource::Yield(double now) {
  const bool lagging =
      options_.yield_lag > 0 && speed_lag_.has_value() && *speed_lag_ > options_.yield_lag;
  if (!lagging) {
    yield_since_.reset();
    yield_spent_ = false;
  } else if (!yield_since_) {
    yield_since_ = now;
  } else if (now - *yield_since_ >= static_cast<double>(options_.max_yield.count()) / 1000.0) {
    yield_spent_ = true;
  }
  const bool yield = lagging && !yield_spent_;
  yielding_.store(yield, std::memory_order_relaxed);
  return yield;
}

void PgSource::ReadBoundary(double now) {
  StatusOr<pg::Result> r = Query(
      "SELECT boundary::text, first_batch_day::text, batch_days, "
      "extract(epoch from last_loaded_at) FROM serving.boundary");
  if (!r.ok()) {
    serving_.ok = false;
    serving_.error = Explain(r.status(), "the serving views (pinpipe serving ensure)");
    return;
  }
  BoundaryInfo b;
  if (r->rows() > 0) {
    b.boundary = OptText(*r, 0, 0);
    b.first_batch_day = OptText(*r, 0, 1);
    b.batch_days = Int(*r, 0, 2);
    b.last_loaded_at = OptDouble(*r, 0, 3);
  }
  boundary_ = std::move(b);
  MarkOk(&serving_, now);
}

void PgSource::ReadBatchDays(double now) {
  // The bookkeeping changes only when a day is loaded; serving.boundary tells when.
  if (batch_days_read_ && boundary_.last_loaded_at == batch_days_loaded_at_ && serving_.ok) return;
  StatusOr<pg::Result> r = Query(
      "SELECT q.dt::text, q.kind, q.table_name, q.sealed, q.rows, q.dropped, q.dead, "
      "q.duplicates, extract(epoch from q.loaded_at), d.key, d.value "
      "FROM batch.quality q LEFT JOIN LATERAL jsonb_each_text(q.quality->'dropped') d ON true "
      "ORDER BY q.dt, q.kind, d.key");
  if (!r.ok()) {
    if (r.status().message().find("does not exist") != std::string::npos) {
      batch_days_.clear();  // no batch layer yet: nothing loaded
      batch_days_read_ = true;
      batch_days_loaded_at_ = boundary_.last_loaded_at;
    }
    return;
  }
  std::vector<BatchDayKind> days;
  for (int i = 0; i < r->rows(); ++i) {
    const std::string dt = Text(*r, i, 0);
    const std::string kind = Text(*r, i, 1);
    if (days.empty() || days.back().dt != dt || days.back().kind != kind) {
      BatchDayKind d;
      d.dt = dt;
      d.kind = kind;
      d.table = Text(*r, i, 2);
      d.sealed = Bool(*r, i, 3);
      d.rows = Int(*r, i, 4);
      d.dropped = Int(*r, i, 5);
      d.dead = Int(*r, i, 6);
      d.duplicates = Int(*r, i, 7);
      d.loaded_at = OptDouble(*r, i, 8).value_or(0);
      days.push_back(std::move(d));
    }
    if (!r->IsNull(i, 9)) days.back().dropped_by_rule[Text(*r, i, 9)] = Int(*r, i, 10);
  }
  batch_days_ = std::move(days);
  batch_days_read_ = true;
  batch_days_loaded_at_ = boundary_.last_loaded_at;
  static_cast<void>(now);
}

void PgSource::ReadStream(double now) {
  StatusOr<pg::Result> offsets = Query(
      "SELECT topic, partition, next_offset, extract(epoch from updated_at) "
      "FROM pinpipe_stream_offsets WHERE consumer_group = $1 ORDER BY topic, partition",
      {options_.stream_group});
  if (!offsets.ok()) {
    stream_.ok = false;
    stream_.error = Explain(offsets.status(), "the speed layer's tables (pinpipe stream)");
    return;
  }
  std::vector<StreamOffset> o;
  for (int i = 0; i < offsets->rows(); ++i) {
    o.push_back({Text(*offsets, i, 0), static_cast<int32_t>(Int(*offsets, i, 1)),
                 Int(*offsets, i, 2), OptDouble(*offsets, i, 3).value_or(0)});
  }
  offsets_ = std::move(o);
  std::string tables = "{";
  for (size_t k = 0; k < options_.tables.size(); ++k) {
    tables += (k > 0 ? "," : "") + options_.tables[k];
  }
  tables += "}";
  StatusOr<pg::Result> live = Query(
      "SELECT relname, n_live_tup FROM pg_stat_user_tables "
      "WHERE schemaname = 'public' AND relname = ANY($1::text[])",
      {tables});
  if (live.ok()) {
    std::map<std::string, int64_t> rows;
    for (int i = 0; i < live->rows(); ++i) rows[Text(*live, i, 0)] = Int(*live, i, 1);
    live_rows_ = std::move(rows);
  }
  StatusOr<pg::Result> dead = Query(
      "SELECT id, extract(epoch from received_at), stage, topic, partition, kafka_offset, reason, "
      "substring(raw from 1 for $2::int), octet_length(raw) "
      "FROM pinpipe_dead_letters ORDER BY id DESC LIMIT $1::int",
      {std::to_string(options_.dead_letters_shown), std::to_string(options_.dead_letter_bytes)});
  if (!dead.ok()) {
    stream_.ok = false;
    stream_.error = Explain(dead.status(), "the speed layer's dead letters");
    return;
  }
  std::vector<DeadLetter> letters;
  for (int i = 0; i < dead->rows(); ++i) {
    DeadLetter d;
    d.id = Int(*dead, i, 0);
    d.at = OptDouble(*dead, i, 1).value_or(0);
    d.stage = Text(*dead, i, 2);
    d.topic = Text(*dead, i, 3);
    d.partition = static_cast<int32_t>(Int(*dead, i, 4));
    d.offset = Int(*dead, i, 5);
    d.reason = Text(*dead, i, 6);
    d.raw = DecodeBytea(dead->GetValue(i, 7));
    d.raw_bytes = Int(*dead, i, 8);
    letters.push_back(std::move(d));
  }
  dead_letters_ = std::move(letters);
  MarkOk(&stream_, now);
}

void PgSource::ReadScheduler(double now) {
  StatusOr<pg::Result> r = Query(R"sql(
WITH ids AS (SELECT dag_id FROM scheduler.dags UNION SELECT DISTINCT dag_id FROM scheduler.dag_runs)
SELECT i.dag_id,
       coalesce((SELECT d.paused FROM scheduler.dags d WHERE d.dag_id = i.dag_id), false),
       (SELECT extract(epoch from max(greatest(t.started_at, t.ended_at)))
          FROM scheduler.task_instances t WHERE t.dag_id = i.dag_id),
       l.run_id, l.state,
       (SELECT count(*) FROM scheduler.dag_runs r WHERE r.dag_id = i.dag_id AND r.state = 'failed'
           AND r.interval_start > now() - interval '7 days'),
       (SELECT count(*) FROM scheduler.dag_runs r WHERE r.dag_id = i.dag_id AND r.sla_missed)
FROM ids i
LEFT JOIN LATERAL (SELECT r.run_id, r.state FROM scheduler.dag_runs r WHERE r.dag_id = i.dag_id
                   ORDER BY r.interval_start DESC LIMIT 1) l ON true
ORDER BY i.dag_id)sql");
  if (!r.ok()) {
    scheduler_.ok = false;
    scheduler_.error = Explain(r.status(), "the scheduler's history (pinpipe scheduler run)");
    return;
  }
  std::vector<DagSummary> dags;
  for (int i = 0; i < r->rows(); ++i) {
    DagSummary d;
    d.dag_id = Text(*r, i, 0);
    d.paused = Bool(*r, i, 1);
    d.last_activity = OptDouble(*r, i, 2);
    d.latest_run_id = OptText(*r, i, 3);
    d.latest_run_state = OptText(*r, i, 4);
    d.failed_runs_7d = Int(*r, i, 5);
    d.sla_misses = Int(*r, i, 6);
    dags.push_back(std::move(d));
  }
  dags_ = std::move(dags);
  MarkOk(&scheduler_, now);
}

void PgSource::PollSlow(double now, bool yield) {
  if (in_flight_ != Slow::kNone) {
    if (!slow_conn_) {
      in_flight_ = Slow::kNone;
    } else {
      std::optional<StatusOr<pg::Result>> done = slow_conn_->PollResult();
      if (!done) return;  // still running: look again next refresh
      const Slow which = in_flight_;
      in_flight_ = Slow::kNone;
      if (!done->ok()) {
        if (!slow_conn_->healthy()) slow_conn_.reset();
        if (which == Slow::kDeadLetterCount) return;  // the latest ones still show
        round_open_ = false;
        views_.ok = false;
        views_.error = Explain(done->status(), "the serving views (pinpipe serving ensure)");
        return;
      }
      const pg::Result& r = **done;
      if (which == Slow::kLayerDays) {
        std::vector<LayerDay> days;
        for (int i = 0; i < r.rows(); ++i) {
          days.push_back({Text(r, i, 0), Text(r, i, 1), Int(r, i, 2), Int(r, i, 3), Int(r, i, 4),
                          Int(r, i, 5)});
        }
        pending_layer_days_ = std::move(days);
        round_open_ = true;
      } else if (which == Slow::kReconciliation) {
        std::vector<ReconciliationRow> rows;
        for (int i = 0; i < r.rows(); ++i) {
          rows.push_back({Text(r, i, 0), Text(r, i, 1), Int(r, i, 2), Int(r, i, 3), Int(r, i, 4),
                          Int(r, i, 5), Int(r, i, 6)});
        }
        // Both views of one round are published together, with the time the round ended.
        layer_days_ = std::move(pending_layer_days_);
        pending_layer_days_.clear();
        round_open_ = false;
        reconciliation_ = std::move(rows);
        views_as_of_ = now;
        MarkOk(&views_, now);
      } else {
        dead_letter_count_ = r.rows() > 0 ? Int(r, 0, 0) : 0;
      }
    }
  }
  if (in_flight_ != Slow::kNone || yield) return;
  // Start the next due statement: the second half of a views round (reconciliation after
  // layer_days), a new round, else the dead-letter count.
  Slow next = Slow::kNone;
  const char* sql = nullptr;
  if (round_open_) {
    next = Slow::kReconciliation;
  } else if (now >= next_views_ || boundary_.last_loaded_at != views_loaded_at_) {
    next = Slow::kLayerDays;
  } else if (now >= next_count_) {
    next = Slow::kDeadLetterCount;
  }
  if (next == Slow::kNone) return;
  if (!EnsureConnected(&slow_conn_, std::chrono::minutes(5), &slow_connection_, now)) return;
  switch (next) {
    case Slow::kLayerDays:
      sql = kLayerDaysSql;
      next_views_ = now + static_cast<double>(options_.slow_interval.count()) / 1000.0;
      views_loaded_at_ = boundary_.last_loaded_at;
      break;
    case Slow::kReconciliation: sql = kReconciliationSql; break;
    case Slow::kDeadLetterCount:
      sql = kDeadLetterCountSql;
      next_count_ = now + static_cast<double>(options_.count_interval.count()) / 1000.0;
      break;
    case Slow::kNone: return;
  }
  ++statements_;
  if (Status s = slow_conn_->SendQuery(sql, {}); !s.ok()) {
    slow_conn_.reset();
    return;
  }
  in_flight_ = next;
}

void PgSource::RefreshAnalytics(double now, bool yield) {
  if (analytics_ == nullptr) return;
  // No statement timeout: the first load reads every merged row.
  if (!EnsureConnected(&engine_conn_, std::chrono::milliseconds(0), &engine_connection_, now)) {
    MarkFailed(&analytics_status_, Unavailable(engine_connection_.error));
    return;
  }
  Status s = analytics_->Refresh(*engine_conn_,
                                 yield ? Analytics::Pace::kYield : Analytics::Pace::kCatchUp);
  if (!s.ok()) {
    MarkFailed(&analytics_status_, s);
    if (!engine_conn_->healthy()) engine_conn_.reset();
    return;
  }
  MarkOk(&analytics_status_, now);
}

StatusOr<std::vector<RunRow>> PgSource::Runs(const std::string& from, const std::string& to,
                                             size_t limit) {
  ASSIGN_OR_RETURN(pg::Result r, Query(R"sql(
SELECT r.dag_id, r.run_id, r.kind, extract(epoch from r.interval_start), r.state,
       extract(epoch from r.started_at), extract(epoch from r.ended_at), r.sla_missed,
       t.task_id, t.state, t.try_number, extract(epoch from t.started_at),
       extract(epoch from t.ended_at)
FROM (SELECT * FROM scheduler.dag_runs
      WHERE interval_start >= $1::date AND interval_start < $2::date + 1
      ORDER BY interval_start DESC, dag_id, run_id LIMIT $3::int) r
LEFT JOIN scheduler.task_instances t ON t.dag_id = r.dag_id AND t.run_id = r.run_id
ORDER BY r.interval_start DESC, r.dag_id, r.run_id, t.position)sql",
                                       {from, to, std::to_string(limit)}));
  std::vector<RunRow> runs;
  for (int i = 0; i < r.rows(); ++i) {
    const std::string dag = Text(r, i, 0);
    const std::string run = Text(r, i, 1);
    if (runs.empty() || runs.back().dag_id != dag || runs.back().run_id != run) {
      RunRow row;
      row.dag_id = dag;
      row.run_id = run;
      row.kind = Text(r, i, 2);
      row.logical_date = OptDouble(r, i, 3).value_or(0);
      row.state = Text(r, i, 4);
      row.started_at = OptDouble(r, i, 5);
      row.ended_at = OptDouble(r, i, 6);
      row.sla_missed = Bool(r, i, 7);
      runs.push_back(std::move(row));
    }
    if (!r.IsNull(i, 8)) {
      runs.back().tasks.push_back({Text(r, i, 8), Text(r, i, 9), static_cast<int>(Int(r, i, 10)),
                                   OptDouble(r, i, 11), OptDouble(r, i, 12)});
    }
  }
  return runs;
}

StatusOr<PgSource::TaskLog> PgSource::Log(const std::string& dag_id, const std::string& run_id,
                                          const std::string& task_id, std::optional<int> try_number,
                                          size_t max_bytes) {
  ASSIGN_OR_RETURN(pg::Result task, Query("SELECT try_number FROM scheduler.task_instances "
                                          "WHERE dag_id = $1 AND run_id = $2 AND task_id = $3",
                                          {dag_id, run_id, task_id}));
  if (task.rows() == 0) {
    return NotFound(fmt::format("no task {} in run {} of DAG {}", task_id, run_id, dag_id));
  }
  const int latest = static_cast<int>(Int(task, 0, 0));
  const int wanted = try_number.value_or(latest);
  if (wanted < 1 || wanted > latest) {
    return NotFound(fmt::format("task {} of run {} has tries 1 to {}; no try {}", task_id, run_id,
                                latest, wanted));
  }
  // Only the chunks that make up the last max_bytes cross the wire.
  ASSIGN_OR_RETURN(pg::Result chunks, Query(R"sql(
SELECT chunk, total FROM (
  SELECT id, chunk, sum(octet_length(chunk)) OVER (ORDER BY id DESC) AS from_end,
         sum(octet_length(chunk)) OVER () AS total
  FROM scheduler.task_logs
  WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = $4::int) c
WHERE from_end - octet_length(chunk) < $5::bigint
ORDER BY id)sql",
                                            {dag_id, run_id, task_id, std::to_string(wanted),
                                             std::to_string(max_bytes)}));
  TaskLog log;
  log.try_number = wanted;
  for (int i = 0; i < chunks.rows(); ++i) {
    log.text += DecodeBytea(chunks.GetValue(i, 0));
    log.total_bytes = Int(chunks, i, 1);
  }
  if (log.text.size() > max_bytes) log.text.erase(0, log.text.size() - max_bytes);
  return log;
}

}  // namespace pinpipe::dashboard
