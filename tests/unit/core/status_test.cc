#include "core/status.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pinpipe
