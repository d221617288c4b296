#include "batch/batch_job.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "archive/archive_layout.h"
#include "batch/analytics_sql.h"
#include "batch/dedup_set.h"
#include "batch/duplicate_hints.h"
#include "batch/object_cleaner.h"
#include "batch/pg_day_loader.h"
#include "batch/reorder_buffer.h"
#include "core/elapsed.h"

namespace pinpipe::batch {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kFlushBytes = 1 << 20;

std::string RejectedKey(const std::string& prefix, core::RecordKind kind, int64_t day) {
  return fmt::format("{}_rejected/dt={}/{}.jsonl", prefix, core::DateOfDay(day),
                     core::RecordKindName(kind));
}

std::string QualityKey(const std::string& prefix, int64_t day) {
  return fmt::format("{}_quality/dt={}.json", prefix, core::DateOfDay(day));
}

// Owns the cleaning workers of one kind: on every way out of RunKind (success, error, early
// return) the reorder buffer is cancelled first, so no worker stays blocked, then they are
// joined.
class WorkerPool {
 public:
  explicit WorkerPool(ReorderBuffer* buffer) : buffer_(buffer) {}
  ~WorkerPool() {
    buffer_->Cancel();
    threads_.clear();  // joins
  }
  void Add(std::function<void()> body) { threads_.emplace_back(std::move(body)); }

 private:
  ReorderBuffer* buffer_;
  std::vector<std::jthread> threads_;
};

}  // namespace

std::string DefaultLakeUrl() {
  if (const char* lake = std::getenv("PINPIPE_LAKE"); lake != nullptr && *lake != '\0') {
    return lake;
  }
  // The archiver's default (apps/pinpipe/cmd_archive.cc), made absolute for the logs.
  return "file://" + std::filesystem::absolute(".pinpipe/lake").lexically_normal().string();
}

bool BatchJob::DayPlan::sealed() const {
  return std::all_of(inputs.begin(), inputs.end(), [](const DayInputs& in) { return in.sealed; });
}

BatchJob::BatchJob(BatchJobOptions options, std::shared_ptr<const transform::Transform> transform,
                   lake::ObjectStore* store, LogFn log)
    : options_(std::move(options)),
      transform_(std::move(transform)),
      store_(store),
      log_(std::move(log)) {
  if (options_.threads <= 0) {
    options_.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  if (options_.window == 0) options_.window = 2 * static_cast<size_t>(options_.threads);
}

BatchJob::~BatchJob() = default;

void BatchJob::Log(std::string_view line) const {
  if (log_) log_(line);
}

BatchProgress BatchJob::progress() const {
  BatchProgress p;
  p.day = progress_day_.load();
  p.kind = static_cast<core::RecordKind>(progress_kind_.load());
  p.days_done = days_done_.load();
  p.days_total = days_total_.load();
  p.records = records_.load();
  p.input_bytes = input_bytes_.load();
  p.total_input_bytes = total_input_bytes_.load();
  const int64_t started = started_ns_.load();
  if (started != 0) {
    p.seconds = static_cast<double>(Clock::now().time_since_epoch().count() - started) / 1e9;
  }
  return p;
}

Status BatchJob::ConnectPg() {
  if (!tables_) {
    ASSIGN_OR_RETURN(BatchTables tables, BatchTables::Create(transform_));
    tables_.emplace(std::move(tables));
  }
  if (conn_ && conn_->healthy()) return Status::Ok();
  conn_.reset();
  auto conn = pg::OpenCreatingDatabase(options_.pg_dsn);
  if (!conn.ok()) return conn.status().WithContext("PostgreSQL");
  conn_.emplace(std::move(*conn));
  RETURN_IF_ERROR(tables_->Ensure(*conn_));
  return CreateAnalyticsViews(*conn_, *tables_);
}

Status BatchJob::CreateViews() {
  RETURN_IF_ERROR(ConnectPg());
  return conn_->Run(tables_->AnalyzeSql());
}

StatusOr<BatchJob::DayPlan> BatchJob::PlanDay(int64_t day) {
  DayPlan plan;
  plan.day = day;
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const size_t k = static_cast<size_t>(kind);
    ASSIGN_OR_RETURN(plan.inputs[k], ListDayInputs(store_, options_.topics[k], day));
    const DayInputs& in = plan.inputs[k];
    if (!in.ignored.empty()) {
      Log(
          fmt::format("warning: ignoring {} object(s) under {} that are not archive segments "
                      "(e.g. {})",
                      in.ignored.size(), archive::DayPrefix(in.topic, day), in.ignored.front()));
    }
  }
  return plan;
}

