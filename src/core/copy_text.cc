#include "core/copy_text.h"

#include "core/byte_scan.h"

namespace pinpipe::core {

void AppendCopyText(std::string_view s, std::string* out) {
  // Copy runs of ordinary bytes at once; most fields contain nothing to escape.
  const auto word_test = [](uint64_t w) {
    return WordHasByte(w, '\\') || WordHasByte(w, '\t') || WordHasByte(w, '\n') ||
           WordHasByte(w, '\r');
  };
  const auto byte_test = [](unsigned char c) {
    return c == '\\' || c == '\t' || c == '\n' || c == '\r';
  };
  size_t run_start = 0;
  for (size_t i = FindFirstByte(s, 0, word_test, byte_test); i != std::string_view::npos;
       i = FindFirstByte(s, i + 1, word_test, byte_test)) {
    char replacement = 0;
    switch (s[i]) {
      case '\\': replacement = '\\'; break;
      case '\t': replacement = 't'; break;
      case '\n': replacement = 'n'; break;
      default: replacement = 'r'; break;  // '\r'
    }
    out->append(s.data() + run_start, i - run_start);
    out->push_back('\\');
    out->push_back(replacement);
    run_start = i + 1;
  }
  out->append(s.data() + run_start, s.size() - run_start);
}

}  // namespace pinpipe::core
