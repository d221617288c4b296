#include "archive/segment_manifest.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "archive/json_fields.h"
#include "core/record_validator.h"

namespace pinpipe::archive {
namespace {

using internal::Fields;
using internal::ParseObject;

void Str(std::string* out, std::string_view name, std::string_view value) {
  core::AppendJsonString(name, out);
  out->push_back(':');
  core::AppendJsonString(value, out);
}

void Num(std::string* out, std::string_view name, int64_t value) {
  core::AppendJsonString(name, out);
  fmt::format_to(std::back_inserter(*out), ":{}", value);
}

void OptNum(std::string* out, std::string_view name, const std::optional<int64_t>& value) {
  if (value) {
    Num(out, name, *value);
  } else {
    core::AppendJsonString(name, out);
    out->append(":null");
  }
}

}  // namespace

std::string_view LayoutName(Layout layout) {
  return layout == Layout::kHourly ? "hourly" : "original";
}

std::optional<Layout> ParseLayout(std::string_view name) {
  if (name == "hourly") return Layout::kHourly;
  if (name == "original") return Layout::kOriginal;
  return std::nullopt;
}

std::string KeysDigest(const std::vector<std::string>& keys) {
  uint64_t h = 14695981039346656037ULL;
  bool first = true;
  for (const std::string& key : keys) {
    if (!first) {
      h ^= static_cast<unsigned char>('\n');
      h *= 1099511628211ULL;
    }
    first = false;
    for (unsigned char c : key) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  }
  return fmt::format("{:016x}", h);
}

std::string SegmentManifest::ToJson() const {
  std::string out = "{\"version\":1,";
  Str(&out, "group", group);
  out += ',';
  Str(&out, "topic", topic);
  out += ',';
  Num(&out, "partition", partition);
  out += ',';
  Str(&out, "kind", kind);
  out += ',';
  Num(&out, "first", first);
  out += ',';
  Num(&out, "end", end);
  out += ',';
  Num(&out, "records", records);
  out += ',';
  Str(&out, "layout", LayoutName(layout));
  out += ',';
  Num(&out, "zstd_level", zstd_level);
  out += ',';
  // Written only for gzip, so a zstd intent is byte for byte what archivers before the codec
  // option wrote (and they, reading a gzip intent, refuse the unknown object keys).
  if (codec != ArchiveCodec::kZstd) {
    Str(&out, "codec", CodecName(codec));
    out += ',';
  }
  Num(&out, "frame_bytes", frame_bytes);
  out += ',';
  Num(&out, "event_time_max_lag_ms", event_time.max_lag_ms);
  out += ',';
  Num(&out, "event_time_max_lead_ms", event_time.max_lead_ms);
  out += ',';
  OptNum(&out, "min_event_ms", min_event_ms);
  out += ',';
  OptNum(&out, "max_event_ms", max_event_ms);
  out += ',';
  Num(&out, "object_count", object_count);
  out += ',';
  Str(&out, "keys_digest", keys_digest);
  out += ",\"objects\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) out += ',';
    out += '{';
    Str(&out, "key", objects[i].key);
    out += ',';
    Num(&out, "records", objects[i].records);
    out += ',';
    Num(&out, "raw_bytes", objects[i].raw_bytes);
    out += '}';
  }
  out += "]}\n";
  return out;
}

StatusOr<SegmentManifest> SegmentManifest::Parse(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(simdjson::dom::object object, ParseObject(parser, json, "segment manifest"));
  Fields f(object, "segment manifest");
  SegmentManifest m;
  if (f.Int("version") != 1 && f.status().ok()) {
    return InvalidArgument("segment manifest: unsupported version (this build reads version 1)");
  }
  m.group = f.String("group");
  m.topic = f.String("topic");
  const int64_t partition = f.Int("partition");
  if (partition < 0 || partition > INT32_MAX) f.Fail("partition", "a partition number");
  m.partition = static_cast<int32_t>(partition);
  m.kind = f.String("kind");
  m.first = f.Int("first");
  m.end = f.Int("end");
  m.records = f.Int("records");
  const std::string layout = f.String("layout");
  if (auto l = ParseLayout(layout)) {
    m.layout = *l;
  } else {
    f.Fail("layout", "\"hourly\" or \"original\"");
  }
  m.zstd_level = static_cast<int>(f.Int("zstd_level"));
  if (auto c = ParseCodec(f.OptionalString("codec", "zstd"))) {
    m.codec = *c;
  } else {
    f.Fail("codec", "\"zstd\" or \"gzip\"");
  }
  m.frame_bytes = f.Int("frame_bytes");
  m.event_time.max_lag_ms = f.Int("event_time_max_lag_ms");
  m.event_time.max_lead_ms = f.Int("event_time_max_lead_ms");
  m.min_event_ms = f.OptionalInt("min_event_ms");
  m.max_event_ms = f.OptionalInt("max_event_ms");
  m.object_count = f.Int("object_count");
  m.keys_digest = f.String("keys_digest");
  RETURN_IF_ERROR(f.EachObject("objects", "segment manifest object", [&m](Fields& of) {
    ManifestObject mo;
    mo.key = of.String("key");
    mo.records = of.Int("records");
    mo.raw_bytes = of.Int("raw_bytes");
    m.objects.push_back(std::move(mo));
  }));
  if (m.first < 0 || m.end <= m.first) {
    return InvalidArgument(fmt::format("segment manifest: bad range [{}, {})", m.first, m.end));
  }
  return m;
}

std::string DoneMarker::ToJson() const {
  std::string out = "{\"version\":1,";
  Num(&out, "first", first);
  out += ',';
  Num(&out, "end", end);
  out += ',';
  Num(&out, "records", records);
  out += ',';
  Num(&out, "objects_written", objects_written);
  out += ',';
  Num(&out, "objects_existing", objects_existing);
  out += ',';
  Str(&out, "completed_at", completed_at);
  out += ",\"objects\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) out += ',';
    out += '{';
    Str(&out, "key", objects[i].key);
    out += ',';
    Num(&out, "size", static_cast<int64_t>(objects[i].size));
    out += '}';
  }
  out += "]}\n";
  return out;
}

StatusOr<DoneMarker> DoneMarker::Parse(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(simdjson::dom::object object, ParseObject(parser, json, "done marker"));
  Fields f(object, "done marker");
  DoneMarker d;
  d.first = f.Int("first");
  d.end = f.Int("end");
  d.records = f.Int("records");
  d.objects_written = f.Int("objects_written");
  d.objects_existing = f.Int("objects_existing");
  d.completed_at = f.String("completed_at");
  RETURN_IF_ERROR(f.EachObject("objects", "done marker object", [&d](Fields& of) {
    DoneObject dobj;
    dobj.key = of.String("key");
    dobj.size = static_cast<uint64_t>(of.Int("size"));
    d.objects.push_back(std::move(dobj));
  }));
  return d;
}

}  // namespace pinpipe::archive
