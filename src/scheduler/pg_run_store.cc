#include "scheduler/pg_run_store.h"

#include <charconv>
#include <map>

#include <fmt/format.h>

#include "core/hex.h"
#include "core/mutex.h"
#include "pg/transaction.h"

namespace pinpipe::scheduler {
namespace {

// Serializes schema creation between processes: concurrent CREATE ... IF NOT EXISTS can still
// collide on the catalog's unique indexes.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7365656401)";
// The first key of the per-DAG execution locks (the second is hashtext(dag_id)).
constexpr int kDagLockClass = 736565;

constexpr const char* kSchema = R"sql(
CREATE SCHEMA IF NOT EXISTS scheduler;
CREATE TABLE IF NOT EXISTS scheduler.dags (
  dag_id      text PRIMARY KEY,
  paused      boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS scheduler.dag_runs (
  dag_id          text NOT NULL,
  run_id          text NOT NULL,
  kind            text NOT NULL,
  interval_start  timestamptz NOT NULL,
  interval_end    timestamptz NOT NULL,
  state           text NOT NULL,
  queued_at       timestamptz NOT NULL,
  started_at      timestamptz,
  ended_at        timestamptz,
  sla_missed      boolean NOT NULL DEFAULT false,
  version         bigint NOT NULL,
  PRIMARY KEY (dag_id, run_id)
);
CREATE INDEX IF NOT EXISTS dag_runs_by_interval ON scheduler.dag_runs (dag_id, interval_start);
CREATE TABLE IF NOT EXISTS scheduler.task_instances (
  dag_id      text NOT NULL,
  run_id      text NOT NULL,
  task_id     text NOT NULL,
  position    integer NOT NULL,
  state       text NOT NULL,
  try_number  integer NOT NULL,
  max_tries   integer NOT NULL,
  started_at  timestamptz,
  ended_at    timestamptz,
  retry_at    timestamptz,
  exit_code   integer,
  message     text NOT NULL DEFAULT '',
  PRIMARY KEY (dag_id, run_id, task_id),
  FOREIGN KEY (dag_id, run_id) REFERENCES scheduler.dag_runs ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS scheduler.task_logs (
  id          bigserial PRIMARY KEY,
  dag_id      text NOT NULL,
  run_id      text NOT NULL,
  task_id     text NOT NULL,
  try_number  integer NOT NULL,
  logged_at   timestamptz NOT NULL DEFAULT now(),
  chunk       bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS task_logs_by_try
  ON scheduler.task_logs (dag_id, run_id, task_id, try_number, id);
)sql";

pg::Param Time(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return std::to_string(t->time_since_epoch().count());
}
pg::Param Time(Instant t) { return std::to_string(t.time_since_epoch().count()); }

StatusOr<int64_t> Int(std::string_view text, std::string_view what) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return DataLoss(fmt::format("scheduler tables: {} is not an integer: \"{}\"", what, text));
  }
  return v;
}

StatusOr<std::optional<Instant>> OptTime(const pg::Result& r, int row, int col) {
  if (r.IsNull(row, col)) return std::optional<Instant>();
  ASSIGN_OR_RETURN(int64_t v, Int(r.GetValue(row, col), r.ColumnName(col)));
  return std::optional<Instant>(Instant(std::chrono::seconds(v)));
}

StatusOr<std::string> Unhex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return DataLoss("task log: odd hex length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return DataLoss("task log: bad hex digit");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Status CreateSchema(pg::Connection& conn) {
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kSchemaLock));
  RETURN_IF_ERROR(conn.Run("SET LOCAL client_min_messages = warning"));  // no "exists" notices
  RETURN_IF_ERROR(conn.Run(kSchema));
  return tx.Commit();
}

}  // namespace

const char* PgRunStore::SchemaSql() { return kSchema; }

StatusOr<std::unique_ptr<PgRunStore>> PgRunStore::Open(const std::string& dsn,
                                                       bool create_database) {
  if (create_database)
    RETURN_IF_ERROR(pg::EnsureDatabase(dsn).status().WithContext("creating the database"));
  ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(dsn));
  RETURN_IF_ERROR(CreateSchema(conn).WithContext("creating schema scheduler"));
  return std::unique_ptr<PgRunStore>(new PgRunStore(dsn, std::move(conn)));
}

