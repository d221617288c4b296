// Producer implementation.
//
// Threads: callers' threads run Produce/Flush/CheckReachable/Stats; the delivery thread polls
// librdkafka and runs every DeliveryCallback; librdkafka's own threads run the log callback.
//
// Per-message state: the DeliveryCallback is moved into a PendingMessage node taken from a pool
// (no allocation per message once warm) whose address travels as the librdkafka msg_opaque and
// comes back in the delivery report. The delivery thread returns finished nodes to the pool in
// one chain per poll.
//
// Fatal errors (rd_kafka_fatal_error, e.g. the idempotence sequence broke): librdkafka refuses
// further messages on that handle. The error callback marks the producer fatal (Produce fails
// fast with Unavailable); the delivery thread then creates a fresh handle with the same
// configuration, swaps it in under the exclusive handle lock, and purges the old handle so every
// message that was queued or in flight on it gets its callback with Internal. The old handle is
// destroyed afterwards. Messages the broker did get before the fatal error may therefore be
// reported Internal and still be in the topic: at-least-once, as any retried send.
#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <shared_mutex>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/mutex.h"
#include "kafka/client_config.h"
#include "kafka/client_properties.h"
#include "kafka/errors.h"
#include "kafka/handles.h"
#include "kafka/producer_testing.h"

namespace pinpipe::kafka {
namespace {

constexpr int kPollIntervalMs = 100;
constexpr auto kDestructorCloseTimeout = std::chrono::seconds(2);
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr size_t kMaxTopicNameLength = 249;  // Kafka's limit

// One produced, not yet reported message.
struct PendingMessage {
  DeliveryCallback done;
  PendingMessage* next = nullptr;
};

// Free list of PendingMessage nodes, grown in chunks, freed when the pool is destroyed (after the
// delivery thread has returned every node). Thread-safe.
class PendingPool {
 public:
  PendingMessage* Acquire() {
    core::MutexLock lock(mu_);
    if (free_ == nullptr) Grow();
    PendingMessage* node = free_;
    free_ = node->next;
    node->next = nullptr;
    return node;
  }

  // Returns the chain head..tail (linked through `next`).
  void Release(PendingMessage* head, PendingMessage* tail) {
    core::MutexLock lock(mu_);
    tail->next = free_;
    free_ = head;
  }

 private:
  static constexpr size_t kChunk = 4096;

  void Grow() REQUIRES(mu_) {
    auto chunk = std::make_unique<PendingMessage[]>(kChunk);
    for (size_t i = 0; i + 1 < kChunk; ++i) chunk[i].next = &chunk[i + 1];
    chunk[kChunk - 1].next = free_;
    free_ = &chunk[0];
    chunks_.push_back(std::move(chunk));
  }

  core::Mutex mu_;
  PendingMessage* free_ GUARDED_BY(mu_) = nullptr;
  std::vector<std::unique_ptr<PendingMessage[]>> chunks_ GUARDED_BY(mu_);
};

class ProducerImpl final : public Producer {
 public:
  explicit ProducerImpl(ProducerOptions options) : options_(std::move(options)) {}
  ~ProducerImpl() override { Close(kDestructorCloseTimeout); }

  ProducerImpl(const ProducerImpl&) = delete;
  ProducerImpl& operator=(const ProducerImpl&) = delete;

  Status Init();

  Status Produce(std::string_view topic, std::string_view key, std::string_view value,
                 DeliveryCallback done) override {
    return Enqueue(topic, key, value, 0, std::move(done));
  }
  Status ProduceAt(std::string_view topic, std::string_view key, std::string_view value,
                   int64_t timestamp_ms, DeliveryCallback done) override {
    if (timestamp_ms <= 0) {
      return InvalidArgument(
          fmt::format("kafka produce: timestamp {} ms is not after the epoch", timestamp_ms));
    }
    return Enqueue(topic, key, value, timestamp_ms, std::move(done));
  }
  Status Flush(std::chrono::milliseconds timeout) override;
  Status CheckReachable(std::chrono::milliseconds timeout) override;
  ProducerStats Stats() const override;
  void Close(std::chrono::milliseconds timeout) override;

