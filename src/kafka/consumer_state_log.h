// ConsumerStateLog: turns a consumer's error events and its all-brokers-down state into log
// lines, one per change, for the long-running consumers (stream worker, archiver). librdkafka
// keeps reconnecting by itself; the application only needs to say what is going on, once.
// Not thread-safe: used on the polling thread.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "kafka/consumer.h"

namespace pinpipe::kafka {

class ConsumerStateLog {
 public:
  // `where_offsets_live` completes "nothing is lost: the offsets are in ..." (e.g. "PostgreSQL").
  ConsumerStateLog(std::function<void(const std::string&)> log, std::string where_offsets_live)
      : log_(std::move(log)), where_(std::move(where_offsets_live)) {}

  // A consumer error event: logged unless it repeats the previous one.
  void OnError(const Status& error) {
    std::string text = error.ToString();
    if (text == last_error_) return;
    log_("Kafka: " + text);
    last_error_ = std::move(text);
  }

  // Logs when the consumer goes from some broker up to all down, or back.
  void Check(const Consumer& consumer) {
    if (consumer.all_brokers_down() == down_) return;
    down_ = !down_;
    log_(down_ ? "Kafka: all brokers are down; waiting for them (nothing is lost: the offsets "
                 "are in " +
                     where_ + ")"
               : std::string("Kafka: consuming again"));
  }

 private:
  std::function<void(const std::string&)> log_;
  std::string where_;
  std::string last_error_;
  bool down_ = false;
};

}  // namespace pinpipe::kafka
