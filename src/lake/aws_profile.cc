#include "lake/aws_profile.h"
#include "core/ascii.h"

namespace pinpipe::lake {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The profile a section header names in this kind of file, or nullopt for sections that are
// not profiles ("[sso-session x]", "[services x]").
std::optional<std::string> SectionProfile(std::string_view header, AwsFileKind kind) {
  header = Trim(header);
  if (kind == AwsFileKind::kCredentials) return std::string(header);
  if (header == "default") return std::string("default");
  if (header.starts_with("profile ") || header.starts_with("profile\t")) {
    return std::string(Trim(header.substr(8)));
  }
  return std::nullopt;
}

}  // namespace

std::optional<AwsProfile> FindAwsProfile(std::string_view text, std::string_view profile,
                                         AwsFileKind kind) {
  std::optional<AwsProfile> found;
  bool in_profile = false;
  std::string parent;  // "s3" while reading the indented lines of "s3 ="
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const bool indented = !line.empty() && (line.front() == ' ' || line.front() == '\t');
    line = Trim(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (close == std::string_view::npos) continue;
      const auto name = SectionProfile(line.substr(1, close - 1), kind);
      in_profile = name.has_value() && *name == profile;
      // A repeated section adds to the first one, as in the CLI.
      if (in_profile && !found) found.emplace();
      parent.clear();
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = core::AsciiLower(Trim(line.substr(0, eq)));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (key.empty()) continue;
    if (indented && !parent.empty()) {
      (*found)[parent + "." + key] = std::string(value);
      continue;
    }
    parent.clear();
    if (value.empty()) {
      parent = key;  // "s3 =" opens nested settings
      continue;
    }
    // No inline comments: like botocore, "a # b" is the value "a # b" (secrets may hold '#').
    (*found)[key] = std::string(value);
  }
  return found;
}

}  // namespace pinpipe::lake
