#include "lake/s3_responses.h"

#include <ctime>

#include "lake/internal/xml.h"

namespace pinpipe::lake {
namespace {

using internal::ParseXml;
using internal::XmlElement;

std::optional<uint64_t> ParseUint(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return std::nullopt;  // overflow
    v = next;
  }
  return v;
}

bool ParseFixed(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<std::chrono::system_clock::time_point> FromTm(std::tm tm, int64_t nanos) {
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::nanoseconds(nanos));
}

}  // namespace

std::optional<S3Error> ParseS3Error(std::string_view body) {
  const auto root = ParseXml(body);
  if (!root || root->name != "Error") return std::nullopt;
  return S3Error{root->ChildText("Code"), root->ChildText("Message"), root->ChildText("RequestId")};
}

StatusOr<ListPage> ParseListObjectsV2(std::string_view body) {
  const auto root = ParseXml(body);
  if (!root || root->name != "ListBucketResult") {
    return Internal("ListObjectsV2: the answer is not a ListBucketResult document");
  }
  ListPage page;
  for (const XmlElement& child : root->children) {
    if (child.name != "Contents") continue;
    ObjectInfo info;
    info.key = child.ChildText("Key");
    const auto size = ParseUint(child.ChildText("Size"));
    if (info.key.empty() || !size) {
      return Internal("ListObjectsV2: an entry without Key or with a bad Size");
    }
    info.size = *size;
    info.etag = UnquoteEtag(child.ChildText("ETag"));
    if (auto t = ParseIso8601(child.ChildText("LastModified"))) info.last_modified = *t;
    page.objects.push_back(std::move(info));
  }
  page.truncated = root->ChildText("IsTruncated") == "true";
  page.next_continuation_token = root->ChildText("NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Internal("ListObjectsV2: truncated answer without NextContinuationToken");
  }
  return page;
}

StatusOr<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  const auto root = ParseXml(body);
  if (!root || root->name != "InitiateMultipartUploadResult") {
    return Internal("CreateMultipartUpload: the answer is not an InitiateMultipartUploadResult");
  }
  std::string id = root->ChildText("UploadId");
  if (id.empty()) return Internal("CreateMultipartUpload: no UploadId in the answer");
  return id;
}

std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':' || !ParseFixed(s, 0, 4, &year) || !ParseFixed(s, 5, 2, &mon) ||
      !ParseFixed(s, 8, 2, &day) || !ParseFixed(s, 11, 2, &hour) || !ParseFixed(s, 14, 2, &min) ||
      !ParseFixed(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return FromTm(tm, nanos);
}

std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view s) {
  // "Wed, 31 Jan 2024 12:00:00 GMT" (RFC 7231 IMF-fixdate; the only form S3 sends)
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT") return std::nullopt;
  std::tm tm{};
  int day, year, hour, min, sec;
  if (!ParseFixed(s, 5, 2, &day) || !ParseFixed(s, 12, 4, &year) || !ParseFixed(s, 17, 2, &hour) ||
      !ParseFixed(s, 20, 2, &min) || !ParseFixed(s, 23, 2, &sec) || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':') {
    return std::nullopt;
  }
  tm.tm_mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (s.substr(8, 3) == kMonths[i]) tm.tm_mon = i;
  }
  tm.tm_year = year - 1900;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return FromTm(tm, 0);
}

std::string UnquoteEtag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

}  // namespace pinpipe::lake
