#include "core/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace pinpipe {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, ClassifiesErrors) {
  EXPECT_EQ(Unavailable("x").error_class(), ErrorClass::kRetriable);
  EXPECT_EQ(ResourceExhausted("x").error_class(), ErrorClass::kRetriable);
  EXPECT_EQ(InvalidArgument("x").error_class(), ErrorClass::kPermanent);
  EXPECT_EQ(Internal("x").error_class(), ErrorClass::kFatal);
  EXPECT_EQ(Status::Ok().error_class(), ErrorClass::kNone);
}

TEST(StatusTest, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(Quarter(6, &out), InvalidArgument("odd"));
  EXPECT_EQ(Unavailable("down").WithContext("kafka").ToString(), "UNAVAILABLE: kafka: down");
}

// tests/testing/status_matchers.h: matches on the code (and the message), for Status and
// StatusOr, and says what it got when it does not.
TEST(StatusTest, StatusIsMatchesCodeAndMessage) {
  using ::testing::HasSubstr;
  using ::testing::Not;
  EXPECT_THAT(Half(3), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Half(3), StatusIs(StatusCode::kInvalidArgument, HasSubstr("odd")));
  EXPECT_THAT(Half(3), Not(StatusIs(StatusCode::kInvalidArgument, HasSubstr("even"))));
  EXPECT_THAT(Half(3), Not(StatusIs(StatusCode::kNotFound)));
  EXPECT_THAT(Half(4), StatusIs(StatusCode::kOk));
  EXPECT_THAT(NotFound("k"), StatusIs(StatusCode::kNotFound, "k"));
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(StatusIs(StatusCode::kOk), Half(5), &listener));
  EXPECT_EQ(listener.str(), "whose status is INVALID_ARGUMENT: odd");
}

}  // namespace
}  // namespace pinpipe
