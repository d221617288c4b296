// Client properties (--kafka-option / --kafka-config): the file format, the refused and unknown
// keys, precedence, and that every client gets them while the producer keeps its safety
// settings. No broker: clients are created against an address where nothing listens.
#include "kafka/client_properties.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "kafka/client_config.h"
#include "kafka/consumer.h"
#include "kafka/inspector.h"
#include "kafka/producer.h"
#include "testing/status_matchers.h"

namespace pinpipe::kafka {
namespace {

// Installs properties for one test and clears them after (they are process-wide).
class Installed {
 public:
  explicit Installed(Properties p) { status_ = SetClientProperties(std::move(p)); }
  ~Installed() { SetClientProperties({}).IgnoreError(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

struct ParseCase {
  std::string name;
  std::string text;
  std::optional<Properties> want;  // nullopt: an error containing `error`
  std::string error = "";
};

class ParsePropertiesTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParsePropertiesTest, ParsesOrSaysWhichLine) {
  const ParseCase& c = GetParam();
  StatusOr<Properties> got = ParseProperties(c.text, "client.properties");
  if (c.want) {
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, *c.want);
  } else {
    ASSERT_FALSE(got.ok());
    EXPECT_THAT(got, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_NE(got.status().message().find(c.error), std::string::npos) << got.status().ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParsePropertiesTest,
    ::testing::Values(
        ParseCase{"empty", "", Properties{}},
        ParseCase{"comments_and_blank_lines", "# a comment\n! another\n\n   \n", Properties{}},
        ParseCase{"trimmed_key_and_value", "  security.protocol =  SASL_SSL  \r\n",
                  Properties{{"security.protocol", "SASL_SSL"}}},
        ParseCase{"colon_separator", "sasl.mechanism: SCRAM-SHA-256\n",
                  Properties{{"sasl.mechanism", "SCRAM-SHA-256"}}},
        ParseCase{"value_keeps_equals_signs", "sasl.password=a=b==\n",
                  Properties{{"sasl.password", "a=b=="}}},
        ParseCase{"empty_value", "ssl.key.password=\n", Properties{{"ssl.key.password", ""}}},
        ParseCase{"no_final_newline", "a=1\nb=2", Properties{{"a", "1"}, {"b", "2"}}},
        ParseCase{"line_without_separator", "a=1\n\nnot a property\n", std::nullopt,
                  "client.properties:3: expected key=value"},
        ParseCase{"empty_key", "=value\n", std::nullopt, "client.properties:1: empty key"},
        ParseCase{"key_given_twice", "a=1\na=2\n", std::nullopt,
                  "client.properties:2: a is given twice"}),
    [](const ::testing::TestParamInfo<ParseCase>& param) { return param.param.name; });

TEST(ClientPropertiesTest, OptionArgumentsNeedKeyAndEquals) {
  auto ok = ParsePropertyArg("sasl.jaas.config=x y=z");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "sasl.jaas.config");
  EXPECT_EQ(ok->second, "x y=z");
  EXPECT_THAT(ParsePropertyArg("no-equals"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePropertyArg("=1"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ClientPropertiesTest, OptionsOverrideTheFileAndBadKeysAreRefusedAtLoad) {
  const std::string path =
      ::testing::TempDir() + "kafka-" + std::to_string(getpid()) + ".properties";
  std::ofstream(path) << "socket.timeout.ms=1000\nsasl.username=alice\n";
  auto loaded = LoadProperties(path, {"socket.timeout.ms=2000"});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, (Properties{{"sasl.username", "alice"}, {"socket.timeout.ms", "2000"}}));
  std::remove(path.c_str());

  EXPECT_THAT(LoadProperties(path, {}), StatusIs(StatusCode::kNotFound));
  struct Refused {
    std::string option, says;
  };
  for (const Refused& r :
       {Refused{"bootstrap.servers=h:1", "--kafka-brokers"},
        Refused{"metadata.broker.list=h:1", "--kafka-brokers"}, Refused{"group.id=g", "--group"},
        Refused{"client.id=c", "itself"}, Refused{"no.such.property=1", "does not know it"},
        Refused{"security.protocol=carrier-pigeon", "Invalid value"}}) {
    StatusOr<Properties> got = LoadProperties("", {r.option});
    ASSERT_FALSE(got.ok()) << r.option;
    EXPECT_THAT(got, StatusIs(StatusCode::kInvalidArgument)) << r.option;
    EXPECT_NE(got.status().message().find(r.says), std::string::npos) << got.status().ToString();
  }
  EXPECT_FALSE(SetClientProperties({{"group.id", "g"}}).ok());
  EXPECT_TRUE(ClientProperties().empty());
}

TEST(ClientPropertiesTest, EveryKindOfClientIsCreatedWithThem) {
  Installed props(Properties{{"socket.timeout.ms", "12345"}, {"sasl.password", "s3cret"}});
  ASSERT_TRUE(props.status().ok()) << props.status().ToString();
  auto conf = NewConf("127.0.0.1:1", "test");
  ASSERT_TRUE(conf.ok());
  ASSERT_TRUE(ApplyClientProperties(conf->get()).ok());
  EXPECT_EQ(*GetConf(conf->get(), "socket.timeout.ms"), "12345");

  ProducerOptions po;
  po.brokers = "127.0.0.1:1";
  EXPECT_TRUE(Producer::Create(po).ok());
  ConsumerOptions co;
  co.brokers = "127.0.0.1:1";
  co.group_id = "g";
  EXPECT_TRUE(Consumer::Create(co).ok());
  InspectorOptions io;
  io.brokers = "127.0.0.1:1";
  EXPECT_TRUE(Inspector::Create(io).ok());
}

TEST(ClientPropertiesTest, TheProducerRefusesAPropertyThatWeakensItsSafetySettings) {
  for (const auto& [key, value] : Properties{{"acks", "1"},
                                             {"enable.idempotence", "false"},
                                             {"message.timeout.ms", "999999"},
                                             {"compression.codec", "none"}}) {
    Installed props(Properties{{key, value}});
    ASSERT_TRUE(props.status().ok()) << key;
    ProducerOptions po;
    po.brokers = "127.0.0.1:1";
    Status s = Producer::Create(po).status();
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << key;
    EXPECT_NE(s.message().find("kafka property " + key + "=" + value + " contradicts"),
              std::string::npos)
        << s.ToString();
  }
  // Tuning is the user's to change.
  Installed tuning(Properties{{"linger.ms", "50"}, {"acks", "all"}});
  ProducerOptions po;
  po.brokers = "127.0.0.1:1";
  EXPECT_TRUE(Producer::Create(po).ok());
}

}  // namespace
}  // namespace pinpipe::kafka