BatchRunResult BatchJob::Run(int64_t first_day, int64_t last_day) {
  BatchRunResult result;
  const Clock::time_point t0 = Clock::now();
  started_ns_.store(t0.time_since_epoch().count());
  if (last_day < first_day) {
    result.status =
        InvalidArgument(fmt::format("the range ends ({}) before it starts ({})",
                                    core::DateOfDay(last_day), core::DateOfDay(first_day)));
    return result;
  }

  // Plan every day first: the totals make the progress line's time estimate, and
  // --require-sealed can refuse a range before anything is loaded.
  std::vector<DayPlan> plans;
  int64_t total_bytes = 0;
  for (int64_t day = first_day; day <= last_day; ++day) {
    StatusOr<DayPlan> plan = PlanDay(day);
    if (!plan.ok()) {
      result.status = plan.status().WithContext("listing dt=" + core::DateOfDay(day));
      return result;
    }
    for (const DayInputs& in : plan->inputs) total_bytes += static_cast<int64_t>(in.total_bytes);
    plans.push_back(std::move(*plan));
  }
  days_total_.store(static_cast<int>(plans.size()));
  total_input_bytes_.store(total_bytes);

  std::vector<std::string> unsealed;
  for (const DayPlan& plan : plans) {
    std::string missing;
    for (const DayInputs& in : plan.inputs) {
      if (in.sealed) continue;
      if (!missing.empty()) missing += ", ";
      missing += archive::SuccessKey(in.topic, plan.day);
    }
    if (missing.empty()) continue;
    unsealed.push_back(core::DateOfDay(plan.day));
    Log(fmt::format("{}: dt={} is not sealed: {} missing{}",
                    options_.require_sealed ? "error" : "warning", core::DateOfDay(plan.day),
                    missing,
                    options_.require_sealed
                        ? ""
                        : "; loading what is archived so far (records that arrive later are "
                          "missed until the day is re-run)"));
  }
  if (options_.require_sealed && !unsealed.empty() && !options_.keep_going) {
    result.status = FailedPrecondition(fmt::format(
        "--require-sealed: {} of {} day(s) not sealed by the archiver ({}); nothing was loaded",
        unsealed.size(), plans.size(), fmt::join(unsealed, ", ")));
    result.seconds = core::SecondsSince(t0);
    return result;
  }

  if (options_.write_pg) {
    if (Status s = ConnectPg(); !s.ok()) {
      result.status = s;
      result.seconds = core::SecondsSince(t0);
      return result;
    }
  }

  for (const DayPlan& plan : plans) {
    DayReport report;
    if (options_.require_sealed && !plan.sealed()) {
      report.day = plan.day;
      report.status = FailedPrecondition(fmt::format(
          "dt={} is not sealed (--require-sealed); not loaded", core::DateOfDay(plan.day)));
    } else if (std::all_of(plan.inputs.begin(), plan.inputs.end(),
                           [](const DayInputs& in) { return in.objects.empty(); })) {
      // Nothing at all (the archiver seals only days that had records): most likely a wrong
      // --lake or topic. Loading it would replace the day's data with nothing.
      report.day = plan.day;
      report.status = NotFound(fmt::format(
          "dt={}: nothing archived in {} under {}/, {}/, {}/; not loaded (the day's existing "
          "data is kept)",
          core::DateOfDay(plan.day), store_->Describe(), options_.topics[0], options_.topics[1],
          options_.topics[2]));
    } else {
      report = RunDay(plan);
    }
    days_done_.fetch_add(1);
    const bool failed = !report.status.ok();
    if (failed && result.status.ok()) result.status = report.status;
    result.days.push_back(std::move(report));
    if (failed && !options_.keep_going) break;
    if (options_.stop.stop_requested()) break;  // a signal ends the range
  }
  if (conn_ && std::any_of(result.days.begin(), result.days.end(),
                           [](const DayReport& d) { return d.status.ok(); })) {
    // See BatchTables::AnalyzeSql: the views need the parents' statistics.
    if (Status s = conn_->Run(tables_->AnalyzeSql()); !s.ok()) {
      Log("warning: ANALYZE of the batch tables failed (the views may plan badly until the next "
          "run or --views-only): " +
          s.ToString());
    }
  }
  result.seconds = core::SecondsSince(t0);
  return result;
}

