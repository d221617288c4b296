#include "core/copy_text.h"

namespace pinpipe::core {

void AppendCopyText(std::string_view s, std::string* out) {
  // Copy runs of ordinary bytes at once; most fields contain nothing to escape.
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char replacement = 0;
    switch (s[i]) {
      case '\\': replacement = '\\'; break;
      case '\t': replacement = 't'; break;
      case '\n': replacement = 'n'; break;
      case '\r': replacement = 'r'; break;
      default: continue;
    }
    out->append(s.data() + run_start, i - run_start);
    out->push_back('\\');
    out->push_back(replacement);
    run_start = i + 1;
  }
  out->append(s.data() + run_start, s.size() - run_start);
}

}  // namespace pinpipe::core