  Status InjectFatalError(const std::string& reason);

 private:
  StatusOr<KafkaHandle> NewHandle();
  Status Enqueue(std::string_view topic, std::string_view key, std::string_view value,
                 int64_t timestamp_ms, DeliveryCallback done);

  static void DeliveryReportCallback(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static int StatsCallback(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);

  // Delivery thread only.
  void DeliveryLoop(std::stop_token stop);
  void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t& msg);
  void ReturnFinishedNodes();
  void PurgeAndDrain(rd_kafka_t* rk);
  void RecoverFromFatalError();

  const ProducerOptions options_;
  PendingPool pool_;

  // --- The librdkafka handle. Produce() and CheckReachable() use it under a shared lock; the
  // delivery thread (fatal recovery) and Close() replace/reset it under the exclusive lock, so a
  // Produce() that saw `closed_`/`fatal_` false has enqueued before the handle is drained.
  mutable core::SharedMutex handle_mu_;
  KafkaHandle rk_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> fatal_{false};

  // --- Counters (lock-free).
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<bool> brokers_up_{false};

  // --- Flush() waiters, woken when in_flight_ reaches 0.
  core::Mutex flush_mu_;
  std::condition_variable flush_cv_;

  // --- Delivery thread only.
  PendingMessage* finished_head_ = nullptr;
  PendingMessage* finished_tail_ = nullptr;
  bool draining_fatal_ = false;
  std::string fatal_reason_;

