#include "lake/store_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "lake/local_store.h"
#include "lake/s3_store.h"
#include "testing/status_matchers.h"

namespace pinpipe::lake {
namespace {

TEST(StoreUrlTest, LocalForms) {
  auto file = ParseStoreUrl("file:///data/my%20lake");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->kind, StoreUrl::Kind::kLocal);
  EXPECT_EQ(file->path, "/data/my lake");
  auto plain = ParseStoreUrl("/data/lake");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->kind, StoreUrl::Kind::kLocal);
  EXPECT_EQ(plain->path, "/data/lake");
  auto relative = ParseStoreUrl("lake/dir");
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->path, "lake/dir");
}

TEST(StoreUrlTest, S3Forms) {
  auto bare = ParseStoreUrl("s3://my-bucket");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->kind, StoreUrl::Kind::kS3);
  EXPECT_EQ(bare->bucket, "my-bucket");
  EXPECT_EQ(bare->prefix, "");
  EXPECT_EQ(ParseStoreUrl("s3://my-bucket/").value().prefix, "");
  EXPECT_EQ(ParseStoreUrl("s3://my.bucket.1/a/b").value().prefix, "a/b/");
  EXPECT_EQ(ParseStoreUrl("s3://bkt/a/b/").value().prefix, "a/b/");
}

TEST(StoreUrlTest, Errors) {
  for (const char* url :
       {"", "gs://bucket/x", "http://host/x", "file://host/path", "file:///bad%zzescape", "s3://",
        "s3://ab", "s3://UPPER", "s3://-bad", "s3://bad-", "s3://a..b", "s3://192.168.1.1",
        "s3://under_score", "s3://bucket/a//b", "s3://bucket/../x"}) {
    EXPECT_THAT(ParseStoreUrl(url), StatusIs(StatusCode::kInvalidArgument)) << url;
  }
  EXPECT_THAT(ParseStoreUrl(std::string(64, 'b').insert(0, "s3://")),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(OpenObjectStoreTest, OpensLocalStoresFromUrlsAndPaths) {
  char tmpl[] = "/tmp/pinpipe-lake-url-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  auto by_url = OpenObjectStore("file://" + root + "/one");
  ASSERT_TRUE(by_url.ok()) << by_url.status().ToString();
  EXPECT_EQ((*by_url)->Describe(), "file://" + root + "/one");
  ASSERT_TRUE((*by_url)->Put("k", "v").ok());
  auto by_path = OpenObjectStore(root + "/one");
  ASSERT_TRUE(by_path.ok());
  EXPECT_EQ((*by_path)->Get("k").value(), "v");
  EXPECT_THAT(OpenObjectStore("ftp://x"), StatusIs(StatusCode::kInvalidArgument));
  std::filesystem::remove_all(root);
}

TEST(OpenObjectStoreTest, OpensS3StoresWithoutSendingAnything) {
  S3Options options;
  options.endpoint = "http://127.0.0.1:1";
  options.region = "us-east-1";
  options.access_key_id = "id";
  options.secret_access_key = "secret";
  auto store = OpenObjectStore("s3://bucket/some/prefix", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(),
            "s3://bucket/some/prefix/ (http://127.0.0.1:1, region us-east-1)");
  // Nothing listens on port 1: the first request is Unavailable (after the retries).
  options.max_attempts = 2;
  options.initial_backoff = std::chrono::milliseconds(1);
  options.max_backoff = std::chrono::milliseconds(1);
  auto quick = OpenObjectStore("s3://bucket", options);
  ASSERT_TRUE(quick.ok());
  const Status s = (*quick)->Put("k", "v");
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable)) << s.ToString();
  EXPECT_NE(s.message().find("PutObject k"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace pinpipe::lake
