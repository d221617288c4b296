// Differential test of `pinpipe export-spark`: the PySpark job generated from the transform reads
// a 3-day lake (realistic synthetic posts replayed with duplicates, every case of
// tests/data/transform: NBSP, emoji, backslashes, k/M/decimal follower counts, placeholders,
// invalid records, plus broken lines) and its rows equal `pinpipe batch`'s rows (the BatchJob,
// loaded into PostgreSQL) for every day and table, field by field (compared in PostgreSQL, as
// the column types read them), and its dead letters equal the batch job's line for line. JSON
// syntax errors are worded by each parser in its own way (simdjson's messages vs Python's), so
// for `json_invalid` dead letters only the message after "JSON decode error: " may differ; every
// schema error's message must be the same.
//
// Spark runs local[*] in the venv of scripts/setup (PySpark from PyPI, zstandard): all 3 days in
// one Spark session. The lake is the archiver's default zstd objects, except in the test without
// dedup_key, whose lake is gzip (`pinpipe archive --codec gzip`). Also on S3: the same lake in
// MinIO, read through s3a with the hadoop-aws jars that scripts/setup fetches from Maven Central
// (PINPIPE_TEST_SPARK_JARS).
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "archive/archive_codec.h"
#include "batch_pg_fixture.h"
#include "pg/copy_in.h"
#include "testing/s3_env.h"
#include "transform/spark_export.h"

namespace pinpipe::batch {
namespace {

using core::RecordKind;
namespace fs = std::filesystem;

const char* const kDays[] = {"2024-04-01", "2024-04-02", "2024-04-03"};

// The Python with PySpark (and zstandard), or why there is none.
struct SparkPython {
  std::string python;
  std::string missing;
};

std::string RunCapture(const std::string& command, int* status) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

SparkPython FindSparkPython() {
  SparkPython s;
  const char* configured = std::getenv("PINPIPE_TEST_SPARK_PYTHON");
  s.python = configured != nullptr && *configured != '\0'
                 ? configured
                 : std::string(PINPIPE_SOURCE_DIR) + "/.pinpipe/venv/bin/python";
  int status = 0;
  const std::string out =
      RunCapture(s.python + " -c 'import pyspark, zstandard' && java -version", &status);
  if (status != 0) {
    s.missing = "needs PySpark and zstandard in " + s.python +
                " (scripts/setup) and a Java runtime: " + out;
  }
  return s;
}

// The s3a jars (scripts/setup --spark), comma-separated for the job's --jars; "" when missing.
std::string SparkJars() {
  const char* configured = std::getenv("PINPIPE_TEST_SPARK_JARS");
  const fs::path dir = configured != nullptr && *configured != '\0'
                           ? fs::path(configured)
                           : fs::path(PINPIPE_SOURCE_DIR) / ".pinpipe/opt/spark-jars";
  std::string jars;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".jar") continue;
    if (!jars.empty()) jars += ",";
    jars += e.path().string();
  }
  return jars.find("hadoop-aws-") != std::string::npos ? jars : "";
}

