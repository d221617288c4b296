#include "log/logger.h"
#include "log/line_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace pinpipe::log {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2026-12-06T20:37:28.123Z
const system_clock::time_point kTime =
    system_clock::time_point(std::chrono::sys_days(std::chrono::year{2026} / 12 / 6)) +
    std::chrono::hours(20) + std::chrono::minutes(37) + std::chrono::seconds(28) +
    milliseconds(123);

struct LineCase {
  const char* name;
  Format format;
  Level level;
  std::string component;
  std::string msg;
  std::vector<Field> fields;
  std::string want;
};

std::vector<LineCase> LineCases() {
  return {
      {"text_plain",
       Format::kText,
       Level::kInfo,
       "stream",
       "assigned 3 partition(s)",
       {},
       "2026-12-06T20:37:28.123Z INFO  stream: assigned 3 partition(s)\n"},
      {"text_levels_padded",
       Format::kText,
       Level::kWarn,
       "serve",
       "Kafka not reachable yet",
       {},
       "2026-12-06T20:37:28.123Z WARN  serve: Kafka not reachable yet\n"},
      {"text_error",
       Format::kText,
       Level::kError,
       "batch",
       "bad day",
       {},
       "2026-12-06T20:37:28.123Z ERROR batch: bad day\n"},
      {"text_debug",
       Format::kText,
       Level::kDebug,
       "kafka",
       "x",
       {},
       "2026-12-06T20:37:28.123Z DEBUG kafka: x\n"},
      {"text_fields",
       Format::kText,
       Level::kInfo,
       "serve",
       "listening",
       {{"url", "http://127.0.0.1:8000"},
        {"threads", 4},
        {"ok", true},
        {"ratio", 0.5},
        {"big", uint64_t{18446744073709551615u}},
        {"neg", int64_t{-7}}},
       "2026-12-06T20:37:28.123Z INFO  serve: listening url=http://127.0.0.1:8000 threads=4 "
       "ok=true ratio=0.5 big=18446744073709551615 neg=-7\n"},
      {"text_field_quoted",
       Format::kText,
       Level::kInfo,
       "http",
       "handler threw",
       {{"what", "a \"b\"=c\\d\te"}, {"empty", ""}},
       "2026-12-06T20:37:28.123Z INFO  http: handler threw what=\"a \\\"b\\\"=c\\\\d\\te\" "
       "empty=\"\"\n"},
      {"text_multiline",
       Format::kText,
       Level::kInfo,
       "scheduler",
       "line one\nline two\n\n",
       {},
       "2026-12-06T20:37:28.123Z INFO  scheduler: line one\n  line two\n"},
      {"json_plain",
       Format::kJson,
       Level::kInfo,
       "stream",
       "assigned",
       {},
       R"({"ts":"2026-12-06T20:37:28.123Z","level":"info","component":"stream","msg":"assigned"})"
       "\n"},
      {"json_fields",
       Format::kJson,
       Level::kWarn,
       "kafka",
       "all brokers down",
       {{"client", "rdkafka#producer-1"}, {"partition", 2}, {"ok", false}, {"lag", 1.25}},
       R"({"ts":"2026-12-06T20:37:28.123Z","level":"warn","component":"kafka",)"
       R"("msg":"all brokers down","client":"rdkafka#producer-1","partition":2,"ok":false,)"
       R"("lag":1.25})"
       "\n"},
      {"json_escaping",
       Format::kJson,
       Level::kError,
       "http",
       "quote \" backslash \\ tab\t\x01",
       {{"what", "line1\nline2"}},
       R"({"ts":"2026-12-06T20:37:28.123Z","level":"error","component":"http",)"
       R"("msg":"quote \" backslash \\ tab\t\u0001","what":"line1\nline2"})"
       "\n"},
      {"json_multiline",
       Format::kJson,
       Level::kDebug,
       "emulate",
       "a\nb\n",
       {},
       R"({"ts":"2026-12-06T20:37:28.123Z","level":"debug","component":"emulate","msg":"a\nb"})"
       "\n"},
      {"json_bad_utf8",
       Format::kJson,
       Level::kInfo,
       "kafka",
       "bad \xff byte",
       {},
       "{\"ts\":\"2026-12-06T20:37:28.123Z\",\"level\":\"info\",\"component\":\"kafka\","
       "\"msg\":\"bad \xEF\xBF\xBD byte\"}\n"},
      {"json_nan",
       Format::kJson,
       Level::kInfo,
       "dashboard",
       "x",
       {{"v", std::numeric_limits<double>::quiet_NaN()}},
       R"({"ts":"2026-12-06T20:37:28.123Z","level":"info","component":"dashboard","msg":"x","v":null})"
       "\n"},
  };
}

