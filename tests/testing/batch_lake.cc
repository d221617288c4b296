#include "testing/batch_lake.h"

#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "core/check.h"
#include "emulate/record_json.h"
#include "emulate/synthetic.h"
#include "testing/record_cases.h"

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
  const auto day = core::ParseDate(date);
  PINPIPE_CHECK(day.has_value()) << date;
  return archive::SegmentObjectKey(topic, *day * 24 + hour, kafka::Partition{partition},
                                   kafka::Offset{first_offset});
}

StatusOr<std::string> PutSegment(lake::ObjectStore* store, const std::string& topic,
                                 const std::string& date, int hour, int partition,
                                 int64_t first_offset, const std::vector<std::string>& lines) {
  const std::string key = SegmentKey(topic, date, hour, partition, first_offset);
  RETURN_IF_ERROR(store->Put(key, ZstdJsonl(lines, /*lines_per_frame=*/7)));
  return key;
}

Status PutSuccess(lake::ObjectStore* store, const std::string& topic, const std::string& date) {
  const std::optional<int64_t> day = core::ParseDate(date);
  if (!day) return InvalidArgument("PutSuccess: not a date: " + date);
  return store->Put(archive::SuccessKey(topic, *day), "");
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
      R"({{"ind": {}, "timestamp": "{}", "latitude": {}, "longitude": {}, "country": "{}"}})", ind,
      timestamp, latitude, longitude, country);
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

std::array<std::vector<std::string>, 3> TrickyDayRecords(int distinct, int replays, uint64_t seed) {
  std::array<std::vector<std::string>, 3> values;
  const emulate::SyntheticDataSet data = emulate::GenerateDataSet(distinct, seed);
  for (int n = 0; n < replays; ++n) {
    const auto row = static_cast<size_t>((int64_t{n} * 104729) % distinct);
    values[0].push_back(emulate::PinJson(data.pins[row]));
    values[1].push_back(emulate::GeoJson(data.geos[row]));
    values[2].push_back(emulate::UserJson(data.users[row]));
  }
  for (const RecordDataCase& c :
       RecordDataCases(std::filesystem::path(PINPIPE_SOURCE_DIR) / "tests/data/transform")) {
    std::string json = ReadFile(c.json_path);
    while (!json.empty() && (json.back() == '\n' || json.back() == '\r')) json.pop_back();
    // The archive holds one record per line (the archiver turns CR/LF into spaces).
    std::replace(json.begin(), json.end(), '\n', ' ');
    std::replace(json.begin(), json.end(), '\r', ' ');
    values[static_cast<size_t>(c.kind)].push_back(json);
  }
  for (auto& v : values) {
    v.push_back("");
    v.push_back("[1, 2, 3]");
    v.push_back("{\"ind\": ");
    v.push_back("\xEF\xBB\xBF{}");
    v.push_back("{\"ind\": 1e999}");
    v.push_back("{\"ind\": \"\\ud800\"}");
    v.push_back(std::string("{\"ind\": \"\xC3\x28\"}"));  // invalid UTF-8: raw_hex
    v.push_back("{\"ind\": 5, \"ind\": 6}");
    v.push_back("{\"ind\": true, \"extra\": null, \"extra\": 1}");
  }
  return values;
}

StatusOr<std::shared_ptr<const transform::Transform>> DefaultTransformWithoutDedup() {
  std::ifstream in(std::filesystem::path(PINPIPE_SOURCE_DIR) / "transforms/pinterest.toml");
  std::stringstream text;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("dedup_key")) text << line << "\n";
  }
  return transform::Transform::FromToml(text.str(), "pinterest.toml without dedup_key");
}

}  // namespace pinpipe::testing
