// The optional bearer token of a subcommand's HTTP service (`pinpipe serve`, `pinpipe
// dashboard`): --auth-token and --auth-token-file, each with its own environment variable, and
// the one rule that turns them into a token (http/bearer_auth.h: the file wins).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"

namespace pinpipe::app {

struct AuthTokenFlags {
  std::string token;
  std::string token_file;
};

// Adds --auth-token (`token_env`) and --auth-token-file (`token_file_env`) to `sub`; `routes`
// says what the token protects, for --help.
void AddAuthTokenFlags(CLI::App& sub, AuthTokenFlags* flags, const std::string& token_env,
                       const std::string& token_file_env, const std::string& routes);

// The token to require ("" = authentication off). Errors: as http::ResolveBearerToken.
StatusOr<std::string> ResolveAuthToken(const AuthTokenFlags& flags);

}  // namespace pinpipe::app
