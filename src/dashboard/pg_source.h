// PgSource: what the dashboard reads from PostgreSQL (the pipeline's database,
// pinterest_streaming), as a SELECT-only reader: every session is opened by
// OpenReaderConnection (SET ROLE to the reader role, default_transaction_read_only, UTC, a
// statement timeout), and every statement is a fixed one with parameters.
//
// Each refresh, cheap statements only (a few ms in all, on the main connection):
//   serving.boundary                      the boundary and the batch days (2 ms)
//   batch.quality                         the batch layer's load bookkeeping: rows, dropped,
//                                         dead, quality per day and kind (re-read only when
//                                         the boundary's last_loaded_at moved)
//   pinpipe_stream_offsets                the speed layer's offsets (its "data as of")
//   pg_stat_user_tables                   live-row estimates of the speed layer's tables
//   pinpipe_dead_letters                  the newest dead letters (ORDER BY id DESC LIMIT n)
//   scheduler.dags / dag_runs / task_instances   per DAG: paused, latest run, last activity
// Whole-table statements run on a second connection, asynchronously (the refresh never waits for
// them; it only polls), one at a time, each at most every `slow_interval`:
//   serving.layer_days, serving.reconciliation, count(*) of pinpipe_dead_letters;
// the two views also as soon as the boundary's last_loaded_at moved (a day was loaded), so that
// the rows per day by layer agree with the boundary shown next to them within a round, not
// `slow_interval` later.
// The analytics engine (if any) refreshes on a third connection, which has no statement
// timeout (its first load reads every merged row).
//
// Yielding: while the speed layer's lag (SetSpeedLag, from the Kafka source of the same refresh)
// is above `yield_lag`, the dashboard yields PostgreSQL to the speed layer's drain: no
// whole-table statement starts (one running finishes), and the engine does not poll
// (Analytics::Pace::kYield; a first load still runs). The views' and the engine's answers lag
// meanwhile (views_as_of, the engine's as_of show it), and catch up once the lag is down. After
// `max_yield` of yielding in a row it stops yielding until the lag has come down once, so a
// pipeline that never catches up still gets its views. On request: a range of scheduler runs with
// their tasks, and a task try's log.
//
// A failed statement keeps the last good values of its part and reports the error (parts are
// independent: a database without the scheduler's schema still shows the boundary). A lost
// connection is reopened at the next refresh.
//
// Thread-safety: the refresher thread only.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/record_schema.h"
#include "core/status.h"
#include "dashboard/analytics.h"
#include "pg/connection.h"

namespace pinpipe::dashboard {

struct PgSourceOptions {
  std::string dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  std::string role = "pinpipe_reader";  // SET ROLE after connecting; "" = the login role
  std::string stream_group = "pinpipe-stream";
  std::array<std::string, 3> topics = core::DefaultTopics();
  std::array<std::string, 3> tables = {"experimental_data", "geolocation_data_clean",
                                       "user_data_clean"};
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds slow_interval{60000};   // layer_days, reconciliation
  std::chrono::milliseconds count_interval{30000};  // count of dead letters
  int64_t yield_lag = 20000;                        // records; 0: never yield
  std::chrono::milliseconds max_yield{300000};
  size_t dead_letters_shown = 20;
  size_t dead_letter_bytes = 4096;  // of each raw record, fetched
};

// Opens a session the way the dashboard uses one. Errors: as pg::Connection::Open; the role
// that cannot be set (it does not exist: run `pinpipe serving ensure`) as FailedPrecondition.
StatusOr<pg::Connection> OpenReaderConnection(const std::string& dsn, const std::string& role,
                                              std::chrono::milliseconds statement_timeout);

struct BoundaryInfo {
  std::optional<std::string> boundary;  // YYYY-MM-DD
  std::optional<std::string> first_batch_day;
  int64_t batch_days = 0;
  std::optional<double> last_loaded_at;  // Unix seconds
};

struct BatchDayKind {
  std::string dt;
  std::string kind;
  std::string table;
  bool sealed = false;
  int64_t rows = 0, dropped = 0, dead = 0, duplicates = 0;
  std::map<std::string, int64_t> dropped_by_rule;  // from the quality report's "dropped"
  double loaded_at = 0;
};

struct StreamOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
  double updated_at = 0;
};

struct DeadLetter {
  int64_t id = 0;
  double at = 0;
  std::string stage, topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string reason;
  std::string raw;  // the first dead_letter_bytes bytes
  int64_t raw_bytes = 0;
};

struct LayerDay {
  std::string dt, kind;
  int64_t batch_rows = 0, speed_rows = 0, merged_batch = 0, merged_speed = 0;
};

struct ReconciliationRow {
  std::string dt, kind;
  int64_t batch_rows = 0, speed_rows = 0, difference = 0, only_batch = 0, only_speed = 0;
};

struct DagSummary {
  std::string dag_id;
  bool paused = false;
  std::optional<double> last_activity;  // latest task start or end
  std::optional<std::string> latest_run_id, latest_run_state;
  int64_t failed_runs_7d = 0;
  int64_t sla_misses = 0;
};

struct TaskRow {
  std::string task_id, state;
  int tries = 0;
  std::optional<double> started_at, ended_at;
};

