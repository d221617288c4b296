#include "ingest/errors.h"

namespace pinpipe::ingest {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled:
    case StatusCode::kFailedPrecondition: return 503;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

http::Response ErrorResponse(const Status& status, int retry_after_seconds) {
  http::Response r;
  r.status = HttpStatusFor(status);
  r.body = "{\"detail\":";
  core::AppendJsonString(status.message(), &r.body);
  r.body += ",\"code\":";
  core::AppendJsonString(StatusCodeName(status.code()), &r.body);
  r.body += '}';
  if (r.status == 503) r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

void AppendErrorDetails(std::span<const core::FieldError> errors, std::string_view loc_prefix,
                        std::string* out) {
  bool first = true;
  for (const auto& e : errors) {
    if (!first) *out += ',';
    first = false;
    *out += "{\"loc\":[";
    *out += loc_prefix;
    if (!e.field.empty()) {
      *out += ',';
      core::AppendJsonString(e.field, out);
    }
    *out += "],\"msg\":";
    core::AppendJsonString(e.msg, out);
    *out += ",\"type\":";
    core::AppendJsonString(e.type, out);
    *out += '}';
  }
}

http::Response ValidationErrorResponse(std::span<const core::FieldError> errors) {
  http::Response r;
  r.status = 422;
  r.body = "{\"detail\":[";
  AppendErrorDetails(errors, "\"body\"", &r.body);
  r.body += "]}";
  return r;
}

}  // namespace pinpipe::ingest
