// Helpers for tests that run programs on this machine: a free port, a whole file, GET of a local
// HTTP endpoint.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace pinpipe::testing {

// A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0, then closed);
// 0 if none could be had.
uint16_t FreePort();

// The whole file, or "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// The body of GET http://127.0.0.1:<port><path> when it answers 200. Errors: the client's;
// FailedPrecondition for another status.
StatusOr<std::string> HttpGet(uint16_t port, const std::string& path);

}  // namespace pinpipe::testing