struct RunRow {
  std::string dag_id, run_id, kind, state;
  double logical_date = 0;
  std::optional<double> started_at, ended_at;
  bool sla_missed = false;
  std::vector<TaskRow> tasks;
};

// One part's state: ok, or the error of its last attempt and when it was last ok.
struct PartStatus {
  bool ok = false;
  std::string error = "not read yet";
  std::optional<double> last_ok;
};

class PgSource {
 public:
  PgSource(PgSourceOptions options, Analytics* analytics);

  void Refresh(double now);
  // The speed layer's consumer lag in records as last seen (nullopt: unknown), for Yielding.
  void SetSpeedLag(std::optional<int64_t> records) { speed_lag_ = records; }
  // Whether the last Refresh yielded to the speed layer. Any thread.
  bool yielding() const { return yielding_.load(std::memory_order_relaxed); }

  // Runs whose interval starts on a day in [from, to] (YYYY-MM-DD), newest first, at most
  // `limit`, with their tasks in DAG order.
  StatusOr<std::vector<RunRow>> Runs(const std::string& from, const std::string& to, size_t limit);
  // The log of a try (default: the task's latest), as stored (bytes); its last `max_bytes`.
  // NotFound when the run has no such task or try.
  struct TaskLog {
    int try_number = 0;
    std::string text;
    int64_t total_bytes = 0;
  };
  StatusOr<TaskLog> Log(const std::string& dag_id, const std::string& run_id,
                        const std::string& task_id, std::optional<int> try_number,
                        size_t max_bytes);

  const BoundaryInfo& boundary() const { return boundary_; }
  const std::vector<BatchDayKind>& batch_days() const { return batch_days_; }
  const std::vector<StreamOffset>& stream_offsets() const { return offsets_; }
  const std::map<std::string, int64_t>& live_rows() const { return live_rows_; }
  const std::vector<DeadLetter>& dead_letters() const { return dead_letters_; }
  std::optional<int64_t> dead_letter_count() const { return dead_letter_count_; }
  const std::vector<LayerDay>& layer_days() const { return layer_days_; }
  const std::vector<ReconciliationRow>& reconciliation() const { return reconciliation_; }
  std::optional<double> views_as_of() const { return views_as_of_; }
  const std::vector<DagSummary>& dags() const { return dags_; }

  const PartStatus& connection_status() const { return connection_; }
  const PartStatus& serving_status() const { return serving_; }
  const PartStatus& stream_status() const { return stream_; }
  const PartStatus& scheduler_status() const { return scheduler_; }
  const PartStatus& views_status() const { return views_; }
  const PartStatus& analytics_status() const { return analytics_status_; }
  const PgSourceOptions& options() const { return options_; }

  // Statements sent to PostgreSQL since start (the engine's excluded): the cost of the
  // dashboard to the database, which must not grow with its clients.
  uint64_t statements() const { return statements_; }

 private:
  StatusOr<pg::Result> Query(const std::string& sql, const std::vector<pg::Param>& params = {});
  bool EnsureConnected(std::optional<pg::Connection>* conn, std::chrono::milliseconds timeout,
                       PartStatus* status, double now);
  void ReadBoundary(double now);
  void ReadBatchDays(double now);
  void ReadStream(double now);
  void ReadScheduler(double now);
  // Whether to yield now (see above); updates the yield bookkeeping.
  bool Yield(double now);
  void PollSlow(double now, bool yield);
  void RefreshAnalytics(double now, bool yield);

  PgSourceOptions options_;
  Analytics* analytics_;  // not owned; may be null
  std::optional<int64_t> speed_lag_;
  std::optional<double> yield_since_;  // when the current spell of yielding began
  bool yield_spent_ = false;           // max_yield passed: no yielding until the lag drops
  std::atomic<bool> yielding_{false};

  std::optional<pg::Connection> conn_;
  std::optional<pg::Connection> slow_conn_;
  std::optional<pg::Connection> engine_conn_;
  uint64_t statements_ = 0;

  BoundaryInfo boundary_;
  std::vector<BatchDayKind> batch_days_;
  std::optional<double> batch_days_loaded_at_;  // boundary_.last_loaded_at when read
  bool batch_days_read_ = false;
  std::vector<StreamOffset> offsets_;
  std::map<std::string, int64_t> live_rows_;
  std::vector<DeadLetter> dead_letters_;
  std::optional<int64_t> dead_letter_count_;
  std::vector<LayerDay> layer_days_;
  std::vector<ReconciliationRow> reconciliation_;
  std::optional<double> views_as_of_;
  std::vector<DagSummary> dags_;

  // The slow lane: which statement is in flight, and when each may run next.
  enum class Slow { kNone, kLayerDays, kReconciliation, kDeadLetterCount };
  Slow in_flight_ = Slow::kNone;
  double next_views_ = 0;
  double next_count_ = 0;
  std::vector<LayerDay> pending_layer_days_;  // of the round in flight
  bool round_open_ = false;                   // layer_days read, reconciliation next
  std::optional<double> views_loaded_at_;     // boundary_.last_loaded_at when the round began

  PartStatus connection_, serving_, stream_, scheduler_, views_, analytics_status_;
  PartStatus slow_connection_, engine_connection_;
};

}  // namespace pinpipe::dashboard
