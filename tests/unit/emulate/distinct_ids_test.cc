#include "emulate/distinct_ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/record_validator.h"
#include "emulate/record_json.h"
#include "emulate/synthetic.h"

namespace pinpipe::emulate {
namespace {

TEST(DistinctIdsTest, UuidsAreDistinctLowerCaseVersion4) {
  std::set<std::string> seen;
  for (int64_t i = 0; i < 200000; ++i) {
    const std::string uuid = DistinctUuid(i);
    ASSERT_EQ(uuid.size(), 36u);
    ASSERT_EQ(uuid[14], '4') << uuid;
    ASSERT_NE(std::string_view("89ab").find(uuid[19]), std::string_view::npos) << uuid;
    for (size_t p : {8u, 13u, 18u, 23u}) ASSERT_EQ(uuid[p], '-') << uuid;
    for (char c : uuid)
      ASSERT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << uuid;
    ASSERT_TRUE(seen.insert(uuid).second) << "duplicate for index " << i;
  }
  EXPECT_EQ(DistinctUuid(7), DistinctUuid(7));
}

TEST(DistinctIdsTest, RewrittenRecordsValidateWithTheNewIdsAndKeepTheRest) {
  const SyntheticDataSet data = GenerateDataSet(500, 3);
  core::RecordValidator validator;
  core::ValidatedRecord record;
  std::vector<core::FieldError> errors;
  for (size_t i = 0; i < data.pins.size(); ++i) {
    const int64_t index = 1'000'000 + static_cast<int64_t>(i);
    struct Case {
      core::RecordKind kind;
      std::string json;
    };
    for (const Case& c : {Case{core::RecordKind::kPin, PinJson(data.pins[i])},
                          Case{core::RecordKind::kGeo, GeoJson(data.geos[i])},
                          Case{core::RecordKind::kUser, UserJson(data.users[i])}}) {
      std::string out;
      ASSERT_TRUE(AppendWithDistinctIds(c.json, index, &out)) << c.json;
      errors.clear();
      ASSERT_TRUE(validator.Validate(c.kind, out, &record, &errors)) << out;
      EXPECT_EQ(record.key, std::to_string(index));
      // Everything after the id fields is the source record's.
      const size_t tail =
          c.kind == core::RecordKind::kPin ? c.json.find(",\"title\"") : c.json.find(',');
      EXPECT_EQ(out.substr(out.size() - (c.json.size() - tail)), c.json.substr(tail));
      if (c.kind == core::RecordKind::kPin) {
        EXPECT_NE(out.find("\"unique_id\":\"" + DistinctUuid(index) + "\""), std::string::npos);
      }
    }
  }
}

TEST(DistinctIdsTest, RefusesOtherLayouts) {
  std::string out;
  for (std::string_view bad : {R"({"unique_id":"x","index":1})", R"({"ind":"7"})", R"({"index":,)",
                               R"({"index":5,"title":"no uuid"})", "", "[]"}) {
    EXPECT_FALSE(AppendWithDistinctIds(bad, 1, &out)) << bad;
    EXPECT_TRUE(out.empty()) << bad;
  }
}

}  // namespace
}  // namespace pinpipe::emulate