  std::once_flag close_once_;
  std::jthread delivery_thread_;
};

Status ProducerImpl::Init() {
  if (options_.brokers.empty()) return InvalidArgument("kafka producer: no brokers given");
  if (options_.delivery_timeout.count() <= 0) {
    return InvalidArgument("kafka producer: delivery_timeout must be positive");
  }
  if (options_.linger.count() < 0) return InvalidArgument("kafka producer: linger must be >= 0");
  if (options_.queue_max_messages <= 0 || options_.queue_max_kbytes <= 0) {
    return InvalidArgument("kafka producer: queue limits must be positive");
  }
  ASSIGN_OR_RETURN(rk_, NewHandle());
  delivery_thread_ = std::jthread([this](std::stop_token stop) { DeliveryLoop(std::move(stop)); });
  return Status::Ok();
}

StatusOr<KafkaHandle> ProducerImpl::NewHandle() {
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(options_.brokers, options_.client_id));
  // Throughput defaults (see docs/design.md, "Producer"); options_.extra may override these.
  const std::map<std::string, std::string> defaults = {
      {"linger.ms", fmt::format("{}", static_cast<double>(options_.linger.count()) / 1000.0)},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"queue.buffering.max.messages", std::to_string(options_.queue_max_messages)},
      {"queue.buffering.max.kbytes", std::to_string(options_.queue_max_kbytes)},
      // Java client's partitioner: the same key lands on the same partition number as with
      // Kafka's own tools, and in every topic with the same partition count.
      {"partitioner", "murmur2_random"},
      {"statistics.interval.ms", "1000"},  // drives Stats().brokers_up
      {"socket.nagle.disable", "true"},
  };
  RETURN_IF_ERROR(SetConf(conf.get(), defaults));
  RETURN_IF_ERROR(SetConf(conf.get(), options_.extra));
  RETURN_IF_ERROR(ApplyClientProperties(conf.get()));
  // The safety settings: set last, and a client property or an `extra` entry that contradicts
  // them is an error.
  const std::map<std::string, std::string> safety = {
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
      {"compression.codec", options_.compression},
  };
  for (const auto& [key, value] : safety) {
    for (const auto* given : {&ClientProperties(), &options_.extra}) {
      auto it = given->find(key);
      bool same =
          it == given->end() || it->second == value || (key == "acks" && it->second == "-1");
      if (!same) {
        return InvalidArgument(
            fmt::format("kafka producer: {} {}={} contradicts the producer's safety setting {}={} "
                        "(pinpipe sets it itself)",
                        given == &options_.extra ? "extra setting" : "kafka property", key,
                        it->second, key, value));
      }
    }
  }
  RETURN_IF_ERROR(SetConf(conf.get(), safety));
  // Re-read what librdkafka will actually use.
  const std::map<std::string, std::string> expected = {
      {"acks", "-1"},
      {"enable.idempotence", "true"},
      {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
      {"compression.codec", options_.compression}};
  for (const auto& [key, value] : expected) {
    ASSIGN_OR_RETURN(std::string actual, GetConf(conf.get(), key));
    if (actual != value) {
      return InvalidArgument(fmt::format(
          "kafka producer: {} is {} after configuration, expected {}", key, actual, value));
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &DeliveryReportCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &ErrorCallback);
  rd_kafka_conf_set_stats_cb(conf.get(), &StatsCallback);
  return NewClient(RD_KAFKA_PRODUCER, std::move(conf));
}

// timestamp_ms 0: librdkafka stamps the message with the current time.
Status ProducerImpl::Enqueue(std::string_view topic, std::string_view key, std::string_view value,
                             int64_t timestamp_ms, DeliveryCallback done) {
  if (topic.empty() || topic.size() > kMaxTopicNameLength) {
    return InvalidArgument(fmt::format("kafka produce: invalid topic name '{}'", topic));
  }
  char topic_name[kMaxTopicNameLength + 1];
  std::memcpy(topic_name, topic.data(), topic.size());
  topic_name[topic.size()] = '\0';

  PendingMessage* node = pool_.Acquire();
  node->done = std::move(done);
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  rd_kafka_resp_err_t err;
  {
    core::ReaderMutexLock lock(handle_mu_);
    if (closed_.load(std::memory_order_relaxed)) {
      err = RD_KAFKA_RESP_ERR__DESTROY;
    } else if (fatal_.load(std::memory_order_relaxed)) {
      err = RD_KAFKA_RESP_ERR__FATAL;
    } else {
      // rd_kafka_produceva: the rd_kafka_producev macros need C casts.
      rd_kafka_vu_t vus[6];
      vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
      vus[0].u.cstr = topic_name;
      vus[1].vtype = RD_KAFKA_VTYPE_KEY;
      vus[1].u.mem = {key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()};
      vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
      vus[2].u.mem = {const_cast<char*>(value.data()), value.size()};
      vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vus[3].u.i = RD_KAFKA_MSG_F_COPY;
      vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vus[4].u.ptr = node;
      vus[5].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
      vus[5].u.i64 = timestamp_ms;
      rd_kafka_error_t* error = rd_kafka_produceva(rk_.get(), vus, 6);
      if (error != nullptr) {
        err = rd_kafka_error_code(error);
        rd_kafka_error_destroy(error);
      } else {
        err = RD_KAFKA_RESP_ERR_NO_ERROR;
      }
    }
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();

  // Not enqueued: no callback will come.
  node->done = nullptr;
  pool_.Release(node, node);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  switch (err) {
    case RD_KAFKA_RESP_ERR__DESTROY: return Cancelled("kafka produce: producer is closed");
    case RD_KAFKA_RESP_ERR__FATAL:
      return Unavailable("kafka produce: producer is recovering from a fatal error");
    default: return KafkaError(err, fmt::format("kafka produce to '{}'", topic));
  }
}

Status ProducerImpl::Flush(std::chrono::milliseconds timeout) {
  core::MutexLock lock(flush_mu_);
  if (lock.WaitFor(flush_cv_, timeout, [this] { return in_flight_.load() == 0; })) {
    return Status::Ok();
  }
  return DeadlineExceeded(fmt::format("kafka flush: {} messages still unreported after {} ms",
                                      in_flight_.load(), timeout.count()));
}

Status ProducerImpl::CheckReachable(std::chrono::milliseconds timeout) {
  core::ReaderMutexLock lock(handle_mu_);
  if (rk_ == nullptr) return Cancelled("kafka producer is closed");
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, nullptr, &raw, TimeoutMs(timeout));
  MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable(fmt::format("kafka brokers {} not reachable within {} ms: {} ({})",
                                   options_.brokers, timeout.count(), rd_kafka_err2str(err),
                                   rd_kafka_err2name(err)));
  }
  brokers_up_.store(true, std::memory_order_relaxed);
  return Status::Ok();
}

ProducerStats ProducerImpl::Stats() const {
  ProducerStats stats;
  stats.in_flight = in_flight_.load(std::memory_order_relaxed);
  stats.delivered = delivered_.load(std::memory_order_relaxed);
  stats.failed = failed_.load(std::memory_order_relaxed);
  stats.brokers_up = brokers_up_.load(std::memory_order_relaxed);
  return stats;
}

void ProducerImpl::Close(std::chrono::milliseconds timeout) {
  std::call_once(close_once_, [&] {
    if (!delivery_thread_.joinable()) return;  // Init() failed
    Flush(timeout).IgnoreError();
    {
      // Barrier: every Produce() after this sees closed_ and enqueues nothing.
      core::WriterMutexLock lock(handle_mu_);
      closed_.store(true);
    }
    delivery_thread_.request_stop();
    delivery_thread_.join();  // it purges and drains: the rest fail with Cancelled
    core::WriterMutexLock lock(handle_mu_);
    rk_.reset();
  });
}

void ProducerImpl::DeliveryLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    rd_kafka_poll(rk_.get(), kPollIntervalMs);
    ReturnFinishedNodes();
    if (fatal_.load()) RecoverFromFatalError();
  }
  PurgeAndDrain(rk_.get());
}

