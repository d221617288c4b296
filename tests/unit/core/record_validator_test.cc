// Data-driven tests for RecordValidator: every tests/data/records/<kind>/<case>.json is one test.
//   valid_*.json    -> must validate; <case>.expected holds the canonical JSON (one line).
//   invalid_*.json  -> must fail; <case>.expected holds the errors in order, one per line:
//                      `field|type` or `field|type|text the message must contain`
//                      (field empty for whole-body errors).
// A new case is a new pair of files. Unit tests for AppendJsonString follow.
#include "core/record_validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/record_schema.h"
#include "testing/record_cases.h"

namespace pinpipe::core {
namespace {

namespace fs = std::filesystem;

using RecordCase = ::pinpipe::testing::RecordDataCase;
using ::pinpipe::testing::ReadFile;

std::vector<RecordCase> AllCases() {
  return ::pinpipe::testing::RecordDataCases(fs::path(PINPIPE_SOURCE_DIR) / "tests/data/records");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class RecordCaseTest : public ::testing::TestWithParam<RecordCase> {};

TEST_P(RecordCaseTest, MatchesExpected) {
  const RecordCase& c = GetParam();
  const std::string json = ReadFile(c.json_path);
  fs::path expected_path = c.json_path;
  expected_path.replace_extension(".expected");
  ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
  const std::vector<std::string> expected = Lines(ReadFile(expected_path));

  RecordValidator validator;
  ValidatedRecord out;
  std::vector<FieldError> errors;
  const bool ok = validator.Validate(c.kind, json, &out, &errors);
  const bool want_ok = c.json_path.stem().string().starts_with("valid_");
  ASSERT_TRUE(want_ok || c.json_path.stem().string().starts_with("invalid_"))
      << "case files must be named valid_* or invalid_*";

  if (want_ok) {
    ASSERT_TRUE(ok) << (errors.empty() ? "" : errors[0].field + "|" + errors[0].type + "|" +
                                                  errors[0].msg);
    EXPECT_TRUE(errors.empty());
    ASSERT_EQ(expected.size(), 1u);
    EXPECT_EQ(out.canonical_json, expected[0]);
    EXPECT_EQ(out.kind, c.kind);
    // Canonical JSON is a fixed point of validation.
    ValidatedRecord again;
    ASSERT_TRUE(validator.Validate(c.kind, out.canonical_json, &again, &errors));
    EXPECT_EQ(again.canonical_json, out.canonical_json);
    EXPECT_EQ(again.key, out.key);
    return;
  }
  ASSERT_FALSE(ok);
  ASSERT_EQ(errors.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("error " + std::to_string(i) + ": " + expected[i]);
    const std::string& line = expected[i];
    const size_t bar1 = line.find('|');
    ASSERT_NE(bar1, std::string::npos);
    const size_t bar2 = line.find('|', bar1 + 1);
    EXPECT_EQ(errors[i].field, line.substr(0, bar1));
    EXPECT_EQ(errors[i].type, line.substr(bar1 + 1, bar2 == std::string::npos ? std::string::npos
                                                                              : bar2 - bar1 - 1));
    if (bar2 != std::string::npos) {
      EXPECT_NE(errors[i].msg.find(line.substr(bar2 + 1)), std::string::npos) << errors[i].msg;
    }
    EXPECT_FALSE(errors[i].msg.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Records, RecordCaseTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<RecordCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(RecordCasesTest, EveryKindHasCases) {
  const std::vector<RecordCase> cases = AllCases();
  for (RecordKind kind : kAllRecordKinds) {
    EXPECT_GE(std::count_if(cases.begin(), cases.end(),
                            [kind](const RecordCase& c) { return c.kind == kind; }),
              5)
        << RecordKindName(kind);
  }
}

constexpr char kPin[] =
    R"({"index":7528,"unique_id":"fbe53c66-3442-4773-b19e-d3ec6f54dddf","title":"t",)"
    R"("description":"d","follower_count":"1k","tag_list":"a,b","is_image_or_video":"image",)"
    R"("image_src":"x","downloaded":1,"save_location":"Local save in /data/art","category":"art"})";

TEST(RecordValidatorTest, KeyIsKeyFieldAsDecimal) {
  RecordValidator validator;
  ValidatedRecord out;
  std::vector<FieldError> errors;
  ASSERT_TRUE(validator.Validate(RecordKind::kPin, kPin, &out, &errors));
  EXPECT_EQ(out.key, "7528");
  EXPECT_EQ(out.canonical_json, kPin);
  ASSERT_TRUE(validator.Validate(
      RecordKind::kUser,
      R"({"ind":0,"first_name":"a","last_name":"b","age":1,"date_joined":"2015-01-01 00:00:00"})",
      &out, &errors));
  EXPECT_EQ(out.key, "0");
  EXPECT_EQ(out.kind, RecordKind::kUser);
}

TEST(RecordValidatorTest, FailureLeavesOutputUntouchedAndAppendsErrors) {
  RecordValidator validator;
  ValidatedRecord out;
  out.key = "old";
  std::vector<FieldError> errors = {{"x", "y", "z"}};
  EXPECT_FALSE(validator.Validate(RecordKind::kPin, "{}", &out, &errors));
  EXPECT_EQ(out.key, "old");
  EXPECT_EQ(errors.front(), (FieldError{"x", "y", "z"}));
  EXPECT_EQ(errors.size(), 1u + 11u);  // every required pin field is missing
  EXPECT_EQ(errors[1], (FieldError{"index", "Field required", "missing"}));
}

TEST(RecordValidatorTest, ReusedValidatorResetsStateBetweenRecords) {
  RecordValidator validator;
  ValidatedRecord out;
  std::vector<FieldError> errors;
  // A record with extras and a duplicate must not leak into the next one.
  EXPECT_FALSE(validator.Validate(RecordKind::kPin, R"({"index":1,"index":2,"e":1})", &out,
                                  &errors));
  for (int i = 0; i < 3; ++i) {
    errors.clear();
    ASSERT_TRUE(validator.Validate(RecordKind::kPin, kPin, &out, &errors));
    EXPECT_EQ(out.canonical_json, kPin);
  }
}

TEST(RecordValidatorTest, ReportsEveryExtraOnceInOrderOfAppearance) {
  RecordValidator validator;
  ValidatedRecord out;
  std::vector<FieldError> errors;
  std::string json = R"({"index":1)";
  for (int i = 0; i < 2000; ++i) json += ",\"k" + std::to_string(i % 1000) + "\":0";
  json += "}";
  EXPECT_FALSE(validator.Validate(RecordKind::kPin, json, &out, &errors));
  ASSERT_EQ(errors.size(), 10u + 1000u);  // 10 missing required fields, then the extras
  EXPECT_EQ(errors[10].field, "k0");
  EXPECT_EQ(errors.back().field, "k999");
  EXPECT_EQ(errors.back().type, "extra_forbidden");
}

TEST(RecordValidatorTest, DeepNestingInExtraFieldIsJsonInvalidNotACrash) {
  RecordValidator validator;
  ValidatedRecord out;
  std::vector<FieldError> errors;
  const std::string json = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(validator.Validate(RecordKind::kGeo, json, &out, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "json_invalid");
  EXPECT_EQ(errors[0].field, "");
}

struct JsonStringCase {
  std::string_view in;
  std::string_view want;
};

TEST(AppendJsonStringTest, EscapesOnlyQuoteBackslashAndControls) {
  const JsonStringCase cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"a\"b", R"("a\"b")"},
      {"C:\\dir", R"("C:\\dir")"},
      {"\n\t\r\b\f", R"("\n\t\r\b\f")"},
      {std::string_view("\0\x01\x1f", 3), R"("\u0000\u0001\u001f")"},
      {"\x7f", "\"\x7f\""},  // DEL is not a JSON control character
      {"/", R"("/")"},
      {"…\u00a0", "\"…\u00a0\""},
      {"🎄 Ёлка ağaç", "\"🎄 Ёлка ağaç\""},
      {"\u2028", "\"\u2028\""},
  };
  for (const JsonStringCase& c : cases) {
    std::string out = "prefix:";
    AppendJsonString(c.in, &out);
    EXPECT_EQ(out, "prefix:" + std::string(c.want)) << c.in;
  }
}

}  // namespace
}  // namespace pinpipe::core
