// PostgreSQL COPY text-format escaping, shared by the COPY writer (src/pg) and the transform's
// row writer (src/transform), which must agree byte for byte. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace pinpipe::core {

// Appends `s` as one COPY text field: backslash, tab, newline and carriage return (the bytes that
// would end the field or the row, or start an escape) are backslash-escaped; every other byte,
// UTF-8 included, is copied as it is. So a literal "\N" or "\." in the data cannot be mistaken
// for NULL or the end-of-data marker.
void AppendCopyText(std::string_view s, std::string* out);

}  // namespace pinpipe::core
