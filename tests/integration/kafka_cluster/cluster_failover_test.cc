// pinpipe on a 3-broker Kafka cluster (scripts/services with PINPIPE_KAFKA_NODES=3: three KRaft
// broker+controller processes on this machine, topics with replication factor 3 and
// min.insync.replicas=2) with two of each worker: two `pinpipe serve` processes take 100,000
// records in batches from four clients, two `pinpipe stream` processes in one group write them
// to PostgreSQL, two `pinpipe archive` processes in one group to the lake. A third into the run
// the broker that leads the most partitions is killed with SIGKILL, and started again later.
//
// Checked at the end: every record an API acknowledged (200) is in PostgreSQL exactly once and
// in the lake exactly once; no record is there twice; the archiver's ledger tiles every
// partition; 503s (records not acknowledged) come only while the cluster elects new leaders,
// i.e. between the kill and shortly after; the figures (503s, their span) are printed.
//
// Needs PINPIPE_TEST_PG_DSN, PINPIPE_TEST_PINPIPE_BIN and PINPIPE_TEST_KAFKA_LIBS (scripts/test
// sets them) and java.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "kafka/admin.h"
#include "lake/local_store.h"
#include "pg/connection.h"
#include "testing/archive_env.h"
#include "testing/ingest_env.h"
#include "testing/kafka_env.h"
#include "testing/kafka_services.h"
#include "testing/local_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kRecords = 100000;
constexpr int kBatch = 200;
constexpr int kBatches = kRecords / kBatch;
constexpr int kClients = 4;
constexpr int kNodes = 3;

struct Outcome {
  std::vector<char> acknowledged = std::vector<char>(kRecords, 0);
  int not_acknowledged = 0;
  std::vector<double> refused_at;  // seconds since the start, per batch with a record not taken
};

class ClusterFailoverTest : public OwnKafkaTest {
 protected:
  void SetUp() override {
    StartOwnKafka("cluster", {.nodes = kNodes, .sasl_ssl = false});
    if (IsSkipped() || HasFatalFailure()) return;
    topics_ = {name_ + "-pin", name_ + "-geo", name_ + "-user"};
    std::vector<kafka::TopicSpec> specs;
    for (const std::string& t : topics_) {
      specs.push_back({.name = t, .partitions = 3, .replication_factor = kNodes, .configs = {}});
    }
    Status created = kafka::EnsureTopics(brokers_, specs, seconds(60));
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  std::vector<std::string> TopicArgs() const {
    return {"--topic-pin", topics_[0], "--topic-geo", topics_[1], "--topic-user", topics_[2]};
  }

  // The broker leading the most partitions of the test's topics.
  int32_t BusiestLeader() {
    auto cluster = kafka::Describe(brokers_, seconds(10));
    EXPECT_TRUE(cluster.ok()) << cluster.status().ToString();
    if (!cluster.ok()) return -1;
    std::map<int32_t, int> led;
    for (const kafka::TopicInfo& t : cluster->topics) {
      if (std::find(topics_.begin(), topics_.end(), t.name) == topics_.end()) continue;
      for (int32_t leader : t.leaders) ++led[leader];
    }
    int32_t best = -1;
    for (const auto& [id, n] : led) {
      if (id >= 1 && (best < 0 || n > led[best])) best = id;
    }
    return best;
  }

  std::array<std::string, 3> topics_;
};

// Posts batch `b` to `client`; marks what was acknowledged. False when a record was not.
bool PostBatch(http::Client& client, int b, Outcome* out, std::mutex* mu) {
  std::string body;
  for (int i = b * kBatch; i < (b + 1) * kBatch; ++i) body += PinRecord(i) + "\n";
  auto r = client.Post("/batch/pin", body, "application/x-ndjson");
  if (!r.ok()) client.Close();
  std::vector<int> taken;
  if (r.ok() && r->status == 200) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r->body).get(doc) == simdjson::SUCCESS) {
      simdjson::dom::array results;
      if (doc["results"].get(results) == simdjson::SUCCESS) {
        for (simdjson::dom::element item : results) {
          int64_t position = -1, status = 0;
          if (item["position"].get(position) == simdjson::SUCCESS &&
              item["status"].get(status) == simdjson::SUCCESS && status == 200) {
            taken.push_back(b * kBatch + static_cast<int>(position));
          }
        }
      }
    }
  }
  std::lock_guard lock(*mu);
  for (int i : taken) out->acknowledged[static_cast<size_t>(i)] = 1;
  out->not_acknowledged += kBatch - static_cast<int>(taken.size());
  return static_cast<int>(taken.size()) == kBatch;
}

