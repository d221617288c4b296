// The one SQLSTATE -> Status mapping table of pinpipe (see docs/design.md, "one mapping table at
// each edge"). Callers act on the resulting Status class: Unavailable/ResourceExhausted are
// retriable (reconnect or back off), InvalidArgument/AlreadyExists/NotFound are permanent for that
// statement or row, Internal is treated as fatal.
#pragma once

#include <string_view>

#include "core/status.h"

namespace pinpipe::pg {

// Maps a five-character SQLSTATE (e.g. "23505") and the server's message to a Status whose
// message is "<message> (SQLSTATE <code>)". An empty or malformed SQLSTATE maps to Internal.
Status StatusFromSqlState(std::string_view sqlstate, std::string_view message);

// The code alone, for tests and for callers that only need to classify.
StatusCode StatusCodeForSqlState(std::string_view sqlstate);

}  // namespace pinpipe::pg
