// Producer: RAII owner of a librdkafka producer configured not to lose data quietly.
//
// Configuration always set explicitly (and checked at start): acks=all, enable.idempotence=true,
// message.timeout.ms = options.delivery_timeout (the bound after which an unconfirmed message is
// reported failed instead of silently dropped), compression (lz4 by default), bounded local queue.
//
// Every message passed to Produce() gets exactly one DeliveryCallback, called on the producer's
// own delivery thread, with OK only once the broker has acknowledged it (acks=all), or with:
//   Unavailable        - the broker(s) could not be reached / the message timed out in transit;
//   DeadlineExceeded   - message.timeout.ms elapsed before acknowledgement;
//   InvalidArgument    - the broker rejected this record (too large, bad topic), permanent;
//   Internal           - fatal producer error (the producer is then re-created internally).
// Produce() itself fails fast (and then the callback is NOT called) with ResourceExhausted when the
// local queue is full, Unavailable when the producer is in a fatal state, Cancelled after Close().
//
// Thread-safety: Produce(), Stats() and Reachable() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pinpipe::kafka {

struct ProducerOptions {
  std::string brokers = "127.0.0.1:19092";
  std::string client_id = "pinpipe";
  std::chrono::milliseconds delivery_timeout{5000};  // message.timeout.ms
  // linger.ms, the batching window; librdkafka takes fractions of a millisecond.
  std::chrono::microseconds linger{1000};
  std::string compression = "lz4";
  int queue_max_messages = 200000;  // queue.buffering.max.messages
  int queue_max_kbytes = 256 * 1024;
  // Extra librdkafka properties (applied last; the safety settings above are re-checked after).
  std::map<std::string, std::string> extra;
};

struct DeliveryResult {
  Status status;
  int32_t partition = -1;
  int64_t offset = -1;
};

using DeliveryCallback = std::function<void(const DeliveryResult&)>;

struct ProducerStats {
  int64_t in_flight = 0;    // produced, not yet reported
  int64_t delivered = 0;    // acknowledged by the broker
  int64_t failed = 0;       // reported with an error
  bool brokers_up = false;  // at least one broker connection is up
};

class Producer {
 public:
  // Creates the producer and its delivery thread. Errors: InvalidArgument for bad configuration.
  // Does not wait for the brokers (they may come later).
  static StatusOr<std::unique_ptr<Producer>> Create(const ProducerOptions& options);
  virtual ~Producer() = default;

  // Enqueues one message (key and value are copied). See the class comment for the contract.
  // Its Kafka timestamp (CreateTime) is the time of this call.
  virtual Status Produce(std::string_view topic, std::string_view key, std::string_view value,
                         DeliveryCallback done) = 0;

  // The same with an explicit Kafka timestamp (CreateTime, milliseconds since the epoch, > 0):
  // `pinpipe emulate --history` back-dates records with it. The broker keeps it as long as the
  // topic's message.timestamp.type is CreateTime and the time is within its
  // message.timestamp.before.max.ms / after.max.ms (Kafka 3.9's defaults accept any time);
  // otherwise the delivery fails with InvalidArgument. InvalidArgument at once for a timestamp
  // <= 0.
  virtual Status ProduceAt(std::string_view topic, std::string_view key, std::string_view value,
                           int64_t timestamp_ms, DeliveryCallback done) = 0;

  // Waits until every enqueued message has been reported, or `timeout`. DeadlineExceeded if not.
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;

  // Asks the cluster for metadata within `timeout`: OK when a broker answers.
  virtual Status CheckReachable(std::chrono::milliseconds timeout) = 0;

  virtual ProducerStats Stats() const = 0;

  // Flushes up to `timeout`, then stops the delivery thread; pending messages fail with
  // Cancelled. Idempotent; the destructor calls it with a short timeout.
  virtual void Close(std::chrono::milliseconds timeout) = 0;
};

}  // namespace pinpipe::kafka
