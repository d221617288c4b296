// Fault tests of the speed layer with `pinpipe stream` as a child process: kill -9 at random
// moments, PostgreSQL restarted mid-stream, and one of two workers in a group killed. In every
// case PostgreSQL must end with each record exactly once and offsets at the high watermarks.
//
// Needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN, PINPIPE_TEST_PINPIPE_BIN; the PostgreSQL
// restart test also PINPIPE_TEST_PG_CTL and the Kafka-down test PINPIPE_TEST_KAFKA_CTL (commands
// taking `stop` / `start`).
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "testing/ingest_env.h"
#include "testing/kafka_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class StreamFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBrokers();
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    auto dsn = TestPgDsn();
    if (brokers_.empty() || !dsn || bin_.empty()) {
      GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and "
                      "PINPIPE_TEST_PINPIPE_BIN (scripts/test sets them)";
    }
    db_ = std::make_unique<ScratchDatabase>(*dsn);
    ASSERT_TRUE(db_->ok()) << db_->error();
    auto topics = CreateStreamTopics(brokers_, UniqueName("faults"), 3);
    ASSERT_TRUE(topics.ok()) << topics.status().ToString();
    topics_ = *topics;
  }

  std::vector<std::string> WorkerArgs(const std::string& instance_id) const {
    std::vector<std::string> a = {
        bin_,          "stream",   "--kafka-brokers",      brokers_,   "--topic-pin", topics_[0],
        "--topic-geo", topics_[1], "--topic-user",         topics_[2], "--pg-dsn",    db_->dsn(),
        "--group",     group_,     "--session-timeout-ms", "6000"};
    if (!instance_id.empty()) {
      a.push_back("--instance-id");
      a.push_back(instance_id);
    }
    return a;
  }
  // Lines of the worker log that say it is running (signals are handled from then on: a
  // SIGTERM sent right after exec, before the handler is set up, would just kill it).
  int StartedCount(const std::string& name) const {
    std::ifstream in(LogPath(name));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.find("INFO  stream: consuming") != std::string::npos) ++n;
    }
    return n;
  }

  std::string LogPath(const std::string& name) const {
    return ::testing::TempDir() + "/" + group_ + "-" + name + ".log";
  }

  // Produces pins with indexes [from, to).
  void ProducePins(int from, int to) {
    std::vector<std::pair<std::string, std::string>> pins;
    pins.reserve(static_cast<size_t>(to - from));
    for (int i = from; i < to; ++i) pins.emplace_back(std::to_string(i), PinRecord(i));
    Status s = ProduceAll(brokers_, topics_[0], pins);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  bool CaughtUp() {
    auto high = HighWatermarkSum(brokers_, {topics_[0], topics_[1], topics_[2]});
    auto stored = QueryInt(db_->dsn(),
                           "SELECT coalesce(sum(next_offset), 0) FROM "
                           "pinpipe_stream_offsets WHERE consumer_group = '" +
                               group_ + "'");
    return high.ok() && stored.ok() && *high > 0 && *stored == *high;
  }

  void ExpectExactlyOnce(int64_t n) {
    auto count = QueryInt(db_->dsn(), "SELECT count(*) FROM experimental_data");
    auto distinct = QueryInt(db_->dsn(), "SELECT count(DISTINCT unique_id) FROM experimental_data");
    ASSERT_TRUE(count.ok() && distinct.ok());
    EXPECT_EQ(*count, n);
    EXPECT_EQ(*distinct, n);
    // Each record was written once: no batch stored a row that a later one had to dedup.
    auto dedup = QueryInt(db_->dsn(), "SELECT coalesce(sum(dedup), 0) FROM pinpipe_stream_batches");
    ASSERT_TRUE(dedup.ok());
    EXPECT_EQ(*dedup, 0);
    auto records =
        QueryInt(db_->dsn(), "SELECT coalesce(sum(records), 0) FROM pinpipe_stream_batches");
    ASSERT_TRUE(records.ok());
    EXPECT_EQ(*records, n);
  }

  std::string brokers_, bin_;
  std::unique_ptr<ScratchDatabase> db_;
  std::array<std::string, 3> topics_;
  std::string group_ = UniqueName("faults-group");
};

TEST_F(StreamFaultsTest, KillNineTenTimesWhileStreaming) {
  constexpr int kRecords = 200000, kKills = 10, kChunk = kRecords / kKills;
  std::mt19937 rng(std::random_device{}());
  // Odd rounds kill at a random early moment (start-up, group join, first fetch); even rounds
  // wait until the worker has committed rows and then kill at a random moment, which lands
  // mid-batch or mid-commit. Each round first adds a fresh chunk of records, so there is always
  // work in flight: the kills cannot all land after the topic was drained, whatever the speed.
  std::uniform_int_distribution<int> early_ms(50, 1500);
  std::uniform_int_distribution<int> mid_ms(0, 400);
  ChildProcess worker;
  int kills = 0;
  int kills_after_progress = 0;
  auto rows = [&] {
    auto n = QueryInt(db_->dsn(), "SELECT count(*) FROM experimental_data");
    return n.ok() ? *n : -1;
  };
  for (; kills < kKills; ++kills) {
    ProducePins(kills * kChunk, (kills + 1) * kChunk);
    const int64_t before = rows();
    ASSERT_TRUE(worker.Start(WorkerArgs("w1"), LogPath("w1")).ok());
    if (kills % 2 == 0) {
      ASSERT_TRUE(WaitFor([&] { return rows() > before; }, seconds(60)))
          << "no progress within 60 s; log: " << LogPath("w1");
      std::this_thread::sleep_for(milliseconds(mid_ms(rng)));
    } else {
      std::this_thread::sleep_for(milliseconds(early_ms(rng)));
    }
    worker.Signal(SIGKILL);
    EXPECT_EQ(worker.Wait(seconds(10)), 128 + SIGKILL);
    if (rows() > before) ++kills_after_progress;
  }
  EXPECT_GE(kills_after_progress, kKills / 2);
  const int started = StartedCount("w1");
  ASSERT_TRUE(worker.Start(WorkerArgs("w1"), LogPath("w1")).ok());
  EXPECT_TRUE(WaitFor([&] { return StartedCount("w1") > started; }, seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(); }, seconds(120))) << "log: " << LogPath("w1");
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(seconds(30)), 0);
  EXPECT_EQ(kills, 10);
  ExpectExactlyOnce(kRecords);
}

