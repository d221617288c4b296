// Data-driven record cases: one input record per file, `<dir>/<kind>/<case>.json`, with its
// expectation beside it in `<case>.expected` (each suite decides what that file holds). Shared
// by the validator's and the transform's case suites, so a new case is a new file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/record_schema.h"

namespace pinpipe::testing {

struct RecordDataCase {
  core::RecordKind kind;
  std::filesystem::path json_path;
  std::string name;  // "<kind>_<stem>" with every non-alphanumeric as '_': a valid gtest name
};

// Every `<root>/<kind>/*.json` for the three kinds, sorted by name. Missing kind folders are
// skipped (a suite checks that each kind has cases).
std::vector<RecordDataCase> RecordDataCases(const std::filesystem::path& root);

// The whole file as bytes ("" if it cannot be read).
std::string ReadFile(const std::filesystem::path& path);

}  // namespace pinpipe::testing
