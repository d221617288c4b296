// The fake other modules test against must keep the ObjectStore contract and its switches must
// do what they say.
#include "testing/fake_object_store.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinpipe::testing {
namespace {

TEST(FakeObjectStoreTest, KeepsTheContract) {
  FakeObjectStore store;
  ASSERT_TRUE(store.Put("b/1", "one").ok());
  ASSERT_TRUE(store.Put("a/2", "two").ok());
  EXPECT_EQ(store.Get("b/1").value(), "one");
  EXPECT_THAT(store.Get("nope"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store.Put("bad//key", "x"), StatusIs(StatusCode::kInvalidArgument));
  lake::PutOptions create;
  create.if_none_match = true;
  EXPECT_THAT(store.Put("b/1", "again", create), StatusIs(StatusCode::kAlreadyExists));
  auto head = store.Head("a/2");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->size, 3u);
  auto list = store.List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key, "a/2");
  EXPECT_EQ(store.List("b").value().size(), 1u);
  EXPECT_TRUE(store.Delete("b/1").ok());
  EXPECT_TRUE(store.Delete("b/1").ok());

  auto writer = store.NewWriter("w", {});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(store.open_writers(), 1);
  ASSERT_TRUE((*writer)->Append("ab").ok());
  EXPECT_FALSE(store.Head("w").value().has_value());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(store.Get("w").value(), "ab");
  EXPECT_EQ(store.open_writers(), 0);
}

TEST(FakeObjectStoreTest, FaultSwitches) {
  FakeObjectStore store;
  store.FailNthPut(2, Unavailable("boom"));
  EXPECT_TRUE(store.Put("1", "x").ok());
  EXPECT_EQ(store.Put("2", "x"), Unavailable("boom"));
  EXPECT_TRUE(store.Put("3", "x").ok());
  EXPECT_EQ(store.objects().count("2"), 0u);

  // Writer Closes count as puts.
  store.FailNthPut(1);
  auto writer = store.NewWriter("w", {});
  ASSERT_TRUE((*writer)->Append("x").ok());
  EXPECT_THAT((*writer)->Close(), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(store.objects().count("w"), 0u);

  store.FailGetOf("1", DataLoss("bad disk"));
  EXPECT_THAT(store.Get("1"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(store.Head("1"), StatusIs(StatusCode::kDataLoss));
  EXPECT_TRUE(store.Get("3").ok());

  store.FailNextLists(1);
  EXPECT_THAT(store.List(""), StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(store.List("").ok());

  store.FailNextDeletes(1);
  EXPECT_THAT(store.Delete("3"), StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(store.Delete("3").ok());

  store.FailAppends();
  auto failing = store.NewWriter("f", {});
  EXPECT_THAT((*failing)->Append("x"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*failing)->Close(), StatusIs(StatusCode::kUnavailable));

  store.ClearFaults();
  EXPECT_TRUE(store.Get("1").ok());
  store.IgnoreIfNoneMatch(true);
  lake::PutOptions create;
  create.if_none_match = true;
  EXPECT_TRUE(store.Put("1", "overwritten", create).ok());
  EXPECT_EQ(store.Get("1").value(), "overwritten");
  EXPECT_EQ(store.put_calls(), 5);  // the failing writer never reached the commit
}

}  // namespace
}  // namespace pinpipe::testing
