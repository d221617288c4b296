#include "emulate/record_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/record_validator.h"
#include "emulate/emulator.h"
#include "emulate/source_posts.h"

namespace pinpipe::emulate {
namespace {

TEST(RecordJsonTest, EscapesOnlyWhatJsonRequires) {
  std::string out;
  core::AppendJsonString("a\"b\\c\nd\te\x01 \xE2\x80\xA6\xC2\xA0", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001 \xE2\x80\xA6\xC2\xA0\"");
}

TEST(RecordJsonTest, AllRecordsParseAndRoundTripStrings) {
  const SyntheticDataSet data = GenerateDataSet(3000, 7);
  simdjson::dom::parser parser;
  for (size_t i = 0; i < data.pins.size(); ++i) {
    const std::string pin = PinJson(data.pins[i]);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(pin).get(doc), simdjson::SUCCESS) << pin;
    std::string_view description;
    ASSERT_EQ(doc["description"].get_string().get(description), simdjson::SUCCESS);
    EXPECT_EQ(description, data.pins[i].description);
    int64_t index = 0;
    ASSERT_EQ(doc["index"].get_int64().get(index), simdjson::SUCCESS);
    EXPECT_EQ(index, data.pins[i].index);
    EXPECT_EQ(doc.get_object().size(), 12u);

    const std::string geo = GeoJson(data.geos[i]);
    ASSERT_EQ(parser.parse(geo).get(doc), simdjson::SUCCESS) << geo;
    double latitude = 0;
    ASSERT_EQ(doc["latitude"].get_double().get(latitude), simdjson::SUCCESS);
    EXPECT_EQ(doc.get_object().size(), 5u);

    const std::string user = UserJson(data.users[i]);
    ASSERT_EQ(parser.parse(user).get(doc), simdjson::SUCCESS) << user;
    EXPECT_EQ(doc.get_object().size(), 5u);
  }
}

TEST(RecordJsonTest, PinFieldOrderFollowsTheSourceTable) {
  PinRow pin;
  pin.index = 5;
  pin.downloaded = 1;
  const std::string json = PinJson(pin);
  EXPECT_EQ(json.rfind("{\"index\":5,\"unique_id\":\"\",\"title\":\"\",\"description\":\"\","
                       "\"poster_name\":\"\",\"follower_count\":\"\",\"tag_list\":\"\","
                       "\"is_image_or_video\":\"\",\"image_src\":\"\",\"downloaded\":1,",
                       0),
            0u);
}

TEST(PickPostTest, DeterministicAndInRange) {
  for (uint64_t n = 0; n < 1000; ++n) {
    EXPECT_LT(PickPost(42, n, 11000), 11000u);
    EXPECT_EQ(PickPost(42, n, 11000), PickPost(42, n, 11000));
  }
  EXPECT_NE(PickPost(42, 1, 11000) + PickPost(42, 2, 11000),
            PickPost(43, 1, 11000) + PickPost(43, 2, 11000));
}

}  // namespace
}  // namespace pinpipe::emulate
