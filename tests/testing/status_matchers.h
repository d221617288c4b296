// StatusIs: gmock matchers for Status and StatusOr<T> (core/status.h), so that a failing check
// prints the whole status it got (code and message), not two bare enum values.
//
//   EXPECT_THAT(store.Get(key), StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(Parse(text), StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 3")));
//
// In namespace pinpipe, so that tests anywhere in pinpipe::* call them unqualified.
#pragma once

#include <gmock/gmock.h>

#include <string>

#include "core/status.h"

namespace pinpipe {
namespace status_matchers_internal {

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const StatusOr<T>& s) {
  return s.status();
}

}  // namespace status_matchers_internal

MATCHER_P(StatusIs, code, "") {
  const Status s = status_matchers_internal::StatusOf(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const Status s = status_matchers_internal::StatusOf(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code && ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace pinpipe
