// IngestHarness: a real ingestion API (http::Server + IngestService + kafka::Producer) on a free
// loopback port, writing to fresh, uniquely named topics on the test broker. For integration
// tests that must exercise the real HTTP path and the real Kafka acknowledgement.
// ServeProcess: the real `pinpipe serve` binary (PINPIPE_TEST_PINPIPE_BIN) as a child process,
// for tests that measure the process itself (memory from /proc, timing, its flags).
#pragma once

#include <sys/types.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "http/client.h"
#include "http/server.h"
#include "ingest/ingest_service.h"
#include "kafka/producer.h"

namespace pinpipe::testing {

struct IngestHarnessOptions {
  std::chrono::milliseconds delivery_timeout{5000};
  int partitions = 3;
  int threads = 2;
};

class IngestHarness {
 public:
  // Creates topics "<prefix>-pin/-geo/-user" and starts the API. Errors from any step.
  static StatusOr<std::unique_ptr<IngestHarness>> Start(const std::string& brokers,
                                                        const std::string& prefix,
                                                        IngestHarnessOptions options = {});
  ~IngestHarness();

  uint16_t port() const { return server_->port(); }
  const std::string& topic(core::RecordKind kind) const {
    return options_.topics[static_cast<size_t>(kind)];
  }
  http::Client NewClient() const;
  kafka::Producer& producer() { return *producer_; }

 private:
  IngestHarness() = default;
  ingest::IngestOptions options_;
  core::Registry registry_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<ingest::IngestService> service_;
  std::unique_ptr<http::Server> server_;
};

class ChildProcess;

class ServeProcess {
 public:
  // Creates topics "<prefix>-pin/-geo/-user", starts `pinpipe serve --port 0` on them with
  // `extra_args` appended, and waits until it listens (its log: <tmp>/<prefix>.serve.log).
  // FailedPrecondition when PINPIPE_TEST_PINPIPE_BIN is not set.
  static StatusOr<std::unique_ptr<ServeProcess>> Start(const std::string& brokers,
                                                       const std::string& prefix,
                                                       const std::vector<std::string>& extra_args);
  // `pinpipe serve --port 0` on existing `topics` (pin, geo, user), logging to `log_path`, with
  // `extra_args` appended; waits until it listens and is ready. Several may share topics.
  static StatusOr<std::unique_ptr<ServeProcess>> StartOn(
      const std::string& brokers, const std::array<std::string, 3>& topics,
      const std::string& log_path, const std::vector<std::string>& extra_args);
  ~ServeProcess();  // SIGTERM, then SIGKILL if it has not stopped within 20 s

  uint16_t port() const { return port_; }
  pid_t pid() const;
  const std::string& topic(core::RecordKind kind) const {
    return topics_[static_cast<size_t>(kind)];
  }
  const std::string& log_path() const { return log_path_; }
  http::Client NewClient() const;

  // From /proc/<pid>/status, in bytes: the peak resident set (VmHWM) and the current one (VmRSS).
  StatusOr<int64_t> PeakRss() const;
  StatusOr<int64_t> Rss() const;

 private:
  ServeProcess();
  StatusOr<int64_t> StatusField(const std::string& field) const;

  std::array<std::string, 3> topics_;
  std::string log_path_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

// A valid pin record for index `i` with a unique_id derived from `i`.
std::string PinRecord(int i);

}  // namespace pinpipe::testing
