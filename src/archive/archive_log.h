// One log line of `pinpipe archive` on stderr ("pinpipe archive: ..."), from any thread (a whole
// line is written with one call, so lines of different threads do not interleave mid-line).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace pinpipe::archive {

inline void ArchiveLog(std::string_view line) {
  std::string out = "pinpipe archive: ";
  out += line;
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace pinpipe::archive
