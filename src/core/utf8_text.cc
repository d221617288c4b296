#include "core/utf8_text.h"

#include <cstdint>

namespace pinpipe::core {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed sequence starting at bytes[i], or 0 if it is ill-formed; in that
// case *subpart is the length of its maximal subpart (at least 1), the bytes one U+FFFD stands
// for. Table 3-7 of the Unicode standard gives the allowed second byte per lead byte.
size_t SequenceLength(std::string_view bytes, size_t i, size_t* subpart) {
  const auto b0 = static_cast<uint8_t>(bytes[i]);
  *subpart = 1;
  if (b0 < 0x80) return 1;
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 == 0xE0) {
    need = 3, lo = 0xA0;
  } else if (b0 >= 0xE1 && b0 <= 0xEC) {
    need = 3;
  } else if (b0 == 0xED) {
    need = 3, hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xEE && b0 <= 0xEF) {
    need = 3;
  } else if (b0 == 0xF0) {
    need = 4, lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    need = 4;
  } else if (b0 == 0xF4) {
    need = 4, hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // 80..C1, F5..FF: never a lead byte
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= bytes.size()) return 0;  // truncated: the prefix so far is one subpart
    const auto b = static_cast<uint8_t>(bytes[i + k]);
    const uint8_t min = k == 1 ? lo : 0x80;
    const uint8_t max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    *subpart = k + 1;
  }
  return need;
}

}  // namespace

ShownText ShowableText(std::string_view bytes, size_t max_bytes) {
  ShownText out;
  out.text.reserve(std::min(bytes.size(), max_bytes));
  size_t i = 0;
  while (i < bytes.size()) {
    size_t subpart = 1;
    const size_t length = SequenceLength(bytes, i, &subpart);
    std::string_view piece;
    size_t consumed = 0;
    if (length > 0) {
      piece = bytes.substr(i, length);
      consumed = length;
    } else {
      piece = kReplacement;
      consumed = subpart;
    }
    if (out.text.size() + piece.size() > max_bytes) {
      out.truncated = true;
      break;
    }
    if (length == 0) out.replaced = true;
    out.text.append(piece);
    i += consumed;
  }
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t subpart = 1;
    const size_t length = SequenceLength(bytes, i, &subpart);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace pinpipe::core
