// The batch job with its lake on the real S3 server (MinIO, started by scripts/test:
// PINPIPE_TEST_S3_*), against the same archive on a local lake: the same archived objects must
// give byte-identical cleaned objects (CSV, JSONL, dead letters, quality report, markers) and
// identical tables in PostgreSQL. Covers listing, whole-object reads, streamed part writes
// (multipart uploads included), deleting on failure, and `pinpipe batch --lake s3://...`.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "batch_pg_fixture.h"
#include "lake/s3_store.h"
#include "testing/s3_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::batch {
namespace {

using testing::ReadAll;
using testing::ScratchS3Prefix;

constexpr const char* kDate = "2024-06-01";

// The S3 writer's smallest legal part, so a cleaned part of a few MiB is a multipart upload.
constexpr size_t kS3PartBytes = 5 << 20;

class BatchS3Test : public BatchJobPgTest {
 protected:
  void SetUp() override {
    BatchJobPgTest::SetUp();
    if (IsSkipped()) return;
    auto s3 = testing::TestS3FromEnv();
    if (!s3) GTEST_SKIP() << "PINPIPE_TEST_S3_ENDPOINT is not set (no S3 test server)";
    s3_ = *s3;
    lake::S3Options options = testing::TestS3Options(s3_);
    options.part_size = kS3PartBytes;
    scratch_ = std::make_unique<ScratchS3Prefix>(
        s3_, ::testing::UnitTest::GetInstance()->current_test_info()->name(), options);
    ASSERT_TRUE(scratch_->ok()) << scratch_->error();
    s3_db_ = std::make_unique<testing::ScratchDatabase>(*testing::TestPgDsn());
    ASSERT_TRUE(s3_db_->ok()) << s3_db_->error();
  }

  lake::S3Store& s3_store() { return scratch_->store(); }

  // Copies every object of the local lake to the S3 prefix, byte for byte.
  void MirrorLocalToS3() {
    auto objects = ReadAll(store_.get(), "");
    ASSERT_TRUE(objects.ok()) << objects.status().ToString();
    ASSERT_FALSE(objects->empty());
    for (const auto& [key, bytes] : *objects) {
      ASSERT_TRUE(s3_store().Put(key, bytes).ok()) << key;
    }
  }

  BatchRunResult RunOn(lake::ObjectStore* store, const std::string& dsn, PartsOptions parts) {
    BatchJobOptions o = Options(dsn);
    o.parts = parts;
    BatchJob job(o, transform::Transform::Default(), store, [](std::string_view) {});
    return job.Run(Day(kDate), Day(kDate));
  }

  // md5 over every row of `select` (a query of one row-valued column t) in a fixed order.
  static std::string Digest(const std::string& dsn, const std::string& select) {
    auto conn = pg::Connection::Open(dsn);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return "";
    auto r = conn->Exec(fmt::format(
        "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')), count(*) "
        "FROM ({}) AS q(t)",
        select));
    EXPECT_TRUE(r.ok()) << select << ": " << r.status().ToString();
    if (!r.ok()) return "";
    return fmt::format("{} ({} rows)", r->GetValue(0, 0), r->GetValue(0, 1));
  }

  // The batch tables' contents (and the quality rows without their load time) of a database.
  static std::vector<std::string> TableDigests(const std::string& dsn) {
    std::vector<std::string> out;
    for (core::RecordKind kind : core::kAllRecordKinds) {
      const std::string table = transform::Transform::Default()->table(kind).table;
      out.push_back(table + ": " + Digest(dsn, fmt::format("SELECT t FROM batch.{} t", table)));
    }
    out.push_back("quality: " +
                  Digest(dsn,
                         "SELECT (dt, kind, table_name, sealed, objects, input_bytes, records, "
                         "rows, dropped, dead, duplicates, quality) FROM batch.quality"));
    return out;
  }