TEST(LoggerTest, RendersEachFormat) {
  for (const LineCase& c : LineCases()) {
    EXPECT_EQ(RenderLine(c.format, c.level, c.component, kTime, c.msg, c.fields), c.want) << c.name;
  }
}

TEST(LoggerTest, ParsesLevelsAndFormats) {
  struct Case {
    const char* text;
    Level want;
  };
  for (const Case& c :
       {Case{"debug", Level::kDebug}, Case{"info", Level::kInfo}, Case{"warn", Level::kWarn},
        Case{"warning", Level::kWarn}, Case{"error", Level::kError}, Case{"off", Level::kOff}}) {
    StatusOr<Level> got = ParseLevel(c.text);
    ASSERT_TRUE(got.ok()) << c.text;
    EXPECT_EQ(*got, c.want) << c.text;
  }
  EXPECT_EQ(ParseLevel("loud").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLevel("loud").status().message(),
            "log level 'loud': use debug, info, warn, error or off");
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("xml").status().message(), "log format 'xml': use text or json");
}

// Every line of `text`, each without its '\n'.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// An argument that counts how often fmt formats it.
struct Counted {
  int* formatted;
};

}  // namespace
}  // namespace pinpipe::log

template <>
struct fmt::formatter<pinpipe::log::Counted> : fmt::formatter<std::string_view> {
  auto format(const pinpipe::log::Counted& c, fmt::format_context& ctx) const {
    ++*c.formatted;
    return fmt::formatter<std::string_view>::format("d", ctx);
  }
};

namespace pinpipe::log {
namespace {

TEST(LoggerTest, LevelFilterDropsLowerLevelsAndSkipsFormatting) {
  struct Case {
    Level threshold;
    std::vector<std::string> want;  // the messages written, in order
    int formatted;                  // times the debug line's argument was formatted
  };
  const std::vector<Case> cases = {
      {Level::kDebug, {"d", "i", "w", "e"}, 1},
      {Level::kInfo, {"i", "w", "e"}, 0},
      {Level::kWarn, {"w", "e"}, 0},
      {Level::kError, {"e"}, 0},
      {Level::kOff, {}, 0},
  };
  for (const Case& c : cases) {
    std::ostringstream out;
    InitForTesting({Format::kJson, c.threshold}, &out);
    const Logger logger("test");
    int formatted = 0;
    logger.Debug("{}", Counted{&formatted});
    logger.Info("i");
    logger.Log(Level::kWarn, "w", {{"k", 1}});
    logger.Error("{}", "e");
    std::vector<std::string> got;
    for (const std::string& line : Lines(out.str())) {
      const size_t at = line.find("\"msg\":\"");
      ASSERT_NE(at, std::string::npos) << line;
      got.push_back(line.substr(at + 7, 1));
    }
    EXPECT_EQ(got, c.want) << LevelName(c.threshold);
    EXPECT_EQ(formatted, c.formatted) << LevelName(c.threshold);
    EXPECT_EQ(Logger::enabled(Level::kDebug), c.threshold == Level::kDebug);
    EXPECT_EQ(CurrentLevel(), c.threshold);
  }
  Init({});
}

TEST(LoggerTest, LinesFromManyThreadsStayWhole) {
  std::ostringstream out;
  InitForTesting({Format::kText, Level::kInfo}, &out);
  constexpr int kThreads = 4;
  constexpr int kLines = 200;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([t] {
        const Logger logger("t" + std::to_string(t));
        for (int i = 0; i < kLines; ++i) logger.Log(Level::kInfo, "line", {{"i", i}});
      });
    }
  }
  const std::vector<std::string> lines = Lines(out.str());
  EXPECT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  const std::regex whole(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  t[0-3]: line i=\d{1,3})");
  for (const std::string& line : lines) EXPECT_TRUE(std::regex_match(line, whole)) << line;
  Init({});
}

TEST(LineStreamTest, EachLineIsOneLogLine) {
  std::ostringstream out;
  InitForTesting({Format::kJson, Level::kInfo}, &out);
  {
    LineStream progress(Logger("emulate"), Level::kInfo);
    progress << "history: 10 of 20"
             << " posts\n"
             << "second\nrest without newline";
    LineStream hidden(Logger("emulate"), Level::kDebug);
    hidden << "not shown\n";
  }
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_NE(lines[0].find(R"("component":"emulate","msg":"history: 10 of 20 posts"})"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("msg":"second"})"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(R"("msg":"rest without newline"})"), std::string::npos) << lines[2];
  Init({});
}

}  // namespace
}  // namespace pinpipe::log
