// The one logger of every pinpipe process: levels, a component name per logger, UTC timestamps
// with milliseconds and the same line look in every subcommand and every log file of the run
// command. spdlog provides the thread-safe sinks, the clock and the level type; the line itself is
// rendered here (RenderLine), so the text and JSON forms are one function each.
//
//   text: 2026-12-06T20:37:28.123Z INFO  stream: assigned 3 partition(s) topic=pinterest
//   json: {"ts":"2026-12-06T20:37:28.123Z","level":"info","component":"stream",
//          "msg":"assigned 3 partition(s)","topic":"pinterest"}            (one object per line)
//
// Text: the level is padded to five characters; a multi-line message continues on lines indented
// by two spaces (trailing newlines are dropped); a field is key=value, its value quoted and escaped
// as a JSON string when it is empty or holds a space, '"', '=', '\' or a control character. JSON:
// every string goes through core::AppendJsonString after ill-formed UTF-8 is replaced by U+FFFD
// (core::ShowableText); a non-finite double is null. Field keys are the caller's (constants): they
// should not be ts, level, component or msg.
//
// Levels: debug < info < warn < error; Init's level (default info; off silences everything)
// filters. A disabled call costs one relaxed atomic load: the fmt forms (Info("x {}", y)) format
// only when enabled, Log() with fields builds its small Field array on the stack. Nothing on a
// per-record hot path may log.
//
// Thread-safety: every Logger method may be called from any thread; a line is written whole and
// flushed. Init/AddFileSink/InitForTesting are called from main (or a test) before any thread
// that logs starts; the level may be changed at any time. A Logger is a small value (its component
// name); make one per component, e.g. `const log::Logger kLog("stream");` at namespace scope.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/status.h"

namespace pinpipe::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kText, kJson };

// "debug", "info", "warn" (or "warning"), "error", "off". InvalidArgument otherwise.
StatusOr<Level> ParseLevel(std::string_view name);
// "text" or "json". InvalidArgument otherwise.
StatusOr<Format> ParseFormat(std::string_view name);
std::string_view LevelName(Level level);     // "info", ...
std::string_view FormatName(Format format);  // "text", "json"

// One structured key/value of a line. Holds views: build it in the logging call's expression.
class Field {
 public:
  Field(std::string_view key, std::string_view value)
      : key_(key), kind_(Kind::kString), s_(value) {}
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, bool value) : key_(key), kind_(Kind::kBool), i_(value ? 1 : 0) {}
  Field(std::string_view key, double value) : key_(key), kind_(Kind::kDouble), d_(value) {}
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && std::is_signed_v<T>)
      Field(std::string_view key, T value)
      : key_(key), kind_(Kind::kInt), i_(value) {}
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && std::is_unsigned_v<T>)
      Field(std::string_view key, T value)
      : key_(key), kind_(Kind::kUint), u_(value) {}

  // Appends the value: `json` as a JSON value, else as text (unquoted; the caller quotes).
  void AppendValue(bool json, std::string* out) const;
  std::string_view key() const { return key_; }
  bool is_string() const { return kind_ == Kind::kString; }
  std::string_view string_value() const { return s_; }

 private:
  enum class Kind { kString, kInt, kUint, kDouble, kBool };
  std::string_view key_;
  Kind kind_;
  std::string_view s_;
  int64_t i_ = 0;
  uint64_t u_ = 0;
  double d_ = 0;
};

// The whole line (with its '\n') as the sinks write it. Pure; exposed for tests.
std::string RenderLine(Format format, Level level, std::string_view component,
                       std::chrono::system_clock::time_point time, std::string_view msg,
                       std::span<const Field> fields);

struct Options {
  Format format = Format::kText;
  Level level = Level::kInfo;
};

// Lines go to stderr in `options`' format from now on (replacing any sink set before).
void Init(const Options& options);
// Also appends every line to `path` (created if missing). Internal error naming the path.
Status AddFileSink(const std::string& path);
// Lines go to `out` only (for tests; `out` must outlive the logging).
void InitForTesting(const Options& options, std::ostream* out);
void SetLevel(Level level);
Level CurrentLevel();
Format CurrentFormat();

class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}

  const std::string& component() const { return component_; }
  static bool enabled(Level level) {
    return static_cast<int>(level) >= level_.load(std::memory_order_relaxed);
  }

  // A line of `msg` with `fields`, if `level` is enabled.
  void Log(Level level, std::string_view msg, std::initializer_list<Field> fields = {}) const {
    if (enabled(level)) Write(level, msg, std::span<const Field>(fields.begin(), fields.size()));
  }
  // fmt forms: formatted only when the level is enabled.
  template <typename... Args>
  void Debug(fmt::format_string<Args...> f, Args&&... args) const {
    Emit(Level::kDebug, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Info(fmt::format_string<Args...> f, Args&&... args) const {
    Emit(Level::kInfo, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> f, Args&&... args) const {
    Emit(Level::kWarn, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Error(fmt::format_string<Args...> f, Args&&... args) const {
    Emit(Level::kError, f, std::forward<Args>(args)...);
  }

 private:
  friend void SetLevel(Level level);
  friend Level CurrentLevel();
  template <typename... Args>
  void Emit(Level level, fmt::format_string<Args...> f, Args&&... args) const {
    if (!enabled(level)) return;
    const std::string msg = fmt::vformat(f, fmt::make_format_args(args...));
    Write(level, msg, {});
  }
  void Write(Level level, std::string_view msg, std::span<const Field> fields) const;

  static std::atomic<int> level_;
  std::string component_;
};

}  // namespace pinpipe::log
