// Seeding into a scratch PostgreSQL database, then the emulator against an in-process HTTP
// server (pinpipe_http's Server) that records what it receives.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <mutex>
#include <sstream>

#include "emulate/emulator.h"
#include "emulate/seeder.h"
#include "emulate/source_posts.h"
#include "http/server.h"
#include "pg/connection.h"
#include "testing/pg_env.h"

namespace pinpipe::emulate {
namespace {

constexpr int32_t kRows = 2000;

// Answers every single-record POST with 200, and every batch with per-item results where every
// 10th item is rejected with 422; keeps the path and body of each request.
class RecordingServer {
 public:
  RecordingServer() {
    http::ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<http::Server>(
        options, [this](const http::Request& request, http::Responder respond) {
          http::Response response;
          {
            std::lock_guard lock(mutex_);
            requests_.emplace_back(std::string(request.path), std::string(request.body));
            auth_ = std::string(request.Header("Authorization"));
          }
          if (request.path.rfind("/batch/", 0) == 0) {
            std::string body = "{\"results\":[";
            size_t items = 0;
            for (char c : request.body) items += c == '\n' ? 1 : 0;
            for (size_t i = 0; i < items; ++i) {
              if (i > 0) body += ',';
              body += "{\"index\":" + std::to_string(i) +
                      ",\"status\":" + (i % 10 == 9 ? "422" : "200") + "}";
            }
            response.body = body + "]}";
          } else {
            response.body = "{}";
          }
          respond(std::move(response));
        });
  }
  Status Start() { return server_->Start(); }
  http::HttpUrl url() const { return http::HttpUrl{"127.0.0.1", server_->port(), ""}; }
  std::vector<std::pair<std::string, std::string>> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::string auth() {
    std::lock_guard lock(mutex_);
    return auth_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> requests_;  // guarded by mutex_
  std::string auth_;                                           // guarded by mutex_
  std::unique_ptr<http::Server> server_;
};

class SeedEmulateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dsn = pinpipe::testing::TestPgDsn();
    if (!dsn) GTEST_SKIP() << "PINPIPE_TEST_PG_DSN is not set; start PostgreSQL via scripts/test";
    admin_dsn_ = *dsn;
    db_ = std::make_unique<pinpipe::testing::ScratchDatabase>(*dsn);
    ASSERT_TRUE(db_->ok()) << db_->error();
  }
  std::string admin_dsn_;
  std::unique_ptr<pinpipe::testing::ScratchDatabase> db_;
};

double Scalar(pg::Connection& conn, const std::string& sql) {
  auto result = conn.Exec(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::stod(std::string(result->GetValue(0, 0))) : -1;
}

void ExpectFields(const std::string& path, const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_EQ(parser.parse(json).get_object().get(object), simdjson::SUCCESS) << json;
  std::vector<std::string> keys;
  for (auto field : object) keys.emplace_back(field.key);
  if (path.find("pin") != std::string::npos) {
    EXPECT_EQ(keys,
              (std::vector<std::string>{"index", "unique_id", "title", "description", "poster_name",
                                        "follower_count", "tag_list", "is_image_or_video",
                                        "image_src", "downloaded", "save_location", "category"}));
  } else if (path.find("geo") != std::string::npos) {
    EXPECT_EQ(keys,
              (std::vector<std::string>{"ind", "timestamp", "latitude", "longitude", "country"}));
  } else {
    EXPECT_EQ(keys,
              (std::vector<std::string>{"ind", "first_name", "last_name", "age", "date_joined"}));
  }
}

TEST_F(SeedEmulateTest, SeedsIdempotentlyAndEmulatorSendsWellFormedRecords) {
  // A database that does not exist yet: the seeder creates it.
  auto dsn = pg::ConninfoWith(db_->dsn(), "dbname", db_->name() + "_src");
  ASSERT_TRUE(dsn.ok());
  SeedOptions options{*dsn, kRows, 42, false};
  auto first = SeedSourceTables(options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created_database);
  EXPECT_TRUE(first->loaded);
  EXPECT_EQ(first->pin_rows, kRows);
  EXPECT_EQ(first->geo_rows, kRows);
  EXPECT_EQ(first->user_rows, kRows);

  auto again = SeedSourceTables(options);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created_database);
  EXPECT_FALSE(again->loaded);
  options.reset = true;
  auto reset = SeedSourceTables(options);
  ASSERT_TRUE(reset.ok());
  EXPECT_TRUE(reset->loaded);

  {
    auto conn = pg::Connection::Open(*dsn);
    ASSERT_TRUE(conn.ok());
    EXPECT_EQ(Scalar(*conn, "SELECT count(*) FROM pinterest_data"), kRows);
    EXPECT_EQ(Scalar(*conn, "SELECT count(*) FROM geolocation_data g JOIN user_data u USING (ind)"),
              kRows);
    EXPECT_EQ(Scalar(*conn,
                     "SELECT count(*) FROM pinterest_data WHERE (downloaded = 0) <> "
                     "(image_src = 'Image src error.')"),
              0);
    EXPECT_NEAR(
        Scalar(*conn, "SELECT avg((description LIKE '%…' || chr(160))::int) FROM pinterest_data"),
        0.36, 0.04);
    EXPECT_NEAR(Scalar(*conn, "SELECT avg((follower_count LIKE '%k')::int) FROM pinterest_data"),
                0.74, 0.04);
    EXPECT_EQ(Scalar(*conn, "SELECT count(DISTINCT category) FROM pinterest_data"), 13);
    EXPECT_EQ(Scalar(*conn,
                     "SELECT count(*) FROM geolocation_data WHERE \"timestamp\" < "
                     "'2017-01-01' OR \"timestamp\" >= '2023-01-01'"),
              0);

    // What the emulator loads is byte-identical to the generated data set.
    auto posts = LoadSourcePosts(*conn);
    ASSERT_TRUE(posts.ok()) << posts.status().ToString();
    const auto expected = PostsFromDataSet(GenerateDataSet(kRows, 42));
    ASSERT_EQ(posts->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ((*posts)[i].pin_json, expected[i].pin_json);
      ASSERT_EQ((*posts)[i].geo_json, expected[i].geo_json);
      ASSERT_EQ((*posts)[i].user_json, expected[i].user_json);
    }

    RecordingServer server;
    ASSERT_TRUE(server.Start().ok());
    std::stop_source stop;
    std::ostringstream progress;

    // Load mode, one record per request.
    LoadOptions load;
    load.api = server.url();
    load.count = 300;
    load.concurrency = 4;
    load.bearer_token = "s3cret";
    LoadSummary summary = RunLoad(*posts, load, stop.get_token(), progress);
    EXPECT_EQ(summary.sent, 300);
    EXPECT_EQ(summary.accepted, 300) << FormatSummary(summary);
    EXPECT_EQ(summary.failed, 0);
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 300u);
    std::map<std::string, int> per_path;
    for (const auto& [path, body] : requests) {
      ++per_path[path];
      ExpectFields(path, body);
    }
    EXPECT_EQ(per_path["/pin/"], 100);
    EXPECT_EQ(per_path["/geo/"], 100);
    EXPECT_EQ(per_path["/user/"], 100);
    EXPECT_EQ(server.auth(), "Bearer s3cret");

    // Load mode with NDJSON batches: 300 records in batches of 50, every 10th item rejected.
    load.bulk_size = 50;
    summary = RunLoad(*posts, load, stop.get_token(), progress);
    EXPECT_EQ(summary.sent, 300);
    EXPECT_EQ(summary.requests, 6);
    EXPECT_EQ(summary.accepted, 270) << FormatSummary(summary);
    EXPECT_EQ(summary.rejected, 30);
    requests = server.requests();
    ASSERT_EQ(requests.size(), 306u);
    for (size_t i = 300; i < requests.size(); ++i) {
      const auto& [path, body] = requests[i];
      EXPECT_EQ(path.rfind("/batch/", 0), 0u) << path;
      std::istringstream lines(body);
      std::string line;
      int count = 0;
      while (std::getline(lines, line)) {
        ExpectFields(path, line);
        ++count;
      }
      EXPECT_EQ(count, 50);
    }

    // Replay mode: pin, geo and user of each post, in that order.
    ReplayOptions replay;
    replay.api = server.url();
    replay.count = 3;
    replay.max_sleep_ms = 0;
    std::ostringstream printed;
    ReplayStats stats = RunReplay(*posts, replay, stop.get_token(), printed);
    EXPECT_EQ(stats.posts, 3);
    EXPECT_EQ(stats.records_ok, 9);
    requests = server.requests();
    ASSERT_EQ(requests.size(), 315u);
    EXPECT_EQ(requests[306].first, "/pin/");
    EXPECT_EQ(requests[307].first, "/geo/");
    EXPECT_EQ(requests[308].first, "/user/");
    EXPECT_NE(printed.str().find("pin "), std::string::npos);
  }

  auto admin = pg::Connection::Open(admin_dsn_);
  ASSERT_TRUE(admin.ok());
  admin
      ->Run("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(db_->name() + "_src") +
            " WITH (FORCE)")
      .IgnoreError();
}

TEST(EmulatorTest, LoadModeCountsTransportFailures) {
  // Nothing listens on this port: every record fails, and RunLoad still returns.
  const auto posts = PostsFromDataSet(GenerateDataSet(10, 1));
  LoadOptions load;
  load.api = http::HttpUrl{"127.0.0.1", 1, ""};
  load.duration_s = 0.5;
  load.concurrency = 2;
  std::stop_source stop;
  std::ostringstream progress;
  LoadSummary summary = RunLoad(posts, load, stop.get_token(), progress);
  EXPECT_EQ(summary.accepted, 0);
  EXPECT_NE(summary.first_error.find("connect"), std::string::npos) << summary.first_error;
}

}  // namespace
}  // namespace pinpipe::emulate
