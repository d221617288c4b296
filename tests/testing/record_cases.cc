#include "testing/record_cases.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace pinpipe::testing {

namespace fs = std::filesystem;

std::vector<RecordDataCase> RecordDataCases(const fs::path& root) {
  std::vector<RecordDataCase> cases;
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const fs::path dir = root / std::string(core::RecordKindName(kind));
    if (!fs::is_directory(dir)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::string name =
          std::string(core::RecordKindName(kind)) + "_" + entry.path().stem().string();
      // gtest names allow only [A-Za-z0-9_].
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      cases.push_back({kind, entry.path(), name});
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const RecordDataCase& a, const RecordDataCase& b) { return a.name < b.name; });
  return cases;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pinpipe::testing