// Lines of every part file under `dir` (Spark's output of one table and day), sorted.
std::vector<std::string> ReadParts(const fs::path& dir) {
  std::vector<std::string> lines;
  if (!fs::exists(dir)) return lines;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("part-")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// A dead letter with the parser-specific wording of a JSON syntax error left out.
std::string Normalized(const std::string& dead_letter, int* json_invalid) {
  const std::string from = "\"reason\":\"body: JSON decode error: ";
  const std::string to = " (json_invalid)\"";
  const size_t a = dead_letter.find(from);
  if (a == std::string::npos) return dead_letter;
  const size_t b = dead_letter.find(to, a);
  if (b == std::string::npos) return dead_letter;
  ++*json_invalid;
  return dead_letter.substr(0, a + from.size()) + "..." + dead_letter.substr(b);
}

class BatchSparkTest : public BatchJobPgTest {
 protected:
  void SetUp() override {
    BatchJobPgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    spark_ = FindSparkPython();
    if (!spark_.missing.empty()) GTEST_SKIP() << spark_.missing;
  }

  // One day's records of each kind (testing::TrickyDayRecords), another synthetic seed per day.
  std::array<std::vector<std::string>, 3> DayRecords(int day_index) {
    return testing::TrickyDayRecords(500, 1200, static_cast<uint64_t>(4242 + day_index));
  }

  // Puts the 3 days (sealed) into `store`, objects compressed with `codec` (as
  // `pinpipe archive --codec`).
  void PutLake(lake::ObjectStore* store,
               archive::ArchiveCodec codec = archive::ArchiveCodec::kZstd) {
    for (int d = 0; d < 3; ++d) {
      const std::array<std::vector<std::string>, 3> values = DayRecords(d);
      for (size_t k = 0; k < 3; ++k) {
        std::map<std::pair<int, int>, std::vector<std::string>> groups;
        std::map<std::pair<int, int>, int64_t> first;
        std::map<int, int64_t> next;
        for (size_t i = 0; i < values[k].size(); ++i) {
          const int partition = static_cast<int>(i % 3);
          const int hour = static_cast<int>((i / 97) % 5);
          if (!first.count({hour, partition})) first[{hour, partition}] = next[partition];
          ++next[partition];
          groups[{hour, partition}].push_back(values[k][i]);
        }
        for (const auto& [at, lines] : groups) {
          if (codec == archive::ArchiveCodec::kZstd) {
            auto key =
                PutSegment(store, kTopics[k], kDays[d], at.first, at.second, first[at], lines);
            ASSERT_TRUE(key.ok()) << key.status().ToString();
            continue;
          }
          std::string text;
          for (const std::string& l : lines) text += l + "\n";
          auto gzip = archive::MakeFrameCompressor(codec, 6);
          ASSERT_TRUE(gzip.ok());
          std::string bytes;
          ASSERT_TRUE((*gzip)->CompressFrame(text, &bytes).ok());
          ASSERT_TRUE(store
                          ->Put(archive::SegmentObjectKey(kTopics[k], Day(kDays[d]) * 24 + at.first,
                                                          kafka::Partition{at.second},
                                                          kafka::Offset{first[at]}, codec),
                                bytes)
                          .ok());
        }
        ASSERT_TRUE(PutSuccess(store, kTopics[k], kDays[d]).ok());
      }
    }
  }

  // Writes the job generated from `t` and runs it on `lake`; returns Spark's output directory.
  // `env`: variables for the job ("NAME='value' ...").
  fs::path RunSpark(const transform::Transform& t, const std::string& lake,
                    const std::string& extra_args, const std::string& env = "") {
    auto job = transform::ExportSparkJob(t, {});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    const fs::path script = dir_.path() / "pinpipe_spark_job.py";
    std::ofstream(script, std::ios::binary) << *job;
    const fs::path out = dir_.path() / "spark_out";
    int status = 0;
    const auto started = std::chrono::steady_clock::now();
    const std::string log =
        RunCapture(fmt::format("{} timeout 600 {} {} --lake '{}' --from {} --to {} --out '{}' {}",
                               env, spark_.python, script.string(), lake, kDays[0], kDays[2],
                               out.string(), extra_args),
                   &status);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(status, 0) << log;
    std::cout << "spark job: " << fmt::format("{:.1f}", seconds) << " s\n" << log;
    return out;
  }

  // Spark's rows and dead letters vs the batch job's, every day and table.
  void CompareWithBatch(const std::shared_ptr<const transform::Transform>& t, const fs::path& out) {
    auto conn = pg::Connection::Open(db_->dsn());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    int json_invalid = 0;
    int64_t rows_compared = 0;
    for (const char* date : kDays) {
      for (RecordKind kind : core::kAllRecordKinds) {
        const transform::TableDef& def = t->table(kind);
        std::string cols;
        for (const transform::ColumnDef& c : def.columns) {
          if (!cols.empty()) cols += ", ";
          cols += pg::QuoteIdentifier(c.name);
        }
        const std::string scratch = fmt::format("spark_{}", def.table);
        ASSERT_TRUE(conn->Exec(fmt::format("DROP TABLE IF EXISTS {0}; CREATE TABLE {0} AS SELECT "
                                           "{1} FROM batch.{2} WITH NO DATA",
                                           scratch, cols, def.table))
                        .ok());
        std::string copy_text;
        for (const std::string& line :
             ReadParts(out / ("table=" + def.table) / (std::string("dt=") + date))) {
          copy_text += line + "\n";
        }
        auto copy = pg::CopyIn::Start(*conn, fmt::format("COPY {} FROM STDIN", scratch));
        ASSERT_TRUE(copy.ok()) << copy.status().ToString();
        ASSERT_TRUE(copy->SendLines(copy_text).ok());
        auto stored = copy->Finish();
        ASSERT_TRUE(stored.ok()) << stored.status().ToString();

        const std::string batch_rows =
            fmt::format("SELECT {} FROM batch.{} WHERE dt = '{}'", cols, def.table, date);
        const std::string spark_rows = fmt::format("SELECT {} FROM {}", cols, scratch);
        const int64_t n = Q(fmt::format("SELECT count(*) FROM ({}) b", batch_rows));
        EXPECT_GT(n, 100) << def.table << " " << date;
        EXPECT_EQ(*stored, n) << def.table << " " << date << ": row counts";
        EXPECT_EQ(
            Q(fmt::format("SELECT count(*) FROM ({} EXCEPT ALL {}) d", spark_rows, batch_rows)), 0)
            << def.table << " " << date << ": rows only Spark has";
        EXPECT_EQ(
            Q(fmt::format("SELECT count(*) FROM ({} EXCEPT ALL {}) d", batch_rows, spark_rows)), 0)
            << def.table << " " << date << ": rows only the batch job has";
        rows_compared += n;

        // Dead letters: the batch job's clean/_rejected/dt=D/<kind>.jsonl vs Spark's.
        auto rejected = store_->Get(
            fmt::format("clean/_rejected/dt={}/{}.jsonl", date, core::RecordKindName(kind)));
        ASSERT_TRUE(rejected.ok()) << rejected.status().ToString();
        std::vector<std::string> batch_dead = SplitLines(*rejected);
        std::vector<std::string> spark_dead =
            ReadParts(out / fmt::format("table=_rejected_{}", core::RecordKindName(kind)) /
                      (std::string("dt=") + date));
        EXPECT_GT(batch_dead.size(), 5u);
        ASSERT_EQ(spark_dead.size(), batch_dead.size()) << def.table << " " << date;
        std::multiset<std::string> a;
        std::multiset<std::string> b;
        for (const std::string& l : batch_dead) a.insert(Normalized(l, &json_invalid));
        int ignored = 0;
        for (const std::string& l : spark_dead) b.insert(Normalized(l, &ignored));
        for (const std::string& l : a) {
          EXPECT_EQ(b.count(l), a.count(l)) << "batch dead letter not matched by Spark: " << l;
        }
        for (const std::string& l : b) {
          EXPECT_EQ(a.count(l), b.count(l)) << "Spark dead letter not matched by batch: " << l;
        }
      }
    }
    std::cout << "compared " << rows_compared << " rows; " << json_invalid
              << " json_invalid dead letters compared without the parser's wording\n";
  }

  SparkPython spark_;
};

TEST_F(BatchSparkTest, GeneratedSparkJobMatchesTheBatchJobOnEveryDay) {
  PutLake(store_.get());
  if (HasFatalFailure()) return;
  const auto t = transform::Transform::Default();
  BatchRunResult r = Run(kDays[0], kDays[2], t);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.days.size(), 3u);
  CompareWithBatch(t, RunSpark(*t, "file://" + dir_.path().string(), ""));
}

