#include "archive/segment_writer.h"

#include <chrono>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "archive/zstd_codec.h"

namespace pinpipe::archive {
namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string DescribeManifestDifference(const SegmentManifest& stored,
                                       const SegmentManifest& rebuilt) {
  if (stored == rebuilt) return "";
  if (stored.first != rebuilt.first || stored.end != rebuilt.end) {
    return fmt::format("range [{}, {}) vs [{}, {})", stored.first, stored.end, rebuilt.first,
                       rebuilt.end);
  }
  if (stored.records != rebuilt.records) {
    return fmt::format("{} records in the intent, {} read back from Kafka", stored.records,
                       rebuilt.records);
  }
  if (stored.object_count != rebuilt.object_count || stored.keys_digest != rebuilt.keys_digest) {
    return fmt::format("object keys differ ({} objects, digest {} vs {} objects, digest {})",
                       stored.object_count, stored.keys_digest, rebuilt.object_count,
                       rebuilt.keys_digest);
  }
  for (size_t i = 0; i < stored.objects.size() && i < rebuilt.objects.size(); ++i) {
    if (!(stored.objects[i] == rebuilt.objects[i])) {
      return fmt::format("object {}: {} records / {} bytes vs {} records / {} bytes",
                         stored.objects[i].key, stored.objects[i].records,
                         stored.objects[i].raw_bytes, rebuilt.objects[i].records,
                         rebuilt.objects[i].raw_bytes);
    }
  }
  return "settings or event-time bounds differ";
}

StatusOr<std::optional<SegmentManifest>> SegmentWriter::PutIntent(const SegmentManifest& m) {
  const std::string key =
      IntentKey(m.group, m.topic, kafka::Partition{m.partition}, kafka::Offset{m.first});
  lake::PutOptions options;
  options.if_none_match = true;
  options.content_type = "application/json";
  Status s = store_->Put(key, m.ToJson(), options);
  if (s.ok()) return std::optional<SegmentManifest>();
  if (s.code() != StatusCode::kAlreadyExists) return s.WithContext("writing intent " + key);
  ASSIGN_OR_RETURN(std::string body, store_->Get(key));
  auto existing = SegmentManifest::Parse(body);
  if (!existing.ok()) {
    return DataLoss(
        fmt::format("intent {} exists but is unreadable ({})", key, existing.status().ToString()));
  }
  if (*existing == m) return std::optional<SegmentManifest>();
  return std::optional<SegmentManifest>(std::move(*existing));
}

StatusOr<SegmentWriter::ObjectOutcome> SegmentWriter::PutObject(const SegmentObject& object,
                                                                bool conditional) {
  lake::PutOptions options;
  options.if_none_match = conditional;
  const ArchiveCodec codec = CodecOfKey(object.key).value_or(ArchiveCodec::kZstd);
  options.content_type = conditional ? std::string(CodecContentType(codec)) : "application/json";
  // Two rounds at most: an object deleted between our failed create and our read is created.
  for (int round = 0; round < 2; ++round) {
    Status s = store_->Put(object.key, object.bytes, options);
    if (s.ok()) return ObjectOutcome::kCreated;
    if (s.code() != StatusCode::kAlreadyExists || !conditional) {
      return s.WithContext("writing " + object.key);
    }
    auto existing = store_->Get(object.key);
    if (existing.status().code() == StatusCode::kNotFound) continue;
    if (!existing.ok()) return existing.status().WithContext("reading back " + object.key);
    if (*existing == object.bytes) return ObjectOutcome::kIdentical;
    // Different bytes: the same records compressed by another libzstd (zlib) are still the same
    // object.
    auto theirs = DecompressObject(codec, *existing);
    auto ours = DecompressObject(codec, object.bytes);
    if (theirs.ok() && ours.ok() && *theirs == *ours) return ObjectOutcome::kSameContent;
    return DataLoss(fmt::format(
        "object {} already exists with different content ({} bytes{}, this segment's is {} "
        "bytes): refusing to overwrite it. Something other than this archiver group wrote "
        "there, or the Kafka records of the segment changed (compaction, topic recreated)",
        object.key, existing->size(),
        theirs.ok()                    ? ""
        : codec == ArchiveCodec::kGzip ? ", not valid gzip"
                                       : ", not valid zstd",
        object.bytes.size()));
  }
  return Unavailable("object " + object.key + " kept disappearing while being verified");
}

Status SegmentWriter::PutDone(const SegmentManifest& m, const DoneMarker& done) {
  const std::string key =
      DoneKey(m.group, m.topic, kafka::Partition{m.partition}, kafka::Offset{m.first});
  lake::PutOptions options;
  options.if_none_match = true;
  options.content_type = "application/json";
  Status s = store_->Put(key, done.ToJson(), options);
  if (s.ok()) return s;
  if (s.code() != StatusCode::kAlreadyExists) return s.WithContext("writing " + key);
  ASSIGN_OR_RETURN(std::string body, store_->Get(key));
  auto existing = DoneMarker::Parse(body);
  if (!existing.ok() || existing->first != m.first || existing->end != m.end) {
    return DataLoss(fmt::format("done marker {} exists for another range ({})", key,
                                existing.ok()
                                    ? fmt::format("[{}, {})", existing->first, existing->end)
                                    : existing.status().ToString()));
  }
  return Status::Ok();
}

StatusOr<SegmentWriteResult> SegmentWriter::Write(
    const Segment& segment, const std::optional<SegmentManifest>& stored_intent,
    const std::function<Status()>& before_objects) {
  const SegmentManifest& m = segment.manifest;
  SegmentWriteResult r;
  if (stored_intent) {
    if (std::string diff = DescribeManifestDifference(*stored_intent, m); !diff.empty()) {
      return DataLoss(fmt::format(
          "redo of segment {}[{}] [{}, {}) does not match its intent: {}. The records in Kafka "
          "are not the ones archived before (retention or compaction removed some?)",
          m.topic, m.partition, m.first, m.end, diff));
    }
    r.intent_existed = true;
  } else {
    ASSIGN_OR_RETURN(std::optional<SegmentManifest> other, PutIntent(m));
    if (other) {
      r.existing = std::move(other);
      return r;
    }
  }
  if (before_objects) RETURN_IF_ERROR(before_objects());
  const bool conditional = m.layout == Layout::kHourly;
  DoneMarker done;
  done.first = m.first;
  done.end = m.end;
  done.records = m.records;
  for (const SegmentObject& o : segment.objects) {
    ASSIGN_OR_RETURN(ObjectOutcome outcome, PutObject(o, conditional));
    switch (outcome) {
      case ObjectOutcome::kCreated:
        ++r.objects_written;
        r.bytes_written += static_cast<int64_t>(o.bytes.size());
        break;
      case ObjectOutcome::kSameContent: ++r.objects_same_content; [[fallthrough]];
      case ObjectOutcome::kIdentical: ++r.objects_existing; break;
    }
    if (conditional) done.objects.push_back({o.key, o.bytes.size()});
  }
  done.objects_written = r.objects_written;
  done.objects_existing = r.objects_existing;
  done.completed_at = IsoTime(NowMillis());
  RETURN_IF_ERROR(PutDone(m, done));
  r.written = true;
  return r;
}

}  // namespace pinpipe::archive
