#include "lake/object_key.h"

#include "core/hex.h"

#include <string>

namespace pinpipe::lake {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not a valid one (overlong forms,
// surrogates and code points past U+10FFFF are invalid, as S3 rejects them).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

Status Invalid(std::string_view what, std::string_view key, std::string_view why) {
  std::string m(what);
  m += " \"";
  // The key may be the problem (control characters): show it escaped.
  for (char ch : key.substr(0, 200)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      m += "\\x";
      core::AppendHexByte(c, &m);
    } else {
      m += ch;
    }
  }
  if (key.size() > 200) m += "...";
  m += "\": ";
  m += why;
  return InvalidArgument(std::move(m));
}

// Checks characters and segments; `allow_open_end` permits a trailing '/' (prefixes).
Status Check(std::string_view what, std::string_view s, bool allow_open_end) {
  if (s.size() > kMaxKeyBytes) return Invalid(what, s, "longer than 1024 bytes");
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return Invalid(what, s, "contains a control character");
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return Invalid(what, s, "is not valid UTF-8");
    i += n;
  }
  if (s.front() == '/') return Invalid(what, s, "starts with '/' (keys are relative)");
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view segment = s.substr(start, end - start);
    const bool last = end == s.size();
    if (segment.empty() && !(last && allow_open_end)) {
      return Invalid(what, s, "has an empty path segment (\"//\" or a trailing '/')");
    }
    if (segment == "." || segment == "..") {
      return Invalid(what, s, "has a \".\" or \"..\" segment");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("object key is empty");
  return Check("object key", key, /*allow_open_end=*/false);
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  return Check("list prefix", prefix, /*allow_open_end=*/true);
}

}  // namespace pinpipe::lake
