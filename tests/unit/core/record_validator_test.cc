// Data-driven tests for RecordValidator: every tests/data/records/<kind>/<case>.json is one test.
//   valid_*.json    -> must validate; <case>.expected holds the canonical JSON (one line).
//   invalid_*.json  -> must fail; <case>.expected holds the errors in order, one per line:
//                      `field|type` or `field|type|text the message must contain`
//                      (field empty for whole-body errors).
// A new case is a new pair of files. Unit tests for AppendJsonString follow.
#include "core/record_validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
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

void CheckCase(const RecordCase& c, const std::string& json,
               const std::vector<std::string>& expected, RecordValidator::Parser parser);

TEST_P(RecordCaseTest, MatchesExpected) {
  const RecordCase& c = GetParam();
  const std::string json = ReadFile(c.json_path);
  fs::path expected_path = c.json_path;
  expected_path.replace_extension(".expected");
  ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
  const std::vector<std::string> expected = Lines(ReadFile(expected_path));

  // Both parsers: the fast path (which leaves errors to simdjson) and simdjson alone.
  for (const RecordValidator::Parser parser :
       {RecordValidator::Parser::kFastPathFirst, RecordValidator::Parser::kSimdjsonOnly}) {
    SCOPED_TRACE(parser == RecordValidator::Parser::kSimdjsonOnly ? "simdjson only" : "fast path");
    CheckCase(c, json, expected, parser);
  }
}

void CheckCase(const RecordCase& c, const std::string& json,
               const std::vector<std::string>& expected, RecordValidator::Parser parser) {
  RecordValidator validator(parser);
  ValidatedRecord out;
  std::vector<FieldError> errors;
  const bool ok = validator.Validate(c.kind, json, &out, &errors);
  const bool want_ok = c.json_path.stem().string().starts_with("valid_");
  ASSERT_TRUE(want_ok || c.json_path.stem().string().starts_with("invalid_"))
      << "case files must be named valid_* or invalid_*";

  if (want_ok) {
    ASSERT_TRUE(ok) << (errors.empty()
                            ? ""
                            : errors[0].field + "|" + errors[0].type + "|" + errors[0].msg);
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
    // Metrics label errors by type: every type must be in the closed list.
    EXPECT_NE(std::find(std::begin(kFieldErrorTypes), std::end(kFieldErrorTypes), errors[i].type),
              std::end(kFieldErrorTypes))
        << errors[i].type << " is missing from kFieldErrorTypes";
  }
}

INSTANTIATE_TEST_SUITE_P(Records, RecordCaseTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<RecordCase>& param_info) {
                           return param_info.param.name;
                         });

// The closed list holds nothing the validator never produces: each type appears in some case.
TEST(RecordCasesTest, EveryFieldErrorTypeHasACase) {
  std::set<std::string> seen;
  for (const RecordCase& c : AllCases()) {
    fs::path expected_path = c.json_path;
    expected_path.replace_extension(".expected");
    if (!c.json_path.stem().string().starts_with("invalid_")) continue;
    for (const std::string& line : Lines(ReadFile(expected_path))) {
      const size_t bar1 = line.find('|');
      const size_t bar2 = line.find('|', bar1 + 1);
      seen.insert(
          line.substr(bar1 + 1, bar2 == std::string::npos ? std::string::npos : bar2 - bar1 - 1));
    }
  }
  for (std::string_view type : kFieldErrorTypes) {
    EXPECT_TRUE(seen.count(std::string(type))) << "no invalid_* case produces " << type;
  }
}

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
  EXPECT_FALSE(
      validator.Validate(RecordKind::kPin, R"({"index":1,"index":2,"e":1})", &out, &errors));
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

// Inputs at the fast path's edges: each must give the same verdict, errors, canonical JSON and
// field values through the fast path as through simdjson alone; `fast` says whether the fast
// path is expected to take it (the rest it must leave to simdjson).
struct ParserCase {
  RecordKind kind;
  std::string json;
  bool fast;
};

