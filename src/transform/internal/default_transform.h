// The text of transforms/pinterest.toml, embedded at build time (src/transform/CMakeLists.txt
// generates default_transform.cc from it; editing the file re-runs that step).
#pragma once

#include <string_view>

namespace pinpipe::transform::internal {

extern const std::string_view kDefaultTransformToml;

}  // namespace pinpipe::transform::internal
