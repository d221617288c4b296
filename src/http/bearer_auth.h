// Bearer-token authentication (RFC 6750), shared by every pinpipe HTTP service that offers it
// (the ingestion API, the dashboard): the token check, and reading the token from a file.
//
// BearerTokenMatches() compares in constant time, so the token cannot be guessed byte by byte
// from response times; the scheme name is case-insensitive (RFC 7235). Pure functions, except
// ReadBearerTokenFile, which reads a file; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/server.h"

namespace pinpipe::http {

// True when `token` is empty (authentication off) or the request carries
// `Authorization: Bearer <token>`.
bool BearerTokenMatches(const Request& request, std::string_view token);

// Constant-time equality of two strings (the time depends on the lengths only).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The token for a service from its two settings: `token_file`, when not empty, wins and is read
// (its first line, trailing CR and spaces removed); else `token`. Errors: NotFound when the
// file cannot be read; InvalidArgument when it holds an empty first line.
StatusOr<std::string> ResolveBearerToken(const std::string& token, const std::string& token_file);

}  // namespace pinpipe::http