DayReport BatchJob::RunDay(const DayPlan& plan) {
  const Clock::time_point t0 = Clock::now();
  const std::string date = core::DateOfDay(plan.day);
  DayReport report;
  report.day = plan.day;
  progress_day_.store(plan.day);
  std::unique_ptr<PgDayLoader> loader;
  std::array<std::unique_ptr<CleanPartsWriter>, 3> parts;
  auto fail = [&](const Status& s) {
    // Nothing of the day may stay half-done: roll back PostgreSQL, delete the day's parts.
    loader.reset();
    for (auto& p : parts) {
      if (p) p->Abandon();
    }
    report.status = s.WithContext(fmt::format("dt={}: not loaded", date));
    report.seconds = core::SecondsSince(t0);
    return report;
  };

  if (options_.write_pg) {
    // A lost connection between days is reconnected here; within a day it fails the day.
    if (Status s = ConnectPg(); !s.ok()) return fail(s);
    auto begun = PgDayLoader::Begin(&*conn_, &*tables_, plan.day, [&] {
      Log(fmt::format("dt={}: another pinpipe batch is loading this day; waiting for it", date));
    });
    if (!begun.ok()) return fail(begun.status());
    loader = std::move(*begun);
  }
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const size_t k = static_cast<size_t>(kind);
    const DayInputs& in = plan.inputs[k];
    KindReport kr;
    kr.kind = kind;
    kr.topic = in.topic;
    kr.table = transform_->table(kind).table;
    kr.sealed = in.sealed;
    kr.objects = static_cast<int64_t>(in.objects.size());
    if (options_.write_lake) {
      parts[k] = std::make_unique<CleanPartsWriter>(store_, transform_->table(kind), plan.day,
                                                    options_.parts);
    }
    progress_kind_.store(static_cast<int>(kind));
    Status s = RunKind(in, kind, loader.get(), parts[k].get(), &kr);
    if (s.ok() && in.sealed_records && *in.sealed_records != kr.records) {
      // More: records arrived after the seal (archived normally, see the archiver). Fewer:
      // archived objects are missing from the lake. Either way the operator should know.
      Log(fmt::format(
          "warning: dt={} {}: read {} records, the archiver sealed the day with {} ({})", date,
          in.topic, kr.records, *in.sealed_records,
          kr.records > *in.sealed_records ? "late records arrived after the seal"
                                          : "some archived records are missing from the lake"));
    }
    report.kinds.push_back(std::move(kr));
    if (!s.ok()) return fail(s.WithContext(std::string(core::RecordKindName(kind))));
  }
  if (loader) {
    std::vector<QualityRow> rows;
    for (const KindReport& k : report.kinds) {
      QualityRow q;
      q.kind = k.kind;
      q.sealed = k.sealed;
      q.objects = k.objects;
      q.input_bytes = k.input_bytes;
      q.records = k.records;
      q.rows = k.rows;
      q.dropped = k.dropped;
      q.dead = k.dead;
      q.duplicates = k.duplicates;
      q.quality_json = k.quality.ToJson();
      rows.push_back(std::move(q));
    }
    if (Status s = loader->Commit(rows); !s.ok()) return fail(s.WithContext("PostgreSQL"));
    loader.reset();
  }
  if (options_.write_lake) {
    // PostgreSQL has the day now; the lake output becomes official with its markers. A failure
    // here leaves the parts without _SUCCESS: re-running the day fixes it.
    lake::PutOptions json;
    json.content_type = "application/json";
    Status s =
        store_->Put(QualityKey(options_.parts.prefix, plan.day), DayQualityJson(report), json);
    for (auto& p : parts) {
      if (s.ok() && p) s = p->Seal();
    }
    if (!s.ok()) {
      report.status = s.WithContext(
          fmt::format("dt={}: loaded{}, but the lake output could not be sealed; re-run the day",
                      date, options_.write_pg ? " into PostgreSQL" : ""));
    }
  }
  report.seconds = core::SecondsSince(t0);
  return report;
}