Status PgRunStore::EnsureConnected() {
  if (conn_.healthy()) return Status::Ok();
  ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(dsn_));
  conn_ = std::move(conn);
  // The session's advisory locks went with the old connection.
  for (const std::string& dag : locked_dags_) {
    ASSIGN_OR_RETURN(
        pg::Result r,
        conn_.ExecParams(
            fmt::format("SELECT pg_try_advisory_lock({}, hashtext($1))", kDagLockClass), {dag}));
    if (r.GetValue(0, 0) != "t") {
      return FailedPrecondition(fmt::format(
          "lost the lock of DAG {} with the database connection; another process holds it now",
          dag));
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<DagRun>> PgRunStore::LoadRuns(std::string_view dag_id) {
  core::MutexLock lock(mutex_);
  RETURN_IF_ERROR(EnsureConnected());
  const std::vector<pg::Param> params = {std::string(dag_id)};
  // One snapshot for both queries: a save between them must not tear a run.
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn_));
  RETURN_IF_ERROR(conn_.Run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  ASSIGN_OR_RETURN(
      pg::Result runs,
      conn_.ExecParams(
          "SELECT run_id, kind, extract(epoch FROM interval_start)::bigint,"
          " extract(epoch FROM interval_end)::bigint, state,"
          " extract(epoch FROM queued_at)::bigint, extract(epoch FROM started_at)::bigint,"
          " extract(epoch FROM ended_at)::bigint, sla_missed, version"
          " FROM scheduler.dag_runs WHERE dag_id = $1 ORDER BY interval_start, queued_at, run_id",
          params));
  ASSIGN_OR_RETURN(
      pg::Result tasks,
      conn_.ExecParams(
          "SELECT run_id, task_id, state, try_number, max_tries,"
          " extract(epoch FROM started_at)::bigint, extract(epoch FROM ended_at)::bigint,"
          " extract(epoch FROM retry_at)::bigint, exit_code, message"
          " FROM scheduler.task_instances WHERE dag_id = $1 ORDER BY run_id, position",
          params));
  RETURN_IF_ERROR(tx.Commit());

  std::vector<DagRun> out;
  std::map<std::string, size_t> index;
  for (int i = 0; i < runs.rows(); ++i) {
    DagRun run;
    run.dag_id = std::string(dag_id);
    run.id = RunId(std::string(runs.GetValue(i, 0)));
    ASSIGN_OR_RETURN(run.kind, ParseRunKind(runs.GetValue(i, 1)));
    ASSIGN_OR_RETURN(std::optional<Instant> start, OptTime(runs, i, 2));
    ASSIGN_OR_RETURN(std::optional<Instant> end, OptTime(runs, i, 3));
    run.interval = {start.value_or(Instant{}), end.value_or(Instant{})};
    ASSIGN_OR_RETURN(run.state, ParseRunState(runs.GetValue(i, 4)));
    ASSIGN_OR_RETURN(std::optional<Instant> queued, OptTime(runs, i, 5));
    run.queued_at = queued.value_or(Instant{});
    ASSIGN_OR_RETURN(run.started_at, OptTime(runs, i, 6));
    ASSIGN_OR_RETURN(run.ended_at, OptTime(runs, i, 7));
    run.sla_missed = runs.GetValue(i, 8) == "t";
    ASSIGN_OR_RETURN(run.version, Int(runs.GetValue(i, 9), "version"));
    index.emplace(run.id.str(), out.size());
    out.push_back(std::move(run));
  }
  for (int i = 0; i < tasks.rows(); ++i) {
    const auto it = index.find(std::string(tasks.GetValue(i, 0)));
    if (it == index.end()) continue;  // the FK makes this impossible
    TaskInstance ti;
    ti.task_id = std::string(tasks.GetValue(i, 1));
    ASSIGN_OR_RETURN(ti.state, ParseTaskState(tasks.GetValue(i, 2)));
    ASSIGN_OR_RETURN(int64_t try_number, Int(tasks.GetValue(i, 3), "try_number"));
    ASSIGN_OR_RETURN(int64_t max_tries, Int(tasks.GetValue(i, 4), "max_tries"));
    ti.try_number = static_cast<int>(try_number);
    ti.max_tries = static_cast<int>(max_tries);
    ASSIGN_OR_RETURN(ti.started_at, OptTime(tasks, i, 5));
    ASSIGN_OR_RETURN(ti.ended_at, OptTime(tasks, i, 6));
    ASSIGN_OR_RETURN(ti.retry_at, OptTime(tasks, i, 7));
    if (!tasks.IsNull(i, 8)) {
      ASSIGN_OR_RETURN(int64_t code, Int(tasks.GetValue(i, 8), "exit_code"));
      ti.exit_code = static_cast<int>(code);
    }
    ti.message = std::string(tasks.GetValue(i, 9));
    out[it->second].tasks.push_back(std::move(ti));
  }
  return out;
}

Status PgRunStore::SaveRun(DagRun* run) {
  core::MutexLock lock(mutex_);
  RETURN_IF_ERROR(EnsureConnected());
  DagRun copy = *run;  // the version only changes once the transaction committed
  RETURN_IF_ERROR(SaveRunLocked(&copy));
  run->version = copy.version;
  return Status::Ok();
}

Status PgRunStore::SaveRunLocked(DagRun* run) {
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn_));
  const std::vector<pg::Param> fields = {
      run->dag_id,
      run->id.str(),
      std::string(RunKindName(run->kind)),
      Time(run->interval.start),
      Time(run->interval.end),
      std::string(RunStateName(run->state)),
      Time(run->queued_at),
      Time(run->started_at),
      Time(run->ended_at),
      std::string(run->sla_missed ? "true" : "false"),
      std::to_string(run->version),
  };
  if (run->version == 0) {
    ASSIGN_OR_RETURN(
        pg::Result r,
        conn_.ExecParams(
            "INSERT INTO scheduler.dag_runs (dag_id, run_id, kind, interval_start, interval_end,"
            " state, queued_at, started_at, ended_at, sla_missed, version) VALUES ($1, $2, $3,"
            " to_timestamp($4::bigint), to_timestamp($5::bigint), $6, to_timestamp($7::bigint),"
            " to_timestamp($8::bigint), to_timestamp($9::bigint), $10::boolean, $11::bigint + 1)"
            " ON CONFLICT (dag_id, run_id) DO NOTHING",
            fields));
    if (r.AffectedRows() == 0) {
      return AlreadyExists(fmt::format("run {} of DAG {} exists", run->id.str(), run->dag_id));
    }
  } else {
    ASSIGN_OR_RETURN(
        pg::Result r,
        conn_.ExecParams(
            "UPDATE scheduler.dag_runs SET kind = $3, interval_start = to_timestamp($4::bigint),"
            " interval_end = to_timestamp($5::bigint), state = $6,"
            " queued_at = to_timestamp($7::bigint), started_at = to_timestamp($8::bigint),"
            " ended_at = to_timestamp($9::bigint), sla_missed = $10::boolean,"
            " version = version + 1 WHERE dag_id = $1 AND run_id = $2 AND version = $11::bigint",
            fields));
    if (r.AffectedRows() == 0) {
      ASSIGN_OR_RETURN(pg::Result stored, conn_.ExecParams("SELECT version FROM scheduler.dag_runs"
                                                           " WHERE dag_id = $1 AND run_id = $2",
                                                           {run->dag_id, run->id.str()}));
      if (stored.rows() == 0) {
        return FailedPrecondition(fmt::format("run {} of DAG {} is not stored (version {})",
                                              run->id.str(), run->dag_id, run->version));
      }
      return FailedPrecondition(fmt::format(
          "run {} of DAG {} was changed by someone else (stored version {}, read version {})",
          run->id.str(), run->dag_id, stored.GetValue(0, 0), run->version));
    }
  }
  for (size_t i = 0; i < run->tasks.size(); ++i) {
    const TaskInstance& ti = run->tasks[i];
    RETURN_IF_ERROR(
        conn_
            .ExecParams(
                "INSERT INTO scheduler.task_instances (dag_id, run_id, task_id, position, state,"
                " try_number, max_tries, started_at, ended_at, retry_at, exit_code, message)"
                " VALUES ($1, $2, $3, $4::integer, $5, $6::integer, $7::integer,"
                " to_timestamp($8::bigint), to_timestamp($9::bigint), to_timestamp($10::bigint),"
                " $11::integer, $12) ON CONFLICT (dag_id, run_id, task_id) DO UPDATE SET"
                " position = EXCLUDED.position, state = EXCLUDED.state,"
                " try_number = EXCLUDED.try_number, max_tries = EXCLUDED.max_tries,"
                " started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,"
                " retry_at = EXCLUDED.retry_at, exit_code = EXCLUDED.exit_code,"
                " message = EXCLUDED.message",
                {run->dag_id, run->id.str(), ti.task_id, std::to_string(i),
                 std::string(TaskStateName(ti.state)), std::to_string(ti.try_number),
                 std::to_string(ti.max_tries), Time(ti.started_at), Time(ti.ended_at),
                 Time(ti.retry_at),
                 ti.exit_code ? pg::Param(std::to_string(*ti.exit_code)) : std::nullopt,
                 ti.message})
            .status());
  }
  RETURN_IF_ERROR(tx.Commit());
  ++run->version;
  return Status::Ok();
}

