#include "testing/fake_producer.h"

namespace pinpipe::testing {

Status FakeProducer::Produce(std::string_view topic, std::string_view key, std::string_view value,
                             kafka::DeliveryCallback done) {
  return Add(topic, key, value, 0, std::move(done));
}

Status FakeProducer::ProduceAt(std::string_view topic, std::string_view key, std::string_view value,
                               int64_t timestamp_ms, kafka::DeliveryCallback done) {
  if (timestamp_ms <= 0) return InvalidArgument("fake produce: timestamp not after the epoch");
  return Add(topic, key, value, timestamp_ms, std::move(done));
}

Status FakeProducer::Add(std::string_view topic, std::string_view key, std::string_view value,
                         int64_t timestamp_ms, kafka::DeliveryCallback done) {
  kafka::DeliveryResult result;
  {
    std::lock_guard lock(mu_);
    if (fail_produce_count_ > 0) {
      --fail_produce_count_;
      return *fail_produce_;
    }
    messages_.push_back({std::string(topic), std::string(key), std::string(value), timestamp_ms});
    result.status = delivery_status_;
    result.partition = 0;
    result.offset = static_cast<int64_t>(messages_.size() - 1);
    if (hold_) {
      held_.emplace_back(std::move(done), result);
      return Status::Ok();
    }
  }
  done(result);
  return Status::Ok();
}

Status FakeProducer::Flush(std::chrono::milliseconds) {
  ReleaseDeliveries();
  return Status::Ok();
}

Status FakeProducer::CheckReachable(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  return brokers_up_ ? Status::Ok() : Unavailable("fake brokers down");
}

kafka::ProducerStats FakeProducer::Stats() const {
  std::lock_guard lock(mu_);
  kafka::ProducerStats s;
  s.in_flight = static_cast<int64_t>(held_.size());
  s.brokers_up = brokers_up_;
  return s;
}

void FakeProducer::FailProduceCalls(Status s, int count) {
  std::lock_guard lock(mu_);
  fail_produce_ = std::move(s);
  fail_produce_count_ = count;
}

void FakeProducer::FailDeliveries(Status s) {
  std::lock_guard lock(mu_);
  delivery_status_ = std::move(s);
}

void FakeProducer::HoldDeliveries(bool hold) {
  std::lock_guard lock(mu_);
  hold_ = hold;
}

void FakeProducer::ReleaseDeliveries() {
  std::deque<std::pair<kafka::DeliveryCallback, kafka::DeliveryResult>> held;
  {
    std::lock_guard lock(mu_);
    held.swap(held_);
  }
  for (auto& [done, result] : held) done(result);
}

void FakeProducer::ReleaseDeliveries(size_t count) {
  std::deque<std::pair<kafka::DeliveryCallback, kafka::DeliveryResult>> released;
  {
    std::lock_guard lock(mu_);
    while (count-- > 0 && !held_.empty()) {
      released.push_back(std::move(held_.front()));
      held_.pop_front();
    }
  }
  for (auto& [done, result] : released) done(result);
}

void FakeProducer::SetBrokersUp(bool up) {
  std::lock_guard lock(mu_);
  brokers_up_ = up;
}

std::vector<ProducedMessage> FakeProducer::messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

}  // namespace pinpipe::testing
