#include "core/record_schema.h"

#include <cstdint>
#include <limits>

namespace pinpipe::core {
namespace {

// Key fields are PostgreSQL `integer` columns and the join key between the three kinds, so all
// three share the same range.
constexpr double kKeyMin = 0;
constexpr double kKeyMax = std::numeric_limits<int32_t>::max();

// The tables below are the single definition of each record's fields, in the source tables'
// column order (which is also the canonical JSON order).
constexpr FieldSpec kPinFields[] = {
    {"index", FieldType::kInt, true, kKeyMin, kKeyMax,
     "Post index; the join key with geo and user"},
    {"unique_id", FieldType::kUuid, true, 0, 0, "Post UUID (8-4-4-4-12 hex)"},
    {"title", FieldType::kString, true, 0, 0, "Post title (may be empty or a placeholder)"},
    {"description", FieldType::kString, true, 0, 0, "Post description"},
    // The original FastAPI model has no poster_name (pydantic dropped it); the streaming schema
    // has it. Both shapes are accepted, so it is the one optional field.
    {"poster_name", FieldType::kString, false, 0, 0, "Poster's display name"},
    {"follower_count", FieldType::kString, true, 0, 0,
     "Poster's follower count as in the source data: \"123\", \"12k\", \"3M\" or a placeholder"},
    {"tag_list", FieldType::kString, true, 0, 0, "Comma-joined tags"},
    {"is_image_or_video", FieldType::kString, true, 0, 0,
     "\"image\", \"video\" or \"multi-video(story page format)\""},
    {"image_src", FieldType::kString, true, 0, 0, "Image URL or a placeholder"},
    {"downloaded", FieldType::kInt, true, 0, 1, "1 if the image was downloaded, else 0"},
    {"save_location", FieldType::kString, true, 0, 0, "\"Local save in /data/<category>\""},
    {"category", FieldType::kString, true, 0, 0, "Category slug"},
};

constexpr FieldSpec kGeoFields[] = {
    {"ind", FieldType::kInt, true, kKeyMin, kKeyMax, "Post index; the join key with pin and user"},
    {"timestamp", FieldType::kTimestamp, true, 0, 0, "When the post was made"},
    {"latitude", FieldType::kNumber, true, -90, 90, "Latitude in degrees"},
    {"longitude", FieldType::kNumber, true, -180, 180, "Longitude in degrees"},
    {"country", FieldType::kString, true, 0, 0, "Country name"},
};

constexpr FieldSpec kUserFields[] = {
    {"ind", FieldType::kInt, true, kKeyMin, kKeyMax, "Post index; the join key with pin and geo"},
    {"first_name", FieldType::kString, true, 0, 0, "User's first name"},
    {"last_name", FieldType::kString, true, 0, 0, "User's last name"},
    {"age", FieldType::kInt, true, 0, 150, "User's age in years"},
    {"date_joined", FieldType::kTimestamp, true, 0, 0, "When the user joined"},
};

// Indexed by RecordKind's value.
// constexpr: constant-initialized, so SchemaFor() works from any static initializer (a
// namespace-scope default topic list, a command's flag defaults) whatever the order of the
// translation units.
constexpr RecordSchema kSchemas[] = {
    {RecordKind::kPin, "pin", "pinterest_data", "index", "pinterest", "", kPinFields},
    {RecordKind::kGeo, "geo", "geolocation_data", "ind", "pinterest_geo", "timestamp", kGeoFields},
    {RecordKind::kUser, "user", "user_data", "ind", "pinterest_user", "date_joined", kUserFields},
};

}  // namespace

std::optional<size_t> RecordSchema::FieldIndex(std::string_view field_name) const {
  // A dozen short names: a linear scan beats hashing here.
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return i;
  }
  return std::nullopt;
}

const RecordSchema& SchemaFor(RecordKind kind) { return kSchemas[static_cast<size_t>(kind)]; }

std::string_view RecordKindName(RecordKind kind) { return SchemaFor(kind).name; }

std::optional<RecordKind> ParseRecordKind(std::string_view name) {
  for (const RecordSchema& schema : kSchemas) {
    if (schema.name == name) return schema.kind;
  }
  return std::nullopt;
}

std::string DefaultTopic(RecordKind kind) { return std::string(SchemaFor(kind).default_topic); }

std::array<std::string, 3> DefaultTopics() {
  return {DefaultTopic(RecordKind::kPin), DefaultTopic(RecordKind::kGeo),
          DefaultTopic(RecordKind::kUser)};
}

}  // namespace pinpipe::core
