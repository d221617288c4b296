// Bytes of unknown origin (a Kafka message value, a dead letter's raw record, a task's log) made
// safe to show as text: valid UTF-8, bounded in size.
//
// ShowableText() replaces every ill-formed sequence by U+FFFD (EF BF BD), one replacement per
// "maximal subpart" as Unicode (chapter 3, U+FFFD substitution) and the WHATWG decoder do: a
// truncated but otherwise valid prefix of a sequence is one U+FFFD; a byte that cannot start or
// continue a sequence is one U+FFFD each. Overlong forms, surrogates (ED A0..BF) and values above
// U+10FFFF are ill-formed. The result is cut to at most `max_bytes`, never inside a character.
// NUL and other control characters are kept (they are valid UTF-8; a JSON writer escapes them).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pinpipe::core {

struct ShownText {
  std::string text;        // valid UTF-8, at most max_bytes
  bool truncated = false;  // true when input was left out to keep within max_bytes
  bool replaced = false;   // true when an ill-formed sequence became U+FFFD
};

ShownText ShowableText(std::string_view bytes, size_t max_bytes);

// True when `bytes` is entirely well-formed UTF-8.
bool IsValidUtf8(std::string_view bytes);

}  // namespace pinpipe::core
