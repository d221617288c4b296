// Integration tests of src/lake against a real S3-compatible server (MinIO, started by
// scripts/test, which checks every SigV4 signature). Each test works under its own key prefix.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "lake/object_store.h"
#include "lake/s3_store.h"
#include "testing/s3_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::lake {
namespace {

using pinpipe::testing::ScratchS3Prefix;
using pinpipe::testing::TestS3;

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s3 = pinpipe::testing::TestS3FromEnv();
    if (!s3)
      GTEST_SKIP() << "PINPIPE_TEST_S3_ENDPOINT is not set; start the S3 server via scripts/test";
    s3_ = *s3;
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    scratch_ = std::make_unique<ScratchS3Prefix>(s3_, name);
    ASSERT_TRUE(scratch_->ok()) << scratch_->error();
  }
  S3Store& store() { return scratch_->store(); }

  TestS3 s3_;
  std::unique_ptr<ScratchS3Prefix> scratch_;
};

TEST_F(S3StoreTest, PutGetHeadListDelete) {
  ASSERT_TRUE(store().Put("pin/2024/01/part-0.jsonl", "{\"a\":1}\n").ok());
  auto got = store().Get("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "{\"a\":1}\n");

  auto head = store().Head("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->key, "pin/2024/01/part-0.jsonl");
  EXPECT_EQ((*head)->size, 8u);
  EXPECT_EQ((*head)->etag.size(), 32u);  // MD5 of a single PUT
  EXPECT_GT((*head)->last_modified.time_since_epoch().count(), 0);

  auto list = store().List("pin/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "pin/2024/01/part-0.jsonl");
  EXPECT_EQ((*list)[0].size, 8u);
  EXPECT_EQ((*list)[0].etag, (*head)->etag);

  ASSERT_TRUE(store().Delete("pin/2024/01/part-0.jsonl").ok());
  EXPECT_THAT(store().Get("pin/2024/01/part-0.jsonl"), StatusIs(StatusCode::kNotFound));
  auto gone = store().Head("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE(store().Delete("pin/2024/01/part-0.jsonl").ok());  // idempotent
  EXPECT_TRUE(store().List("").value().empty());
}

TEST_F(S3StoreTest, EmptyAndBinaryObjects) {
  ASSERT_TRUE(store().Put("empty", "").ok());
  EXPECT_EQ(store().Get("empty").value(), "");
  EXPECT_EQ(store().Head("empty").value()->size, 0u);
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  ASSERT_TRUE(store().Put("bin", binary).ok());
  EXPECT_EQ(store().Get("bin").value(), binary);
}

TEST_F(S3StoreTest, SpecialCharactersInKeys) {
  const std::vector<std::string> keys = {
      "with space/file name.txt",   "plus+sign",      "equals=sign&amp",
      "ünïcødé/日本語/😀",           "sym!$'()*,;:@~", "percent%20literal",
      "tilde~dot.dash-under_score", "a/b/c/d/e/f"};
  for (const std::string& key : keys) {
    const Status put = store().Put(key, "content of " + key);
    ASSERT_TRUE(put.ok()) << key << ": " << put.ToString();
  }
  for (const std::string& key : keys) {
    auto got = store().Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, "content of " + key);
    auto head = store().Head(key);
    ASSERT_TRUE(head.ok() && head->has_value()) << key;
  }
  auto list = store().List("");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> listed;
  for (const auto& info : *list) listed.push_back(info.key);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
  for (const std::string& key : keys) EXPECT_TRUE(store().Delete(key).ok()) << key;
  EXPECT_TRUE(store().List("").value().empty());
}

TEST_F(S3StoreTest, ListPaginatesPastOneThousandKeys) {
  constexpr int kKeys = 1010;
  // Uploaded from 4 threads: the store is shared, as the batch job will share it.
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kKeys; i = next++) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%05d", i);
        if (!store().Put(key, std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(store().Put("other/x", "x").ok());

  auto list = store().List("many/");  // 1000 keys per page: two pages
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(list->front().key, "many/00000");
  EXPECT_EQ(list->back().key, "many/01009");
  for (size_t i = 1; i < list->size(); ++i) ASSERT_LT((*list)[i - 1].key, (*list)[i].key);

  store().set_list_page_size(7);  // many small pages, a partial last one
  auto paged = store().List("many/0100");
  ASSERT_TRUE(paged.ok()) << paged.status().ToString();
  ASSERT_EQ(paged->size(), 10u);
  EXPECT_EQ(paged->back().key, "many/01009");
  EXPECT_EQ(store().List("").value().size(), static_cast<size_t>(kKeys) + 1);
}

TEST_F(S3StoreTest, ConditionalCreate) {
  PutOptions create;
  create.if_none_match = true;
  ASSERT_TRUE(store().Put("once", "first", create).ok());
  const Status again = store().Put("once", "second", create);
  EXPECT_THAT(again, StatusIs(StatusCode::kAlreadyExists)) << again.ToString();
  EXPECT_EQ(store().Get("once").value(), "first");
  ASSERT_TRUE(store().Put("once", "replaced").ok());
  EXPECT_EQ(store().Get("once").value(), "replaced");
}

TEST_F(S3StoreTest, ConditionalCreateRaceHasExactlyOneWinner) {
  PutOptions create;
  create.if_none_match = true;
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::atomic<int> wins{0}, exists{0};
    std::vector<std::string> errors(kThreads);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        const Status s = store().Put(key, "writer " + std::to_string(t), create);
        if (s.ok()) {
          ++wins;
        } else if (s.code() == StatusCode::kAlreadyExists) {
          ++exists;
        } else {
          errors[t] = s.ToString();
        }
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(wins.load(), 1) << key << " " << ::testing::PrintToString(errors);
    EXPECT_EQ(exists.load(), kThreads - 1) << key << " " << ::testing::PrintToString(errors);
  }
}

TEST_F(S3StoreTest, MultipartUploadOfTwentyMebibytes) {
  auto writer = store().NewWriter("big/object.bin", {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::string expected;
  expected.reserve(20 << 20);
  uint32_t x = 12345;
  while (expected.size() < (20u << 20) + 12345) {  // ~20 MiB, not a multiple of the part size
    std::string chunk(64 * 1024 + (x % 1000), '\0');
    for (char& c : chunk) {
      x = x * 1103515245u + 12345u;
      c = static_cast<char>(x >> 24);
    }
    ASSERT_TRUE((*writer)->Append(chunk).ok());
    expected += chunk;
  }
  // Parts are on the server, the object is not.
  EXPECT_FALSE(store().Head("big/object.bin").value().has_value());
  const Status closed = (*writer)->Close();
  ASSERT_TRUE(closed.ok()) << closed.ToString();

  auto head = store().Head("big/object.bin");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->size, expected.size());
  EXPECT_TRUE((*head)->etag.ends_with("-3")) << (*head)->etag;  // 8 + 8 + ~4 MiB
  auto got = store().Get("big/object.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == expected) << "content differs";
}

TEST_F(S3StoreTest, ConditionalMultipartLosesToAConcurrentWriter) {
  S3Options options = pinpipe::testing::TestS3Options(s3_);
  options.part_size = 5 << 20;
  ScratchS3Prefix scratch(s3_, "mp-race", options);
  ASSERT_TRUE(scratch.ok()) << scratch.error();
  PutOptions create;
  create.if_none_match = true;
  auto first = scratch.store().NewWriter("k", create);
  auto second = scratch.store().NewWriter("k", create);
  ASSERT_TRUE(first.ok() && second.ok());
  for (int i = 0; i < 6; ++i) {  // both past the early check, both uploading parts
    ASSERT_TRUE((*first)->Append(std::string(1 << 20, '1')).ok());
    ASSERT_TRUE((*second)->Append(std::string(1 << 20, '2')).ok());
  }
  ASSERT_TRUE((*first)->Close().ok());
  const Status lost = (*second)->Close();
  EXPECT_THAT(lost, StatusIs(StatusCode::kAlreadyExists)) << lost.ToString();
  EXPECT_EQ(scratch.store().Get("k").value(), std::string(6 << 20, '1'));
}

TEST_F(S3StoreTest, AbandonedWriterCommitsNothing) {
  {
    auto writer = store().NewWriter("abandoned", {});
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*writer)->Append(std::string(1 << 20, 'a')).ok());
  }  // destroyed without Close: the multipart upload is aborted
  EXPECT_FALSE(store().Head("abandoned").value().has_value());
  EXPECT_TRUE(store().List("").value().empty());
}

TEST_F(S3StoreTest, ParallelReadersShareOneStore) {
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(store().Put("r/" + std::to_string(i), std::string(100000 + i, 'r')).ok());
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        const int i = (t * 7 + round) % 16;
        auto got = store().Get("r/" + std::to_string(i));
        if (!got.ok() || got->size() != static_cast<size_t>(100000 + i)) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(S3StoreTest, WrongSecretIsRefused) {
  S3Options options = pinpipe::testing::TestS3Options(s3_);
  options.secret_access_key = "definitely-not-the-secret";
  auto wrong = S3Store::Open(s3_.bucket, scratch_->prefix(), options);
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
  const Status put = (*wrong)->Put("k", "v");
  EXPECT_THAT(put, StatusIs(StatusCode::kUnauthenticated)) << put.ToString();
  EXPECT_NE(put.message().find("HTTP 403 SignatureDoesNotMatch"), std::string::npos)
      << put.ToString();
  EXPECT_FALSE(put.retriable());
  EXPECT_THAT((*wrong)->Get("k"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT((*wrong)->List(""), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_FALSE(store().Head("k").value().has_value());  // nothing was written

  options.secret_access_key = s3_.secret_key;
  options.access_key_id = "NOSUCHKEY";
  auto unknown = S3Store::Open(s3_.bucket, scratch_->prefix(), options);
  ASSERT_TRUE(unknown.ok());
  EXPECT_THAT((*unknown)->Get("k"), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(S3StoreTest, MissingBucketIsNotFound) {
  S3Options options = pinpipe::testing::TestS3Options(s3_);
  auto store = S3Store::Open("pinpipe-no-such-bucket", "", options);
  ASSERT_TRUE(store.ok());
  const Status put = (*store)->Put("k", "v");
  EXPECT_THAT(put, StatusIs(StatusCode::kNotFound)) << put.ToString();
  EXPECT_NE(put.message().find("NoSuchBucket"), std::string::npos) << put.ToString();
}

TEST_F(S3StoreTest, OpenObjectStoreByUrl) {
  auto opened = OpenObjectStore(scratch_->url(), pinpipe::testing::TestS3Options(s3_));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_TRUE((*opened)->Put("via-url", "x").ok());
  EXPECT_EQ(store().Get("via-url").value(), "x");  // same prefix
}

}  // namespace
}  // namespace pinpipe::lake
