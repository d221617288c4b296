// One log line of `pinpipe archive` (component "archive", level info) from any thread; the
// logger writes each line whole (log/logger.h).
#pragma once

#include <string_view>

#include "log/logger.h"

namespace pinpipe::archive {

inline void ArchiveLog(std::string_view line) {
  static const log::Logger logger("archive");
  logger.Log(log::Level::kInfo, line);
}

}  // namespace pinpipe::archive
