#include "lake/sigv4.h"

#include <algorithm>
#include <ctime>

#include "core/ascii.h"
#include "core/hex.h"
#include "lake/internal/crypto.h"

namespace pinpipe::lake {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Trims leading/trailing whitespace and collapses inner runs of spaces into one, as the
// canonical-headers rule demands (quoted strings included: see get-header-value-trim).
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

// Sorted (name, joined values) pairs; repeated names keep their values in request order.
std::vector<std::pair<std::string, std::string>> CanonicalHeaders(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lname = core::AsciiLower(name);
    std::string cvalue = CanonicalHeaderValue(value);
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const auto& h) { return h.first == lname; });
    if (it == headers.end()) {
      headers.emplace_back(std::move(lname), std::move(cvalue));
    } else {
      it->second += ',';
      it->second += cvalue;
    }
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return headers;
}

std::string_view DatePart(std::string_view amz_date) { return amz_date.substr(0, 8); }

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      core::AppendHexByte(c, &out, /*upper=*/true);
    }
  }
  return out;
}

bool UriDecode(std::string_view text, std::string* out) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      *out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int hi = hex(text[i + 1]);
    const int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

SigV4Signer::SigV4Signer(SigV4Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string SigV4Signer::AmzDate(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

std::string SigV4Signer::SignedHeaders(const SigV4Request& request) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(request)) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string SigV4Signer::CanonicalRequest(const SigV4Request& request) {
  std::string out = request.method;
  out += '\n';
  out += request.path.empty() ? std::string("/") : UriEncode(request.path, /*keep_slash=*/true);
  out += '\n';

  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(request.query.size());
  for (const auto& [name, value] : request.query) {
    query.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  // Sorted by encoded name, then encoded value (get-vanilla-query-order-value).
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    if (i > 0) out += '&';
    out += query[i].first;
    out += '=';
    out += query[i].second;
  }
  out += '\n';

  const auto headers = CanonicalHeaders(request);
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += request.payload_hash;
  return out;
}

std::string SigV4Signer::Scope(std::string_view amz_date) const {
  std::string out(DatePart(amz_date));
  out += '/';
  out += region_;
  out += '/';
  out += service_;
  out += "/aws4_request";
  return out;
}

std::string SigV4Signer::StringToSign(std::string_view amz_date,
                                      std::string_view canonical_request) const {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += Scope(amz_date);
  out += '\n';
  out += internal::Sha256Hex(canonical_request);
  return out;
}

std::string SigV4Signer::SigningKey(std::string_view amz_date) const {
  std::string key =
      internal::HmacSha256("AWS4" + credentials_.secret_access_key, DatePart(amz_date));
  key = internal::HmacSha256(key, region_);
  key = internal::HmacSha256(key, service_);
  return internal::HmacSha256(key, "aws4_request");
}

std::string SigV4Signer::Signature(std::string_view amz_date,
                                   std::string_view string_to_sign) const {
  return core::HexEncode(internal::HmacSha256(SigningKey(amz_date), string_to_sign));
}

std::string SigV4Signer::Authorization(const SigV4Request& request,
                                       std::string_view amz_date) const {
  const std::string sts = StringToSign(amz_date, CanonicalRequest(request));
  std::string out(kAlgorithm);
  out += " Credential=";
  out += credentials_.access_key_id;
  out += '/';
  out += Scope(amz_date);
  out += ", SignedHeaders=";
  out += SignedHeaders(request);
  out += ", Signature=";
  out += Signature(amz_date, sts);
  return out;
}

void SigV4Signer::SignS3Request(SigV4Request& request,
                                std::chrono::system_clock::time_point now) const {
  const std::string amz_date = AmzDate(now);
  request.headers.emplace_back("x-amz-date", amz_date);
  request.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!credentials_.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  }
  std::string authorization = Authorization(request, amz_date);
  request.headers.emplace_back("Authorization", std::move(authorization));
}

}  // namespace pinpipe::lake
