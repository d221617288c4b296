#include "http/bearer_auth.h"

#include <cctype>
#include <fstream>

namespace pinpipe::http {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(
        diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

bool BearerTokenMatches(const Request& request, std::string_view token) {
  if (token.empty()) return true;
  std::string_view auth = request.Header("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (auth.size() <= kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return false;
    }
  }
  return ConstantTimeEquals(auth.substr(kPrefix.size()), token);
}

StatusOr<std::string> ResolveBearerToken(const std::string& token, const std::string& token_file) {
  if (token_file.empty()) return token;
  std::ifstream in(token_file);
  if (!in) return NotFound("cannot read the token file " + token_file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty())
    return InvalidArgument("the token file " + token_file + " starts with an empty line");
  return line;
}

}  // namespace pinpipe::http
