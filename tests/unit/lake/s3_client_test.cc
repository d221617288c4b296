#include "lake/s3_client.h"

#include <gtest/gtest.h>

namespace pinpipe::lake {
namespace {

S3Config ConfigFor(const std::string& endpoint, bool path_style) {
  S3Config config;
  config.endpoint = ParseS3Endpoint(endpoint).value();
  config.region = "us-east-1";
  config.credentials = {"id", "secret", ""};
  config.path_style = path_style;
  return config;
}

TEST(S3ClientTest, PathStyleUrls) {
  S3Client client(ConfigFor("http://127.0.0.1:9000", true), "bkt");
  S3Request req;
  req.key = "dir/a b+c=d/ü";
  EXPECT_EQ(client.Url(req), "http://127.0.0.1:9000/bkt/dir/a%20b%2Bc%3Dd/%C3%BC");
  S3Request list;
  list.query = {{"list-type", "2"}, {"prefix", "a/b c"}, {"continuation-token", "x+y/z="}};
  EXPECT_EQ(
      client.Url(list),
      "http://127.0.0.1:9000/bkt?list-type=2&prefix=a%2Fb%20c&continuation-token=x%2By%2Fz%3D");
  S3Request uploads;
  uploads.key = "k";
  uploads.query = {{"uploads", ""}};
  EXPECT_EQ(client.Url(uploads), "http://127.0.0.1:9000/bkt/k?uploads=");
}

TEST(S3ClientTest, VirtualHostedUrls) {
  S3Client client(ConfigFor("https://s3.eu-west-1.amazonaws.com", false), "my-bucket");
  S3Request req;
  req.key = "a/b";
  EXPECT_EQ(client.Url(req), "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b");
  S3Request list;
  list.query = {{"list-type", "2"}};
  EXPECT_EQ(client.Url(list), "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2");
}

TEST(S3ClientTest, ResponseHeaderLookupIgnoresCase) {
  S3Response r;
  r.headers = {{"ETag", "\"x\""}, {"content-length", "5"}};
  EXPECT_EQ(r.Header("etag"), "\"x\"");
  EXPECT_EQ(r.Header("Content-Length"), "5");
  EXPECT_EQ(r.Header("missing"), "");
}

}  // namespace
}  // namespace pinpipe::lake