Status PgRunStore::AppendTaskLog(std::string_view dag_id, const RunId& run_id,
                                 std::string_view task_id, int try_number, std::string_view text) {
  if (text.empty()) return Status::Ok();
  core::MutexLock lock(mutex_);
  RETURN_IF_ERROR(EnsureConnected());
  return conn_
      .ExecParams(
          "INSERT INTO scheduler.task_logs (dag_id, run_id, task_id, try_number, chunk)"
          " VALUES ($1, $2, $3, $4::integer, decode($5, 'hex'))",
          {std::string(dag_id), run_id.str(), std::string(task_id), std::to_string(try_number),
           core::HexEncode(text)})
      .status();
}

StatusOr<std::string> PgRunStore::ReadTaskLog(std::string_view dag_id, const RunId& run_id,
                                              std::string_view task_id, int try_number) {
  core::MutexLock lock(mutex_);
  RETURN_IF_ERROR(EnsureConnected());
  ASSIGN_OR_RETURN(
      pg::Result r,
      conn_.ExecParams(
          "SELECT encode(string_agg(chunk, ''::bytea ORDER BY id), 'hex')"
          " FROM scheduler.task_logs"
          " WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = $4::integer",
          {std::string(dag_id), run_id.str(), std::string(task_id), std::to_string(try_number)}));
  if (r.rows() == 0 || r.IsNull(0, 0)) return std::string();
  // encode(..., 'hex') wraps nothing (only base64 wraps lines).
  return Unhex(r.GetValue(0, 0));
}