// Without dedup_key every record's row is kept, so each data case's row is compared (with the
// default transform a case may lose to a synthetic post of the same key). The lake's objects
// are gzip here (`pinpipe archive --codec gzip`): both jobs read them by their extension.
TEST_F(BatchSparkTest, GeneratedSparkJobMatchesTheBatchJobForEveryRecordWithoutDedup) {
  auto t = testing::DefaultTransformWithoutDedup();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_FALSE((*t)->table(RecordKind::kPin).dedup_column.has_value());
  PutLake(store_.get(), archive::ArchiveCodec::kGzip);
  if (HasFatalFailure()) return;
  BatchRunResult r = Run(kDays[0], kDays[2], *t);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  CompareWithBatch(*t, RunSpark(**t, "file://" + dir_.path().string(), ""));
}

// The same lake in MinIO, read by Spark through s3a; the batch job's result on the local copy
// (the same objects under the same keys) is the reference.
TEST_F(BatchSparkTest, GeneratedSparkJobReadsTheLakeFromS3ThroughS3a) {
  const std::optional<testing::TestS3> s3 = testing::TestS3FromEnv();
  if (!s3) GTEST_SKIP() << "needs PINPIPE_TEST_S3_ENDPOINT (scripts/test)";
  const std::string jars = SparkJars();
  if (jars.empty()) {
    GTEST_SKIP() << "needs the s3a jars (hadoop-aws, aws-java-sdk-bundle): scripts/setup --spark "
                    "puts them into .pinpipe/opt/spark-jars (PINPIPE_TEST_SPARK_JARS)";
  }
  testing::ScratchS3Prefix prefix(*s3, "spark-lake");
  ASSERT_TRUE(prefix.ok()) << prefix.error();
  PutLake(store_.get());
  PutLake(&prefix.store());
  if (HasFatalFailure()) return;
  const auto t = transform::Transform::Default();
  BatchRunResult r = Run(kDays[0], kDays[2], t);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const std::string lake = fmt::format("s3a://{}/{}", s3->bucket, prefix.prefix());
  CompareWithBatch(
      t, RunSpark(*t, lake, fmt::format("--s3-endpoint {} --jars '{}'", s3->endpoint, jars),
                  fmt::format("AWS_ACCESS_KEY_ID='{}' AWS_SECRET_ACCESS_KEY='{}'", s3->access_key,
                              s3->secret_key)));
}

}  // namespace
}  // namespace pinpipe::batch
