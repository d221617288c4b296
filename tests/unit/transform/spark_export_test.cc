// Tests of the Spark job generator (transform/spark_export.h) without Spark: the rules it reads
// (Transform::DescribeColumns), what it writes for them, and - record by record - that the
// generated Python (its validation and clean_<kind>() functions, run by python3 without PySpark)
// gives the transform's own outcome: the same COPY line, the same drop, the same dead-letter
// reason (for JSON syntax errors, the same type: each parser words them its own way). Run on
// every data case of tests/data/transform with the default file and on a file that uses the
// casts and sources the default does not.
#include "transform/spark_export.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/record_validator.h"
#include "testing/record_cases.h"
#include "transform/transform.h"

namespace pinpipe::transform {
namespace {

using core::RecordKind;
namespace fs = std::filesystem;

TEST(DescribeColumnsTest, StatesTheCompiledRulesOfTheDefaultFile) {
  const auto t = Transform::Default();
  const std::vector<ColumnRules> pin = t->DescribeColumns(RecordKind::kPin);
  ASSERT_EQ(pin.size(), t->table(RecordKind::kPin).columns.size());
  const ColumnRules& followers = pin[5];
  EXPECT_EQ(followers.name, "follower_count");
  EXPECT_EQ(followers.type, ColumnType::kInteger);
  EXPECT_TRUE(followers.trim);
  EXPECT_TRUE(followers.parse_count_suffix);
  EXPECT_EQ(followers.null_if, (std::vector<std::string>{"User Info Error", ""}));
  EXPECT_EQ(pin[0].name, "ind");  // a rename: from = "index"
  EXPECT_EQ(core::SchemaFor(RecordKind::kPin).fields[pin[0].fields.at(0)].name, "index");
  EXPECT_EQ(pin[10].strip_prefix, std::optional<std::string>("Local save in "));
  EXPECT_FALSE(pin[9].strip_prefix.has_value());
  const std::vector<ColumnRules> user = t->DescribeColumns(RecordKind::kUser);
  EXPECT_EQ(user[1].source, ColumnRules::Source::kConcat);
  EXPECT_EQ(user[1].separator, " ");
  EXPECT_EQ(user[1].fields.size(), 2u);
  const std::vector<ColumnRules> geo = t->DescribeColumns(RecordKind::kGeo);
  EXPECT_EQ(geo[4].source, ColumnRules::Source::kArray);
  EXPECT_EQ(geo[4].type, ColumnType::kDoubleArray);
}

TEST(SparkExportTest, WritesEachRuleAsAStatement) {
  auto job = ExportSparkJob(*Transform::Default(), {});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  for (const char* expected : {
           "def clean_pin(v):",
           "def clean_geo(v):",
           "def clean_user(v):",
           "if x is not None and x in (\"User Info Error\", \"\", ):  # null_if",
           "x = _parse_count(x, True)",
           "if x is not None and x.startswith(\"Local save in \"):  # strip_prefix",
           "x = x[14:]",
           "if row[5] is None:  # drop_if_null follower_count",
           "x = None if v[1] is None or v[2] is None else \" \".join([_trim(v[1]), _trim(v[2]), ])",
           "x = None if v[2] is None or v[3] is None else [float(v[2]), float(v[3]), ]",
           "x = _text_to_timestamp(x)",
           "(\"latitude\", \"number\", True, -90, 90),",
           "\"dedup\": 1}",
           "TRIM_CHARS = \"\\x09\\x0a\\x0b\\x0c\\x0d\\x20\\x85\\xa0\\u1680",
       }) {
    EXPECT_NE(job->find(expected), std::string::npos) << expected;
  }
}

TEST(SparkExportTest, EscapesTextAndFollowsTheFile) {
  std::ifstream in(fs::path(PINPIPE_SOURCE_DIR) / "transforms/pinterest.toml");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  const std::string prefix = "strip_prefix = \"Local save in \"";
  ASSERT_NE(text.find(prefix), std::string::npos);
  text.replace(text.find(prefix), prefix.size(), "strip_prefix = \"\\\"\\u00a0\\\\\"");
  const std::string drop = "drop_if_null = [\"follower_count\"]";
  text.replace(text.find(drop), drop.size(), "drop_if_null = []");
  auto t = Transform::FromToml(text, "custom.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto job = ExportSparkJob(**t, {.source_name = "custom.toml", .topics = {"a", "b", "c"}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_NE(job->find("x.startswith(\"\\\"\\xa0\\\\\"):"), std::string::npos);
  EXPECT_NE(job->find("x = x[3:]"), std::string::npos);
  EXPECT_EQ(job->find("drop_if_null follower_count"), std::string::npos);
  EXPECT_NE(job->find("from custom.toml"), std::string::npos);
  EXPECT_NE(job->find("\"topic\": \"b\""), std::string::npos);
}

// ------------------------------------------------------------------ the generated Python itself

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view s) {
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The transform's own outcome, in the form the driver below prints.
std::string Expected(const Transform& t, RecordKind kind, std::string_view json) {
  Transform::Scratch scratch;
  Row row;
  std::string reason;
  std::vector<core::FieldError> errors;
  switch (t.Apply(kind, json, &scratch, &row, &reason, &errors, nullptr)) {
    case Outcome::kRow: {
      std::string line;
      Transform::AppendCopyLine(row, &line);
      line.pop_back();
      return "ROW " + line;
    }
    case Outcome::kDropped: return "DROPPED";
    case Outcome::kInvalid:
      if (errors.size() == 1 && errors[0].type == "json_invalid") return "INVALID JSON";
      return "INVALID " + core::FieldErrorsText(errors, "");
  }
  return "";
}

constexpr std::string_view kDriver = R"(
import sys
sys.path.insert(0, sys.argv[1])
import job_under_test as job
kinds = {k["name"]: k for k in job.KINDS}
for line in sys.stdin:
    kind, raw = line.rstrip("\n").split(" ", 1)
    raw = bytes.fromhex(raw)
    values, errors = job._validate(job.SCHEMAS[kind], raw)
    if errors is not None:
        out = "INVALID JSON" if len(errors) == 1 and errors[0][2] == "json_invalid" \
            else "INVALID " + job._errors_text(errors)
    else:
        row = kinds[kind]["clean"](values)
        out = "DROPPED" if row is None else "ROW " + "\t".join(
            job._copy_cell(v, t) for v, t in zip(row, kinds[kind]["types"]))
    print(out.encode("utf-8").hex())
)";

// Runs every record through the generated job with python3; their outcomes, in order.
std::vector<std::string> RunGenerated(const Transform& t,
                                      const std::vector<std::pair<RecordKind, std::string>>& in,
                                      std::string* error) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("pinpipe-spark-export-{}", getpid());
  fs::create_directories(dir);
  auto job = ExportSparkJob(t, {});
  if (!job.ok()) {
    *error = job.status().ToString();
    return {};
  }
  std::ofstream(dir / "job_under_test.py", std::ios::binary) << *job;
  std::ofstream(dir / "driver.py", std::ios::binary) << kDriver;
  {
    std::ofstream records(dir / "records.txt", std::ios::binary);
    for (const auto& [kind, json] : in) {
      records << core::RecordKindName(kind) << " " << Hex(json) << "\n";
    }
  }
  const std::string command = fmt::format(
      "python3 {0}/driver.py {0} < {0}/records.txt > {0}/out.txt 2> {0}/err.txt", dir.string());
  const int rc = std::system(command.c_str());
  std::vector<std::string> out;
  std::ifstream result(dir / "out.txt");
  std::string line;
  while (std::getline(result, line)) out.push_back(Unhex(line));
  if (rc != 0) {
    std::ifstream err(dir / "err.txt");
    std::stringstream s;
    s << err.rdbuf();
    *error = s.str();
  }
  fs::remove_all(dir);
  return out;
}