TEST_F(StreamFaultsTest, PostgresRestartedMidStream) {
  const std::string ctl = EnvOrEmpty("PINPIPE_TEST_PG_CTL");
  if (ctl.empty()) {
    GTEST_SKIP() << "PINPIPE_TEST_PG_CTL is not set: it must name a command taking `stop` and "
                    "`start` for the test PostgreSQL cluster (scripts/test should write one like "
                    "kafka-ctl: exec env <test env> scripts/services pg \"$@\")";
  }
  constexpr int kRecords = 100000;
  ChildProcess worker;
  ASSERT_TRUE(worker.Start(WorkerArgs(""), LogPath("pg")).ok());
  std::thread producer([&] { ProducePins(0, kRecords); });
  ASSERT_TRUE(WaitFor(
      [&] {
        auto n = QueryInt(db_->dsn(), "SELECT count(*) FROM experimental_data");
        return n.ok() && *n > 0;
      },
      seconds(60)));
  CommandResult stop = RunCommand(ShellQuote(ctl) + " stop");
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  std::this_thread::sleep_for(seconds(3));
  CommandResult start = RunCommand(ShellQuote(ctl) + " start");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  producer.join();
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(); }, seconds(120))) << "log: " << LogPath("pg");
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(seconds(30)), 0);
  ExpectExactlyOnce(kRecords);
}

// Kafka unreachable: a worker started while the broker is down waits for it (no crash loop, no
// exit) and consumes once it is up; a broker stopped under a running worker is waited for too,
// and the worker resumes where PostgreSQL's offsets say. The log says what is going on.
TEST_F(StreamFaultsTest, WaitsForKafkaAndResumesWhenItIsBack) {
  const std::string ctl = KafkaCtl();
  if (ctl.empty()) GTEST_SKIP() << "PINPIPE_TEST_KAFKA_CTL is not set (command taking stop|start)";
  constexpr int kBatch = 3000;
  BrokerRestarter broker(ctl);
  ASSERT_TRUE(broker.Stop());
  ChildProcess worker;
  ASSERT_TRUE(worker.Start(WorkerArgs(""), LogPath("kafka")).ok());
  ASSERT_TRUE(WaitFor([&] { return StartedCount("kafka") == 1; }, seconds(30)));
  // Down at start-up: still waiting after several seconds.
  EXPECT_EQ(worker.Wait(seconds(5)), -1)
      << "the worker exited while Kafka was down; log: " << LogPath("kafka");
  ASSERT_TRUE(broker.Start());
  ProducePins(0, kBatch);
  ASSERT_TRUE(WaitFor([&] { return CaughtUp(); }, seconds(90))) << "log: " << LogPath("kafka");

  // Down under a running worker: it keeps running, stores nothing twice, resumes afterwards.
  ASSERT_TRUE(broker.Stop());
  EXPECT_EQ(worker.Wait(seconds(8)), -1)
      << "the worker exited while Kafka was down; log: " << LogPath("kafka");
  ASSERT_TRUE(broker.Start());
  ProducePins(kBatch, 2 * kBatch);
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(); }, seconds(90))) << "log: " << LogPath("kafka");
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(seconds(30)), 0);
  ExpectExactlyOnce(2 * kBatch);
  std::ifstream in(LogPath("kafka"));
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("all brokers are down; waiting for them"), std::string::npos) << log;
  EXPECT_NE(log.find("consuming again"), std::string::npos) << log;
}

TEST_F(StreamFaultsTest, SurvivingWorkerTakesOverFromAKilledOne) {
  constexpr int kRecords = 100000;
  ChildProcess a, b;
  ASSERT_TRUE(a.Start(WorkerArgs(""), LogPath("a")).ok());
  ASSERT_TRUE(b.Start(WorkerArgs(""), LogPath("b")).ok());
  std::thread producer([&] { ProducePins(0, kRecords); });
  std::this_thread::sleep_for(milliseconds(2500));
  a.Signal(SIGKILL);
  EXPECT_EQ(a.Wait(seconds(10)), 128 + SIGKILL);
  producer.join();
  EXPECT_TRUE(WaitFor([&] { return CaughtUp(); }, seconds(120))) << "log: " << LogPath("b");
  b.Signal(SIGTERM);
  EXPECT_EQ(b.Wait(seconds(30)), 0);
  ExpectExactlyOnce(kRecords);
}

}  // namespace
}  // namespace pinpipe::testing
