// The one table that turns librdkafka error codes into pinpipe Status codes.
//
// Every place in src/kafka that sees an rd_kafka_resp_err_t goes through KafkaError(), so the
// retriable / permanent / fatal classification of a Kafka error is decided here only:
//   DeadlineExceeded   - message.timeout.ms or a request timed out (retriable);
//   Unavailable        - no connection, leader moving, not enough replicas (retriable);
//   InvalidArgument    - this record or topic is bad: too large, unknown topic (permanent);
//   ResourceExhausted  - the local producer queue is full (retriable later);
//   Cancelled          - purged because the client is closing;
//   Internal           - fatal client state (idempotence sequence broken, fenced) (fatal).
// Codes missing from the table map to Internal, so a new code is loud, not silently retried.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string_view>

#include "core/status.h"

namespace pinpipe::kafka {

// The StatusCode for `err` (kOk for RD_KAFKA_RESP_ERR_NO_ERROR).
StatusCode KafkaErrorCode(rd_kafka_resp_err_t err);

// A Status for `err`: "<context>: <librdkafka description> (<error name>)", or OK.
Status KafkaError(rd_kafka_resp_err_t err, std::string_view context);

// As above with librdkafka's own detail string (errstr) instead of the generic description.
Status KafkaError(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail);

}  // namespace pinpipe::kafka
