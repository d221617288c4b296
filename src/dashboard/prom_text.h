// A strict, bounded parser of the Prometheus text exposition format (version 0.0.4), for the
// dashboard's scrapes of the pipeline's own /metrics pages.
//
// Accepted, line by line ('\n'-terminated; the text must end with '\n' unless empty, so a
// truncated body is an error rather than a silently shorter one):
//   * empty lines;
//   * comments: "# HELP <name> <text>", "# TYPE <name> counter|gauge|histogram|summary|untyped"
//     (the name checked), any other "#..." line ignored;
//   * samples: <name>[{<label>="<value>",...}] <value> [<timestamp ms>], with spaces or tabs
//     between tokens; a trailing comma inside the braces is allowed, as Prometheus allows.
// Names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*, each at most once per
// sample. Label values: valid UTF-8 with the escapes \\ \" \n only. Values: a decimal or
// exponent float, +Inf, -Inf, Inf or NaN. Anything else (a CR, a stray byte, an unknown escape,
// a missing value) is an error naming the line.
//
// Bounds (PromLimits): the whole text, each line, each name and label value, labels per sample
// and the number of samples; exceeding one is ResourceExhausted, so a broken or hostile endpoint
// cannot make the dashboard allocate without limit. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pinpipe::dashboard {

struct PromLimits {
  size_t max_bytes = 8 << 20;        // the whole text
  size_t max_line_bytes = 64 << 10;  // one line
  size_t max_samples = 50000;
  size_t max_labels = 16;       // per sample
  size_t max_name_bytes = 256;  // metric and label names
  size_t max_label_value_bytes = 4096;
};

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in the order written
  double value = 0;
  std::optional<int64_t> timestamp_ms;

  // The value of label `name`, or nullopt.
  std::optional<std::string_view> Label(std::string_view label) const;
};

// Errors: InvalidArgument "line N: <what>" for text that is not the format;
// ResourceExhausted naming the limit for text over a bound.
StatusOr<std::vector<PromSample>> ParsePromText(std::string_view text,
                                                const PromLimits& limits = {});

}  // namespace pinpipe::dashboard