bool HavePython() { return std::system("python3 -c 'import json' >/dev/null 2>&1") == 0; }

void ExpectSameOutcomes(const Transform& t,
                        const std::vector<std::pair<RecordKind, std::string>>& records) {
  std::string error;
  const std::vector<std::string> got = RunGenerated(t, records, &error);
  ASSERT_EQ(got.size(), records.size()) << error;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(got[i], Expected(t, records[i].first, records[i].second))
        << core::RecordKindName(records[i].first) << " " << records[i].second;
  }
}

TEST(SparkExportPythonTest, SameOutcomeAsTheTransformForEveryDataCase) {
  if (!HavePython()) GTEST_SKIP() << "needs python3";
  std::vector<std::pair<RecordKind, std::string>> records;
  for (const testing::RecordDataCase& c :
       testing::RecordDataCases(fs::path(PINPIPE_SOURCE_DIR) / "tests/data/transform")) {
    records.emplace_back(c.kind, testing::ReadFile(c.json_path));
  }
  ASSERT_GT(records.size(), 20u);
  for (RecordKind kind : core::kAllRecordKinds) {
    for (const char* broken :
         {"", " ", "[1]", "{", "\xEF\xBB\xBF{}", "{\"ind\": 1e999}", "{\"ind\": \"\\ud800\"}",
          "{\"ind\": \"\xC3\x28\"}", "{\"ind\": 5, \"ind\": 6}", "{\"ind\": true, \"x\": null}",
          "{\"ind\": -1}", "{\"ind\": 2147483648}", "{\"ind\": 1.0}", "{\"ind\": NaN}",
          "{\"ind\": 99999999999999999999999}", "{\"ind\": \"a\\u0000b\"}", "null", "{} x"}) {
      records.emplace_back(kind, broken);
    }
  }
  ExpectSameOutcomes(*Transform::Default(), records);
}

