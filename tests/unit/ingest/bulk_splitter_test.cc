#include "ingest/bulk_splitter.h"

#include <gtest/gtest.h>

namespace pinpipe::ingest {
namespace {

struct SplitCase {
  const char* name;
  std::string body;
  std::vector<std::string> items;  // expected items (when ok)
  StatusCode code = StatusCode::kOk;
};

class SplitBulkTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitBulkTest, SplitsExactly) {
  const SplitCase& c = GetParam();
  auto got = SplitBulk(c.body, 5);
  ASSERT_EQ(got.status().code(), c.code) << got.status().ToString();
  if (!got.ok()) return;
  std::vector<std::string> items(got->items.begin(), got->items.end());
  EXPECT_EQ(items, c.items);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SplitBulkTest,
    ::testing::Values(
        SplitCase{"ndjson", "{\"a\":1}\n{\"b\":2}\n", {"{\"a\":1}", "{\"b\":2}"}},
        SplitCase{"ndjson_crlf_blank_lines",
                  "{\"a\":1}\r\n\r\n  \n{\"b\":2}",
                  {"{\"a\":1}", "{\"b\":2}"}},
        SplitCase{"ndjson_keeps_bad_line", "{\"a\":1}\nnot json\n", {"{\"a\":1}", "not json"}},
        SplitCase{"array",
                  " [ {\"a\":1} , {\"b\":[1,{\"c\":\"]\"}]} ] ",
                  {"{\"a\":1}", "{\"b\":[1,{\"c\":\"]\"}]}"}},
        SplitCase{
            "array_string_with_escaped_quote", "[{\"a\":\"x\\\"],\"}]", {"{\"a\":\"x\\\"],\"}"}},
        SplitCase{"array_scalars_are_items", "[1, \"x\", null]", {"1", "\"x\"", "null"}},
        SplitCase{"empty_array", "[]", {}},
        SplitCase{"array_missing_comma", "[{\"a\":1} {\"b\":2}]", {}, StatusCode::kInvalidArgument},
        SplitCase{"array_trailing_comma", "[{\"a\":1},]", {}, StatusCode::kInvalidArgument},
        SplitCase{"array_leading_comma", "[,{\"a\":1}]", {}, StatusCode::kInvalidArgument},
        SplitCase{"array_unclosed", "[{\"a\":1}", {}, StatusCode::kInvalidArgument},
        SplitCase{"array_mismatched", "[{\"a\":1]]", {}, StatusCode::kInvalidArgument},
        SplitCase{"array_unterminated_string", "[{\"a\":\"x}]", {}, StatusCode::kInvalidArgument},
        SplitCase{"array_trailing_data", "[{\"a\":1}] x", {}, StatusCode::kInvalidArgument},
        SplitCase{"empty_body", "  \n", {}, StatusCode::kInvalidArgument},
        SplitCase{"too_many_ndjson", "1\n2\n3\n4\n5\n6\n", {}, StatusCode::kResourceExhausted},
        SplitCase{"too_many_array", "[1,2,3,4,5,6]", {}, StatusCode::kResourceExhausted}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

}  // namespace
}  // namespace pinpipe::ingest
