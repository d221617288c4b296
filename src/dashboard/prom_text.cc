#include "dashboard/prom_text.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/utf8_text.h"

namespace pinpipe::dashboard {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelStart(char c) { return IsNameStart(c) && c != ':'; }
bool IsLabelChar(char c) { return IsNameChar(c) && c != ':'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A cursor over one line; every method reports errors through Fail().
class LineParser {
 public:
  LineParser(std::string_view line, size_t line_number, const PromLimits& limits)
      : line_(line), number_(line_number), limits_(limits) {}

  Status Fail(std::string_view what) const {
    return InvalidArgument(fmt::format("line {}: {}", number_, what));
  }

  void SkipBlanks() {
    while (pos_ < line_.size() && IsBlank(line_[pos_])) ++pos_;
  }
  bool AtEnd() const { return pos_ >= line_.size(); }
  char Peek() const { return line_[pos_]; }

  // A metric name (or, with `label`, a label name).
  StatusOr<std::string_view> Name(bool label) {
    const size_t start = pos_;
    if (AtEnd() || !(label ? IsLabelStart(Peek()) : IsNameStart(Peek()))) {
      return Fail(label ? "expected a label name" : "expected a metric name");
    }
    ++pos_;
    while (!AtEnd() && (label ? IsLabelChar(Peek()) : IsNameChar(Peek()))) ++pos_;
    if (pos_ - start > limits_.max_name_bytes) {
      return ResourceExhausted(
          fmt::format("line {}: a name is longer than {} bytes", number_, limits_.max_name_bytes));
    }
    return line_.substr(start, pos_ - start);
  }

  // A quoted label value, unescaped.
  StatusOr<std::string> QuotedValue() {
    if (AtEnd() || Peek() != '"') return Fail("expected '\"' to open a label value");
    ++pos_;
    std::string out;
    for (;;) {
      if (AtEnd()) return Fail("unterminated label value");
      const char c = line_[pos_++];
      if (c == '"') break;
      if (c == '\\') {
        if (AtEnd()) return Fail("unterminated escape in a label value");
        const char e = line_[pos_++];
        switch (e) {
          case '\\': out.push_back('\\'); break;
          case '"': out.push_back('"'); break;
          case 'n': out.push_back('\n'); break;
          default: return Fail(fmt::format("unknown escape '\\{}' in a label value", e));
        }
      } else {
        out.push_back(c);
      }
      if (out.size() > limits_.max_label_value_bytes) {
        return ResourceExhausted(fmt::format("line {}: a label value is longer than {} bytes",
                                             number_, limits_.max_label_value_bytes));
      }
    }
    if (!core::IsValidUtf8(out)) return Fail("a label value is not valid UTF-8");
    return out;
  }

  // The next blank-separated token.
  std::string_view Token() {
    const size_t start = pos_;
    while (!AtEnd() && !IsBlank(Peek())) ++pos_;
    return line_.substr(start, pos_ - start);
  }

  std::string_view Rest() const { return line_.substr(std::min(pos_, line_.size())); }

  size_t pos_ = 0;

 private:
  std::string_view line_;
  size_t number_;
  const PromLimits& limits_;
};

std::optional<double> ParseValue(std::string_view token) {
  if (token == "+Inf" || token == "Inf") return std::numeric_limits<double>::infinity();
  if (token == "-Inf") return -std::numeric_limits<double>::infinity();
  if (token == "NaN") return std::numeric_limits<double>::quiet_NaN();
  std::string_view digits = token;
  if (!digits.empty() && digits.front() == '+') {
    digits.remove_prefix(1);
    if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) return std::nullopt;
  }
  // from_chars would also take "inf", "nan" and hex forms: only decimal digits, a sign, a
  // point and an exponent are the format's.
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    const bool ok =
        (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
    if (!ok) return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseTimestamp(std::string_view token) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

// At the '#' of a comment line.
Status ParseComment(LineParser& p) {
  ++p.pos_;
  p.SkipBlanks();
  const std::string_view rest = p.Rest();
  const bool help = rest.starts_with("HELP") && (rest.size() == 4 || IsBlank(rest[4]));
  const bool type = rest.starts_with("TYPE") && (rest.size() == 4 || IsBlank(rest[4]));
  if (!help && !type) return Status::Ok();  // "# HELP name text" / "# TYPE name type" only
  p.pos_ += 4;
  p.SkipBlanks();
  ASSIGN_OR_RETURN(std::string_view name, p.Name(/*label=*/false));
  static_cast<void>(name);
  if (!p.AtEnd() && !IsBlank(p.Peek())) return p.Fail("bad character after the metric name");
  p.SkipBlanks();
  if (type) {
    const std::string_view kind = p.Token();
    p.SkipBlanks();
    if (kind != "counter" && kind != "gauge" && kind != "histogram" && kind != "summary" &&
        kind != "untyped") {
      return p.Fail(fmt::format("unknown metric type '{}'", kind));
    }
    if (!p.AtEnd()) return p.Fail("text after the metric type");
  } else if (!core::IsValidUtf8(p.Rest())) {
    return p.Fail("HELP text is not valid UTF-8");
  }
  return Status::Ok();
}

StatusOr<PromSample> ParseSample(LineParser& p, const PromLimits& limits) {
  PromSample sample;
  ASSIGN_OR_RETURN(std::string_view name, p.Name(/*label=*/false));
  sample.name = std::string(name);
  if (!p.AtEnd() && p.Peek() == '{') {
    ++p.pos_;
    for (;;) {
      p.SkipBlanks();
      if (p.AtEnd()) return p.Fail("unterminated label set");
      if (p.Peek() == '}') {
        ++p.pos_;
        break;
      }
      ASSIGN_OR_RETURN(std::string_view label, p.Name(/*label=*/true));
      p.SkipBlanks();
      if (p.AtEnd() || p.Peek() != '=') return p.Fail("expected '=' after a label name");
      ++p.pos_;
      p.SkipBlanks();
      ASSIGN_OR_RETURN(std::string value, p.QuotedValue());
      for (const auto& [existing, unused] : sample.labels) {
        if (existing == label) return p.Fail(fmt::format("label '{}' given twice", label));
      }
      if (sample.labels.size() == limits.max_labels) {
        return ResourceExhausted(
            p.Fail(fmt::format("more than {} labels", limits.max_labels)).message());
      }
      sample.labels.emplace_back(std::string(label), std::move(value));
      p.SkipBlanks();
      if (p.AtEnd()) return p.Fail("unterminated label set");
      if (p.Peek() == ',') {
        ++p.pos_;
        continue;
      }
      if (p.Peek() != '}') return p.Fail("expected ',' or '}' in a label set");
    }
  }
  if (p.AtEnd() || !IsBlank(p.Peek())) return p.Fail("expected a blank and the sample value");
  p.SkipBlanks();
  const std::string_view value = p.Token();
  std::optional<double> parsed = ParseValue(value);
  if (!parsed) return p.Fail(fmt::format("'{}' is not a sample value", value));
  sample.value = *parsed;
  p.SkipBlanks();
  if (!p.AtEnd()) {
    const std::string_view ts = p.Token();
    std::optional<int64_t> t = ParseTimestamp(ts);
    if (!t) return p.Fail(fmt::format("'{}' is not a timestamp", ts));
    sample.timestamp_ms = t;
    p.SkipBlanks();
    if (!p.AtEnd()) return p.Fail("text after the timestamp");
  }
  return sample;
}

}  // namespace

std::optional<std::string_view> PromSample::Label(std::string_view label) const {
  for (const auto& [label_name, label_value] : labels) {
    if (label_name == label) return std::string_view(label_value);
  }
  return std::nullopt;
}

StatusOr<std::vector<PromSample>> ParsePromText(std::string_view text, const PromLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return ResourceExhausted(
        fmt::format("metrics text of {} bytes, more than {}", text.size(), limits.max_bytes));
  }
  if (!text.empty() && text.back() != '\n') {
    return InvalidArgument("metrics text does not end with a newline (truncated?)");
  }
  std::vector<PromSample> samples;
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);  // found: the text ends with '\n'
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.size() > limits.max_line_bytes) {
      return ResourceExhausted(
          fmt::format("line {}: longer than {} bytes", number, limits.max_line_bytes));
    }
    LineParser p(line, number, limits);
    p.SkipBlanks();
    if (p.AtEnd()) continue;
    if (p.Peek() == '#') {
      RETURN_IF_ERROR(ParseComment(p));
      continue;
    }
    if (samples.size() == limits.max_samples) {
      return ResourceExhausted(
          fmt::format("line {}: more than {} samples", number, limits.max_samples));
    }
    ASSIGN_OR_RETURN(PromSample sample, ParseSample(p, limits));
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace pinpipe::dashboard
