#include "lake/s3_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lake/aws_profile.h"

namespace pinpipe::lake {
namespace {

constexpr size_t kMinPartSize = 5 * 1024 * 1024;
constexpr size_t kMaxPartSize = 5ull * 1024 * 1024 * 1024;

std::optional<std::string> FirstOf(const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (auto v = env(name); v && !v->empty()) return v;
  }
  return std::nullopt;
}

// The file's text, or nullopt when it cannot be read (a missing file is normal).
std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ExpandHome(const std::string& path, const EnvLookup& env) {
  if (path == "~" || path.starts_with("~/")) {
    if (auto home = env("HOME")) return *home + path.substr(1);
  }
  return path;
}

struct ProfileFiles {
  std::string credentials_path;
  std::string config_path;
  std::optional<AwsProfile> credentials;  // the profile's section in each file
  std::optional<AwsProfile> config;
};

ProfileFiles LoadProfile(const std::string& profile, const EnvLookup& env) {
  ProfileFiles files;
  files.credentials_path =
      ExpandHome(FirstOf(env, {"AWS_SHARED_CREDENTIALS_FILE"}).value_or("~/.aws/credentials"), env);
  files.config_path = ExpandHome(FirstOf(env, {"AWS_CONFIG_FILE"}).value_or("~/.aws/config"), env);
  if (auto text = ReadFile(files.credentials_path)) {
    files.credentials = FindAwsProfile(*text, profile, AwsFileKind::kCredentials);
  }
  if (auto text = ReadFile(files.config_path)) {
    files.config = FindAwsProfile(*text, profile, AwsFileKind::kConfig);
  }
  return files;
}

std::string Get(const std::optional<AwsProfile>& p, const std::string& key) {
  if (!p) return {};
  auto it = p->find(key);
  return it == p->end() ? std::string() : it->second;
}

bool ValidHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

std::string S3Endpoint::Authority() const {
  if (port == 0) return host;
  return host + ":" + std::to_string(port);
}

StatusOr<S3Endpoint> ParseS3Endpoint(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("S3 endpoint \"" + std::string(url) + "\": " + std::string(why));
  };
  S3Endpoint ep;
  std::string_view rest;
  if (url.starts_with("http://")) {
    ep.scheme = "http";
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    ep.scheme = "https";
    rest = url.substr(8);
  } else {
    return bad("must start with http:// or https://");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return bad("only scheme://host[:port] is allowed (no path, query or user)");
  }
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with("[")) {  // IPv6 literal
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = rest.substr(0, close + 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the IPv6 address");
      port = after.substr(1);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    for (char c : host) {
      if (!ValidHostChar(c)) return bad("invalid host name");
    }
  } else {
    for (char c : host) {
      if (!ValidHostChar(c)) return bad("invalid host name");
    }
  }
  if (host.empty()) return bad("no host");
  ep.host = std::string(host);
  if (!port.empty() || rest.back() == ':') {
    if (port.empty() || port.size() > 5) return bad("invalid port");
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return bad("invalid port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return bad("invalid port");
    const bool default_port =
        (ep.scheme == "http" && value == 80) || (ep.scheme == "https" && value == 443);
    ep.port = default_port ? 0 : static_cast<uint16_t>(value);
  }
  return ep;
}

StatusOr<S3Config> ResolveS3Config(const S3Options& options, std::string_view bucket,
                                   const EnvLookup& env) {
  S3Config config;
  config.options = options;
  if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize) {
    return InvalidArgument("S3 part size " + std::to_string(options.part_size) +
                           " is outside [5 MiB, 5 GiB]");
  }
  if (options.max_attempts < 1) return InvalidArgument("S3 max_attempts must be at least 1");
  if (options.initial_backoff.count() < 0 || options.max_backoff < options.initial_backoff) {
    return InvalidArgument("S3 back-off: need 0 <= initial_backoff <= max_backoff");
  }
  if (options.access_key_id.empty() != options.secret_access_key.empty()) {
    return InvalidArgument("S3 options: set both access_key_id and secret_access_key, or neither");
  }

  const std::string profile = !options.profile.empty()
                                  ? options.profile
                                  : FirstOf(env, {"AWS_PROFILE"}).value_or("default");
  const ProfileFiles files = LoadProfile(profile, env);

  // Region.
  if (!options.region.empty()) {
    config.region = options.region;
  } else if (auto env_region = FirstOf(env, {"AWS_REGION", "AWS_DEFAULT_REGION"})) {
    config.region = *env_region;
  } else if (std::string file_region = Get(files.config, "region"); !file_region.empty()) {
    config.region = file_region;
  } else {
    config.region = "us-east-1";
  }

  // Endpoint.
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) {
    endpoint = FirstOf(env, {"PINPIPE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})
                   .value_or("");
  }
  if (endpoint.empty()) endpoint = Get(files.config, "s3.endpoint_url");
  if (endpoint.empty()) endpoint = Get(files.config, "endpoint_url");
  const bool custom_endpoint = !endpoint.empty();
  if (!custom_endpoint) endpoint = "https://s3." + config.region + ".amazonaws.com";
  ASSIGN_OR_RETURN(config.endpoint, ParseS3Endpoint(endpoint));

  // Addressing: virtual-hosted is AWS's default, but a custom endpoint (MinIO, SeaweedFS, a
  // loopback test server) rarely has wildcard DNS, and a bucket with dots breaks TLS host
  // checking under *.s3.amazonaws.com: both use path-style unless told otherwise.
  S3Addressing addressing = options.addressing;
  if (addressing == S3Addressing::kAuto) {
    const std::string style = Get(files.config, "s3.addressing_style");
    if (style == "path") addressing = S3Addressing::kPath;
    if (style == "virtual") addressing = S3Addressing::kVirtualHosted;
  }
  if (addressing == S3Addressing::kAuto) {
    config.path_style = custom_endpoint || bucket.find('.') != std::string_view::npos;
  } else {
    config.path_style = addressing == S3Addressing::kPath;
  }

  // Credentials.
  if (!options.access_key_id.empty()) {
    config.credentials = {options.access_key_id, options.secret_access_key, options.session_token};
    config.credentials_source = "S3Options";
  } else if (auto env_id = FirstOf(env, {"AWS_ACCESS_KEY_ID"})) {
    auto secret = FirstOf(env, {"AWS_SECRET_ACCESS_KEY"});
    if (!secret) {
      return InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    config.credentials = {*env_id, *secret, FirstOf(env, {"AWS_SESSION_TOKEN"}).value_or("")};
    config.credentials_source = "environment (AWS_ACCESS_KEY_ID)";
  } else {
    for (const auto* file : {&files.credentials, &files.config}) {
      const std::string id = Get(*file, "aws_access_key_id");
      if (id.empty()) continue;
      const std::string secret = Get(*file, "aws_secret_access_key");
      const std::string& path =
          file == &files.credentials ? files.credentials_path : files.config_path;
      if (secret.empty()) {
        return InvalidArgument(path + " [" + profile + "]: aws_access_key_id without " +
                               "aws_secret_access_key");
      }
      config.credentials = {id, secret, Get(*file, "aws_session_token")};
      config.credentials_source = path + " [" + profile + "]";
      break;
    }
    if (config.credentials.access_key_id.empty()) {
      return Unauthenticated(
          "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
          "or profile \"" +
          profile + "\" in " + files.credentials_path + " or " + files.config_path);
    }
  }
  return config;
}

}  // namespace pinpipe::lake
