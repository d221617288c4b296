// libFuzzer target for the dashboard's Prometheus text parser (dashboard/prom_text.h), which
// reads the pipeline processes' /metrics pages. Besides "no crash, no sanitizer report", it
// checks the parser's promises: with small limits, errors are InvalidArgument or
// ResourceExhausted; a success holds at most max_samples samples, each with at most max_labels
// labels, names and label values within their bounds and label values valid UTF-8.
// Seed corpus: tests/fuzz/corpus/prom_text/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "core/utf8_text.h"
#include "dashboard/prom_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pinpipe::dashboard::PromLimits limits;
  limits.max_bytes = 1 << 16;
  limits.max_line_bytes = 1024;
  limits.max_samples = 64;
  limits.max_labels = 4;
  limits.max_name_bytes = 64;
  limits.max_label_value_bytes = 128;
  auto parsed = pinpipe::dashboard::ParsePromText(text, limits);
  if (!parsed.ok()) {
    const auto code = parsed.status().code();
    PINPIPE_CHECK(code == pinpipe::StatusCode::kInvalidArgument ||
                  code == pinpipe::StatusCode::kResourceExhausted)
        << parsed.status().ToString();
    return 0;
  }
  PINPIPE_CHECK(parsed->size() <= limits.max_samples);
  for (const auto& s : *parsed) {
    PINPIPE_CHECK(!s.name.empty() && s.name.size() <= limits.max_name_bytes);
    PINPIPE_CHECK(s.labels.size() <= limits.max_labels);
    for (const auto& [name, value] : s.labels) {
      PINPIPE_CHECK(name.size() <= limits.max_name_bytes);
      PINPIPE_CHECK(value.size() <= limits.max_label_value_bytes);
      PINPIPE_CHECK(pinpipe::core::IsValidUtf8(value));
    }
  }
  return 0;
}
