// RecordValidator::values(): the field values the transform reads after validation (added for
// the transform so a record's JSON is parsed once), and Validate() without canonical output.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/record_schema.h"
#include "core/record_validator.h"

namespace pinpipe::core {
namespace {

TEST(ValidatorValuesTest, ExposesEachFieldBySchemaIndex) {
  RecordValidator validator;
  std::vector<FieldError> errors;
  ASSERT_TRUE(validator.Validate(RecordKind::kGeo,
                                 R"({"country": "A\"b", "ind": 7, "latitude": 45,)"
                                 R"( "longitude": -1.5, "timestamp": "2020-01-01 00:00:00"})",
                                 nullptr, &errors));
  const auto values = validator.values();
  ASSERT_EQ(values.size(), 5u);
  EXPECT_EQ(values[0].type, FieldValue::Type::kInt);
  EXPECT_EQ(values[0].int_value, 7);
  EXPECT_EQ(values[1].type, FieldValue::Type::kString);
  EXPECT_EQ(values[1].string_value, "2020-01-01 00:00:00");
  EXPECT_EQ(values[2].type, FieldValue::Type::kInt);  // an integer JSON number
  EXPECT_EQ(values[2].int_value, 45);
  EXPECT_EQ(values[3].type, FieldValue::Type::kDouble);
  EXPECT_EQ(values[3].double_value, -1.5);
  EXPECT_EQ(values[4].string_value, "A\"b");  // unescaped
}

TEST(ValidatorValuesTest, OptionalFieldAbsentAndNullOutSkipsCanonical) {
  RecordValidator validator;
  std::vector<FieldError> errors;
  const std::string pin =
      R"({"index": 1, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", "title": "t",)"
      R"( "description": "d", "follower_count": "1k", "tag_list": "a", "is_image_or_video": "image",)"
      R"( "image_src": "x", "downloaded": 1, "save_location": "s", "category": "c"})";
  ASSERT_TRUE(validator.Validate(RecordKind::kPin, pin, nullptr, &errors));
  EXPECT_EQ(validator.values()[4].type, FieldValue::Type::kAbsent);  // poster_name
  // With an output the canonical JSON is still produced, and equal across calls.
  ValidatedRecord out;
  ASSERT_TRUE(validator.Validate(RecordKind::kPin, pin, &out, &errors));
  EXPECT_EQ(out.key, "1");
  EXPECT_EQ(out.canonical_json.substr(0, 11), R"({"index":1,)");
  EXPECT_EQ(validator.values()[5].string_value, "1k");
}

}  // namespace
}  // namespace pinpipe::core
