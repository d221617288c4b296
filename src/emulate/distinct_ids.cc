#include "emulate/distinct_ids.h"

#include <charconv>

#include "core/hex.h"

namespace pinpipe::emulate {
namespace {

// A bijective 64-bit mix (the SplitMix64 finaliser; every step is invertible), so distinct
// indexes give distinct UUIDs.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The number that follows `prefix` at the start of `text` and the rest after it (",...").
bool SkipPrefixNumber(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  size_t i = prefix.size();
  if (i < text.size() && text[i] == '-') ++i;
  const size_t digits_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == digits_start) return false;
  text.remove_prefix(i);
  return true;
}

}  // namespace

std::string DistinctUuid(int64_t index) {
  // Every one of the 64 bits of Mix(index) (a bijection) lands in the UUID, so different indexes
  // never share one; the version nibble (4) and the variant bits (10) are fixed, the remaining
  // hex digits come from a second mix.
  const uint64_t hi = Mix(static_cast<uint64_t>(index));
  const uint64_t lo = Mix(hi ^ 0x6a09e667f3bcc909ULL);
  std::string out;
  out.reserve(36);
  core::AppendHexNumber(hi >> 32, 8, &out);  // bits 63..32
  out.push_back('-');
  core::AppendHexNumber(hi >> 16, 4, &out);  // bits 31..16
  out.append("-4");
  core::AppendHexNumber(hi, 3, &out);  // bits 11..0
  out.push_back('-');
  out.push_back("89ab"[(hi >> 12) & 3]);                                    // bits 13..12
  core::AppendHexNumber((((hi >> 14) & 3) << 10) | (lo & 0x3FF), 3, &out);  // bits 15..14
  out.push_back('-');
  core::AppendHexNumber(lo >> 16, 12, &out);
  return out;
}

bool AppendWithDistinctIds(std::string_view record, int64_t index, std::string* out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), index).ptr;
  const std::string_view number(digits, static_cast<size_t>(end - digits));
  std::string_view rest = record;
  if (SkipPrefixNumber(rest, R"({"index":)")) {
    constexpr std::string_view kUuidKey = R"(,"unique_id":")";
    if (rest.substr(0, kUuidKey.size()) != kUuidKey) return false;
    rest.remove_prefix(kUuidKey.size());
    const size_t close = rest.find('"');
    if (close == std::string_view::npos) return false;
    rest.remove_prefix(close);  // from the closing quote on
    out->append(R"({"index":)").append(number).append(kUuidKey).append(DistinctUuid(index));
    out->append(rest);
    return true;
  }
  rest = record;
  if (SkipPrefixNumber(rest, R"({"ind":)")) {
    out->append(R"({"ind":)").append(number).append(rest);
    return true;
  }
  return false;
}

}  // namespace pinpipe::emulate
