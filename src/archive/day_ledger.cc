#include "archive/day_ledger.h"

#include <algorithm>
#include <chrono>

#include "archive/archive_layout.h"
#include "archive/zstd_codec.h"

namespace pinpipe::archive {

StatusOr<int64_t> DayLedger::PrepareDays(const Segment& segment, std::vector<int64_t>* late_days) {
  const std::string& topic = segment.manifest.topic;
  int64_t late = 0;
  for (const auto& [day, records] : segment.day_records) {
    const auto key = std::make_pair(topic, day);
    if (open_.count(key) != 0) continue;
    if (sealed_.count(key) == 0) {
      ASSIGN_OR_RETURN(std::optional<lake::ObjectInfo> success,
                       store_->Head(SuccessKey(topic, day)));
      if (!success) {
        lake::PutOptions options;
        options.if_none_match = true;
        Status s = store_->Put(OpenDayKey(group_, topic, day), DateOfDay(day) + "\n", options);
        if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
          return s.WithContext("opening day " + DateOfDay(day));
        }
        open_.insert(key);
        continue;
      }
      sealed_.insert(key);
    }
    late += records;
    if (late_days != nullptr) late_days->push_back(day);
  }
  return late;
}

void DayLedger::Remember(const Segment& segment) {
  for (const SegmentObject& o : segment.objects) {
    if (o.day && open_.count({segment.manifest.topic, *o.day}) != 0) records_of_[o.key] = o.records;
  }
}

StatusOr<int64_t> DayLedger::CountRecords(const std::string& topic, const std::string& key) {
  if (auto it = records_of_.find(key); it != records_of_.end()) return it->second;
  if (auto name = ParseSegmentObjectKey(key); name && name->topic == topic) {
    auto body = store_->Get(
        IntentKey(group_, topic, kafka::Partition{name->partition}, kafka::Offset{name->first}));
    if (body.ok()) {
      if (auto intent = SegmentManifest::Parse(*body); intent.ok()) {
        for (const ManifestObject& o : intent->objects) {
          if (o.key == key) return o.records;
        }
      }
    } else if (body.status().code() != StatusCode::kNotFound) {
      return body.status();
    }
  }
  // No manifest to ask (pruned, or written by another group): count the lines.
  ASSIGN_OR_RETURN(std::string bytes, store_->Get(key));
  ASSIGN_OR_RETURN(std::string text,
                   DecompressObject(CodecOfKey(key).value_or(ArchiveCodec::kZstd), bytes));
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n'));
}

StatusOr<SealResult> DayLedger::Seal(const std::string& topic, int64_t day, int64_t watermark_ms,
                                     int64_t lateness_ms) {
  SealResult r;
  const std::string success_key = SuccessKey(topic, day);
  ASSIGN_OR_RETURN(std::optional<lake::ObjectInfo> existing, store_->Head(success_key));
  if (!existing) {
    ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> objects, store_->List(DayPrefix(topic, day)));
    for (const lake::ObjectInfo& o : objects) {
      if (!CodecOfKey(o.key)) continue;
      ASSIGN_OR_RETURN(int64_t n, CountRecords(topic, o.key));
      r.records += n;
      ++r.objects;
      r.bytes += static_cast<int64_t>(o.size);
    }
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    SuccessMarker marker;
    marker.topic = topic;
    marker.day = day;
    marker.records = r.records;
    marker.objects = r.objects;
    marker.bytes = r.bytes;
    marker.watermark = IsoTime(watermark_ms);
    marker.lateness_ms = lateness_ms;
    marker.sealed_at = IsoTime(now_ms);
    marker.group = group_;
    const std::string body = FormatSuccessMarker(marker);
    lake::PutOptions options;
    options.if_none_match = true;
    options.content_type = "application/json";
    Status s = store_->Put(success_key, body, options);
    if (s.code() == StatusCode::kAlreadyExists) {
      r = SealResult{};
      r.already_sealed = true;
    } else if (!s.ok()) {
      return s.WithContext("writing " + success_key);
    }
  } else {
    r.already_sealed = true;
  }
  RETURN_IF_ERROR(store_->Delete(OpenDayKey(group_, topic, day)));
  const auto key = std::make_pair(topic, day);
  open_.erase(key);
  sealed_.insert(key);
  const std::string prefix = DayPrefix(topic, day);
  for (auto it = records_of_.lower_bound(prefix);
       it != records_of_.end() && it->first.starts_with(prefix);) {
    it = records_of_.erase(it);
  }
  return r;
}

StatusOr<std::vector<int64_t>> ListOpenDays(lake::ObjectStore* store, const std::string& group,
                                            const std::string& topic) {
  const std::string prefix = OpenDayPrefix(group, topic);
  ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> listing, store->List(prefix));
  std::vector<int64_t> days;
  for (const lake::ObjectInfo& info : listing) {
    if (auto day = ParseDate(std::string_view(info.key).substr(prefix.size()))) {
      days.push_back(*day);
    }
  }
  std::sort(days.begin(), days.end());
  return days;
}

}  // namespace pinpipe::archive
