#include "emulate/record_json.h"

#include "core/record_validator.h"

namespace pinpipe::emulate {
namespace {

void Key(std::string& out, std::string_view name) {
  out += out.size() == 1 ? "\"" : ",\"";
  out += name;
  out += "\":";
}

void StringField(std::string& out, std::string_view name, std::string_view value) {
  Key(out, name);
  core::AppendJsonString(value, &out);
}

void RawField(std::string& out, std::string_view name, std::string_view number) {
  Key(out, name);
  out += number;
}

}  // namespace

std::string PinJson(const PinRow& pin) {
  std::string out = "{";
  out.reserve(256 + pin.description.size() + pin.title.size());
  RawField(out, "index", std::to_string(pin.index));
  StringField(out, "unique_id", pin.unique_id);
  StringField(out, "title", pin.title);
  StringField(out, "description", pin.description);
  StringField(out, "poster_name", pin.poster_name);
  StringField(out, "follower_count", pin.follower_count);
  StringField(out, "tag_list", pin.tag_list);
  StringField(out, "is_image_or_video", pin.is_image_or_video);
  StringField(out, "image_src", pin.image_src);
  RawField(out, "downloaded", std::to_string(pin.downloaded));
  StringField(out, "save_location", pin.save_location);
  StringField(out, "category", pin.category);
  out += '}';
  return out;
}

std::string GeoJson(const GeoRow& geo) {
  std::string out = "{";
  RawField(out, "ind", std::to_string(geo.ind));
  StringField(out, "timestamp", geo.timestamp);
  RawField(out, "latitude", geo.latitude);
  RawField(out, "longitude", geo.longitude);
  StringField(out, "country", geo.country);
  out += '}';
  return out;
}

std::string UserJson(const UserRow& user) {
  std::string out = "{";
  RawField(out, "ind", std::to_string(user.ind));
  StringField(out, "first_name", user.first_name);
  StringField(out, "last_name", user.last_name);
  RawField(out, "age", std::to_string(user.age));
  StringField(out, "date_joined", user.date_joined);
  out += '}';
  return out;
}

}  // namespace pinpipe::emulate