StatusOr<bool> PgRunStore::IsPaused(std::string_view dag_id) {
  core::MutexLock lock(mutex_);
  RETURN_IF_ERROR(EnsureConnected());
  ASSIGN_OR_RETURN(pg::Result r,
                   conn_.ExecParams("SELECT paused FROM scheduler.dags WHERE dag_id = $1",
                                    {std::string(dag_id)}));
  return r.rows() > 0 && r.GetValue(0, 0) == "t";
}

Status PgRunStore::SetPaused(std::string_view dag_id, bool paused) {
  core::MutexLock lock(mutex_);
  RETURN_IF_ERROR(EnsureConnected());
  return conn_
      .ExecParams(
          "INSERT INTO scheduler.dags (dag_id, paused) VALUES ($1, $2::boolean)"
          " ON CONFLICT (dag_id) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now()",
          {std::string(dag_id), std::string(paused ? "true" : "false")})
      .status();
}

StatusOr<bool> PgRunStore::TryLockDag(std::string_view dag_id) {
  core::MutexLock lock(mutex_);
  if (locked_dags_.contains(std::string(dag_id))) return true;
  RETURN_IF_ERROR(EnsureConnected());
  ASSIGN_OR_RETURN(
      pg::Result r,
      conn_.ExecParams(fmt::format("SELECT pg_try_advisory_lock({}, hashtext($1))", kDagLockClass),
                       {std::string(dag_id)}));
  if (r.GetValue(0, 0) != "t") return false;
  locked_dags_.insert(std::string(dag_id));
  return true;
}

}  // namespace pinpipe::scheduler
