// Data-driven tests for the default transform (transforms/pinterest.toml): every
// tests/data/transform/<kind>/<case>.json is one test, run through Transform::Default().Apply().
// <case>.expected holds one of:
//   the COPY text line of the row (tab-separated, without the final newline);
//   `DROPPED <reason>`;
//   `INVALID <field>|<type>`, one line per validation error, in order.
// A new rule or corner case is a new pair of files.
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
#include "transform/transform.h"

namespace pinpipe::transform {
namespace {

namespace fs = std::filesystem;

using TransformCase = ::pinpipe::testing::RecordDataCase;
using ::pinpipe::testing::ReadFile;

std::vector<TransformCase> AllCases() {
  return ::pinpipe::testing::RecordDataCases(fs::path(PINPIPE_SOURCE_DIR) / "tests/data/transform");
}

class TransformCaseTest : public ::testing::TestWithParam<TransformCase> {};

TEST_P(TransformCaseTest, MatchesExpected) {
  const TransformCase& c = GetParam();
  const std::string json = ReadFile(c.json_path);
  fs::path expected_path = c.json_path;
  expected_path.replace_extension(".expected");
  ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
  std::string expected = ReadFile(expected_path);
  if (!expected.empty() && expected.back() == '\n') expected.pop_back();

  const std::shared_ptr<const Transform> transform = Transform::Default();
  Transform::Scratch scratch;
  Row row;
  std::string reason;
  std::vector<core::FieldError> errors;
  QualityStats stats;
  const Outcome outcome = transform->Apply(c.kind, json, &scratch, &row, &reason, &errors, &stats);

  std::string actual;
  switch (outcome) {
    case Outcome::kRow:
      Transform::AppendCopyLine(row, &actual);
      ASSERT_EQ(actual.back(), '\n');
      actual.pop_back();
      EXPECT_EQ(row.cells.size(), transform->table(c.kind).columns.size());
      break;
    case Outcome::kDropped: actual = "DROPPED " + reason; break;
    case Outcome::kInvalid:
      for (const core::FieldError& e : errors) {
        if (!actual.empty()) actual += '\n';
        actual += "INVALID " + e.field + "|" + e.type;
      }
      break;
  }
  EXPECT_EQ(actual, expected) << c.json_path;
  EXPECT_EQ(stats.rows, outcome == Outcome::kRow ? 1 : 0);
  EXPECT_EQ(stats.invalid, outcome == Outcome::kInvalid ? 1 : 0);
  EXPECT_EQ(stats.dropped.size(), outcome == Outcome::kDropped ? 1u : 0u);

  // Counting into a tally (the batch and speed layers' form), twice, then folding: the same
  // counts as counting into QualityStats directly, twice.
  QualityTally tally;
  Row tally_row;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(transform->ApplyToTally(c.kind, json, &scratch, &tally_row, &reason, &errors, &tally),
              outcome);
  }
  QualityStats from_tally;
  transform->FoldTally(&tally, &from_tally);
  QualityStats twice;
  twice.Merge(stats);
  twice.Merge(stats);
  EXPECT_EQ(from_tally.ToJson(), twice.ToJson());
  QualityStats folded_again;
  transform->FoldTally(&tally, &folded_again);  // the fold zeroed the tally
  EXPECT_EQ(folded_again.ToJson(), QualityStats().ToJson());

  // The same record through a reused Row and Scratch gives the same answer (capacity reuse
  // must not leak state between records).
  std::string again;
  const Outcome outcome2 =
      transform->Apply(c.kind, json, &scratch, &row, &reason, &errors, nullptr);
  EXPECT_EQ(outcome2, outcome);
  if (outcome2 == Outcome::kRow) {
    Transform::AppendCopyLine(row, &again);
    again.pop_back();
    EXPECT_EQ(again, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, TransformCaseTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<TransformCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(TransformCaseTest, EveryKindHasCases) {
  size_t per_kind[3] = {0, 0, 0};
  for (const TransformCase& c : AllCases()) ++per_kind[static_cast<size_t>(c.kind)];
  EXPECT_GE(per_kind[0], 30u);
  EXPECT_GE(per_kind[1], 10u);
  EXPECT_GE(per_kind[2], 5u);
}

}  // namespace
}  // namespace pinpipe::transform
