#include "testing/batch_lake.h"

#include <zstd.h>

#include <fmt/format.h>

#include "batch/archive_layout.h"
#include "core/check.h"

namespace pinpipe::testing {
namespace {

std::string CompressFrame(const std::string& text, int level) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), level);
  PINPIPE_CHECK(!ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(n);
  return out;
}

}  // namespace

std::string ZstdFrame(const std::string& text, int level) { return CompressFrame(text, level); }

std::string ZstdJsonl(const std::vector<std::string>& lines, size_t lines_per_frame, int level) {
  if (lines_per_frame == 0) lines_per_frame = lines.size() + 1;
  std::string out;
  std::string frame;
  for (size_t i = 0; i < lines.size(); ++i) {
    frame += lines[i];
    frame += '\n';
    if ((i + 1) % lines_per_frame == 0) {
      out += CompressFrame(frame, level);
      frame.clear();
    }
  }
  if (!frame.empty() || out.empty()) out += CompressFrame(frame, level);
  return out;
}

std::string SegmentKey(const std::string& topic, const std::string& date, int hour, int partition,
                       int64_t first_offset) {
  const auto day = batch::ParseDate(date);
  PINPIPE_CHECK(day.has_value()) << date;
  return batch::SegmentObjectKey(topic, *day * 24 + hour, partition, first_offset);
}

StatusOr<std::string> PutSegment(lake::ObjectStore* store, const std::string& topic,
                                 const std::string& date, int hour, int partition,
                                 int64_t first_offset, const std::vector<std::string>& lines) {
  const std::string key = SegmentKey(topic, date, hour, partition, first_offset);
  RETURN_IF_ERROR(store->Put(key, ZstdJsonl(lines, /*lines_per_frame=*/7)));
  return key;
}

Status PutSuccess(lake::ObjectStore* store, const std::string& topic, const std::string& date) {
  return store->Put(fmt::format("{}/dt={}/_SUCCESS", topic, date), "");
}

std::string PinJson(int ind, const std::string& unique_id, const std::string& poster_name,
                    const std::string& follower_count, const std::string& category,
                    const std::string& title) {
  return fmt::format(
      R"({{"index": {}, "unique_id": "{}", "title": "{}", "description": "Some text", )"
      R"("poster_name": "{}", "follower_count": "{}", "tag_list": "a,b,c", )"
      R"("is_image_or_video": "image", "image_src": "https://i.pinimg.com/originals/x.jpg", )"
      R"("downloaded": 1, "save_location": "Local save in /data/{}", "category": "{}"}})",
      ind, unique_id, title, poster_name, follower_count, category, category);
}

std::string GeoJson(int ind, const std::string& timestamp, const std::string& country,
                    double latitude, double longitude) {
  return fmt::format(
      R"({{"ind": {}, "timestamp": "{}", "latitude": {}, "longitude": {}, "country": "{}"}})",
      ind, timestamp, latitude, longitude, country);
}

std::string UserJson(int ind, const std::string& first_name, const std::string& last_name, int age,
                     const std::string& date_joined) {
  return fmt::format(
      R"({{"ind": {}, "first_name": "{}", "last_name": "{}", "age": {}, "date_joined": "{}"}})",
      ind, first_name, last_name, age, date_joined);
}

StatusOr<std::map<std::string, std::string>> ReadAll(lake::ObjectStore* store,
                                                     const std::string& prefix) {
  ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> listed, store->List(prefix));
  std::map<std::string, std::string> out;
  for (const lake::ObjectInfo& info : listed) {
    ASSIGN_OR_RETURN(out[info.key], store->Get(info.key));
  }
  return out;
}

}  // namespace pinpipe::testing
