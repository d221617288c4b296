#include "supervisor/workers_file.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace pinpipe::supervisor {
namespace {

constexpr const char* kTwoWorkers = R"toml(
# as scripts/run writes it
[[worker]]
name = "archive"
title = "archiver"
argv = ["/opt/pinpipe", "archive", "--lake", "/state/lake dir"]
log = "/state/logs/archive.log"
stop_timeout = "40s"

[[worker]]
name = "emulator"
argv = ["/opt/pinpipe", "emulate"]
log = "/state/logs/emulate.log"
restart = "on-failure"
env = { PINPIPE_API_URL = "http://127.0.0.1:8000", PINPIPE_X = "a \"quoted\" value" }
)toml";

TEST(WorkersFileTest, ParsesWorkersInOrderWithDefaults) {
  auto specs = ParseWorkersFile(kTwoWorkers, "workers.toml");
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 2u);
  const WorkerSpec& a = (*specs)[0];
  EXPECT_EQ(a.name, "archive");
  EXPECT_EQ(a.title, "archiver");
  EXPECT_EQ(a.argv,
            (std::vector<std::string>{"/opt/pinpipe", "archive", "--lake", "/state/lake dir"}));
  EXPECT_EQ(a.log_file, "/state/logs/archive.log");
  EXPECT_EQ(a.restart, RestartPolicy::kAlways);
  EXPECT_EQ(a.stop_timeout, std::chrono::seconds(40));
  EXPECT_TRUE(a.env.empty());
  const WorkerSpec& e = (*specs)[1];
  EXPECT_EQ(e.title, "emulator");  // the name when no title
  EXPECT_EQ(e.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(e.stop_timeout, std::chrono::seconds(15));
  EXPECT_EQ(e.env, (std::vector<std::pair<std::string, std::string>>{
                       {"PINPIPE_API_URL", "http://127.0.0.1:8000"},
                       {"PINPIPE_X", "a \"quoted\" value"}}));
}

TEST(WorkersFileTest, RejectsWhatItCannotRun) {
  const std::string ok = "[[worker]]\nname = \"w\"\nargv = [\"/bin/true\"]\nlog = \"/l\"\n";
  const std::pair<std::string, std::string> cases[] = {
      {"", "w.toml: worker: no workers: add [[worker]] tables"},
      {"[worker]\nname = \"w\"\n", "w.toml: worker (line 1): no workers: add [[worker]] tables"},
      {"x = 1\n" + ok,
       "w.toml: x (line 1): unknown key (a workers file has only [[worker]] tables)"},
      {"[[worker]]\nargv = [\"/bin/true\"]\nlog = \"/l\"\n", "w.toml: worker[0].name: missing"},
      {"[[worker]]\nname = \"a b\"\nargv = [\"/bin/true\"]\nlog = \"/l\"\n",
       "w.toml: worker[0].name (line 2): \"a b\" is not a worker name (1 to 64 of A-Z a-z "
       "0-9 _ . -)"},
      {"[[worker]]\nname = \"" + std::string(65, 'w') +
           "\"\nargv = [\"/bin/true\"]\nlog = \"/l\"\n",
       "w.toml: worker[0].name (line 2): \"" + std::string(65, 'w') +
           "\" is not a worker name (1 to 64 of A-Z a-z 0-9 _ . -)"},
      {ok + ok, "w.toml: worker.w.name (line 6): used by two workers"},
      {"[[worker]]\nname = \"w\"\nlog = \"/l\"\n", "w.toml: worker.w.argv: missing"},
      {"[[worker]]\nname = \"w\"\nargv = []\nlog = \"/l\"\n",
       "w.toml: worker.w.argv (line 3): must be a non-empty array of strings"},
      {"[[worker]]\nname = \"w\"\nargv = [\"/bin/true\", 1]\nlog = \"/l\"\n",
       "w.toml: worker.w.argv (line 3): must be an array of strings"},
      {"[[worker]]\nname = \"w\"\nargv = [\"/bin/true\"]\n", "w.toml: worker.w.log: missing"},
      {ok + "restart = \"never\"\n",
       "w.toml: worker.w.restart (line 5): must be \"always\" or \"on-failure\""},
      {ok + "stop_timeout = 15\n",
       "w.toml: worker.w.stop_timeout (line 5): must be a duration such as \"15s\""},
      {ok + "stop_timeout = \"15x\"\n",
       "w.toml: worker.w.stop_timeout (line 5): bad duration \"15x\": unknown unit 'x' (use d, h, "
       "m, s as in \"5m\", \"1h30m\", \"90s\")"},
      {ok + "env = { \"A-B\" = \"x\" }\n",
       "w.toml: worker.w.env.A-B (line 5): is not an environment variable name "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {ok + "env = { A = 1 }\n", "w.toml: worker.w.env.A (line 5): must be a string"},
      {ok + "stop-timeout = \"1s\"\n",
       "w.toml: worker.w.stop-timeout (line 5): unknown key (allowed: name, title, argv, log, "
       "restart, stop_timeout, env)"},
      {"[[worker\n",
       "w.toml:1:9: TOML syntax error: Error while parsing table header: expected ']', saw '\\n'"},
  };
  for (const auto& [text, message] : cases) {
    auto specs = ParseWorkersFile(text, "w.toml");
    ASSERT_FALSE(specs.ok()) << text;
    EXPECT_THAT(specs, StatusIs(StatusCode::kInvalidArgument)) << text;
    EXPECT_EQ(specs.status().message(), message) << text;
  }
  std::string many;
  for (int i = 0; i <= 32; ++i) {
    many +=
        "[[worker]]\nname = \"w" + std::to_string(i) + "\"\nargv = [\"/bin/true\"]\nlog = \"/l\"\n";
  }
  EXPECT_EQ(ParseWorkersFile(many, "w.toml").status().message(),
            "w.toml: worker (line 1): at most 32 workers");
}

TEST(WorkersFileTest, AMissingFileIsNotFound) {
  auto specs = LoadWorkersFile("/nonexistent/workers.toml");
  EXPECT_THAT(specs, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(specs.status().message(), "cannot read the workers file /nonexistent/workers.toml");
}

}  // namespace
}  // namespace pinpipe::supervisor
