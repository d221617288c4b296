#include "auth_flags.h"

#include "http/bearer_auth.h"

namespace pinpipe::app {

void AddAuthTokenFlags(CLI::App& sub, AuthTokenFlags* flags, const std::string& token_env,
                       const std::string& token_file_env, const std::string& routes) {
  sub.add_option("--auth-token", flags->token,
                 "Require 'Authorization: Bearer <token>' on " + routes + " (off when empty)")
      ->envname(token_env);
  sub.add_option("--auth-token-file", flags->token_file,
                 "Read the bearer token from the first line of this file (instead of --auth-token)")
      ->envname(token_file_env);
}

StatusOr<std::string> ResolveAuthToken(const AuthTokenFlags& flags) {
  return http::ResolveBearerToken(flags.token, flags.token_file);
}

}  // namespace pinpipe::app
