#include "kafka/errors.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinpipe::kafka {
namespace {

TEST(KafkaErrorTest, MapsTheDocumentedCodes) {
  struct Case {
    rd_kafka_resp_err_t err;
    StatusCode code;
  };
  const Case cases[] = {
      {RD_KAFKA_RESP_ERR_NO_ERROR, StatusCode::kOk},
      {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, StatusCode::kDeadlineExceeded},
      {RD_KAFKA_RESP_ERR__TIMED_OUT, StatusCode::kDeadlineExceeded},
      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, StatusCode::kDeadlineExceeded},
      {RD_KAFKA_RESP_ERR__TRANSPORT, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR__RESOLVE, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR__INVALID_ARG, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR__QUEUE_FULL, StatusCode::kResourceExhausted},
      {RD_KAFKA_RESP_ERR__PURGE_QUEUE, StatusCode::kCancelled},
      {RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, StatusCode::kCancelled},
      {RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, StatusCode::kAlreadyExists},
      {RD_KAFKA_RESP_ERR__FATAL, StatusCode::kInternal},
      {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, StatusCode::kInternal},
      {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, StatusCode::kUnauthenticated},
      {RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(KafkaErrorCode(c.err), c.code) << rd_kafka_err2name(c.err);
  }
}

TEST(KafkaErrorTest, RetriableClassification) {
  EXPECT_TRUE(KafkaError(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x").retriable());
  EXPECT_TRUE(KafkaError(RD_KAFKA_RESP_ERR__TRANSPORT, "x").retriable());
  EXPECT_TRUE(KafkaError(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x").retriable());
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "x").error_class(),
            ErrorClass::kPermanent);
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR__FATAL, "x").error_class(), ErrorClass::kFatal);
}

TEST(KafkaErrorTest, UnknownCodesAreInternalNotSilentlyRetried) {
  EXPECT_EQ(KafkaErrorCode(RD_KAFKA_RESP_ERR_PRINCIPAL_DESERIALIZATION_FAILURE),
            StatusCode::kInternal);
}

TEST(KafkaErrorTest, MessageNamesContextDetailAndCode) {
  Status s = KafkaError(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "delivery to 'pinterest'");
  EXPECT_THAT(s, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_NE(s.message().find("delivery to 'pinterest': "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("(_MSG_TIMED_OUT)"), std::string::npos) << s.message();
  EXPECT_TRUE(KafkaError(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR__TRANSPORT, "ctx", "Connection refused").message(),
            "ctx: Connection refused (_TRANSPORT)");
}

}  // namespace
}  // namespace pinpipe::kafka
