// FakeProducer: an in-memory kafka::Producer for unit tests, with fault switches.
// Deliveries are reported synchronously inside Produce() unless HoldDeliveries() is on, in which
// case they wait for ReleaseDeliveries() (to test answers sent later, from another thread).
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kafka/producer.h"

namespace pinpipe::testing {

struct ProducedMessage {
  std::string topic, key, value;
  int64_t timestamp_ms = 0;  // ProduceAt's timestamp; 0 for Produce (the broker's "now")
};

class FakeProducer : public kafka::Producer {
 public:
  Status Produce(std::string_view topic, std::string_view key, std::string_view value,
                 kafka::DeliveryCallback done) override;
  Status ProduceAt(std::string_view topic, std::string_view key, std::string_view value,
                   int64_t timestamp_ms, kafka::DeliveryCallback done) override;
  Status Flush(std::chrono::milliseconds) override;
  Status CheckReachable(std::chrono::milliseconds) override;
  kafka::ProducerStats Stats() const override;
  void Close(std::chrono::milliseconds) override {}

  // Fault switches.
  void FailProduceCalls(Status s, int count = 1);  // fail-fast for the next `count` Produce calls
  void FailDeliveries(Status s);                   // every delivery reports `s` (OK to clear)
  void HoldDeliveries(bool hold);
  void ReleaseDeliveries();
  void ReleaseDeliveries(size_t count);  // only the `count` oldest held ones
  void SetBrokersUp(bool up);

  std::vector<ProducedMessage> messages() const;

 private:
  Status Add(std::string_view topic, std::string_view key, std::string_view value,
             int64_t timestamp_ms, kafka::DeliveryCallback done);

  mutable std::mutex mu_;
  std::vector<ProducedMessage> messages_;
  std::optional<Status> fail_produce_;
  int fail_produce_count_ = 0;
  Status delivery_status_;
  bool hold_ = false;
  bool brokers_up_ = true;
  std::deque<std::pair<kafka::DeliveryCallback, kafka::DeliveryResult>> held_;
};

}  // namespace pinpipe::testing
