#include "kafka/client_config.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinpipe::kafka {
namespace {

TEST(ClientConfigTest, DetectsGuaranteeDowngrades) {
  EXPECT_TRUE(IsGuaranteeDowngrade("COMPRESSION", "LZ4 compression not supported by broker"));
  EXPECT_TRUE(IsGuaranteeDowngrade("IDEMPSTATE", "Idempotent producer disabled"));
  EXPECT_TRUE(IsGuaranteeDowngrade("PRODUCE", "sending uncompressed: compression unsupported"));
  EXPECT_FALSE(IsGuaranteeDowngrade("FAIL", "Connect to ipv4#127.0.0.1:1 failed"));
  EXPECT_FALSE(IsGuaranteeDowngrade("IDEMPSTATE", "Idempotent producer state change Init"));
}

TEST(ClientConfigTest, ClientErrorsLogAtTheirLevels) {
  struct Case {
    rd_kafka_resp_err_t code;
    int level;
  };
  const Case cases[] = {
      {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, 4},  // a warning: the client keeps retrying
      {RD_KAFKA_RESP_ERR__TRANSPORT, 6},         // librdkafka's FAIL line already said it
      {RD_KAFKA_RESP_ERR__RESOLVE, 6},          {RD_KAFKA_RESP_ERR__FATAL, 3},
      {RD_KAFKA_RESP_ERR__AUTHENTICATION, 3},   {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 3},
  };
  for (const Case& c : cases)
    EXPECT_EQ(ClientErrorLevel(c.code), c.level) << rd_kafka_err2name(c.code);
}

TEST(ClientConfigTest, SetConfRejectsUnknownKeysByName) {
  ConfHandle conf(rd_kafka_conf_new());
  Status s = SetConf(conf.get(), "no.such.property", "1");
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(s.message().find("no.such.property"), std::string::npos) << s.message();
}

TEST(ClientConfigTest, GetConfReadsTopicLevelKeysSetOnGlobalConf) {
  ConfHandle conf(rd_kafka_conf_new());
  ASSERT_TRUE(SetConf(conf.get(), "acks", "all").ok());
  StatusOr<std::string> acks = GetConf(conf.get(), "acks");
  ASSERT_TRUE(acks.ok()) << acks.status().ToString();
  EXPECT_EQ(*acks, "-1");
}

}  // namespace
}  // namespace pinpipe::kafka