  static int64_t Count(const std::string& dsn, const std::string& table) {
    auto n = testing::QueryInt(dsn, "SELECT count(*) FROM batch." + table);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  // A synthetic day plus a segment of records that are invalid or dropped, on the local lake.
  void PutDay(int posts, int replays) {
    PutSyntheticDay(kDate, posts, replays, 11);
    ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], kDate, 23, 1, 900000,
                           {"{broken", "", "[1,2]",
                            testing::PinJson(900001, Uuid(900001), "User Info Error",
                                             "User Info Error", "art")})
                    .ok());
  }

  testing::TestS3 s3_;
  TempDir logs_;  // outside the local lake
  std::unique_ptr<ScratchS3Prefix> scratch_;
  std::unique_ptr<testing::ScratchDatabase> s3_db_;
};

TEST_F(BatchS3Test, CleansAnS3LakeExactlyAsALocalOne) {
  // About 7 MiB of cleaned pins: with 6 MiB parts, pin part 0 is a multipart upload on S3 and
  // part 1 a single PutObject.
  PutDay(16000, 2);
  MirrorLocalToS3();
  PartsOptions parts;
  parts.part_bytes = 6 << 20;

  BatchRunResult local = RunOn(store_.get(), db_->dsn(), parts);
  ASSERT_TRUE(local.status.ok()) << local.status.ToString();
  BatchRunResult remote = RunOn(&s3_store(), s3_db_->dsn(), parts);
  ASSERT_TRUE(remote.status.ok()) << remote.status.ToString();

  // Same counts, and they are not trivial.
  ASSERT_EQ(local.days.size(), 1u);
  ASSERT_EQ(remote.days.size(), 1u);
  EXPECT_EQ(DayQualityJson(remote.days[0]), DayQualityJson(local.days[0]));
  const KindReport& pins = local.days[0].kinds[0];
  EXPECT_EQ(pins.records, 16000 * 2 + 4);
  EXPECT_GE(pins.dead, 3);
  EXPECT_GE(pins.dropped, 1);
  EXPECT_GT(pins.duplicates, 0);
  EXPECT_GE(pins.parts, 2);

  // Byte-identical cleaned objects, key for key.
  auto local_clean = ReadAll(store_.get(), parts.prefix);
  ASSERT_TRUE(local_clean.ok()) << local_clean.status().ToString();
  auto s3_clean = ReadAll(&s3_store(), parts.prefix);
  ASSERT_TRUE(s3_clean.ok()) << s3_clean.status().ToString();
  ASSERT_EQ(s3_clean->size(), local_clean->size());
  for (const auto& [key, bytes] : *local_clean) {
    auto it = s3_clean->find(key);
    ASSERT_NE(it, s3_clean->end()) << key << " is missing on S3";
    EXPECT_TRUE(it->second == bytes)
        << key << ": " << it->second.size() << " bytes on S3, " << bytes.size() << " locally";
  }
  for (const std::string& table :
       {std::string("experimental_data"), std::string("geolocation_data_clean")}) {
    for (const char* name : {"part-00000.csv", "part-00000.jsonl", "_SUCCESS"}) {
      const std::string key = fmt::format("{}{}/dt={}/{}", parts.prefix, table, kDate, name);
      EXPECT_TRUE(s3_clean->contains(key)) << key;
    }
  }
  EXPECT_TRUE(s3_clean->contains(fmt::format("{}_rejected/dt={}/pin.jsonl", parts.prefix, kDate)));
  EXPECT_TRUE(s3_clean->contains(fmt::format("{}_quality/dt={}.json", parts.prefix, kDate)));

  // At least one part went up as a multipart upload (its ETag is "<md5>-<parts>").
  int multipart = 0;
  for (const auto& [key, bytes] : *s3_clean) {
    if (bytes.size() <= kS3PartBytes) continue;
    auto head = s3_store().Head(key);
    ASSERT_TRUE(head.ok() && head->has_value()) << key;
    if ((*head)->etag.find('-') != std::string::npos) ++multipart;
  }
  EXPECT_GT(multipart, 0);

  // Identical tables, and not empty.
  EXPECT_EQ(TableDigests(s3_db_->dsn()), TableDigests(db_->dsn()));
  EXPECT_EQ(Count(s3_db_->dsn(), "experimental_data"), pins.rows);
  EXPECT_EQ(Count(s3_db_->dsn(), "geolocation_data_clean"), 16000);

  // A corrupt object on S3 fails the day: PostgreSQL keeps the previous load and the day's
  // cleaned parts are deleted from S3 (no _SUCCESS, no parts).
  const std::vector<std::string> before = TableDigests(s3_db_->dsn());
  const std::string bad = testing::SegmentKey(kTopics[2], kDate, 22, 0, 777);
  ASSERT_TRUE(s3_store().Put(bad, "definitely not zstd").ok());
  BatchRunResult failed = RunOn(&s3_store(), s3_db_->dsn(), parts);
  EXPECT_THAT(failed.status, StatusIs(StatusCode::kDataLoss)) << failed.status.ToString();
  EXPECT_NE(failed.status.message().find(bad), std::string::npos) << failed.status.ToString();
  EXPECT_EQ(TableDigests(s3_db_->dsn()), before);
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const std::string day_prefix = fmt::format(
        "{}{}/dt={}/", parts.prefix, transform::Transform::Default()->table(kind).table, kDate);
    auto left = s3_store().List(day_prefix);
    ASSERT_TRUE(left.ok()) << left.status().ToString();
    EXPECT_TRUE(left->empty()) << day_prefix << " still holds " << left->size() << " object(s)";
  }
}

