#include "lake/s3_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "lake/aws_profile.h"
#include "testing/status_matchers.h"

namespace pinpipe::lake {
namespace {

TEST(AwsProfileTest, ReadsCredentialsFile) {
  const std::string text =
      "# comment\n"
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key=secret/with+chars=#x\n"
      "\n"
      "[lake]\r\n"
      "  AWS_ACCESS_KEY_ID   =   AKIDLAKE  \r\n"
      "aws_secret_access_key = s2\r\n"
      "; another comment\n"
      "aws_session_token = tok\n"
      "[other]\n"
      "aws_access_key_id = nope\n";
  auto def = FindAwsProfile(text, "default", AwsFileKind::kCredentials);
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(def->at("aws_access_key_id"), "AKIDDEFAULT");
  EXPECT_EQ(def->at("aws_secret_access_key"), "secret/with+chars=#x");
  auto lake = FindAwsProfile(text, "lake", AwsFileKind::kCredentials);
  ASSERT_TRUE(lake.has_value());
  EXPECT_EQ(lake->at("aws_access_key_id"), "AKIDLAKE");
  EXPECT_EQ(lake->at("aws_secret_access_key"), "s2");
  EXPECT_EQ(lake->at("aws_session_token"), "tok");
  EXPECT_EQ(lake->size(), 3u);
  EXPECT_FALSE(FindAwsProfile(text, "missing", AwsFileKind::kCredentials).has_value());
}

TEST(AwsProfileTest, ReadsConfigFileWithProfilePrefixAndNestedS3) {
  const std::string text =
      "[default]\n"
      "region = eu-west-1\n"
      "[profile lake]\n"
      "region = eu-central-1\n"
      "s3 =\n"
      "  addressing_style = path\n"
      "  endpoint_url = http://127.0.0.1:9000\n"
      "output = json\n"
      "[lake]\n"
      "region = wrong-section\n"
      "[sso-session x]\n"
      "region = ignored\n";
  auto def = FindAwsProfile(text, "default", AwsFileKind::kConfig);
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(def->at("region"), "eu-west-1");
  auto lake = FindAwsProfile(text, "lake", AwsFileKind::kConfig);
  ASSERT_TRUE(lake.has_value());
  EXPECT_EQ(lake->at("region"), "eu-central-1");
  EXPECT_EQ(lake->at("s3.addressing_style"), "path");
  EXPECT_EQ(lake->at("s3.endpoint_url"), "http://127.0.0.1:9000");
  EXPECT_EQ(lake->at("output"), "json");
  EXPECT_EQ(lake->count("s3"), 0u);
}

class ResolveS3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pinpipe-lake-aws-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    env_["HOME"] = home_;
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  void Write(const std::string& relative, const std::string& text) {
    std::filesystem::create_directories(
        std::filesystem::path(home_ + "/" + relative).parent_path());
    std::ofstream(home_ + "/" + relative) << text;
  }
  EnvLookup Env() const {
    return [env = env_](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }

  std::string home_;
  std::map<std::string, std::string> env_;
};

TEST_F(ResolveS3ConfigTest, NoCredentialsAnywhereIsUnauthenticated) {
  const auto config = ResolveS3Config({}, "bucket", Env());
  EXPECT_THAT(config, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_NE(config.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST_F(ResolveS3ConfigTest, DefaultsToAwsWithVirtualHostedAddressing) {
  env_["AWS_ACCESS_KEY_ID"] = "AKID";
  env_["AWS_SECRET_ACCESS_KEY"] = "SECRET";
  env_["AWS_SESSION_TOKEN"] = "TOKEN";
  env_["AWS_DEFAULT_REGION"] = "eu-north-1";
  auto config = ResolveS3Config({}, "bucket", Env());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->region, "eu-north-1");
  EXPECT_EQ(config->endpoint.scheme, "https");
  EXPECT_EQ(config->endpoint.host, "s3.eu-north-1.amazonaws.com");
  EXPECT_EQ(config->endpoint.port, 0);
  EXPECT_FALSE(config->path_style);
  EXPECT_EQ(config->credentials.access_key_id, "AKID");
  EXPECT_EQ(config->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(config->credentials.session_token, "TOKEN");
  // A bucket with dots stays path-style (TLS wildcard certificates do not cover it).
  EXPECT_TRUE(ResolveS3Config({}, "my.bucket", Env())->path_style);
  // AWS_REGION wins over AWS_DEFAULT_REGION.
  env_["AWS_REGION"] = "ap-south-1";
  EXPECT_EQ(ResolveS3Config({}, "bucket", Env())->region, "ap-south-1");
}

TEST_F(ResolveS3ConfigTest, PinpipeEndpointMeansPathStyle) {
  env_["AWS_ACCESS_KEY_ID"] = "AKID";
  env_["AWS_SECRET_ACCESS_KEY"] = "SECRET";
  env_["PINPIPE_S3_ENDPOINT"] = "http://127.0.0.1:19000/";
  env_["AWS_ENDPOINT_URL"] = "http://ignored:1";
  auto config = ResolveS3Config({}, "pinpipe", Env());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->endpoint.Authority(), "127.0.0.1:19000");
  EXPECT_TRUE(config->path_style);
  EXPECT_EQ(config->region, "us-east-1");
  S3Options virtual_hosted;
  virtual_hosted.addressing = S3Addressing::kVirtualHosted;
  EXPECT_FALSE(ResolveS3Config(virtual_hosted, "pinpipe", Env())->path_style);
}

TEST_F(ResolveS3ConfigTest, OptionsWinOverEnvironmentOverFiles) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = FILEID\naws_secret_access_key = FILESECRET\n");
  Write(".aws/config", "[default]\nregion = eu-west-3\n");
  auto from_file = ResolveS3Config({}, "b", Env());
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->credentials.access_key_id, "FILEID");
  EXPECT_EQ(from_file->credentials.secret_access_key, "FILESECRET");
  EXPECT_EQ(from_file->region, "eu-west-3");
  EXPECT_NE(from_file->credentials_source.find(".aws/credentials [default]"), std::string::npos);
  EXPECT_EQ(from_file->credentials_source.find("FILESECRET"), std::string::npos);

  env_["AWS_ACCESS_KEY_ID"] = "ENVID";
  env_["AWS_SECRET_ACCESS_KEY"] = "ENVSECRET";
  EXPECT_EQ(ResolveS3Config({}, "b", Env())->credentials.access_key_id, "ENVID");

  S3Options options;
  options.access_key_id = "OPTID";
  options.secret_access_key = "OPTSECRET";
  options.region = "us-west-2";
  options.endpoint = "https://minio.example:9443";
  auto from_options = ResolveS3Config(options, "b", Env());
  ASSERT_TRUE(from_options.ok());
  EXPECT_EQ(from_options->credentials.access_key_id, "OPTID");
  EXPECT_EQ(from_options->region, "us-west-2");
  EXPECT_EQ(from_options->endpoint.Authority(), "minio.example:9443");
}

TEST_F(ResolveS3ConfigTest, NamedProfileFromEitherFile) {
  Write("creds", "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n");
  Write("conf",
        "[profile lake]\nregion = sa-east-1\naws_access_key_id = CONFID\n"
        "aws_secret_access_key = CONFSECRET\ns3 =\n  addressing_style = virtual\n"
        "  endpoint_url = https://lake.example\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = home_ + "/creds";
  env_["AWS_CONFIG_FILE"] = home_ + "/conf";
  env_["AWS_PROFILE"] = "lake";
  auto config = ResolveS3Config({}, "b", Env());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->credentials.access_key_id, "CONFID");
  EXPECT_EQ(config->region, "sa-east-1");
  EXPECT_EQ(config->endpoint.host, "lake.example");
  EXPECT_FALSE(config->path_style);  // the profile asked for virtual-hosted

  S3Options default_profile;
  default_profile.profile = "default";
  EXPECT_EQ(ResolveS3Config(default_profile, "b", Env())->credentials.access_key_id, "D");
}

TEST_F(ResolveS3ConfigTest, RejectsHalfConfiguredCredentialsAndBadSettings) {
  env_["AWS_ACCESS_KEY_ID"] = "ONLYID";
  EXPECT_THAT(ResolveS3Config({}, "b", Env()), StatusIs(StatusCode::kInvalidArgument));
  env_.erase("AWS_ACCESS_KEY_ID");
  Write(".aws/credentials", "[default]\naws_access_key_id = X\n");
  EXPECT_THAT(ResolveS3Config({}, "b", Env()), StatusIs(StatusCode::kInvalidArgument));

  S3Options o;
  o.access_key_id = "a";
  o.secret_access_key = "b";
  S3Options small = o;
  small.part_size = 1024;
  EXPECT_THAT(ResolveS3Config(small, "b", Env()), StatusIs(StatusCode::kInvalidArgument));
  S3Options attempts = o;
  attempts.max_attempts = 0;
  EXPECT_THAT(ResolveS3Config(attempts, "b", Env()), StatusIs(StatusCode::kInvalidArgument));
  S3Options half = o;
  half.secret_access_key.clear();
  EXPECT_THAT(ResolveS3Config(half, "b", Env()), StatusIs(StatusCode::kInvalidArgument));
}

TEST(S3EndpointTest, Parses) {
  auto a = ParseS3Endpoint("http://127.0.0.1:9000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scheme, "http");
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9000);
  EXPECT_EQ(a->Authority(), "127.0.0.1:9000");
  EXPECT_EQ(ParseS3Endpoint("https://s3.amazonaws.com:443/")->Authority(), "s3.amazonaws.com");
  EXPECT_EQ(ParseS3Endpoint("http://[::1]:9000")->Authority(), "[::1]:9000");
  for (const char* bad : {"127.0.0.1:9000", "ftp://x", "http://", "http://h:0", "http://h:99999",
                          "http://h:x", "http://h/path", "http://u@h", "http://h?q", "http://h:"}) {
    EXPECT_THAT(ParseS3Endpoint(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace pinpipe::lake
