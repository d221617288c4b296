// The one mapping at the HTTP edge: Status -> HTTP status code and JSON body, and the
// FastAPI-compatible rendering of validation errors:
//   422 {"detail":[{"loc":["body","follower_count"],"msg":"...","type":"..."}]}
// Clients written for the original FastAPI app parse these bodies unchanged.
#pragma once

#include <span>
#include <string>

#include "core/record_validator.h"
#include "core/status.h"
#include "http/server.h"

namespace pinpipe::ingest {

// HTTP status for a non-OK Status: InvalidArgument 422, Unauthenticated 401, NotFound 404,
// ResourceExhausted/Unavailable/DeadlineExceeded/Cancelled/FailedPrecondition 503 (retry),
// everything else 500.
int HttpStatusFor(const Status& status);

// A complete error response for `status`; retriable ones carry `Retry-After: <seconds>`.
http::Response ErrorResponse(const Status& status, int retry_after_seconds);

// Appends the `detail` array items for `errors` (without brackets), each loc prefixed by
// `loc_prefix` (e.g. `"body"` or `"body",3`).
void AppendErrorDetails(std::span<const core::FieldError> errors, std::string_view loc_prefix,
                        std::string* out);

// A 422 response with FastAPI's body for `errors`.
http::Response ValidationErrorResponse(std::span<const core::FieldError> errors);

}  // namespace pinpipe::ingest
