#include "log/logger.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/record_validator.h"
#include "core/utf8_text.h"

namespace pinpipe::log {

std::atomic<int> Logger::level_{static_cast<int>(Level::kInfo)};

namespace {

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error", "off"};
constexpr std::string_view kTextLevels[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};

// JSON strings must be valid UTF-8; bytes of unknown origin (a librdkafka message) may not be.
void AppendJsonText(std::string_view s, std::string* out) {
  if (core::IsValidUtf8(s)) {
    core::AppendJsonString(s, out);
  } else {
    core::AppendJsonString(core::ShowableText(s, s.size() * 3 + 3).text, out);
  }
}

bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void AppendTimestamp(std::chrono::system_clock::time_point time, std::string* out) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  fmt::format_to(std::back_inserter(*out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                 static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                 hms.seconds().count(), hms.subseconds().count());
}

std::string_view TrimTrailingNewlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: break;
  }
  return spdlog::level::off;
}

// The sinks' formatter: the payload of a log_msg is the message, already rendered with its
// fields by Logger::Write (spdlog's log_msg has no room for fields); this adds nothing else, so
// one function (RenderLine) owns the look.
class PassThroughFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<PassThroughFormatter>();
  }
};

// Set before threads start (see the header); read by every Write.
struct Sinks {
  Format format = Format::kText;
  std::vector<std::shared_ptr<spdlog::sinks::sink>> sinks;
};

Sinks& State() {
  static Sinks* state = [] {
    auto* s = new Sinks;  // never destroyed: threads may log during static destruction
    s->sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s->sinks.back()->set_formatter(std::make_unique<PassThroughFormatter>());
    return s;
  }();
  return *state;
}

void AddSink(std::shared_ptr<spdlog::sinks::sink> sink) {
  sink->set_formatter(std::make_unique<PassThroughFormatter>());
  State().sinks.push_back(std::move(sink));
}

}  // namespace

StatusOr<Level> ParseLevel(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Level::kOff); ++i) {
    if (name == kLevelNames[i]) return static_cast<Level>(i);
  }
  if (name == "warning") return Level::kWarn;
  return InvalidArgument(fmt::format("log level '{}': use debug, info, warn, error or off", name));
}

StatusOr<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return InvalidArgument(fmt::format("log format '{}': use text or json", name));
}

std::string_view LevelName(Level level) { return kLevelNames[static_cast<int>(level)]; }
std::string_view FormatName(Format format) { return format == Format::kJson ? "json" : "text"; }

void Field::AppendValue(bool json, std::string* out) const {
  switch (kind_) {
    case Kind::kString:
      if (json) {
        AppendJsonText(s_, out);
      } else {
        out->append(s_);
      }
      return;
    case Kind::kInt: fmt::format_to(std::back_inserter(*out), "{}", i_); return;
    case Kind::kUint: fmt::format_to(std::back_inserter(*out), "{}", u_); return;
    case Kind::kBool: out->append(i_ != 0 ? "true" : "false"); return;
    case Kind::kDouble:
      if (json && !std::isfinite(d_)) {
        out->append("null");
      } else {
        fmt::format_to(std::back_inserter(*out), "{}", d_);
      }
      return;
  }
}

std::string RenderLine(Format format, Level level, std::string_view component,
                       std::chrono::system_clock::time_point time, std::string_view msg,
                       std::span<const Field> fields) {
  msg = TrimTrailingNewlines(msg);
  std::string out;
  out.reserve(64 + component.size() + msg.size() + fields.size() * 24);
  if (format == Format::kJson) {
    out.append("{\"ts\":\"");
    AppendTimestamp(time, &out);
    out.append("\",\"level\":\"");
    out.append(LevelName(level));
    out.append("\",\"component\":");
    AppendJsonText(component, &out);
    out.append(",\"msg\":");
    AppendJsonText(msg, &out);
    for (const Field& f : fields) {
      out.push_back(',');
      AppendJsonText(f.key(), &out);
      out.push_back(':');
      f.AppendValue(/*json=*/true, &out);
    }
    out.append("}\n");
    return out;
  }
  AppendTimestamp(time, &out);
  out.push_back(' ');
  out.append(kTextLevels[static_cast<int>(level)]);
  out.push_back(' ');
  out.append(component);
  out.append(": ");
  for (char c : msg) {
    out.push_back(c);
    if (c == '\n') out.append("  ");
  }
  for (const Field& f : fields) {
    out.push_back(' ');
    out.append(f.key());
    out.push_back('=');
    if (f.is_string() && NeedsQuotes(f.string_value())) {
      core::AppendJsonString(f.string_value(), &out);
    } else {
      f.AppendValue(/*json=*/false, &out);
    }
  }
  out.push_back('\n');
  return out;
}

void Init(const Options& options) {
  Sinks& state = State();
  state.sinks.clear();
  state.format = options.format;
  AddSink(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  SetLevel(options.level);
}

Status AddFileSink(const std::string& path) {
  try {
    AddSink(std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false));
  } catch (const spdlog::spdlog_ex& e) {
    return Internal(fmt::format("log file {}: {}", path, e.what()));
  }
  return Status::Ok();
}

void InitForTesting(const Options& options, std::ostream* out) {
  Sinks& state = State();
  state.sinks.clear();
  state.format = options.format;
  AddSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true));
  SetLevel(options.level);
}

void SetLevel(Level level) {
  Logger::level_.store(static_cast<int>(level), std::memory_order_relaxed);
}
Level CurrentLevel() { return static_cast<Level>(Logger::level_.load(std::memory_order_relaxed)); }
Format CurrentFormat() { return State().format; }

void Logger::Write(Level level, std::string_view msg, std::span<const Field> fields) const {
  const spdlog::log_clock::time_point now = spdlog::log_clock::now();
  const std::string line = RenderLine(State().format, level, component_, now, msg, fields);
  const spdlog::details::log_msg out(now, spdlog::source_loc{}, component_, ToSpdlog(level), line);
  for (const auto& sink : State().sinks) {
    sink->log(out);
    sink->flush();
  }
}

}  // namespace pinpipe::log