void ProducerImpl::PurgeAndDrain(rd_kafka_t* rk) {
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (rd_kafka_outq_len(rk) > 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(rk, 50);
  }
  rd_kafka_poll(rk, 0);
  ReturnFinishedNodes();
  if (rd_kafka_outq_len(rk) > 0) {
    LogLine(3, "PURGE", rd_kafka_name(rk),
            fmt::format("{} messages/requests still queued after purge; their callbacks are lost",
                        rd_kafka_outq_len(rk)));
  }
}

void ProducerImpl::RecoverFromFatalError() {
  char errstr[512] = "";
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_.get(), errstr, sizeof(errstr));
  fatal_reason_ = fmt::format("{} ({})", errstr, rd_kafka_err2name(err));
  StatusOr<KafkaHandle> fresh = NewHandle();
  if (!fresh.ok()) {
    // Stay fatal (Produce keeps failing fast with Unavailable); retried on the next poll.
    LogLine(3, "FATAL", rd_kafka_name(rk_.get()),
            "cannot re-create producer after fatal error: " + fresh.status().ToString());
    return;
  }
  KafkaHandle old;
  {
    core::WriterMutexLock lock(handle_mu_);
    old = std::exchange(rk_, std::move(fresh).value());
    fatal_.store(false);
  }
  LogLine(4, "FATAL", rd_kafka_name(old.get()),
          "producer had a fatal error (" + fatal_reason_ +
              "); its queued messages fail with INTERNAL and a new producer handle takes over");
  draining_fatal_ = true;
  PurgeAndDrain(old.get());
  draining_fatal_ = false;
  old.reset();
}

void ProducerImpl::ReturnFinishedNodes() {
  if (finished_head_ != nullptr) {
    pool_.Release(finished_head_, finished_tail_);
    finished_head_ = finished_tail_ = nullptr;
  }
  if (in_flight_.load() == 0) {
    core::MutexLock lock(flush_mu_);
    flush_cv_.notify_all();
  }
}

