#include "lake/local_store.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace pinpipe::lake {
namespace {

namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pinpipe-lake-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto store = LocalStore::Open(root_ + "/lake");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override { fs::remove_all(root_); }

  // Every file under the store's root, temp files included.
  std::vector<std::string> FilesOnDisk() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(store_->root())) {
      if (e.is_regular_file()) out.push_back(fs::relative(e.path(), store_->root()).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string root_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, PutGetHeadDelete) {
  ASSERT_TRUE(store_->Put("pin/2024/01/part-0.jsonl", "{\"a\":1}\n").ok());
  auto got = store_->Get("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "{\"a\":1}\n");

  auto head = store_->Head("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(head.ok());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->key, "pin/2024/01/part-0.jsonl");
  EXPECT_EQ((*head)->size, 8u);
  EXPECT_FALSE((*head)->etag.empty());
  EXPECT_GT((*head)->last_modified.time_since_epoch().count(), 0);

  // A replacement changes the etag.
  ASSERT_TRUE(store_->Put("pin/2024/01/part-0.jsonl", "{\"a\":2}\n").ok());
  auto head2 = store_->Head("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(head2.ok() && head2->has_value());
  EXPECT_NE((*head2)->etag, (*head)->etag);

  ASSERT_TRUE(store_->Delete("pin/2024/01/part-0.jsonl").ok());
  EXPECT_THAT(store_->Get("pin/2024/01/part-0.jsonl"), StatusIs(StatusCode::kNotFound));
  auto gone = store_->Head("pin/2024/01/part-0.jsonl");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  // Deleting again (a retry) is fine.
  EXPECT_TRUE(store_->Delete("pin/2024/01/part-0.jsonl").ok());
  EXPECT_TRUE(store_->Delete("never/was").ok());
}

TEST_F(LocalStoreTest, EmptyAndBinaryObjects) {
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(store_->Get("empty").value(), "");
  const std::string binary("\0\xff\n\r\x01", 5);
  ASSERT_TRUE(store_->Put("bin", binary).ok());
  EXPECT_EQ(store_->Get("bin").value(), binary);
}

TEST_F(LocalStoreTest, ListIsRecursiveSortedAndPrefixFiltered) {
  for (const char* key : {"b/2", "a/x/y/z", "a/1", "a-b", "a/10", "c", "a/2"}) {
    ASSERT_TRUE(store_->Put(key, key).ok()) << key;
  }
  const auto keys = [&](std::string_view prefix) {
    std::vector<std::string> out;
    auto list = store_->List(prefix);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (list.ok()) {
      for (const auto& info : *list) out.push_back(info.key);
    }
    return out;
  };
  EXPECT_EQ(keys(""),
            (std::vector<std::string>{"a-b", "a/1", "a/10", "a/2", "a/x/y/z", "b/2", "c"}));
  EXPECT_EQ(keys("a/"), (std::vector<std::string>{"a/1", "a/10", "a/2", "a/x/y/z"}));
  EXPECT_EQ(keys("a/1"), (std::vector<std::string>{"a/1", "a/10"}));
  EXPECT_EQ(keys("a"), (std::vector<std::string>{"a-b", "a/1", "a/10", "a/2", "a/x/y/z"}));
  EXPECT_EQ(keys("a/x/"), (std::vector<std::string>{"a/x/y/z"}));
  EXPECT_TRUE(keys("nothing/").empty());
  auto list = store_->List("a/x/y/z");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].size, 7u);
  EXPECT_THAT(store_->List("/abs"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->List("a/../"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(LocalStoreTest, RejectsBadKeys) {
  for (const std::string& key : std::vector<std::string>{
           "", "/abs", "a//b", "a/", "../up", "a/../b", "a/./b", ".", std::string("nul\0byte", 8),
           "ctl\x01", "bad\xff utf8", ".pinpipe-tmp-1-2-3", "a/.pinpipe-tmp-x"}) {
    EXPECT_THAT(store_->Put(key, "x"), StatusIs(StatusCode::kInvalidArgument)) << key;
    EXPECT_THAT(store_->Get(key), StatusIs(StatusCode::kInvalidArgument)) << key;
    EXPECT_THAT(store_->Head(key), StatusIs(StatusCode::kInvalidArgument)) << key;
    EXPECT_THAT(store_->Delete(key), StatusIs(StatusCode::kInvalidArgument)) << key;
    EXPECT_THAT(store_->NewWriter(key, {}), StatusIs(StatusCode::kInvalidArgument)) << key;
  }
  EXPECT_TRUE(FilesOnDisk().empty());
  // Unusual but valid keys.
  for (const std::string& key :
       std::vector<std::string>{"with space", "plus+equals=", "ünï/çødé", "a..b/.hidden", "%41"}) {
    ASSERT_TRUE(store_->Put(key, key).ok()) << key;
    EXPECT_EQ(store_->Get(key).value(), key);
  }
}

TEST_F(LocalStoreTest, ConditionalCreate) {
  PutOptions create;
  create.if_none_match = true;
  ASSERT_TRUE(store_->Put("once", "first", create).ok());
  const Status again = store_->Put("once", "second", create);
  EXPECT_THAT(again, StatusIs(StatusCode::kAlreadyExists)) << again.ToString();
  EXPECT_EQ(store_->Get("once").value(), "first");
  // An unconditional Put replaces.
  ASSERT_TRUE(store_->Put("once", "third").ok());
  EXPECT_EQ(store_->Get("once").value(), "third");
  // The loser left no temp file behind.
  EXPECT_EQ(FilesOnDisk(), std::vector<std::string>{"once"});
}

TEST_F(LocalStoreTest, ConditionalCreateRaceHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  PutOptions create;
  create.if_none_match = true;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::atomic<int> wins{0}, exists{0}, other{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    std::vector<std::string> payloads(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      payloads[t] = "writer-" + std::to_string(t) + std::string(1000 * (t + 1), 'x');
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        Status s;
        if (t % 2 == 0) {
          s = store_->Put(key, payloads[t], create);
        } else {
          auto w = store_->NewWriter(key, create);
          s = w.ok() ? (*w)->Append(payloads[t]) : w.status();
          if (s.ok()) s = (*w)->Close();
        }
        if (s.ok()) {
          ++wins;
        } else if (s.code() == StatusCode::kAlreadyExists) {
          ++exists;
        } else {
          ++other;
        }
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(wins.load(), 1) << key;
    EXPECT_EQ(exists.load(), kThreads - 1) << key;
    EXPECT_EQ(other.load(), 0) << key;
    // The content is exactly one writer's, whole.
    const std::string content = store_->Get(key).value();
    EXPECT_NE(std::find(payloads.begin(), payloads.end(), content), payloads.end());
  }
  EXPECT_EQ(FilesOnDisk().size(), static_cast<size_t>(kRounds));  // no temp files left
}

TEST_F(LocalStoreTest, WriterCommitsOnlyOnClose) {
  auto writer = store_->NewWriter("big/object", {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::string expected;
  for (int i = 0; i < 3000; ++i) {
    const std::string line = "line " + std::to_string(i) + std::string(i % 700, 'z') + "\n";
    ASSERT_TRUE((*writer)->Append(line).ok());
    expected += line;
  }
  ASSERT_TRUE((*writer)->Append(std::string(3 << 20, 'q')).ok());  // larger than the buffer
  expected += std::string(3 << 20, 'q');
  EXPECT_EQ((*writer)->bytes_appended(), expected.size());
  // Not visible before Close.
  EXPECT_FALSE(store_->Head("big/object").value().has_value());
  EXPECT_TRUE(store_->List("").value().empty());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_TRUE((*writer)->Close().ok());  // idempotent
  EXPECT_THAT((*writer)->Append("more"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(store_->Get("big/object").value(), expected);
}

TEST_F(LocalStoreTest, WriterDestroyedWithoutCloseLeavesNothing) {
  ASSERT_TRUE(store_->Put("keep", "old").ok());
  {
    auto writer = store_->NewWriter("keep", {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("new content").ok());
  }
  EXPECT_EQ(store_->Get("keep").value(), "old");
  EXPECT_EQ(FilesOnDisk(), std::vector<std::string>{"keep"});
}

TEST_F(LocalStoreTest, ConditionalWriterLosesToExistingObject) {
  PutOptions create;
  create.if_none_match = true;
  auto writer = store_->NewWriter("k", create);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("mine").ok());
  ASSERT_TRUE(store_->Put("k", "theirs").ok());
  EXPECT_THAT((*writer)->Close(), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(store_->Get("k").value(), "theirs");
  EXPECT_EQ(FilesOnDisk(), std::vector<std::string>{"k"});
}

TEST_F(LocalStoreTest, LeftoverTempFilesAreInvisible) {
  // What a writer killed before rename leaves behind.
  fs::create_directories(store_->root() + "/d");
  std::ofstream(store_->root() + "/d/.pinpipe-tmp-99-0-abc") << "partial";
  ASSERT_TRUE(store_->Put("d/real", "x").ok());
  auto list = store_->List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "d/real");
}

TEST_F(LocalStoreTest, KeyThatIsAlsoAPrefixIsAClearError) {
  ASSERT_TRUE(store_->Put("a/b", "x").ok());
  const Status s = store_->Put("a", "y");
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition)) << s.ToString();
  EXPECT_FALSE(store_->Head("a").value().has_value());  // a directory is not an object
  EXPECT_THAT(store_->Get("a"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->Put("a/b/c", "z"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(LocalStoreTest, OpenRejectsAFile) {
  std::ofstream(root_ + "/file") << "x";
  EXPECT_THAT(LocalStore::Open(root_ + "/file"), StatusIs(StatusCode::kInvalidArgument));
  // Nested missing directories are created.
  auto nested = LocalStore::Open(root_ + "/x/y/z/");
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_EQ((*nested)->root(), root_ + "/x/y/z");
  EXPECT_EQ((*nested)->Describe(), "file://" + root_ + "/x/y/z");
}

}  // namespace
}  // namespace pinpipe::lake
