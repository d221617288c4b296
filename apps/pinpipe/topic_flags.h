// The --topic-pin/--topic-geo/--topic-user flags (PINPIPE_TOPIC_PIN/GEO/USER) that every
// subcommand reading or writing the record topics takes, declared once. The defaults are what the
// bound strings hold (core::DefaultTopics(), the record schema's topics).
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <string>
#include <string_view>

namespace pinpipe::app {

// Adds the three flags to `sub`, bound to *topics[kind] (indexed by core::RecordKind). `help` is
// a fmt format with one {} for the kind's name ("pin", "geo", "user").
void AddTopicFlags(CLI::App& sub, const std::array<std::string*, 3>& topics,
                   std::string_view help = "Topic of {} records");

}  // namespace pinpipe::app
