#include "core/record_schema.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace pinpipe::core {
namespace {

TEST(RecordSchemaTest, ParseRecordKindRoundTrips) {
  for (RecordKind kind : kAllRecordKinds) {
    EXPECT_EQ(ParseRecordKind(RecordKindName(kind)), kind);
    EXPECT_EQ(SchemaFor(kind).kind, kind);
  }
  EXPECT_EQ(ParseRecordKind("pin"), RecordKind::kPin);
  EXPECT_EQ(ParseRecordKind("geo"), RecordKind::kGeo);
  EXPECT_EQ(ParseRecordKind("user"), RecordKind::kUser);
  EXPECT_EQ(ParseRecordKind("Pin"), std::nullopt);
  EXPECT_EQ(ParseRecordKind(""), std::nullopt);
  EXPECT_EQ(ParseRecordKind("pins"), std::nullopt);
}

TEST(RecordSchemaTest, NamesTablesAndKeys) {
  struct Want {
    RecordKind kind;
    std::string_view name, table, key, topic, event_time;
    size_t field_count;
  };
  const Want wants[] = {
      {RecordKind::kPin, "pin", "pinterest_data", "index", "pinterest", "", 12},
      {RecordKind::kGeo, "geo", "geolocation_data", "ind", "pinterest_geo", "timestamp", 5},
      {RecordKind::kUser, "user", "user_data", "ind", "pinterest_user", "date_joined", 5},
  };
  for (const Want& w : wants) {
    const RecordSchema& s = SchemaFor(w.kind);
    EXPECT_EQ(s.name, w.name);
    EXPECT_EQ(s.source_table, w.table);
    EXPECT_EQ(s.key_field, w.key);
    EXPECT_EQ(s.default_topic, w.topic);
    EXPECT_EQ(DefaultTopic(w.kind), w.topic);
    EXPECT_EQ(DefaultTopics()[static_cast<size_t>(w.kind)], w.topic);
    EXPECT_EQ(s.event_time_field, w.event_time);
    // An event-time field is one of the kind's timestamp fields.
    if (!s.event_time_field.empty()) {
      auto i = s.FieldIndex(s.event_time_field);
      ASSERT_TRUE(i.has_value()) << s.event_time_field;
      EXPECT_EQ(s.fields[*i].type, FieldType::kTimestamp);
    }
    EXPECT_EQ(s.fields.size(), w.field_count);
    // The key is the first column, an int, and required.
    ASSERT_EQ(s.FieldIndex(s.key_field), 0u);
    EXPECT_EQ(s.fields[0].type, FieldType::kInt);
    EXPECT_TRUE(s.fields[0].required);
  }
}

TEST(RecordSchemaTest, FieldIndexFindsEveryFieldAndNothingElse) {
  for (RecordKind kind : kAllRecordKinds) {
    const RecordSchema& s = SchemaFor(kind);
    std::set<std::string_view> names;
    for (size_t i = 0; i < s.fields.size(); ++i) {
      EXPECT_EQ(s.FieldIndex(s.fields[i].name), i);
      EXPECT_TRUE(names.insert(s.fields[i].name).second) << "duplicate " << s.fields[i].name;
      EXPECT_FALSE(s.fields[i].description.empty()) << s.fields[i].name;
      if (s.fields[i].type == FieldType::kInt || s.fields[i].type == FieldType::kNumber) {
        EXPECT_LT(s.fields[i].min, s.fields[i].max) << s.fields[i].name;
      }
    }
    EXPECT_EQ(s.FieldIndex("nope"), std::nullopt);
    EXPECT_EQ(s.FieldIndex(""), std::nullopt);
  }
  EXPECT_EQ(SchemaFor(RecordKind::kPin).FieldIndex("ind"), std::nullopt);
  EXPECT_EQ(SchemaFor(RecordKind::kGeo).FieldIndex("index"), std::nullopt);
  EXPECT_EQ(SchemaFor(RecordKind::kPin).FieldIndex("Index"), std::nullopt);
}

TEST(RecordSchemaTest, PinFieldsInColumnOrderWithOptionalPosterName) {
  const RecordSchema& pin = SchemaFor(RecordKind::kPin);
  const char* want[] = {"index",       "unique_id",      "title",         "description",
                        "poster_name", "follower_count", "tag_list",      "is_image_or_video",
                        "image_src",   "downloaded",     "save_location", "category"};
  ASSERT_EQ(pin.fields.size(), std::size(want));
  for (size_t i = 0; i < pin.fields.size(); ++i) {
    EXPECT_EQ(pin.fields[i].name, want[i]);
    EXPECT_EQ(pin.fields[i].required, pin.fields[i].name != "poster_name");
  }
  EXPECT_EQ(pin.fields[*pin.FieldIndex("unique_id")].type, FieldType::kUuid);
  EXPECT_EQ(pin.fields[*pin.FieldIndex("follower_count")].type, FieldType::kString);
  const FieldSpec& downloaded = pin.fields[*pin.FieldIndex("downloaded")];
  EXPECT_EQ(downloaded.type, FieldType::kInt);
  EXPECT_EQ(downloaded.min, 0);
  EXPECT_EQ(downloaded.max, 1);
  EXPECT_EQ(pin.fields[0].max, 2147483647.0);
}

TEST(RecordSchemaTest, GeoAndUserTypesAndRanges) {
  const RecordSchema& geo = SchemaFor(RecordKind::kGeo);
  EXPECT_EQ(geo.fields[*geo.FieldIndex("timestamp")].type, FieldType::kTimestamp);
  const FieldSpec& lat = geo.fields[*geo.FieldIndex("latitude")];
  EXPECT_EQ(lat.type, FieldType::kNumber);
  EXPECT_EQ(lat.min, -90);
  EXPECT_EQ(lat.max, 90);
  const FieldSpec& lon = geo.fields[*geo.FieldIndex("longitude")];
  EXPECT_EQ(lon.min, -180);
  EXPECT_EQ(lon.max, 180);
  const RecordSchema& user = SchemaFor(RecordKind::kUser);
  const FieldSpec& age = user.fields[*user.FieldIndex("age")];
  EXPECT_EQ(age.type, FieldType::kInt);
  EXPECT_EQ(age.min, 0);
  EXPECT_EQ(age.max, 150);
  EXPECT_EQ(user.fields[*user.FieldIndex("date_joined")].type, FieldType::kTimestamp);
}

}  // namespace
}  // namespace pinpipe::core