Status BatchJob::RunKind(const DayInputs& in, core::RecordKind kind, PgDayLoader* loader,
                         CleanPartsWriter* parts, KindReport* report) {
  const Clock::time_point t0 = Clock::now();
  CleanerOutputs outputs;
  outputs.csv = parts != nullptr && options_.parts.csv;
  outputs.json = parts != nullptr && options_.parts.json;
  outputs.copy = loader != nullptr;
  outputs.chunk_bytes = options_.chunk_bytes;

  if (parts != nullptr) RETURN_IF_ERROR(parts->Begin());
  std::unique_ptr<lake::ObjectWriter> rejected;
  if (options_.write_lake) {
    lake::PutOptions o;
    o.content_type = "application/x-ndjson";
    ASSIGN_OR_RETURN(rejected,
                     store_->NewWriter(RejectedKey(options_.parts.prefix, kind, in.day), o));
  }
  std::optional<pg::CopyIn> copy;  // its sender thread overlaps sending with cleaning
  if (loader != nullptr) {
    ASSIGN_OR_RETURN(pg::CopyIn started, loader->StartTable(kind));
    copy.emplace(std::move(started));
  }

  const size_t objects = in.objects.size();
  // Hints save formatting; with no output (a dry run) there is nothing to save.
  const bool use_hints = options_.duplicate_hints && transform_->table(kind).dedup_column &&
                         (outputs.csv || outputs.json || outputs.copy);
  ReorderBuffer buffer(objects, options_.window, options_.reorder_bytes);
  // The pool is declared after everything the workers use, so it is destroyed (and joined)
  // before them.
  WorkerPool pool(&buffer);
  const size_t workers = std::min(objects, static_cast<size_t>(options_.threads));
  for (size_t w = 0; w < workers; ++w) {
    pool.Add([this, &buffer, &in, kind, outputs, use_hints] {
      std::unique_ptr<DuplicateHints> hints;
      if (use_hints) hints = std::make_unique<DuplicateHints>(options_.hint_slots_log2);
      ObjectCleaner cleaner(transform_, kind, outputs, hints.get());
      const ObjectCleaner::Emit emit = [&buffer](CleanChunk&& chunk) {
        return buffer.Push(std::move(chunk)) ? Status::Ok() : Cancelled("batch job stopping");
      };
      while (std::optional<size_t> i = buffer.Claim()) {
        const std::string& key = in.objects[*i].key;
        StatusOr<std::string> bytes = store_->Get(key);
        Status s = bytes.ok() ? cleaner.Clean(key, *i, *bytes, emit)
                              : bytes.status().WithContext("reading " + key);
        if (s.ok()) continue;
        if (s.code() != StatusCode::kCancelled) {
          CleanChunk failed;
          failed.object = *i;
          failed.last = true;
          failed.error = s;
          buffer.Push(std::move(failed));
        }
        return;
      }
    });
  }

  // The committer: chunks in object-key order.
  DedupSet dedup;
  std::string rejected_buf;
  while (std::optional<CleanChunk> chunk = buffer.Pop()) {
    if (!chunk->error.ok()) return chunk->error;
    if (options_.stop.stop_requested()) {
      return Cancelled("stopped by a signal");
    }
    for (size_t i = 0; i < chunk->rows.size(); ++i) {
      if (!dedup.Insert(chunk->KeyOf(i))) {
        ++report->duplicates;
        continue;
      }
      ++report->rows;
      if (parts != nullptr) RETURN_IF_ERROR(parts->AddRow(chunk->CsvOf(i), chunk->JsonOf(i)));
      if (copy) RETURN_IF_ERROR(copy->AppendLines(chunk->CopyOf(i)));
    }
    if (rejected) {
      rejected_buf.append(chunk->rejected);
      if (rejected_buf.size() >= kFlushBytes) {
        RETURN_IF_ERROR(rejected->Append(rejected_buf));
        rejected_buf.clear();
      }
    }
    report->records += chunk->records;
    report->dropped += chunk->dropped;
    report->dead += chunk->dead;
    report->duplicates += chunk->duplicates;
    report->input_bytes += static_cast<int64_t>(chunk->input_bytes);
    if (chunk->last) report->quality.Merge(chunk->quality);
    records_.fetch_add(chunk->records, std::memory_order_relaxed);
    input_bytes_.fetch_add(static_cast<int64_t>(chunk->input_bytes), std::memory_order_relaxed);
  }
  if (options_.stop.stop_requested()) return Cancelled("stopped by a signal");

  if (copy) {
    ASSIGN_OR_RETURN(int64_t stored, copy->Finish());
    if (stored != report->rows) {
      return Internal(fmt::format("COPY stored {} rows, the job sent {}", stored, report->rows));
    }
  }
  if (parts != nullptr) {
    RETURN_IF_ERROR(parts->Finish());
    report->parts = parts->parts();
  }
  if (rejected) {
    if (!rejected_buf.empty()) RETURN_IF_ERROR(rejected->Append(rejected_buf));
    RETURN_IF_ERROR(rejected->Close());
  }
  report->seconds = core::SecondsSince(t0);
  return Status::Ok();
}

}  // namespace pinpipe::batch