constexpr char kGeo[] = R"("timestamp":"2020-01-01 00:00:00","country":"Chile"})";

std::string Geo(std::string_view lat_long) {
  return std::string(R"({"ind":1,)") + std::string(lat_long) + "," + kGeo;
}

TEST(RecordValidatorTest, FastPathAndSimdjsonAgreeAtTheEdges) {
  const std::string pin = kPin;
  const std::vector<ParserCase> cases = {
      {RecordKind::kPin, pin, true},
      {RecordKind::kPin, " \t\r\n" + pin + " \n", false},  // control bytes: left to simdjson
      {RecordKind::kPin, "  " + pin + "   ", true},
      {RecordKind::kPin,
       R"({ "index" : 1 , "unique_id" : "fbe53c66-3442-4773-b19e-d3ec6f54dddf" })",
       true},  // missing fields: errors from the common second pass
      {RecordKind::kPin, "{}", true},
      {RecordKind::kPin, "{ }", true},
      {RecordKind::kPin, "", false},
      {RecordKind::kPin, "{", false},
      {RecordKind::kPin, "[]", false},
      {RecordKind::kPin, "\xEF\xBB\xBF" + pin, false},
      {RecordKind::kPin, pin + "x", false},
      {RecordKind::kPin, pin + "{}", false},
      {RecordKind::kPin, pin.substr(0, pin.size() - 1), false},
      {RecordKind::kPin, R"({"index":1,"index":2})", false},
      {RecordKind::kPin, R"({"index":1,"extra":2})", false},
      {RecordKind::kPin, R"({"ind\u0065x":1})", false},
      {RecordKind::kPin, R"({"index":1,"title":"a\"b"})", false},
      {RecordKind::kPin, R"({"index":1,"title":"a\u0000b"})", false},
      {RecordKind::kPin, "{\"index\":1,\"title\":\"a\x01b\"}", false},
      {RecordKind::kPin, R"({"index":1,"title":"caf\u00e9 \u2026"})", false},
      {RecordKind::kPin, "{\"index\":1,\"title\":\"caf\xC3\xA9 \xE2\x80\xA6\xC2\xA0\"}", true},
      {RecordKind::kPin, "{\"index\":1,\"title\":\"\xC3\"}", false},          // truncated UTF-8
      {RecordKind::kPin, "{\"index\":1,\"title\":\"\xED\xA0\x80\"}", false},  // surrogate
      {RecordKind::kPin, "{\"index\":1,\"title\":\"\xC0\xAF\"}", false},      // overlong
      {RecordKind::kPin, R"({"index":1,"title":null})", false},
      {RecordKind::kPin, R"({"index":1,"title":true})", false},
      {RecordKind::kPin, R"({"index":1,"title":["a"]})", false},
      {RecordKind::kPin, R"({"index":1,"title":{"a":1}})", false},
      {RecordKind::kPin, R"({"index":"1"})", true},
      {RecordKind::kPin, R"({"index":1.0})", true},
      {RecordKind::kPin, R"({"index":1e2})", true},
      {RecordKind::kPin, R"({"index":-0})", false},
      {RecordKind::kPin, R"({"index":-1})", true},
      {RecordKind::kPin, R"({"index":01})", false},
      {RecordKind::kPin, R"({"index":1.})", false},
      {RecordKind::kPin, R"({"index":.5})", false},
      {RecordKind::kPin, R"({"index":+1})", false},
      {RecordKind::kPin, R"({"index":1e})", false},
      {RecordKind::kPin, R"({"index":999999999999999999})", true},
      {RecordKind::kPin, R"({"index":9223372036854775807})", false},
      {RecordKind::kPin, R"({"index":9223372036854775808})", false},
      {RecordKind::kPin, R"({"index":18446744073709551616})", false},
      {RecordKind::kPin, R"({"index":1 2})", false},
      {RecordKind::kPin, R"({"index":1,})", false},
      {RecordKind::kPin, R"({"index" 1})", false},
      {RecordKind::kPin, R"({index:1})", false},
      {RecordKind::kPin, R"({'index':1})", false},
      {RecordKind::kGeo, Geo(R"("latitude":-45.5,"longitude":170.25)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":-45,"longitude":170)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":1E-3,"longitude":2.5e+1)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":0.1,"longitude":0.30000000000000004)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":0.0,"longitude":-0.0)"), false},
      {RecordKind::kGeo, Geo(R"("latitude":1e-400,"longitude":0)"), false},
      {RecordKind::kGeo, Geo(R"("latitude":4.9e-324,"longitude":0)"), false},
      {RecordKind::kGeo, Geo(R"("latitude":1e400,"longitude":0)"), false},
      {RecordKind::kGeo, Geo(R"("latitude":90.00000000000000000001,"longitude":0)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":89.99999999999999999999999999999,"longitude":0)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":"1","longitude":0)"), true},
      {RecordKind::kGeo, Geo(R"("latitude":91,"longitude":0)"), true},
      {RecordKind::kUser,
       R"({"date_joined":"2015-01-01 00:00:00","age":1,"last_name":"b","first_name":"a","ind":0})",
       true},
      {RecordKind::kUser,
       R"({"ind":0,"first_name":"a","last_name":"b","age":1,"date_joined":"2015-02-30 00:00:00"})",
       true},
  };
  for (const ParserCase& c : cases) {
    SCOPED_TRACE(std::string(RecordKindName(c.kind)) + " " + c.json);
    RecordValidator fast;
    RecordValidator reference(RecordValidator::Parser::kSimdjsonOnly);
    ValidatedRecord fast_out;
    ValidatedRecord reference_out;
    std::vector<FieldError> fast_errors;
    std::vector<FieldError> reference_errors;
    const bool fast_ok = fast.Validate(c.kind, c.json, &fast_out, &fast_errors);
    const bool reference_ok = reference.Validate(c.kind, c.json, &reference_out, &reference_errors);
    ASSERT_EQ(fast_ok, reference_ok);
    EXPECT_EQ(fast_errors, reference_errors);
    EXPECT_EQ(fast.parser_counts().fast_path, c.fast ? 1u : 0u);
    EXPECT_EQ(fast.parser_counts().simdjson, c.fast ? 0u : 1u);
    EXPECT_EQ(reference.parser_counts().fast_path, 0u);
    if (!fast_ok) continue;
    EXPECT_EQ(fast_out.canonical_json, reference_out.canonical_json);
    EXPECT_EQ(fast_out.key, reference_out.key);
    const auto a = fast.values();
    const auto b = reference.values();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      SCOPED_TRACE("field " + std::to_string(i));
      EXPECT_EQ(a[i].type, b[i].type);
      if (a[i].type == FieldValue::Type::kInt) {
        EXPECT_EQ(a[i].int_value, b[i].int_value);
      }
      if (a[i].type == FieldValue::Type::kDouble) {
        EXPECT_EQ(std::bit_cast<uint64_t>(a[i].double_value),
                  std::bit_cast<uint64_t>(b[i].double_value));
      }
      if (a[i].type == FieldValue::Type::kString) {
        EXPECT_EQ(a[i].string_value, b[i].string_value);
      }
    }
  }
}

TEST(FieldErrorsTextTest, JoinsFieldErrors) {
  EXPECT_EQ(FieldErrorsText({{"a", "bad", "int_type"}, {"", "broken", "json_invalid"}}, ""),
            "a: bad (int_type); body: broken (json_invalid)");
  EXPECT_EQ(FieldErrorsText({}, "why"), "why");
  EXPECT_EQ(FieldErrorsText({}, ""), "invalid record");
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
