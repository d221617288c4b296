// BatchJob: the batch layer's second half: archived days in the lake -> cleaned days in the lake
// and in PostgreSQL, with the speed layer's transform. Per day and record kind: list the day's
// objects (DayInputs), clean them in parallel (ObjectCleaner, ReorderBuffer), commit in object-key
// order on the calling thread (de-duplication by the table's dedup column, the lake parts, a COPY
// into a staging table, the dead letters), then replace the day in PostgreSQL in one transaction
// and only after that seal the lake output. The output is a function of the archived objects and
// the transform alone; a failure loads nothing of the day; a day with no archived object is
// NotFound. The steps, the failure rules and the memory bounds (one object, window and chunk per
// worker, the reorder budget, the hints, ~23-46 bytes per distinct key of the day): docs/design.md,
// "Batch job".
//
// Thread-safety: Run() and CreateViews() from one thread at a time; progress() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "batch/batch_tables.h"
#include "batch/clean_parts_writer.h"
#include "batch/day_inputs.h"
#include "batch/day_report.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "lake/object_store.h"
#include "pg/connection.h"
#include "transform/transform.h"

namespace pinpipe::batch {

class PgDayLoader;

struct BatchJobOptions {
  // Topics of the pin, geo and user records (as `pinpipe stream` and the archiver).
  std::array<std::string, 3> topics = core::DefaultTopics();
  int threads = 0;         // cleaning workers; 0: std::thread::hardware_concurrency()
  bool write_lake = true;  // cleaned CSV/JSONL parts, dead letters and quality report
  bool write_pg = true;    // the batch tables
  std::string pg_dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  bool require_sealed = false;  // a day without _SUCCESS is an error (else a warning)
  bool keep_going = false;      // after a failed day, go on with the next ones
  PartsOptions parts;           // lake prefix and part size
  size_t chunk_bytes = 1 << 20;
  size_t reorder_bytes = 64 << 20;
  size_t window = 0;  // objects in flight per kind; 0: 2 x threads
  // Workers skip formatting rows they know are duplicates (DuplicateHints, one per worker:
  // 2^hint_slots_log2 slots of 16 bytes, touched only as used). Off: same output, more work.
  bool duplicate_hints = true;
  int hint_slots_log2 = 18;
  // Checked between chunks: once stop is requested, the day being loaded fails with Cancelled
  // (rolled back). Default: a token that is never stopped.
  std::stop_token stop;
};

// A snapshot of the work done so far, for a progress line.
struct BatchProgress {
  int64_t day = 0;  // day being loaded
  core::RecordKind kind = core::RecordKind::kPin;
  int days_done = 0;
  int days_total = 0;
  int64_t records = 0;            // lines committed so far (all days)
  int64_t input_bytes = 0;        // compressed bytes committed so far
  int64_t total_input_bytes = 0;  // compressed bytes of every planned day
  double seconds = 0;             // since Run() started
};

struct BatchRunResult {
  std::vector<DayReport> days;  // every day attempted, in order (failed ones with their status)
  Status status;                // OK when every day loaded
  double seconds = 0;
};

class BatchJob {
 public:
  // Warnings and notes for the operator, one line each (no trailing newline).
  using LogFn = std::function<void(std::string_view line)>;

  // `store` must outlive the job. Errors surface from Run(): e.g. InvalidArgument for a
  // transform that cannot be mapped to batch tables.
  BatchJob(BatchJobOptions options, std::shared_ptr<const transform::Transform> transform,
           lake::ObjectStore* store, LogFn log);
  ~BatchJob();

  // Loads the days first_day..last_day (inclusive; days since 1970-01-01). With write_pg, first
  // creates the database (if missing), the batch tables and the analytics views. With
  // require_sealed, a range with an unsealed day fails before anything is loaded
  // (FailedPrecondition naming the missing markers) unless keep_going (then only those days fail).
  // Ends with an ANALYZE of the batch tables when a day was loaded.
  BatchRunResult Run(int64_t first_day, int64_t last_day);

  // Creates the database (if missing), the batch tables and the analytics views, and refreshes
  // the tables' planner statistics (the scheduler's refresh_views task).
  Status CreateViews();

  BatchProgress progress() const;

 private:
  struct DayPlan {
    int64_t day = 0;
    std::array<DayInputs, 3> inputs;
    bool sealed() const;
  };

  Status ConnectPg();
  StatusOr<DayPlan> PlanDay(int64_t day);
  DayReport RunDay(const DayPlan& plan);
  // One kind of a day: steps 2 and 3 of the class comment.
  Status RunKind(const DayInputs& inputs, core::RecordKind kind, PgDayLoader* loader,
                 CleanPartsWriter* parts, KindReport* report);
  void Log(std::string_view line) const;

  BatchJobOptions options_;
  std::shared_ptr<const transform::Transform> transform_;
  lake::ObjectStore* store_;
  LogFn log_;
  std::optional<BatchTables> tables_;
  std::optional<pg::Connection> conn_;
  std::chrono::steady_clock::time_point started_{};

  // Progress, written by the Run() thread, read by progress().
  std::atomic<int64_t> progress_day_{0};
  std::atomic<int> progress_kind_{0};
  std::atomic<int> days_done_{0};
  std::atomic<int> days_total_{0};
  std::atomic<int64_t> records_{0};
  std::atomic<int64_t> input_bytes_{0};
  std::atomic<int64_t> total_input_bytes_{0};
  std::atomic<int64_t> started_ns_{0};
};

// The lake URL when none is given: $PINPIPE_LAKE, else .pinpipe/lake under the working
// directory (as `pinpipe archive`; the scripts run from the repository root), made absolute.
std::string DefaultLakeUrl();

}  // namespace pinpipe::batch
