// IngestHarness: a real ingestion API (http::Server + IngestService + kafka::Producer) on a free
// loopback port, writing to fresh, uniquely named topics on the test broker. For integration
// tests that must exercise the real HTTP path and the real Kafka acknowledgement.
#pragma once

#include <memory>
#include <string>

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

// A valid pin record for index `i` with a unique_id derived from `i`.
std::string PinRecord(int i);

}  // namespace pinpipe::testing
