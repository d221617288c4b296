#include "topic_flags.h"

#include <fmt/format.h>

#include <cctype>

#include "core/record_schema.h"

namespace pinpipe::app {

void AddTopicFlags(CLI::App& sub, const std::array<std::string*, 3>& topics,
                   std::string_view help) {
  for (core::RecordKind kind :
       {core::RecordKind::kPin, core::RecordKind::kGeo, core::RecordKind::kUser}) {
    const std::string_view name = core::RecordKindName(kind);
    std::string env = "PINPIPE_TOPIC_" + std::string(name);
    for (char& c : env) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    sub.add_option(fmt::format("--topic-{}", name), *topics[static_cast<size_t>(kind)],
                   fmt::format(fmt::runtime(help), name))
        ->envname(env)
        ->capture_default_str();
  }
}

}  // namespace pinpipe::app
