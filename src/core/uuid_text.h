// UUID text: the canonical spelling of a schema `uuid` field (pin `unique_id`).
//
// RecordValidator accepts a UUID as 8-4-4-4-12 hex digits in either case, so one UUID has many
// spellings ("9BF3...", "9bf3...", "9Bf3..."). Its canonical form is the lower-case one, which is
// what pydantic's UUID type (Python's str(uuid.UUID(...))) prints. Two places use it, both
// through these functions: the API's answer (RecordValidator's canonical JSON) and the transform,
// which reads every uuid field in this form before any rule runs, so that the speed layer and
// the batch job store and de-duplicate one spelling per UUID (transforms/pinterest.toml). The
// Kafka message keeps the bytes the client sent.
//
// Both functions take a VALID UUID (as RecordValidator checked it): then every byte other than
// 'A'-'F' already has bit 0x20 set ('0'-'9' are 0x30-0x39, '-' is 0x2D, 'a'-'f' 0x61-0x66), so
// "has upper case" is "some byte lacks bit 0x20" and lowering is OR 0x20, eight bytes at a time.
// For other text the answers are unspecified (but memory-safe). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pinpipe::core {

namespace uuid_text_internal {
inline constexpr uint64_t kCaseBits = 0x2020202020202020ULL;
}  // namespace uuid_text_internal

// True when the valid UUID `uuid` is already in canonical (lower) case.
inline bool IsLowerCaseUuid(std::string_view uuid) {
  using uuid_text_internal::kCaseBits;
  const auto word = [&](size_t at) {
    uint64_t w;
    std::memcpy(&w, uuid.data() + at, sizeof(w));
    return ~w & kCaseBits;
  };
  // A valid UUID is 36 bytes: five overlapping words, no loop.
  if (uuid.size() == 36) return (word(0) | word(8) | word(16) | word(24) | word(28)) == 0;
  uint64_t missing = 0;
  size_t i = 0;
  for (; i + 8 <= uuid.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, uuid.data() + i, sizeof(w));
    missing |= ~w & kCaseBits;
  }
  for (; i < uuid.size(); ++i) missing |= ~static_cast<unsigned char>(uuid[i]) & 0x20u;
  return missing == 0;
}

// Appends the valid UUID `uuid` to `*out` in canonical (lower) case.
inline void AppendLowerCaseUuid(std::string_view uuid, std::string* out) {
  using uuid_text_internal::kCaseBits;
  const size_t start = out->size();
  out->append(uuid);
  char* p = out->data() + start;
  size_t i = 0;
  for (; i + 8 <= uuid.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof(w));
    w |= kCaseBits;
    std::memcpy(p + i, &w, sizeof(w));
  }
  for (; i < uuid.size(); ++i) p[i] = static_cast<char>(p[i] | 0x20);
}

}  // namespace pinpipe::core