void ProducerImpl::OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t& msg) {
  auto* node = static_cast<PendingMessage*>(msg._private);
  DeliveryResult result;
  result.partition = msg.partition;
  result.offset = msg.offset;
  if (msg.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    if (!brokers_up_.load(std::memory_order_relaxed)) brokers_up_.store(true);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
    std::string context = fmt::format("kafka delivery to '{}'", rd_kafka_topic_name(msg.rkt));
    // librdkafka purges a fatal handle's queue itself, and those reports may be served before
    // RecoverFromFatalError() runs: a report from a fatal handle (still current, or already
    // replaced) is a fatal-error failure, not a cancellation.
    const bool from_fatal_handle = draining_fatal_ || fatal_.load() || rk != rk_.get();
    if (from_fatal_handle || msg.err == RD_KAFKA_RESP_ERR__FATAL) {
      result.status = Internal(fmt::format("{}: fatal producer error: {}", context,
                                           fatal_reason_.empty() ? "unknown" : fatal_reason_));
    } else {
      // Not rd_kafka_message_errstr(): on a delivery report it returns the (unterminated) value.
      result.status = KafkaError(msg.err, context);
    }
  }
  if (node->done) {
    try {
      node->done(result);
    } catch (const std::exception& e) {
      LogLine(3, "DR", "pinpipe", fmt::format("delivery callback threw: {}", e.what()));
    } catch (...) {
      LogLine(3, "DR", "pinpipe", "delivery callback threw a non-std exception");
    }
    node->done = nullptr;
  }
  node->next = nullptr;
  if (finished_tail_ == nullptr) {
    finished_head_ = finished_tail_ = node;
  } else {
    finished_tail_->next = node;
    finished_tail_ = node;
  }
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
}

void ProducerImpl::DeliveryReportCallback(rd_kafka_t* rk, const rd_kafka_message_t* msg,
                                          void* opaque) {
  static_cast<ProducerImpl*>(opaque)->OnDelivery(rk, *msg);
}

void ProducerImpl::ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<ProducerImpl*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  switch (code) {
    case RD_KAFKA_RESP_ERR__FATAL:
      // Served by rd_kafka_poll() on the delivery thread, like the delivery reports that read it.
      self->fatal_reason_ = reason;
      self->fatal_.store(true);
      break;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: self->brokers_up_.store(false); break;
    default: break;
  }
  LogClientError(rk, code, reason);
}

int ProducerImpl::StatsCallback(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  // Only broker objects have a "state" key (others: "fetch_state", "idemp_state", ...).
  std::string_view stats(json, json_len);
  bool up = stats.find("\"state\":\"UP\"") != std::string_view::npos;
  static_cast<ProducerImpl*>(opaque)->brokers_up_.store(up);
  return 0;  // librdkafka frees json
}

Status ProducerImpl::InjectFatalError(const std::string& reason) {
  core::ReaderMutexLock lock(handle_mu_);
  if (rk_ == nullptr) return Cancelled("kafka producer is closed");
  return KafkaError(rd_kafka_test_fatal_error(
                        rk_.get(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason.c_str()),
                    "rd_kafka_test_fatal_error");
}

}  // namespace

StatusOr<std::unique_ptr<Producer>> Producer::Create(const ProducerOptions& options) {
  auto producer = std::make_unique<ProducerImpl>(options);
  RETURN_IF_ERROR(producer->Init());
  return std::unique_ptr<Producer>(std::move(producer));
}

Status InjectFatalErrorForTesting(Producer& producer, const std::string& reason) {
  auto* impl = dynamic_cast<ProducerImpl*>(&producer);
  if (impl == nullptr) return InvalidArgument("not a kafka producer");
  return impl->InjectFatalError(reason);
}

}  // namespace pinpipe::kafka
