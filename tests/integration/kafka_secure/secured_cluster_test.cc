// pinpipe on a secured Kafka: a broker whose only client listener takes SASL/SCRAM-SHA-256 over
// TLS (scripts/services with PINPIPE_KAFKA_SECURITY=sasl_ssl: the CA and the broker's certificate
// are generated when this test starts it, in its own state dir and on its own ports). The API,
// the speed layer and the archiver run as processes with `--kafka-config` the client properties
// file, and every acknowledged record is in PostgreSQL and in the lake exactly once; clients
// without the credentials, with a wrong password, or without the CA are refused.
//
// Needs PINPIPE_TEST_PG_DSN, PINPIPE_TEST_PINPIPE_BIN and PINPIPE_TEST_KAFKA_LIBS (scripts/test
// sets them), java and openssl.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

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

class SecuredClusterTest : public OwnKafkaTest {
 protected:
  void SetUp() override {
    StartOwnKafka("sasl", {.nodes = 1, .sasl_ssl = true});
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
  CommandResult Describe(const std::vector<std::string>& options) {
    std::string cmd = ShellQuote(bin_) + " topics describe --timeout-ms 5000 --kafka-brokers " +
                      brokers_;
    for (const std::string& o : options) cmd += " " + ShellQuote(o);
    return RunCommand(cmd + " 2>&1");
  }

  std::string properties_;
};

TEST_F(SecuredClusterTest, ApiSpeedLayerAndArchiverRunOverSaslScramTlsExactlyOnce) {
  auto serve = ServeProcess::Start(brokers_, name_, {"--kafka-config", properties_});
  ASSERT_TRUE(serve.ok()) << serve.status().ToString();
  const std::string pin_topic = (*serve)->topic(core::RecordKind::kPin);
  const std::vector<std::string> topics = {pin_topic, (*serve)->topic(core::RecordKind::kGeo),
                                           (*serve)->topic(core::RecordKind::kUser)};
  std::vector<std::string> topic_args = {"--topic-pin", topics[0], "--topic-geo", topics[1],
                                         "--topic-user", topics[2]};

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
  std::vector<std::string> stream_argv = {bin_, "stream", "--kafka-brokers", brokers_,
                                          "--kafka-config", properties_, "--pg-dsn", db_->dsn(),
                                          "--group", name_ + "-stream", "--session-timeout-ms",
                                          "6000"};
  stream_argv.insert(stream_argv.end(), topic_args.begin(), topic_args.end());
  ASSERT_TRUE(stream.Start(stream_argv, dir_ + "/stream.log").ok());
  const std::string lake = dir_ + "/lake";
  std::vector<std::string> archive_argv = {bin_, "archive", "--kafka-brokers", brokers_,
                                           "--kafka-config", properties_, "--group",
                                           name_ + "-archive", "--lake", lake, "--rotate-idle",
                                           "300ms", "--session-timeout-ms", "6000"};
  archive_argv.insert(archive_argv.end(), topic_args.begin(), topic_args.end());
  ASSERT_TRUE(archive.Start(archive_argv, dir_ + "/archive.log").ok());

  auto rows = [&] {
    auto n = QueryInt(db_->dsn(), "SELECT count(*) FROM experimental_data");
    return n.ok() ? *n : -1;
  };
  EXPECT_TRUE(WaitFor([&] { return rows() >= kRecords; }, seconds(120)))
      << rows() << "\n" << Slurp(dir_ + "/stream.log");
  auto store = lake::LocalStore::Open(lake);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string behind;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto caught_up = ArchiveCaughtUp(store->get(), brokers_, name_ + "-archive", topics, &behind);
        return caught_up.ok() && *caught_up;
      },
      seconds(120)))
      << behind << "\n" << Slurp(dir_ + "/archive.log");
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
}

struct RefusedCase {
  std::string name;
  std::vector<std::string> options;  // "@properties" stands for --kafka-config <the file>
  std::string says;                  // in the client's log
};

// One test (one broker start: ctest runs each test in a process of its own), a table of clients.
TEST_F(SecuredClusterTest, ClientsWithoutTheRightCredentialsAreRefused) {
  const std::vector<RefusedCase> cases = {
      // A plaintext client: the TLS listener never answers it as Kafka.
      {"no_properties", {}, "brokers are down"},
      {"wrong_password",
       {"@properties", "--kafka-option", "sasl.password=not-the-password"},
       "Authentication failed"},
      {"tls_without_sasl",
       {"--kafka-option", "security.protocol=SSL", "--kafka-option",
        "ssl.ca.location=" + dir_ + "/state/kafka/tls/ca.pem"},
       "ERROR"},
      {"sasl_without_the_ca",
       {"@properties", "--kafka-option", "ssl.ca.location=/etc/ssl/certs/ca-certificates.crt"},
       "certificate verify failed"},
  };
  for (const RefusedCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> options;
    for (const std::string& o : c.options) {
      if (o == "@properties") {
        options.push_back("--kafka-config");
        options.push_back(properties_);
      } else {
        options.push_back(o);
      }
    }
    const CommandResult refused = Describe(options);
    EXPECT_NE(refused.exit_code, 0) << refused.output;
    EXPECT_NE(refused.output.find("no kafka broker at " + brokers_ + " answered"),
              std::string::npos)
        << refused.output;
    EXPECT_NE(refused.output.find(c.says), std::string::npos) << refused.output;
  }
  // With the right properties the same command works: the refusals are the credentials'.
  const CommandResult accepted = Describe({"--kafka-config", properties_});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
  EXPECT_NE(accepted.output.find("brokers (1):"), std::string::npos) << accepted.output;
}

}  // namespace
}  // namespace pinpipe::testing