TEST_F(BatchS3Test, CliRunsOnAnS3LakeUrl) {
  const char* bin = std::getenv("PINPIPE_TEST_PINPIPE_BIN");
  if (bin == nullptr || *bin == '\0') GTEST_SKIP() << "needs PINPIPE_TEST_PINPIPE_BIN";
  PutDay(300, 3);
  MirrorLocalToS3();
  // The child inherits the credentials (the store reads the standard AWS variables).
  setenv("AWS_ACCESS_KEY_ID", s3_.access_key.c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", s3_.secret_key.c_str(), 1);

  auto run = [&](const std::vector<std::string>& lake_args, const std::string& dsn,
                 const std::string& name, std::string* output) {
    const std::string log = (logs_.path() / ("cli-" + name + ".log")).string();
    std::vector<std::string> argv = {bin, "batch",      "--date", kDate,       "--pg-dsn",
                                     dsn, "--progress", "never",  "--threads", "2"};
    argv.insert(argv.end(), lake_args.begin(), lake_args.end());
    testing::ChildProcess child;
    EXPECT_TRUE(child.Start(argv, log).ok());
    const int code = child.Wait(std::chrono::seconds(120));
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    *output = text.str();
    return code;
  };
  const std::string url = scratch_->url();
  std::string local_out, s3_out;
  ASSERT_EQ(run({"--lake", "file://" + dir_.path().string()}, db_->dsn(), "local", &local_out), 0)
      << local_out;
  ASSERT_EQ(run({"--lake", url, "--s3-endpoint", s3_.endpoint, "--s3-addressing", "path"},
                s3_db_->dsn(), "s3", &s3_out),
            0)
      << s3_out;
  EXPECT_NE(s3_out.find("summary: days=1 failed=0 records=" + std::to_string(3 * 300 * 3 + 4)),
            std::string::npos)
      << s3_out;
  EXPECT_NE(s3_out.find("lake=" + url), std::string::npos) << s3_out;

  auto local_clean = ReadAll(store_.get(), "clean/");
  auto s3_clean = ReadAll(&s3_store(), "clean/");
  ASSERT_TRUE(local_clean.ok() && s3_clean.ok());
  EXPECT_FALSE(s3_clean->empty());
  EXPECT_TRUE(*s3_clean == *local_clean);
  EXPECT_EQ(TableDigests(s3_db_->dsn()), TableDigests(db_->dsn()));
  EXPECT_EQ(Count(s3_db_->dsn(), "user_data_clean"), 300);
}

}  // namespace
}  // namespace pinpipe::batch
