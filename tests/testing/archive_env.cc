#include "testing/archive_env.h"

#include <chrono>
#include <map>

#include <fmt/format.h>

#include "archive/archive_codec.h"
#include "archive/archive_layout.h"
#include "archive/partition_recovery.h"
#include "archive/segment_manifest.h"
#include "archive/zstd_codec.h"
#include "core/record_fields.h"
#include "kafka/consumer.h"

namespace pinpipe::testing {

std::string UuidFor(int64_t i) {
  const uint64_t u = static_cast<uint64_t>(i);
  return fmt::format("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                     static_cast<uint32_t>(u * 2654435761u), (u >> 7) & 0xffff, (u >> 3) & 0xfff,
                     u & 0xfff, u);
}

std::string ArchivePinRecord(int64_t i) {
  return fmt::format(
      R"({{"index":{},"unique_id":"{}","title":"Title {}","description":"A description of pin {} with some text to make it realistic in size","poster_name":"Poster {}","follower_count":"{}k","tag_list":"tag1,tag2,tag3","is_image_or_video":"image","image_src":"https://i.pinimg.com/originals/{}.jpg","downloaded":1,"save_location":"Local save in /data/art","category":"art"}})",
      i, UuidFor(i), i, i, i % 1000, i % 991, UuidFor(i));
}

std::string ArchiveGeoRecord(int64_t ind, const std::string& timestamp) {
  return fmt::format(
      R"({{"ind":{},"timestamp":"{}","latitude":{:.4f},"longitude":{:.4f},"country":"Cote d'Ivoire"}})",
      ind, timestamp, static_cast<double>(ind % 180) - 89.5,
      static_cast<double>(ind % 360) - 179.5);
}

std::string ArchiveUserRecord(int64_t ind, const std::string& date_joined) {
  return fmt::format(
      R"({{"ind":{},"first_name":"First{}","last_name":"Last","age":{},"date_joined":"{}"}})", ind,
      ind, 20 + ind % 40, date_joined);
}

std::string RecordTime(int64_t epoch_ms) {
  std::string iso = core::IsoTime(epoch_ms);  // 2024-01-01T05:00:00.000Z
  iso[10] = ' ';
  return iso.substr(0, 19);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::vector<ArchivedLine>> ReadArchivedLines(lake::ObjectStore* store,
                                                      const std::string& topic) {
  ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> objects, store->List(topic + "/"));
  std::vector<ArchivedLine> out;
  for (const lake::ObjectInfo& o : objects) {
    const std::optional<archive::ArchiveCodec> codec = archive::CodecOfKey(o.key);
    if (!codec) continue;
    ASSIGN_OR_RETURN(std::string bytes, store->Get(o.key));
    ASSIGN_OR_RETURN(std::string text, archive::DecompressObject(*codec, bytes));
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) {
        return DataLoss(o.key + ": last line without newline");
      }
      out.push_back({o.key, text.substr(start, nl - start)});
      start = nl + 1;
    }
  }
  return out;
}

std::map<std::string, int> IdCounts(const std::vector<ArchivedLine>& lines,
                                    const std::string& field) {
  core::RecordFieldReader reader;
  std::map<std::string, int> counts;
  for (const ArchivedLine& l : lines) {
    std::string id = "<no id>";
    if (auto s = reader.String(l.line, field)) {
      id = std::string(*s);
    } else if (auto n = reader.Int(l.line, field)) {
      id = std::to_string(*n);
    }
    ++counts[id];
  }
  return counts;
}

namespace {

// High watermark of every partition of `topics`.
StatusOr<std::map<std::pair<std::string, int32_t>, int64_t>> HighWatermarks(
    const std::string& brokers, const std::vector<std::string>& topics) {
  kafka::ConsumerOptions co;
  co.brokers = brokers;
  co.group_id = "pinpipe-test-archive-watermarks";
  ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> c, kafka::Consumer::Create(co));
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (const std::string& t : topics) {
    for (int32_t p = 0;; ++p) {
      auto w = c->WatermarkOffsets(t, p, std::chrono::seconds(10));
      if (!w.ok()) {
        if (p == 0) return w.status();
        break;
      }
      out[{t, p}] = w->second;
    }
  }
  return out;
}

}  // namespace

StatusOr<bool> ArchiveCaughtUp(lake::ObjectStore* store, const std::string& brokers,
                               const std::string& group, const std::vector<std::string>& topics,
                               std::string* detail) {
  ASSIGN_OR_RETURN(auto highs, HighWatermarks(brokers, topics));
  for (const auto& [tp, high] : highs) {
    ASSIGN_OR_RETURN(archive::PartitionRecovery r,
                     archive::RecoverPartition(store, group, tp.first, tp.second));
    const int64_t next = r.next.value_or(0);
    if (r.pending || (high > 0 && next != high)) {
      if (detail != nullptr) {
        *detail = fmt::format("{}[{}]: archived to {}{}, high watermark {}", tp.first, tp.second,
                              next, r.pending ? " (intent pending)" : "", high);
      }
      return false;
    }
  }
  return true;
}

std::string CheckLedger(lake::ObjectStore* store, const std::string& brokers,
                        const std::string& group, const std::vector<std::string>& topics) {
  auto highs = HighWatermarks(brokers, topics);
  if (!highs.ok()) return highs.status().ToString();
  for (const auto& [tp, high] : *highs) {
    const std::string prefix = archive::ManifestPrefix(group, tp.first, tp.second);
    auto listing = store->List(prefix);
    if (!listing.ok()) return listing.status().ToString();
    std::map<int64_t, std::pair<bool, bool>> segs;  // first -> (intent, done)
    for (const lake::ObjectInfo& info : *listing) {
      auto name = archive::ParseManifestName(std::string_view(info.key).substr(prefix.size()));
      if (!name) return "stray object " + info.key;
      (name->done ? segs[name->first].second : segs[name->first].first) = true;
    }
    std::optional<int64_t> expected;
    for (const auto& [first, pair] : segs) {
      if (!pair.first || !pair.second) {
        return fmt::format("{}[{}] segment {}: intent {} done {}", tp.first, tp.second, first,
                           pair.first, pair.second);
      }
      auto body = store->Get(
          archive::IntentKey(group, tp.first, kafka::Partition{tp.second}, kafka::Offset{first}));
      if (!body.ok()) return body.status().ToString();
      auto m = archive::SegmentManifest::Parse(*body);
      if (!m.ok()) return m.status().ToString();
      if (expected && first != *expected) {
        return fmt::format("{}[{}]: segment at {} but the previous one ended at {}", tp.first,
                           tp.second, first, *expected);
      }
      expected = m->end;
    }
    if (high > 0 && expected.value_or(0) != high) {
      return fmt::format("{}[{}]: ledger ends at {}, high watermark {}", tp.first, tp.second,
                         expected.value_or(0), high);
    }
  }
  return "";
}

int64_t DoneSegments(lake::ObjectStore* store, const std::string& group) {
  auto listing = store->List("_archiver/" + group + "/");
  if (!listing.ok()) return -1;
  int64_t n = 0;
  for (const lake::ObjectInfo& info : *listing) {
    if (info.key.ends_with(".json.done")) ++n;
  }
  return n;
}

}  // namespace pinpipe::testing