// The casts and sources the default file does not use (transform_test.cc's casts file).
TEST(SparkExportPythonTest, SameOutcomeAsTheTransformForEveryCast) {
  if (!HavePython()) GTEST_SKIP() << "needs python3";
  constexpr std::string_view kCastsFile = R"(
[pin]
table = "pins"
drop_if_null = ["downloaded_bool"]
[[pin.columns]]
name = "downloaded_bool"
from = "downloaded"
type = "boolean"
[[pin.columns]]
name = "followers_big"
from = "follower_count"
type = "bigint"
parse = "count_suffix"
[[pin.columns]]
name = "title_int"
from = "title"
type = "integer"
[[pin.columns]]
name = "title_big"
from = "title"
type = "bigint"
[[pin.columns]]
name = "title_double"
from = "title"
type = "double"
[[pin.columns]]
name = "title_bool"
from = "title"
type = "boolean"
trim = true
[[pin.columns]]
name = "title_ts"
from = "title"
type = "timestamp"
[[pin.columns]]
name = "index_text"
from = "index"
type = "text"
[[pin.columns]]
name = "index_double"
from = "index"
type = "double"
[[pin.columns]]
name = "both"
concat = ["category", "unique_id", "poster_name"]
separator = "/"
trim = true
null_if = ["art/x"]
strip_prefix = "art/"
type = "text"
[geo]
table = "geo"
[[geo.columns]]
name = "lat_text"
from = "latitude"
type = "text"
[[geo.columns]]
name = "lon_double"
from = "longitude"
type = "double"
[[geo.columns]]
name = "ts_text"
from = "timestamp"
type = "text"
[user]
table = "users"
[[user.columns]]
name = "age_bool"
from = "age"
type = "boolean"
[[user.columns]]
name = "joined"
from = "date_joined"
type = "timestamp"
)";
  auto t = Transform::FromToml(kCastsFile, "casts.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto pin = [](std::string_view title, std::string_view followers, int downloaded = 1) {
    return fmt::format(
        R"({{"index": 7, "unique_id": "FBE53C66-3442-4773-B19E-D3EC6F54DDDF", "title": "{}", )"
        R"("description": "d", "poster_name": " Holiday ", "follower_count": "{}", )"
        R"("tag_list": "a", "is_image_or_video": "image", "image_src": "i", "downloaded": {}, )"
        R"("save_location": "s", "category": "art"}})",
        title, followers, downloaded);
  };
  std::vector<std::pair<RecordKind, std::string>> records;
  for (const char* title : {"12",
                            "-12",
                            "+12",
                            "1.5",
                            "-1.5e3",
                            ".5",
                            "5.",
                            "1e",
                            "inf",
                            "nan",
                            "1e400",
                            " true ",
                            "TRUE",
                            "f",
                            "0",
                            "yes",
                            "99999999999",
                            "9223372036854775807",
                            "9223372036854775808",
                            "2020-08-28T03:52:47Z",
                            "2020-08-28 03:52:47.1234565+05:30",
                            "2020-02-30 00:00:00",
                            "0001-01-01 00:30:00+01:00",
                            "2021-01-01 00:00:00.000001",
                            "",
                            "\\u00a0"}) {
    records.emplace_back(RecordKind::kPin, pin(title, "1.2345k"));
  }
  for (const char* followers :
       {"3B", "9223372036854775807", "9.3e18", "12kk", "1.k", "0.5", "18446744073709551615k"}) {
    records.emplace_back(RecordKind::kPin, pin("t", followers));
  }
  records.emplace_back(RecordKind::kPin, pin("t", "1", 0));
  for (const char* lat : {"45", "1.5", "-0.0", "1e-7", "89.99999999999999", "0.0001", "-90"}) {
    records.emplace_back(
        RecordKind::kGeo,
        fmt::format(R"({{"ind": 1, "timestamp": "2020-01-01T00:00:00.5-01:00", "latitude": {}, )"
                    R"("longitude": {}, "country": "X"}})",
                    lat, lat));
  }
  for (int age : {0, 1, 2}) {
    records.emplace_back(
        RecordKind::kUser,
        fmt::format(R"({{"ind": 1, "first_name": "a", "last_name": "b", "age": {}, )"
                    R"("date_joined": "2015-10-12 09:21:34"}})",
                    age));
  }
  ExpectSameOutcomes(**t, records);
}

}  // namespace
}  // namespace pinpipe::transform
