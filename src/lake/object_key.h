// The one definition of a valid object key, shared by every ObjectStore so that a key accepted
// by the local store is accepted by S3 and maps to the same object.
//
// A key is 1..1024 bytes of valid UTF-8, '/'-separated segments, none empty (no leading,
// trailing or doubled '/'), none "." or "..", no control characters (U+0000-U+001F, U+007F: XML
// 1.0, in which S3 lists keys, cannot carry most of them). Everything else is allowed: spaces,
// '+', '=', '%', unicode.
#pragma once

#include <string_view>

#include "core/status.h"

namespace pinpipe::lake {

inline constexpr size_t kMaxKeyBytes = 1024;

// OK or InvalidArgument naming the key and the rule it breaks.
Status ValidateKey(std::string_view key);

// A List prefix: empty, or a key-like string that may end with '/' or stop inside a segment
// ("pin/2024-0"). The same rules as ValidateKey otherwise.
Status ValidatePrefix(std::string_view prefix);

}  // namespace pinpipe::lake
