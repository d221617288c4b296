#include "lake/s3_client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "core/ascii.h"
#include "core/backoff.h"
#include "lake/internal/crypto.h"
#include "lake/s3_errors.h"

namespace pinpipe::lake {
namespace {

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Collects the headers of the last response (a "100 Continue" or other interim response
// starts with its own status line, which resets the list).
size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<HeaderPairs*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    headers->clear();
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * count;
}

// Full jitter (AWS's "Exponential Backoff And Jitter"): uniformly random in [0, cap], the cap
// from the back-off schedule (core::Backoff: doubling per retry up to the maximum), so that many
// clients throttled together do not retry in lockstep.
std::chrono::milliseconds FullJitter(std::chrono::milliseconds cap) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  if (cap.count() <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<int64_t> dist(0, cap.count());
  return std::chrono::milliseconds(dist(rng));
}

bool HasHeader(const HeaderPairs& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return core::EqualsIgnoreAsciiCase(h.first, name); });
}

}  // namespace

std::string_view S3Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (core::EqualsIgnoreAsciiCase(k, name)) return v;
  }
  return {};
}

S3Client::S3Client(S3Config config, std::string bucket)
    : config_(std::move(config)),
      bucket_(std::move(bucket)),
      signer_(config_.credentials, config_.region, "s3"),
      pool_(config_.options.max_idle_connections) {}

std::string S3Client::HostHeader() const {
  if (config_.path_style) return config_.endpoint.Authority();
  return bucket_ + "." + config_.endpoint.Authority();
}

std::string S3Client::Path(const S3Request& request) const {
  std::string path = "/";
  if (config_.path_style) {
    path += bucket_;
    if (!request.key.empty()) path += "/";
  }
  path += request.key;
  return path;
}

std::string S3Client::Url(const S3Request& request) const {
  // The path is encoded exactly as SigV4Signer::CanonicalRequest encodes it (once, '/' kept),
  // so the server's canonical request matches ours byte for byte.
  std::string url = config_.endpoint.scheme + "://" + HostHeader() +
                    UriEncode(Path(request), /*keep_slash=*/true);
  for (size_t i = 0; i < request.query.size(); ++i) {
    url += i == 0 ? '?' : '&';
    url += UriEncode(request.query[i].first, false);
    url += '=';
    url += UriEncode(request.query[i].second, false);
  }
  return url;
}

StatusOr<S3Response> S3Client::Send(const S3Request& request) {
  const std::string payload_hash = internal::Sha256Hex(request.body);
  const int max_attempts = std::max(1, config_.options.max_attempts);
  core::Backoff backoff(config_.options.initial_backoff, config_.options.max_backoff);
  for (int attempt = 1;; ++attempt) {
    StatusOr<S3Response> response = SendOnce(request, payload_hash);
    bool retry;
    if (response.ok()) {
      response->attempts = attempt;
      retry = IsRetriableS3(response->status, response->body);
    } else {
      retry = response.status().retriable();
    }
    if (!retry || attempt >= max_attempts) return response;
    std::this_thread::sleep_for(FullJitter(backoff.Next()));
  }
}

StatusOr<S3Response> S3Client::SendOnce(const S3Request& request, const std::string& payload_hash) {
  requests_sent_.fetch_add(1, std::memory_order_relaxed);
  internal::CurlPool::Lease lease = pool_.Acquire();
  CURL* curl = lease.get();
  if (curl == nullptr) return ResourceExhausted(request.operation + ": curl_easy_init failed");
  // Reset keeps the handle's live connection and caches but clears every option of the last use.
  curl_easy_reset(curl);

  SigV4Request signed_request;
  signed_request.method = request.method;
  signed_request.path = Path(request);
  signed_request.query = request.query;
  signed_request.headers.emplace_back("Host", HostHeader());
  for (const auto& h : request.headers) signed_request.headers.push_back(h);
  signed_request.payload_hash = payload_hash;
  signer_.SignS3Request(signed_request, std::chrono::system_clock::now());

  internal::CurlSlist headers;
  const auto add_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
    return next != nullptr;
  };
  bool ok = true;
  for (const auto& [name, value] : signed_request.headers) ok &= add_header(name + ": " + value);
  // curl would otherwise wait up to a second for "100 Continue" before sending a large body.
  ok &= add_header("Expect:");
  // With a body and no Content-Type, curl adds an (unsigned) form content type: remove it.
  if (!HasHeader(request.headers, "Content-Type")) ok &= add_header("Content-Type:");
  if (!ok) return ResourceExhausted(request.operation + ": curl_slist_append failed");

  const std::string url = Url(request);
  S3Response response;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);    // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // send the path exactly as signed
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.options.connect_timeout.count()));
  // A stalled transfer (under 1 byte/s for stall_timeout) fails and is retried; no total timeout.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(config_.options.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    // The body is in memory: POSTFIELDS sends it with a Content-Length; CUSTOMREQUEST sets the
    // verb. An empty body is a real zero-length body (an empty object), not "no body".
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    lease.Discard();
    return StatusFromCurl(rc, error_buffer, request.operation);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace pinpipe::lake
