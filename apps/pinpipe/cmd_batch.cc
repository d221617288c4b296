// `pinpipe batch`: the batch job (lake archive -> cleaned lake files + PostgreSQL batch tables,
// one day or a range), and the analytics views. docs/design.md, "Batch job".
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "batch/analytics_sql.h"
#include "batch/batch_job.h"
#include "command.h"
#include "core/civil_day.h"
#include "core/mutex.h"
#include "lake/object_store.h"
#include "log/logger.h"
#include "s3_flags.h"
#include "stop_signals.h"
#include "topic_flags.h"
#include "transform/transform.h"

namespace pinpipe::app {
namespace {

const log::Logger kBatchLog("batch");

struct BatchFlags {
  batch::BatchJobOptions options;
  std::string date;
  std::string from;
  std::string to;
  std::string lake;
  S3Flags s3;
  std::string transform_file;
  bool no_pg = false;
  bool dry_run = false;
  bool views_only = false;
  int64_t part_mib = 256;
  std::string progress = "auto";
};

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Mib(int64_t bytes) {
  return fmt::format("{:.1f}", static_cast<double>(bytes) / 1048576.0);
}

std::string FormatClock(double seconds) {
  if (seconds < 0 || seconds > 359999) return "--:--";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

// The progress line: redrawn in place on stderr while the job runs (only on a terminal).
class ProgressLine {
 public:
  explicit ProgressLine(const batch::BatchJob* job) : job_(job) {
    thread_ = std::jthread([this](std::stop_token stop) { Loop(std::move(stop)); });
  }
  ~ProgressLine() {
    thread_.request_stop();
    cv_.notify_all();
    thread_.join();
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
  }

 private:
  void Loop(std::stop_token stop) {
    double last_seconds = 0;
    int64_t last_records = 0;
    double rate = 0;
    while (!stop.stop_requested()) {
      {
        core::MutexLock lock(mu_);
        lock.WaitFor(cv_, std::chrono::milliseconds(250), [&] { return stop.stop_requested(); });
      }
      if (stop.stop_requested()) break;
      const batch::BatchProgress p = job_->progress();
      if (p.days_total == 0) continue;
      // A rate over the last interval, smoothed, reacts to slow and fast days alike.
      const double dt = p.seconds - last_seconds;
      if (dt > 0) {
        const double now_rate = static_cast<double>(p.records - last_records) / dt;
        rate = rate == 0 ? now_rate : 0.7 * rate + 0.3 * now_rate;
      }
      last_seconds = p.seconds;
      last_records = p.records;
      const double byte_rate = p.seconds > 0 ? static_cast<double>(p.input_bytes) / p.seconds : 0;
      const double left =
          byte_rate > 0 ? static_cast<double>(p.total_input_bytes - p.input_bytes) / byte_rate : -1;
      std::string line = fmt::format(
          "\r\x1b[Kdt={} {} (day {}/{})  {} records  {}/{} MiB  {:.0f} records/s  elapsed {}  "
          "left {}",
          core::DateOfDay(p.day), core::RecordKindName(p.kind), p.days_done + 1, p.days_total,
          p.records, Mib(p.input_bytes), Mib(p.total_input_bytes), rate, FormatClock(p.seconds),
          FormatClock(left));
      std::fputs(line.c_str(), stderr);
      std::fflush(stderr);
    }
  }

  const batch::BatchJob* job_;
  core::Mutex mu_;
  std::condition_variable cv_;
  std::jthread thread_;
};

void PrintDay(const batch::DayReport& d) {
  if (!d.status.ok()) {
    std::cout << fmt::format("pinpipe batch: dt={} FAILED: {}\n", core::DateOfDay(d.day),
                             d.status.ToString());
  }
  const double rate = d.seconds > 0 ? static_cast<double>(d.records()) / d.seconds : 0;
  std::cout << fmt::format(
      "pinpipe batch: dt={} sealed={} records={} rows={} dropped={} dead={} duplicates={} "
      "input_mib={} seconds={:.2f} records_per_s={:.0f}\n",
      core::DateOfDay(d.day), d.sealed() ? "yes" : "no", d.records(), d.rows(), d.dropped(),
      d.dead(), d.duplicates(), Mib(d.input_bytes()), d.seconds, rate);
  for (const batch::KindReport& k : d.kinds) {
    const double kind_rate = k.seconds > 0 ? static_cast<double>(k.records) / k.seconds : 0;
    std::cout << fmt::format(
        "  {:<4} {}: objects={} records={} rows={} dropped={} dead={} duplicates={} "
        "input_mib={} seconds={:.2f} records_per_s={:.0f}\n",
        core::RecordKindName(k.kind), k.table, k.objects, k.records, k.rows, k.dropped, k.dead,
        k.duplicates, Mib(k.input_bytes), k.seconds, kind_rate);
  }
}

int RunBatch(BatchFlags f) {
  // Before any thread (the progress line's, the job's) exists: they inherit its mask.
  StopSignals signals("batch", "stopping: the day being loaded is rolled back");
  std::shared_ptr<const transform::Transform> transform = transform::Transform::Default();
  if (!f.transform_file.empty()) {
    auto loaded = transform::Transform::FromFile(f.transform_file);
    if (!loaded.ok()) {
      kBatchLog.Error("{}", loaded.status().ToString());
      return 2;
    }
    transform = *loaded;
  }
  batch::BatchJobOptions& o = f.options;
  o.write_pg = !f.no_pg && !f.dry_run;
  o.write_lake = !f.dry_run;
  o.parts.part_bytes = static_cast<uint64_t>(f.part_mib) << 20;
  o.stop = signals.token();
  // The job's progress lines; its own "warning: ..." lines are warnings.
  auto job_log = [](std::string_view line) {
    kBatchLog.Log(line.starts_with("warning: ") ? log::Level::kWarn : log::Level::kInfo, line);
  };

  if (f.views_only) {
    if (f.no_pg || f.dry_run) {
      kBatchLog.Error("--views-only needs PostgreSQL (not with --no-pg/--dry-run)");
      return 2;
    }
    batch::BatchJob job(o, transform, nullptr, job_log);
    if (Status s = job.CreateViews(); !s.ok()) {
      kBatchLog.Error("{}", s.ToString());
      return 1;
    }
    std::cout << "pinpipe batch: batch tables and analytics views are in place (schema "
              << batch::BatchTables::kSchema << ": pins, geo, users, posts and "
              << batch::AnalyticsFunctionNames().size()
              << " question views, each also a function with filters)\n";
    return 0;
  }

  std::optional<int64_t> first;
  std::optional<int64_t> last;
  if (!f.date.empty()) {
    if (!f.from.empty() || !f.to.empty()) {
      kBatchLog.Error("give --date or --from/--to, not both");
      return 2;
    }
    first = last = core::ParseDate(f.date);
    if (!first) {
      kBatchLog.Error("--date '{}' is not a date (YYYY-MM-DD)", f.date);
      return 2;
    }
  } else if (!f.from.empty() && !f.to.empty()) {
    first = core::ParseDate(f.from);
    last = core::ParseDate(f.to);
    if (!first || !last) {
      kBatchLog.Error("--from/--to must be dates (YYYY-MM-DD)");
      return 2;
    }
    if (*last < *first) {
      kBatchLog.Error("--to {} is before --from {}", f.to, f.from);
      return 2;
    }
  } else {
    kBatchLog.Error(
        "say which days: --date YYYY-MM-DD, or --from D1 --to D2 (inclusive); "
        "--views-only creates the views");
    return 2;
  }

  const std::string url = f.lake.empty() ? batch::DefaultLakeUrl() : f.lake;
  auto store = lake::OpenObjectStore(url, f.s3.ToOptions());
  if (!store.ok()) {
    kBatchLog.Error("lake {}: {}", url, store.status().ToString());
    return 1;
  }

  batch::BatchJob job(o, transform, store->get(), job_log);
  const double cpu0 = CpuSeconds();
  batch::BatchRunResult result;
  {
    const bool tty = f.progress == "always" || (f.progress == "auto" && isatty(STDERR_FILENO) != 0);
    std::optional<ProgressLine> progress;
    if (tty) progress.emplace(&job);
    result = job.Run(*first, *last);
  }
  const double cpu = CpuSeconds() - cpu0;

  int64_t records = 0, rows = 0, dropped = 0, dead = 0, duplicates = 0, bytes = 0;
  int failed = 0;
  for (const batch::DayReport& d : result.days) {
    PrintDay(d);
    records += d.records();
    rows += d.rows();
    dropped += d.dropped();
    dead += d.dead();
    duplicates += d.duplicates();
    bytes += d.input_bytes();
    if (!d.status.ok()) ++failed;
  }
  const double rate = result.seconds > 0 ? static_cast<double>(records) / result.seconds : 0;
  const double per_cpu = cpu > 0 ? static_cast<double>(records) / cpu : 0;
  std::cout << fmt::format(
      "pinpipe batch: summary: days={} failed={} records={} rows={} dropped={} dead={} "
      "duplicates={} input_mib={} seconds={:.2f} records_per_s={:.0f} cpu_seconds={:.2f} "
      "records_per_cpu_s={:.0f} lake={}{}\n",
      result.days.size(), failed, records, rows, dropped, dead, duplicates, Mib(bytes),
      result.seconds, rate, cpu, per_cpu, url,
      o.write_pg ? "" : (f.dry_run ? " (dry run: nothing written)" : " (no PostgreSQL)"));
  if (!result.status.ok()) {
    kBatchLog.Error("{}", result.status.ToString());
    return 1;
  }
  return 0;
}

CommandRegistration kBatch(
    "batch",
    "Run the batch job: clean archived days from the lake into cleaned lake files and the "
    "PostgreSQL batch tables (one day or a range), and create the analytics views",
    [](CLI::App& sub) {
      auto f = std::make_shared<BatchFlags>();
      batch::BatchJobOptions& o = f->options;
      sub.add_option("--date", f->date, "The day to load (YYYY-MM-DD, UTC)");
      sub.add_option("--from", f->from, "First day of a range (YYYY-MM-DD)");
      sub.add_option("--to", f->to, "Last day of a range, inclusive (YYYY-MM-DD)");
      sub.add_option("--lake", f->lake,
                     "Object store URL: file:///dir, a path or s3://bucket/prefix (default: "
                     ".pinpipe/lake, as pinpipe archive)")
          ->envname("PINPIPE_LAKE");
      AddS3Flags(sub, &f->s3);
      sub.add_option("--pg-dsn", o.pg_dsn,
                     "PostgreSQL conninfo of the database for the batch tables (schema batch; the "
                     "database is created if missing; by default the speed layer's, so the serving "
                     "views can merge them)")
          ->envname("PINPIPE_BATCH_PG_DSN")
          ->capture_default_str();
      sub.add_option("--threads", o.threads, "Cleaning workers (0 = one per CPU)")
          ->envname("PINPIPE_BATCH_THREADS")
          ->check(CLI::Range(0, 256))
          ->capture_default_str();
      sub.add_flag("--no-pg", f->no_pg, "Write only the lake output, not PostgreSQL")
          ->envname("PINPIPE_BATCH_NO_PG");
      sub.add_flag("--dry-run", f->dry_run,
                   "Read, clean and count only: write nothing (for measuring)")
          ->envname("PINPIPE_BATCH_DRY_RUN");
      sub.add_flag(
             "--require-sealed", o.require_sealed,
             "Fail when a day's _SUCCESS marker is missing (default: warn and load what is there)")
          ->envname("PINPIPE_BATCH_REQUIRE_SEALED");
      sub.add_flag("--keep-going", o.keep_going,
                   "After a failed day, go on with the next days (exit status 1 still)")
          ->envname("PINPIPE_BATCH_KEEP_GOING");
      sub.add_flag("--views-only", f->views_only,
                   "Only create the batch tables and the analytics views");
      sub.add_option("--transform-file", f->transform_file,
                     "Transform rules (TOML); default: the built-in transforms/pinterest.toml")
          ->envname("PINPIPE_TRANSFORM_FILE");
      AddTopicFlags(sub, {&o.topics[0], &o.topics[1], &o.topics[2]},
                    "Topic of {} records (its folder in the archive)");
      sub.add_option("--part-mib", f->part_mib, "Roll the cleaned CSV/JSONL parts at this size")
          ->envname("PINPIPE_BATCH_PART_MIB")
          ->check(CLI::Range(1, 1 << 20))
          ->capture_default_str();
      sub.add_option("--progress", f->progress,
                     "Progress line on stderr: auto (when it is a terminal), always, never")
          ->envname("PINPIPE_BATCH_PROGRESS")
          ->check(CLI::IsMember({"auto", "always", "never"}))
          ->capture_default_str();
      return CommandRunner([f] { return RunBatch(*f); });
    });

}  // namespace
}  // namespace pinpipe::app
