#include "testing/timed_producer.h"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include "kafka/handles.h"

namespace pinpipe::testing {
namespace {

struct Deliveries {
  int64_t acked = 0;
  int64_t failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++d->acked;
  } else if (d->failed++ == 0) {
    d->first_error = rd_kafka_err2str(message->err);
  }
}

}  // namespace

Status ProduceWithTimestamps(const std::string& brokers, const std::string& topic,
                             const std::vector<TimedRecord>& records) {
  Deliveries deliveries;
  kafka::ConfHandle conf(rd_kafka_conf_new());
  char err[512];
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", brokers},
      {"enable.idempotence", "true"},
      {"linger.ms", "5"},
      {"client.id", "pinpipe-test-timed-producer"}};
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), key, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return InvalidArgument(fmt::format("{}={}: {}", key, value, err));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  rd_kafka_conf_set_opaque(conf.get(), &deliveries);
  // rd_kafka_new owns the configuration only when it succeeds.
  kafka::KafkaHandle producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err));
  if (!producer) return InvalidArgument(fmt::format("rd_kafka_new: {}", err));
  (void)conf.release();
  for (const TimedRecord& r : records) {
    while (true) {
      const rd_kafka_resp_err_t e =
          rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_KEY(const_cast<char*>(r.key.data()), r.key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_TIMESTAMP(r.timestamp_ms), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return Internal(fmt::format("produce to {}: {}", topic, rd_kafka_err2str(e)));
      }
      rd_kafka_poll(producer.get(), 100);
    }
    rd_kafka_poll(producer.get(), 0);
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(producer.get(), 60000);
  if (deliveries.failed > 0) {
    return Unavailable(fmt::format("{} of {} record(s) to {} failed, first: {}", deliveries.failed,
                                   records.size(), topic, deliveries.first_error));
  }
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR ||
      deliveries.acked != static_cast<int64_t>(records.size())) {
    return DeadlineExceeded(fmt::format("{} of {} record(s) to {} acknowledged after 60 s",
                                        deliveries.acked, records.size(), topic));
  }
  return Status::Ok();
}

}  // namespace pinpipe::testing
