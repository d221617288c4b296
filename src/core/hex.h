// Hexadecimal text: the digits, bytes as two digits each (hashes, bytea, raw bytes of dead
// letters, \u00XX and \xXX escapes, percent-encoding) and numbers with a fixed number of digits.
// Pure; thread-safe; header-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pinpipe::core {

// The digit of a nibble (0..15); lowercase unless `upper`.
constexpr char HexDigit(unsigned nibble, bool upper = false) {
  constexpr char kLower[] = "0123456789abcdef";
  constexpr char kUpper[] = "0123456789ABCDEF";
  return (upper ? kUpper : kLower)[nibble & 0xF];
}

// One byte as two digits.
inline void AppendHexByte(unsigned char byte, std::string* out, bool upper = false) {
  out->push_back(HexDigit(byte >> 4, upper));
  out->push_back(HexDigit(byte & 0xF, upper));
}

// Every byte as two lowercase digits.
inline void AppendHex(std::string_view bytes, std::string* out) {
  out->reserve(out->size() + 2 * bytes.size());
  for (char c : bytes) AppendHexByte(static_cast<unsigned char>(c), out);
}
inline std::string HexEncode(std::string_view bytes) {
  std::string out;
  AppendHex(bytes, &out);
  return out;
}

// The low 4 * `digits` bits of `value`, most significant first, lowercase, zero-padded.
inline void AppendHexNumber(uint64_t value, int digits, std::string* out) {
  for (int i = digits - 1; i >= 0; --i)
    out->push_back(HexDigit(static_cast<unsigned>(value >> (4 * i))));
}

}  // namespace pinpipe::core
