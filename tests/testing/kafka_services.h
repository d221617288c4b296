// KafkaServices: a Kafka of a test's own, started by scripts/services in a state dir of its own
// on ports of its own, for tests that need a broker other than the shared test broker: a
// cluster of several nodes (PINPIPE_KAFKA_NODES), a listener that takes only SASL/SCRAM over
// TLS (PINPIPE_KAFKA_SECURITY=sasl_ssl). RAII: the destructor stops every node.
//
// Ports: node i on base+2(i-1), its controller on base+1+2(i-1), with a base below the
// ephemeral port range (so no loopback connection takes one as its source port meanwhile) and
// all of them free when chosen.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "testing/kafka_env.h"
#include "testing/pg_env.h"

namespace pinpipe::testing {

struct KafkaServicesOptions {
  int nodes = 1;
  bool sasl_ssl = false;
};

class KafkaServices {
 public:
  // Starts the node(s) with their state in `state_dir`. FailedPrecondition without
  // PINPIPE_TEST_KAFKA_LIBS (scripts/test sets it); Internal with scripts/services' output when
  // the start fails.
  static StatusOr<std::unique_ptr<KafkaServices>> Start(const std::string& state_dir,
                                                        KafkaServicesOptions options);
  ~KafkaServices();
  KafkaServices(const KafkaServices&) = delete;
  KafkaServices& operator=(const KafkaServices&) = delete;

  // The bootstrap list (host:port,...).
  const std::string& brokers() const { return brokers_; }
  // With sasl_ssl: the client properties file scripts/services wrote (--kafka-config it).
  std::string client_properties() const { return state_dir_ + "/kafka/client.properties"; }
  // `scripts/services kafka <args>` on these nodes, e.g. "kill 2", "start 2".
  CommandResult Run(const std::string& args) const;

 private:
  KafkaServices() = default;
  std::string state_dir_, command_, brokers_;
};

// A fixture for tests of pinpipe's processes on a Kafka of their own: the subclass's SetUp calls
// StartOwnKafka, which skips (without PINPIPE_TEST_PINPIPE_BIN, PINPIPE_TEST_PG_DSN or
// PINPIPE_TEST_KAFKA_LIBS; scripts/test sets them all) or fails, so the subclass then returns when
// IsSkipped() || HasFatalFailure(). TearDown stops Kafka and removes the test's directory unless
// the test failed (its logs stay for a look).
class OwnKafkaTest : public ::testing::Test {
 protected:
  // Sets bin_, name_ (UniqueName(prefix)), dir_ (a new temporary directory), kafka_ and brokers_
  // (Kafka's state in dir_/state) and db_ (a scratch database).
  void StartOwnKafka(const std::string& prefix, KafkaServicesOptions options);
  void TearDown() override;

  std::string bin_, name_, dir_, brokers_;
  std::unique_ptr<KafkaServices> kafka_;
  std::unique_ptr<ScratchDatabase> db_;
};

}  // namespace pinpipe::testing
