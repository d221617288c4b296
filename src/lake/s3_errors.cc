#include "lake/s3_errors.h"

#include <curl/curl.h>

#include <string>

namespace pinpipe::lake {
namespace {

bool IsOneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (std::string_view c : codes) {
    if (code == c) return true;
  }
  return false;
}

StatusCode CodeFor(int http_status, std::string_view s3_code) {
  if (http_status == 400 && s3_code == "RequestTimeout") return StatusCode::kUnavailable;
  if (http_status == 409) {
    return IsOneOf(s3_code, {"ConditionalRequestConflict", "OperationAborted"})
               ? StatusCode::kUnavailable
               : StatusCode::kFailedPrecondition;
  }
  switch (http_status) {
    case 401:
    case 403: return StatusCode::kUnauthenticated;
    case 404: return StatusCode::kNotFound;
    case 412: return StatusCode::kFailedPrecondition;
    case 429: return StatusCode::kResourceExhausted;
    case 501: return StatusCode::kFailedPrecondition;
    default: break;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  if (http_status >= 400) return StatusCode::kInvalidArgument;
  // 1xx/3xx: S3 redirects (301 PermanentRedirect: wrong region or endpoint) are not followed.
  return StatusCode::kFailedPrecondition;
}

}  // namespace

Status StatusFromS3(int http_status, std::string_view body, std::string_view operation) {
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  const std::optional<S3Error> error = ParseS3Error(body);
  std::string m(operation);
  m += ": HTTP ";
  m += std::to_string(http_status);
  if (error) {
    if (!error->code.empty()) {
      m += ' ';
      m += error->code;
    }
    if (!error->message.empty()) {
      m += ": ";
      m += error->message;
    }
    if (!error->request_id.empty()) {
      m += " (request id ";
      m += error->request_id;
      m += ')';
    }
  } else if (!body.empty()) {
    // Not S3 XML (a proxy's HTML page, say): a bounded excerpt helps more than nothing.
    m += ": ";
    m += body.substr(0, 200);
  }
  return Status(CodeFor(http_status, error ? std::string_view(error->code) : ""), std::move(m));
}

bool IsRetriableS3(int http_status, std::string_view body) {
  if (http_status >= 500 || http_status == 429) return true;
  if (http_status == 400 || http_status == 409) {
    const auto error = ParseS3Error(body);
    if (!error) return false;
    return http_status == 400
               ? error->code == "RequestTimeout"
               : IsOneOf(error->code, {"ConditionalRequestConflict", "OperationAborted"});
  }
  return false;
}

Status StatusFromCurl(int curl_code, std::string_view detail, std::string_view operation) {
  const auto code = static_cast<CURLcode>(curl_code);
  std::string m(operation);
  m += ": ";
  m += curl_easy_strerror(code);
  if (!detail.empty()) {
    m += " (";
    m += detail;
    m += ')';
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return DeadlineExceeded(std::move(m));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return InvalidArgument(std::move(m));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return Unauthenticated(std::move(m));
    case CURLE_OUT_OF_MEMORY: return ResourceExhausted(std::move(m));
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR: return Internal(std::move(m));
    default:
      // Resolve, connect, send, receive, reset, partial transfers, TLS handshakes: the network or
      // the server is (maybe briefly) unavailable.
      return Unavailable(std::move(m));
  }
}

}  // namespace pinpipe::lake
