// PINPIPE_CHECK(cond) << "context": an invariant check that stays on in release builds.
// For broken invariants in our own code only; user input must never reach one (return a Status).
#pragma once

#include <sstream>

namespace pinpipe::internal {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets `cond ? (void)0 : Voidify() & CheckFailure(...) << x` type-check.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace pinpipe::internal

#define PINPIPE_CHECK(cond)                 \
  (cond) ? (void)0                          \
         : ::pinpipe::internal::Voidify() & \
               ::pinpipe::internal::CheckFailure(__FILE__, __LINE__, #cond)
