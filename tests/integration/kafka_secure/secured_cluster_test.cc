// pinpipe on a secured Kafka cluster: three KRaft brokers whose only client listener takes
// SASL/SCRAM-SHA-256 over TLS, which is also the listener the brokers replicate over
// (scripts/services with PINPIPE_KAFKA_SECURITY=sasl_ssl and PINPIPE_KAFKA_NODES=3: the CA and the
// brokers' certificate are generated, and the SCRAM user written into each node's metadata at
// format time, when this test starts it, in its own state dir and on its own ports). The topics
// have replication factor 3 and min.insync.replicas=2, so every acknowledged (acks=all) record was
// replicated between brokers over SASL/TLS. The API, the speed layer and the archiver run as
// processes with `--kafka-config` the client properties file, and every acknowledged record is in
// PostgreSQL and in the lake exactly once; clients without the credentials, with a wrong password,
// or without the CA are refused by the cluster.
//
// Needs PINPIPE_TEST_PG_DSN, PINPIPE_TEST_PINPIPE_BIN and PINPIPE_TEST_KAFKA_LIBS (scripts/test
// sets them), java and openssl.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "kafka/admin.h"
#include "kafka/client_properties.h"
#include "lake/local_store.h"
#include "testing/archive_env.h"
#include "testing/ingest_env.h"
#include "testing/kafka_env.h"
#include "testing/kafka_services.h"
#include "testing/local_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::testing {
namespace {

using std::chrono::seconds;

constexpr int kRecords = 2000;
constexpr int kNodes = 3;

struct RefusedCase {
  std::string name;
  std::vector<std::string> options;  // "@properties" stands for --kafka-config <the file>
  std::string says;                  // in the client's log
};

class SecuredClusterTest : public OwnKafkaTest {
 protected:
  void SetUp() override {
    StartOwnKafka("sasl", {.nodes = kNodes, .sasl_ssl = true});
    if (IsSkipped() || HasFatalFailure()) return;
    properties_ = kafka_->client_properties();
    // This process's own clients (topic creation, checks) use the same properties.
    auto props = kafka::LoadProperties(properties_, {});
    ASSERT_TRUE(props.ok()) << props.status().ToString();
    ASSERT_TRUE(kafka::SetClientProperties(*props).ok());
  }

  void TearDown() override {
    kafka::SetClientProperties({}).IgnoreError();
    OwnKafkaTest::TearDown();
  }

  std::string Slurp(const std::string& path) { return ReadWholeFile(path); }

  // `pinpipe topics describe` as a client configured by `options`.
  CommandResult Describe(const std::vector<std::string>& options) const {
    std::string cmd =
        ShellQuote(bin_) + " topics describe --timeout-ms 5000 --kafka-brokers " + brokers_;
    for (const std::string& o : options) cmd += " " + ShellQuote(o);
    return RunCommand(cmd + " 2>&1");
  }

  // Clients configured by each case are refused by the cluster (in the client's output: the
  // case's `says`), and the same command with the right properties is not.
  void ExpectRefusals() {
    const std::vector<RefusedCase> cases = {
        // A plaintext client: the TLS listener never answers it as Kafka.
        {"no_properties", {}, "brokers are down"},
        {"wrong_password",
         {"@properties", "--kafka-option", "sasl.password=not-the-password"},
         "Authentication failed"},
        {"tls_without_sasl",
         {"--kafka-option", "security.protocol=SSL", "--kafka-option",
          "ssl.ca.location=" + dir_ + "/state/kafka/tls/ca.pem"},
         "broker might require SASL authentication"},
        {"sasl_without_the_ca",
         {"@properties", "--kafka-option", "ssl.ca.location=/etc/ssl/certs/ca-certificates.crt"},
         "certificate verify failed"},
    };
    // All at once: each waits out the client's 5 s timeout.
    std::vector<std::future<CommandResult>> results;
    for (const RefusedCase& c : cases) {
      std::vector<std::string> options;
      for (const std::string& o : c.options) {
        if (o == "@properties") {
          options.push_back("--kafka-config");
          options.push_back(properties_);
        } else {
          options.push_back(o);
        }
      }
      results.push_back(
          std::async(std::launch::async, [this, options] { return Describe(options); }));
    }
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE(cases[i].name);
      const CommandResult refused = results[i].get();
      EXPECT_NE(refused.exit_code, 0) << refused.output;
      EXPECT_NE(refused.output.find("no kafka broker at " + brokers_ + " answered"),
                std::string::npos)
          << refused.output;
      EXPECT_NE(refused.output.find(cases[i].says), std::string::npos) << refused.output;
    }
    // With the right properties the same command works: the refusals are the credentials'.
    const CommandResult accepted = Describe({"--kafka-config", properties_});
    EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
    EXPECT_NE(accepted.output.find(fmt::format("brokers ({}):", kNodes)), std::string::npos)
        << accepted.output;
  }

  std::string properties_;
};

