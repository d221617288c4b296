#include "archive/archive_layout.h"

#include <simdjson.h>

#include <chrono>
#include <cstdint>

#include <fmt/format.h>

#include "archive/json_fields.h"
#include "core/json_writer.h"

namespace pinpipe::archive {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Decimal digits (leading zeros allowed, as in the 20-digit offsets) that fit int64.
std::optional<int64_t> ParseDigits(std::string_view s) {
  if (!AllDigits(s) || s.size() > 20) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    const int digit = c - '0';
    if (v > (INT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace

std::string OffsetDigits(int64_t offset) { return fmt::format("{:020d}", offset); }

std::string DayPrefix(std::string_view topic, int64_t day) {
  return fmt::format("{}/dt={}/", topic, DateOfDay(day));
}

std::string SuccessKey(std::string_view topic, int64_t day) {
  return DayPrefix(topic, day) + "_SUCCESS";
}

std::string FormatSuccessMarker(const SuccessMarker& marker) {
  std::string out;
  core::JsonWriter w(&out);
  w.BeginObject();
  w.Key("topic").String(marker.topic);
  w.Key("date").String(DateOfDay(marker.day));
  w.Key("records").Int(marker.records);
  w.Key("objects").Int(marker.objects);
  w.Key("bytes").Int(marker.bytes);
  w.Key("watermark").String(marker.watermark);
  w.Key("lateness_ms").Int(marker.lateness_ms);
  w.Key("sealed_at").String(marker.sealed_at);
  w.Key("group").String(marker.group);
  w.EndObject();
  out += '\n';
  return out;
}

StatusOr<SuccessMarker> ParseSuccessMarker(std::string_view content) {
  constexpr std::string_view kWhat = "_SUCCESS marker";
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(simdjson::dom::object object, internal::ParseObject(parser, content, kWhat));
  internal::Fields f(object, kWhat);
  SuccessMarker m;
  m.topic = f.String("topic");
  const std::string date = f.String("date");
  m.records = f.Int("records");
  m.objects = f.Int("objects");
  m.bytes = f.Int("bytes");
  m.watermark = f.String("watermark");
  m.lateness_ms = f.Int("lateness_ms");
  m.sealed_at = f.String("sealed_at");
  m.group = f.String("group");
  RETURN_IF_ERROR(f.status());
  const std::optional<int64_t> day = ParseDate(date);
  if (!day) f.Fail("date", "a date YYYY-MM-DD");
  if (m.records < 0) f.Fail("records", "a count (>= 0)");
  if (m.objects < 0) f.Fail("objects", "a count (>= 0)");
  if (m.bytes < 0) f.Fail("bytes", "a count (>= 0)");
  RETURN_IF_ERROR(f.status());
  m.day = *day;
  return m;
}

std::string SegmentObjectKey(std::string_view topic, int64_t hour, kafka::Partition partition,
                             kafka::Offset first, ArchiveCodec codec) {
  const int64_t day = DayOfHour(hour);
  return fmt::format("{}hr={:02d}/{}-{}{}", DayPrefix(topic, day), hour - day * 24, partition.value,
                     OffsetDigits(first.value), CodecExtension(codec));
}

std::optional<SegmentObjectName> ParseSegmentObjectKey(std::string_view key) {
  // <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first:20>.jsonl.zst (or .jsonl.gz), parsed from
  // the right since a topic name could in principle look like anything Kafka allows
  // ([a-zA-Z0-9._-]).
  const std::optional<ArchiveCodec> codec = CodecOfKey(key);
  if (!codec) return std::nullopt;
  key.remove_suffix(CodecExtension(*codec).size());
  const size_t file_slash = key.rfind('/');
  if (file_slash == std::string_view::npos) return std::nullopt;
  const std::string_view file = key.substr(file_slash + 1);
  const size_t dash = file.find('-');
  if (dash == std::string_view::npos || file.size() - dash - 1 != 20) return std::nullopt;
  auto partition = ParseDigits(file.substr(0, dash));
  auto first = ParseDigits(file.substr(dash + 1));
  if (!partition || !first || *partition > INT32_MAX) return std::nullopt;
  std::string_view rest = key.substr(0, file_slash);  // <topic>/dt=.../hr=HH
  const size_t hr_slash = rest.rfind('/');
  if (hr_slash == std::string_view::npos) return std::nullopt;
  const std::string_view hr = rest.substr(hr_slash + 1);
  if (hr.size() != 5 || !hr.starts_with("hr=")) return std::nullopt;
  auto hour_of_day = ParseDigits(hr.substr(3));
  if (!hour_of_day || *hour_of_day > 23) return std::nullopt;
  rest = rest.substr(0, hr_slash);
  const size_t dt_slash = rest.rfind('/');
  if (dt_slash == std::string_view::npos || dt_slash == 0) return std::nullopt;
  const std::string_view dt = rest.substr(dt_slash + 1);
  if (!dt.starts_with("dt=")) return std::nullopt;
  auto day = ParseDate(dt.substr(3));
  if (!day) return std::nullopt;
  SegmentObjectName out;
  out.topic = std::string(rest.substr(0, dt_slash));
  out.codec = *codec;
  out.hour = *day * 24 + *hour_of_day;
  out.partition = static_cast<int32_t>(*partition);
  out.first = *first;
  return out;
}

std::string ManifestPrefix(std::string_view group, std::string_view topic, int32_t partition) {
  return fmt::format("_archiver/{}/{}/{}/", group, topic, partition);
}

std::string IntentKey(std::string_view group, std::string_view topic, kafka::Partition partition,
                      kafka::Offset first) {
  return ManifestPrefix(group, topic, partition.value) + OffsetDigits(first.value) + ".json";
}

std::string DoneKey(std::string_view group, std::string_view topic, kafka::Partition partition,
                    kafka::Offset first) {
  return IntentKey(group, topic, partition, first) + ".done";
}

std::optional<ManifestName> ParseManifestName(std::string_view name) {
  ManifestName out;
  if (name.ends_with(".json.done")) {
    out.done = true;
    name.remove_suffix(10);
  } else if (name.ends_with(".json")) {
    name.remove_suffix(5);
  } else {
    return std::nullopt;
  }
  if (name.size() != 20) return std::nullopt;
  auto first = ParseDigits(name);
  if (!first) return std::nullopt;
  out.first = *first;
  return out;
}

std::string OpenDayPrefix(std::string_view group, std::string_view topic) {
  return fmt::format("_archiver/{}/{}/_open_days/", group, topic);
}

std::string OpenDayKey(std::string_view group, std::string_view topic, int64_t day) {
  return OpenDayPrefix(group, topic) + DateOfDay(day);
}

bool IsPlainId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string OriginalObjectKey(core::RecordKind kind, const std::optional<std::string>& id,
                              kafka::Partition partition, kafka::Offset offset) {
  std::string_view prefix;
  switch (kind) {
    case core::RecordKind::kPin: prefix = "pinterest_data_"; break;
    case core::RecordKind::kGeo: prefix = "geolocation_data/geolocation_data_"; break;
    case core::RecordKind::kUser: prefix = "user_data/user_data_"; break;
  }
  if (id && IsPlainId(*id)) return fmt::format("{}{}.json", prefix, *id);
  return fmt::format("{}invalid_{}-{}.json", prefix, partition.value, OffsetDigits(offset.value));
}

}  // namespace pinpipe::archive
