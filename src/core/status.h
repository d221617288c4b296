// Status and StatusOr<T>: the error currency of pinpipe.
//
// Every fallible function returns Status or StatusOr<T> (both [[nodiscard]]). A Status carries a
// code, a human-readable message, and - derived from the code - how a caller should react:
//   * retriable:  back off and try again (broker down, queue full, connection lost, timeout);
//   * permanent:  this one input is bad; reject or dead-letter it and go on (schema violation);
//   * fatal:      stop cleanly (misconfiguration, broken invariant).
// Exceptions thrown by third-party code are caught at the wrapper that calls it and turned into a
// Status; they never cross a module boundary. Thread-safety: values, freely copyable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/check.h"

namespace pinpipe {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // bad input (permanent for that input)
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // create of something that exists
  kFailedPrecondition,  // system not in a state to do this (permanent until someone acts)
  kUnauthenticated,     // missing or wrong credentials
  kResourceExhausted,   // queue full, body too large, limit hit (retriable later)
  kUnavailable,         // a service is down or unreachable (retriable)
  kDeadlineExceeded,    // timed out (retriable)
  kCancelled,           // shutting down
  kDataLoss,            // unrecoverable corruption
  kInternal,            // broken invariant in our code or a library
};

std::string_view StatusCodeName(StatusCode code);

enum class ErrorClass : uint8_t { kNone, kRetriable, kPermanent, kFatal };

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  ErrorClass error_class() const;
  bool retriable() const { return error_class() == ErrorClass::kRetriable; }

  // "UNAVAILABLE: broker down" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status where ignoring it is the intended behaviour.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// StatusOr<T>: either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    PINPIPE_CHECK(!std::get<Status>(v_).ok()) << "StatusOr constructed from OK status";
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & {
    PINPIPE_CHECK(ok()) << status().ToString();
    return std::get<T>(v_);
  }
  const T& value() const& {
    PINPIPE_CHECK(ok()) << status().ToString();
    return std::get<T>(v_);
  }
  T&& value() && {
    PINPIPE_CHECK(ok()) << status().ToString();
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pinpipe

#define PINPIPE_CONCAT_INNER(a, b) a##b
#define PINPIPE_CONCAT(a, b) PINPIPE_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::pinpipe::Status pinpipe_status_ = (expr);        \
    if (!pinpipe_status_.ok()) return pinpipe_status_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(PINPIPE_CONCAT(pinpipe_statusor_, __LINE__), lhs, expr)
