// The one S3 -> Status mapping table of pinpipe (docs/design.md, "one mapping table at each
// edge"): HTTP status plus the <Error><Code> of the body, and libcurl's transport errors.
//
//   2xx                              OK
//   404 (NoSuchKey, NoSuchBucket,    NotFound
//        NoSuchUpload)
//   401, 403 (AccessDenied,          Unauthenticated: wrong or missing credentials, a bad
//     SignatureDoesNotMatch,           signature, a policy refusal, a skewed clock; permanent
//     InvalidAccessKeyId, ...)         until the configuration is fixed
//   412 PreconditionFailed           FailedPrecondition (a conditional create turns it into
//                                      AlreadyExists where it knows the condition)
//   409 ConditionalRequestConflict,  Unavailable (retriable: a concurrent conditional write)
//       OperationAborted
//   409 others, 501 NotImplemented   FailedPrecondition
//   400 RequestTimeout               Unavailable (retriable: the server gave up waiting for us)
//   400, 405, 411, 413, 416 ...      InvalidArgument
//   429, 503 SlowDown                ResourceExhausted / Unavailable (retriable: throttled)
//   5xx                              Unavailable (retriable)
//   curl: connect/send/recv/reset    Unavailable (retriable); timeouts DeadlineExceeded
//         (retriable); TLS verification Unauthenticated; malformed URL InvalidArgument
// Messages read "<operation>: HTTP 403 SignatureDoesNotMatch: <server message> (request id R)".
#pragma once

#include <string_view>

#include "core/status.h"
#include "lake/s3_responses.h"

namespace pinpipe::lake {

// OK for 2xx; otherwise the Status for an S3 answer with this status code and body.
Status StatusFromS3(int http_status, std::string_view body, std::string_view operation);

// True when an S3 answer should be retried after a back-off (5xx, 429, 400 RequestTimeout,
// 409 ConditionalRequestConflict/OperationAborted).
bool IsRetriableS3(int http_status, std::string_view body);

// The Status for a failed libcurl transfer (`curl_code` is a CURLcode).
Status StatusFromCurl(int curl_code, std::string_view detail, std::string_view operation);

}  // namespace pinpipe::lake