// One test, so one cluster start (ctest runs each test in a process of its own): the pipeline
// first, then a table of clients that must be refused.
TEST_F(SecuredClusterTest, PipelineRunsExactlyOnceOverSaslScramTlsAndOtherClientsAreRefused) {
  // Topics replicated to all three brokers, two of which must have each record before it is
  // acknowledged (the cluster's default min.insync.replicas), made as a user would, with
  // `pinpipe topics ensure` over SASL/TLS.
  const std::array<std::string, 3> topic_names = {name_ + "-pin", name_ + "-geo", name_ + "-user"};
  const CommandResult ensured = RunCommand(
      fmt::format("{} topics ensure --kafka-brokers {} --kafka-config {} --partitions 3 "
                  "--replication-factor {} --topic-pin {} --topic-geo {} --topic-user {} 2>&1",
                  ShellQuote(bin_), brokers_, ShellQuote(properties_), kNodes, topic_names[0],
                  topic_names[1], topic_names[2]));
  ASSERT_EQ(ensured.exit_code, 0) << ensured.output;
  const std::vector<std::string> topics(topic_names.begin(), topic_names.end());
  for (const std::string& t : topics) {
    // (Any broker may answer; one that has not caught up with the new topic says NotFound.)
    StatusOr<std::map<std::string, kafka::TopicConfigEntry>> configs = NotFound("not asked");
    WaitFor(
        [&] {
          configs = kafka::DescribeTopicConfigs(brokers_, t, seconds(30));
          return configs.ok();
        },
        seconds(30));
    ASSERT_TRUE(configs.ok()) << configs.status().ToString();
    auto min_isr = configs->find("min.insync.replicas");
    ASSERT_NE(min_isr, configs->end()) << t;
    EXPECT_EQ(min_isr->second.value, "2") << t;
  }
  auto cluster = kafka::Describe(brokers_, seconds(30));
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  EXPECT_EQ(cluster->brokers.size(), static_cast<size_t>(kNodes));
  for (const kafka::TopicInfo& t : cluster->topics) {
    if (std::find(topics.begin(), topics.end(), t.name) == topics.end()) continue;
    EXPECT_EQ(t.replication_factor, kNodes) << t.name;
    EXPECT_EQ(t.partitions, 3) << t.name;
  }

  auto serve = ServeProcess::StartOn(brokers_, topic_names, dir_ + "/serve.log",
                                     {"--kafka-config", properties_});
  ASSERT_TRUE(serve.ok()) << serve.status().ToString();
  const std::string pin_topic = topics[0];
  std::vector<std::string> topic_args = {"--topic-pin", topics[0],      "--topic-geo",
                                         topics[1],     "--topic-user", topics[2]};

  // Two clients post the records; every one must be acknowledged.
  std::atomic<int> next{0}, acknowledged{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      http::Client client = (*serve)->NewClient();
      for (int i = next++; i < kRecords; i = next++) {
        auto r = client.Post("/pin/", PinRecord(i));
        if (r.ok() && r->status == 200) ++acknowledged;
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_EQ(acknowledged.load(), kRecords) << Slurp((*serve)->log_path());

  ChildProcess stream, archive;
  std::vector<std::string> stream_argv = {bin_,
                                          "stream",
                                          "--kafka-brokers",
                                          brokers_,
                                          "--kafka-config",
                                          properties_,
                                          "--pg-dsn",
                                          db_->dsn(),
                                          "--group",
                                          name_ + "-stream",
                                          "--session-timeout-ms",
                                          "6000"};
  stream_argv.insert(stream_argv.end(), topic_args.begin(), topic_args.end());
  ASSERT_TRUE(stream.Start(stream_argv, dir_ + "/stream.log").ok());
  const std::string lake = dir_ + "/lake";
  std::vector<std::string> archive_argv = {bin_,
                                           "archive",
                                           "--kafka-brokers",
                                           brokers_,
                                           "--kafka-config",
                                           properties_,
                                           "--group",
                                           name_ + "-archive",
                                           "--lake",
                                           lake,
                                           "--rotate-idle",
                                           "300ms",
                                           "--session-timeout-ms",
                                           "6000"};
  archive_argv.insert(archive_argv.end(), topic_args.begin(), topic_args.end());
  ASSERT_TRUE(archive.Start(archive_argv, dir_ + "/archive.log").ok());

  auto rows = [&] {
    auto n = QueryInt(db_->dsn(), "SELECT count(*) FROM experimental_data");
    return n.ok() ? *n : -1;
  };
  EXPECT_TRUE(WaitFor([&] { return rows() >= kRecords; }, seconds(120)))
      << rows() << "\n"
      << Slurp(dir_ + "/stream.log");
  auto store = lake::LocalStore::Open(lake);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string behind;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto caught_up =
            ArchiveCaughtUp(store->get(), brokers_, name_ + "-archive", topics, &behind);
        return caught_up.ok() && *caught_up;
      },
      seconds(120)))
      << behind << "\n"
      << Slurp(dir_ + "/archive.log");
  stream.Signal(SIGTERM);
  archive.Signal(SIGTERM);
  EXPECT_EQ(stream.Wait(seconds(60)), 0) << Slurp(dir_ + "/stream.log");
  EXPECT_EQ(archive.Wait(seconds(60)), 0) << Slurp(dir_ + "/archive.log");

  // PostgreSQL: each acknowledged record once.
  EXPECT_EQ(rows(), kRecords);
  auto distinct = QueryInt(db_->dsn(), "SELECT count(DISTINCT unique_id) FROM experimental_data");
  ASSERT_TRUE(distinct.ok()) << distinct.status().ToString();
  EXPECT_EQ(*distinct, kRecords);
  // The lake: each once, and the archiver's ledger tiles every partition.
  auto lines = ReadArchivedLines(store->get(), pin_topic);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  const std::map<std::string, int> counts = IdCounts(*lines, "unique_id");
  EXPECT_EQ(counts.size(), static_cast<size_t>(kRecords));
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(CheckLedger(store->get(), brokers_, name_ + "-archive", topics), "");

  ExpectRefusals();
}

}  // namespace
}  // namespace pinpipe::testing