TEST_F(ClusterFailoverTest, TwoOfEachWorkerLoseAndDuplicateNothingWhenTheBusiestBrokerIsKilled) {
  std::array<std::unique_ptr<ServeProcess>, 2> apis;
  for (int a = 0; a < 2; ++a) {
    auto serve =
        ServeProcess::StartOn(brokers_, topics_, fmt::format("{}/serve-{}.log", dir_, a), {});
    ASSERT_TRUE(serve.ok()) << serve.status().ToString();
    apis[static_cast<size_t>(a)] = std::move(*serve);
  }
  std::array<ChildProcess, 2> streams, archives;
  const std::string lake = dir_ + "/lake";
  for (int w = 0; w < 2; ++w) {
    std::vector<std::string> s = {
        bin_,      "stream",          "--kafka-brokers",      brokers_, "--pg-dsn", db_->dsn(),
        "--group", name_ + "-stream", "--session-timeout-ms", "6000"};
    std::vector<std::string> a = {bin_,
                                  "archive",
                                  "--kafka-brokers",
                                  brokers_,
                                  "--group",
                                  name_ + "-archive",
                                  "--lake",
                                  lake,
                                  "--rotate-idle",
                                  "300ms",
                                  "--session-timeout-ms",
                                  "6000"};
    for (const std::string& t : TopicArgs()) {
      s.push_back(t);
      a.push_back(t);
    }
    ASSERT_TRUE(
        streams[static_cast<size_t>(w)].Start(s, fmt::format("{}/stream-{}.log", dir_, w)).ok());
    ASSERT_TRUE(
        archives[static_cast<size_t>(w)].Start(a, fmt::format("{}/archive-{}.log", dir_, w)).ok());
  }

  // Four clients, two per API, each batch posted once (a client that gets a 503 does not send
  // it again: a record is either acknowledged or counted as not), paced so that the run takes
  // about half a minute.
  Outcome outcome;
  std::mutex mu;
  std::atomic<int> next{0};
  const Clock::time_point t0 = Clock::now();
  auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      http::Client client = apis[static_cast<size_t>(c % 2)]->NewClient();
      for (int b = next++; b < kBatches; b = next++) {
        if (!PostBatch(client, b, &outcome, &mu)) {
          std::lock_guard lock(mu);
          outcome.refused_at.push_back(since());
        }
        std::this_thread::sleep_for(milliseconds(200));
      }
    });
  }
  // The kill, a third into the run, and the restart 20 s later.
  while (next.load() < kBatches / 3) std::this_thread::sleep_for(milliseconds(20));
  const int32_t victim = BusiestLeader();
  ASSERT_GE(victim, 1);
  const CommandResult killed = kafka_->Run(fmt::format("kill {}", victim));
  const double killed_at = since();
  ASSERT_EQ(killed.exit_code, 0) << killed.output;
  std::this_thread::sleep_for(seconds(20));
  const CommandResult restarted = kafka_->Run(fmt::format("start {}", victim));
  const double restarted_at = since();
  EXPECT_EQ(restarted.exit_code, 0) << restarted.output;
  for (auto& t : clients) t.join();
  const double posted_at = since();

  // Both layers drain everything Kafka holds.
  const std::vector<std::string> topics(topics_.begin(), topics_.end());
  auto high = [&] { return HighWatermarkSum(brokers_, topics); };
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = high();
        auto stored = QueryInt(db_->dsn(),
                               "SELECT coalesce(sum(next_offset), 0) FROM "
                               "pinpipe_stream_offsets");
        return h.ok() && stored.ok() && *stored == *h;
      },
      seconds(180)))
      << ReadWholeFile(dir_ + "/stream-0.log") << ReadWholeFile(dir_ + "/stream-1.log");
  auto store = lake::LocalStore::Open(lake);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string behind;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto done = ArchiveCaughtUp(store->get(), brokers_, name_ + "-archive", topics, &behind);
        return done.ok() && *done;
      },
      seconds(180)))
      << behind << ReadWholeFile(dir_ + "/archive-0.log") << ReadWholeFile(dir_ + "/archive-1.log");
  for (auto* group : {&streams, &archives}) {
    for (ChildProcess& p : *group) p.Signal(SIGTERM);
    for (ChildProcess& p : *group) EXPECT_EQ(p.Wait(seconds(60)), 0);
  }

  int acknowledged = 0;
  for (char a : outcome.acknowledged) acknowledged += a;
  EXPECT_EQ(acknowledged + outcome.not_acknowledged, kRecords);

  // PostgreSQL: every acknowledged record once, none twice.
  std::map<std::string, int> in_pg;
  {
    auto conn = pg::Connection::Open(db_->dsn());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto r = conn->Exec("SELECT unique_id::text, count(*) FROM experimental_data GROUP BY 1");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (int i = 0; i < r->rows(); ++i) {
      in_pg[std::string(r->GetValue(i, 0))] = std::stoi(std::string(r->GetValue(i, 1)));
    }
  }
  // The lake: the same, and the ledger tiles every partition.
  auto lines = ReadArchivedLines(store->get(), topics_[0]);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  const std::map<std::string, int> in_lake = IdCounts(*lines, "unique_id");
  EXPECT_EQ(CheckLedger(store->get(), brokers_, name_ + "-archive", topics), "");
  int missing_pg = 0, missing_lake = 0, twice_pg = 0, twice_lake = 0;
  for (const auto& [id, n] : in_pg) twice_pg += n > 1;
  for (const auto& [id, n] : in_lake) twice_lake += n > 1;
  for (int i = 0; i < kRecords; ++i) {
    if (!outcome.acknowledged[static_cast<size_t>(i)]) continue;
    const std::string id = fmt::format("{0:08x}-0000-4000-8000-{0:012x}", i);  // PinRecord's
    missing_pg += in_pg.count(id) == 0;
    missing_lake += in_lake.count(id) == 0;
  }
  EXPECT_EQ(missing_pg, 0);
  EXPECT_EQ(missing_lake, 0);
  EXPECT_EQ(twice_pg, 0);
  EXPECT_EQ(twice_lake, 0);
  // Anything stored is something that was sent (at most the not-acknowledged ones besides).
  EXPECT_LE(static_cast<int>(in_pg.size()), kRecords);
  EXPECT_GE(static_cast<int>(in_pg.size()), acknowledged);

  // Refusals only while leaders moved: after the kill, and not long after it (the controller
  // notices a killed broker after its session timeout, 9 s, plus the API's 5 s delivery timeout).
  double first = 0, last = 0;
  if (!outcome.refused_at.empty()) {
    first = *std::min_element(outcome.refused_at.begin(), outcome.refused_at.end());
    last = *std::max_element(outcome.refused_at.begin(), outcome.refused_at.end());
    EXPECT_GE(first, killed_at - 0.5);
    EXPECT_LE(last, killed_at + 30.0);
  }
  const std::string report = fmt::format(
      "cluster failover: {} records, {} acknowledged, {} not ({} batches refused in part or "
      "whole, first {:.1f} s / last {:.1f} s after the kill of broker {}); kill at {:.1f} s, "
      "restart at {:.1f} s, posting done at {:.1f} s; PostgreSQL {} ids, lake {} ids",
      kRecords, acknowledged, outcome.not_acknowledged, outcome.refused_at.size(),
      outcome.refused_at.empty() ? 0.0 : first - killed_at,
      outcome.refused_at.empty() ? 0.0 : last - killed_at, victim, killed_at, restarted_at,
      posted_at, in_pg.size(), in_lake.size());
  std::printf("%s\n", report.c_str());
  RecordProperty("report", report);
}

}  // namespace
}  // namespace pinpipe::testing
