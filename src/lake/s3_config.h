// ResolveS3Config: turns S3Options plus the environment and the AWS shared files into the exact
// settings an S3Store uses (endpoint parts, addressing, region, credentials). Each empty field
// of S3Options is looked up in this order (the AWS CLI's, plus pinpipe's endpoint variable):
//   endpoint     PINPIPE_S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile endpoint_url
//                (or s3.endpoint_url), else https://s3.<region>.amazonaws.com
//   region       AWS_REGION, AWS_DEFAULT_REGION, profile region, else us-east-1
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the profile
//                in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), else in AWS_CONFIG_FILE
//                (~/.aws/config); profile = S3Options::profile, AWS_PROFILE, else "default"
//   addressing   profile s3.addressing_style (path|virtual|auto), else kAuto
// The environment is passed in as a lookup function so tests need not touch the process's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/status.h"
#include "lake/s3_options.h"
#include "lake/sigv4.h"

namespace pinpipe::lake {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// std::getenv; unset and empty variables are both nullopt.
EnvLookup ProcessEnv();

struct S3Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // "127.0.0.1", "s3.eu-west-1.amazonaws.com", "[::1]"
  uint16_t port = 0;   // 0: the scheme's default
  // "host" or "host:port" as the Host header carries it (port only when not the default).
  std::string Authority() const;
};

// "http://127.0.0.1:9000" (a trailing '/' is allowed; no path, query or userinfo).
StatusOr<S3Endpoint> ParseS3Endpoint(std::string_view url);

struct S3Config {
  S3Endpoint endpoint;
  std::string region;
  SigV4Credentials credentials;
  bool path_style = true;  // resolved from S3Addressing for the bucket
  S3Options options;       // the numeric settings (part size, retries, timeouts), validated
  // Where the credentials came from ("options", "environment", "~/.aws/credentials [default]"),
  // for error messages; never the secret itself.
  std::string credentials_source;
};

// Errors: InvalidArgument for a malformed endpoint, bad part size (< 5 MiB) or retry settings,
// or a half-set key pair; Unauthenticated when no credentials are found anywhere.
StatusOr<S3Config> ResolveS3Config(const S3Options& options, std::string_view bucket,
                                   const EnvLookup& env = ProcessEnv());

}  // namespace pinpipe::lake
