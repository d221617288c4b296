// Shared fixture of the batch job's integration tests: a scratch PostgreSQL database
// (PINPIPE_TEST_PG_DSN) and a local object store in a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "batch/batch_job.h"
#include "emulate/record_json.h"
#include "emulate/synthetic.h"
#include "lake/object_store.h"
#include "pg/connection.h"
#include "testing/batch_lake.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::batch {

using testing::PutSegment;
using testing::PutSuccess;

inline constexpr const char* kTopics[3] = {"pinterest", "pinterest_geo", "pinterest_user"};

inline int64_t Day(const std::string& date) { return *core::ParseDate(date); }
inline std::string Uuid(int i) { return fmt::format("00000000-0000-4000-8000-{:012d}", i); }

// A fresh directory under $TMPDIR for the local store; removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("pinpipe-batch-test-{}-{}", getpid(), n.fetch_add(1));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class BatchJobPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dsn = testing::TestPgDsn();
    if (!dsn) GTEST_SKIP() << "needs PINPIPE_TEST_PG_DSN (scripts/test)";
    db_ = std::make_unique<testing::ScratchDatabase>(*dsn);
    ASSERT_TRUE(db_->ok()) << db_->error();
    auto store = lake::OpenObjectStore("file://" + dir_.path().string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  BatchJobOptions Options(const std::string& dsn = "") const {
    BatchJobOptions o;
    o.pg_dsn = dsn.empty() ? db_->dsn() : dsn;
    o.threads = 3;
    return o;
  }

  BatchRunResult Run(
      const std::string& first, const std::string& last,
      std::shared_ptr<const transform::Transform> t = transform::Transform::Default(),
      BatchJobOptions options = {}) {
    if (options.pg_dsn == BatchJobOptions{}.pg_dsn) options = Options();
    BatchJob job(options, std::move(t), store_.get(), [](std::string_view) {});
    return job.Run(Day(first), Day(last));
  }

  int64_t Q(const std::string& sql, const std::string& dsn = "") {
    auto v = testing::QueryInt(dsn.empty() ? db_->dsn() : dsn, sql);
    EXPECT_TRUE(v.ok()) << sql << ": " << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  // Every row of `sql` as "a|b|c" (NULL as "NULL").
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> out;
    auto conn = pg::Connection::Open(db_->dsn());
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return out;
    auto r = conn->Exec(sql);
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

  // A synthetic day: `posts` distinct posts from `seed`, replayed `replays` times, over 3 hours
  // and 2 partitions per topic, sealed.
  void PutSyntheticDay(const std::string& date, int posts, int replays, uint64_t seed) {
    const emulate::SyntheticDataSet data = emulate::GenerateDataSet(posts, seed);
    std::map<std::pair<int, int>, std::array<std::vector<std::string>, 3>> objects;
    for (int n = 0; n < posts * replays; ++n) {
      const size_t row = static_cast<size_t>((n * 7919) % posts);
      auto& lines = objects[{n % 3, static_cast<int>(row % 2)}];
      lines[0].push_back(emulate::PinJson(data.pins[row]));
      lines[1].push_back(emulate::GeoJson(data.geos[row]));
      lines[2].push_back(emulate::UserJson(data.users[row]));
    }
    for (const auto& [at, lines] : objects) {
      for (size_t k = 0; k < 3; ++k) {
        ASSERT_TRUE(
            PutSegment(store_.get(), kTopics[k], date, at.first, at.second, 0, lines[k]).ok());
      }
    }
    for (const char* topic : kTopics) ASSERT_TRUE(PutSuccess(store_.get(), topic, date).ok());
  }

  // md5 over a table's rows in a fixed order: equal digests, equal contents.
  std::string Digest(const std::string& table) {
    auto rows =
        Rows(fmt::format("SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
                         "FROM batch.{} t",
                         table));
    return rows.empty() ? "" : rows[0];
  }

  TempDir dir_;
  std::unique_ptr<testing::ScratchDatabase> db_;
  std::unique_ptr<lake::ObjectStore> store_;
};

}  // namespace pinpipe::batch
