// Test helpers for Kafka integration tests: broker discovery from the environment (set by
// scripts/test), unique names, reading a topic back, running shell commands.
//
//   PINPIPE_TEST_KAFKA_BROKERS  bootstrap servers of the test broker (tests skip when unset)
//   PINPIPE_TEST_KAFKA_CTL      command taking `stop` / `start` to stop and restart that broker
//   PINPIPE_TEST_KAFKA_LOG_DIR  the broker's log.dirs (segment files)
//   PINPIPE_TEST_KAFKA_LIBS     directory of the Kafka jars (for kafka.tools.* classes)
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kafka/consumer.h"

namespace pinpipe::testing {

// The value of environment variable `name`, or "" when unset.
std::string EnvOrEmpty(const char* name);

inline std::string KafkaBrokers() { return EnvOrEmpty("PINPIPE_TEST_KAFKA_BROKERS"); }
inline std::string KafkaCtl() { return EnvOrEmpty("PINPIPE_TEST_KAFKA_CTL"); }
inline std::string KafkaLogDir() { return EnvOrEmpty("PINPIPE_TEST_KAFKA_LOG_DIR"); }
inline std::string KafkaLibs() { return EnvOrEmpty("PINPIPE_TEST_KAFKA_LIBS"); }

// A name unique to this process and call: "<prefix>-<pid>-<time>-<n>".
std::string UniqueName(std::string_view prefix);

// Reads every message of `topic` from the beginning up to the high watermarks it has when the
// call starts (so call it after the producer's Flush()), ordered by partition then offset.
// Errors: NotFound if the topic does not exist, DeadlineExceeded if not all could be read.
StatusOr<std::vector<kafka::Message>> ReadTopic(const std::string& brokers,
                                                const std::string& topic,
                                                std::chrono::milliseconds timeout);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with /bin/sh and captures its output.
CommandResult RunCommand(const std::string& command);

// Quotes `s` for /bin/sh.
std::string ShellQuote(std::string_view s);

// Stops and starts the test broker through `ctl` (PINPIPE_TEST_KAFKA_CTL); a broker it stopped
// is started again when it goes out of scope, whatever the test did.
class BrokerRestarter {
 public:
  explicit BrokerRestarter(std::string ctl) : ctl_(std::move(ctl)) {}
  ~BrokerRestarter() {
    if (stopped_) Start();
  }
  BrokerRestarter(const BrokerRestarter&) = delete;
  BrokerRestarter& operator=(const BrokerRestarter&) = delete;
  bool Stop() {
    CommandResult r = RunCommand(ctl_ + " stop");
    stopped_ = true;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0;
  }
  bool Start() {
    CommandResult r = RunCommand(ctl_ + " start");
    stopped_ = r.exit_code != 0;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0;
  }

 private:
  std::string ctl_;
  bool stopped_ = false;
};

}  // namespace pinpipe::testing

// Declares `std::string var` with the test broker's address, or skips the test.
#define PINPIPE_KAFKA_BROKERS_OR_SKIP(var)                                                    \
  const std::string var = ::pinpipe::testing::KafkaBrokers();                                 \
  if (var.empty()) {                                                                          \
    GTEST_SKIP() << "PINPIPE_TEST_KAFKA_BROKERS is not set: these tests need a Kafka broker " \
                    "(run them through scripts/test, or export it, e.g. 127.0.0.1:19092)";    \
  }
