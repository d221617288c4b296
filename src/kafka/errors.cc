#include "kafka/errors.h"

#include <fmt/format.h>

#include <utility>

namespace pinpipe::kafka {
namespace {

struct ErrorMapping {
  rd_kafka_resp_err_t err;
  StatusCode code;
};

// Local errors (leading underscore, negative values) come from librdkafka itself; the others are
// broker error codes from the Kafka protocol.
constexpr ErrorMapping kErrorTable[] = {
    {RD_KAFKA_RESP_ERR_NO_ERROR, StatusCode::kOk},

    // Timeouts (retriable).
    {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, StatusCode::kDeadlineExceeded},
    {RD_KAFKA_RESP_ERR__TIMED_OUT, StatusCode::kDeadlineExceeded},
    {RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, StatusCode::kDeadlineExceeded},
    {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, StatusCode::kDeadlineExceeded},

    // Cannot reach a broker / partition leader, or not enough in-sync replicas (retriable).
    {RD_KAFKA_RESP_ERR__TRANSPORT, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR__RESOLVE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR__WAIT_COORD, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR__NODE_UPDATE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR__WAIT_CACHE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_NOT_COORDINATOR, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_NOT_CONTROLLER, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH, StatusCode::kUnavailable},
    {RD_KAFKA_RESP_ERR_INVALID_MSG, StatusCode::kUnavailable},  // CORRUPT_MESSAGE: CRC, resend

    // This record / topic / request is bad (permanent).
    {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__INVALID_ARG, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__INVALID_TYPE, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__BAD_MSG, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__KEY_SERIALIZATION, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR__VALUE_SERIALIZATION, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_RECORD, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_CONFIG, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_REQUEST, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_POLICY_VIOLATION, StatusCode::kInvalidArgument},
    {RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS, StatusCode::kInvalidArgument},

    // Local producer queue full (retriable once the queue drains).
    {RD_KAFKA_RESP_ERR__QUEUE_FULL, StatusCode::kResourceExhausted},
    {RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED, StatusCode::kResourceExhausted},

    // Closing.
    {RD_KAFKA_RESP_ERR__PURGE_QUEUE, StatusCode::kCancelled},
    {RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, StatusCode::kCancelled},
    {RD_KAFKA_RESP_ERR__DESTROY, StatusCode::kCancelled},

    // Admin results.
    {RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, StatusCode::kAlreadyExists},
    {RD_KAFKA_RESP_ERR__NOENT, StatusCode::kNotFound},
    {RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND, StatusCode::kNotFound},

    // State and version problems: someone has to act (upgrade the broker, fix the setup).
    {RD_KAFKA_RESP_ERR__STATE, StatusCode::kFailedPrecondition},
    {RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS, StatusCode::kFailedPrecondition},
    {RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, StatusCode::kFailedPrecondition},
    {RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, StatusCode::kFailedPrecondition},
    {RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE, StatusCode::kFailedPrecondition},
    {RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, StatusCode::kFailedPrecondition},

    // Credentials.
    {RD_KAFKA_RESP_ERR__AUTHENTICATION, StatusCode::kUnauthenticated},
    {RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, StatusCode::kUnauthenticated},
    {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, StatusCode::kUnauthenticated},
    {RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, StatusCode::kUnauthenticated},

    // Fatal producer state: idempotence guarantees can no longer be kept on this handle.
    {RD_KAFKA_RESP_ERR__FATAL, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR__INCONSISTENT, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR__FENCED, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR_PRODUCER_FENCED, StatusCode::kInternal},
    {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING, StatusCode::kInternal},
};

}  // namespace

StatusCode KafkaErrorCode(rd_kafka_resp_err_t err) {
  for (const ErrorMapping& m : kErrorTable) {
    if (m.err == err) return m.code;
  }
  return StatusCode::kInternal;
}

Status KafkaError(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail) {
  StatusCode code = KafkaErrorCode(err);
  if (code == StatusCode::kOk) return Status::Ok();
  std::string message = context.empty()
                            ? fmt::format("{} ({})", detail, rd_kafka_err2name(err))
                            : fmt::format("{}: {} ({})", context, detail, rd_kafka_err2name(err));
  return Status(code, std::move(message));
}

Status KafkaError(rd_kafka_resp_err_t err, std::string_view context) {
  return KafkaError(err, context, rd_kafka_err2str(err));
}

}  // namespace pinpipe::kafka
