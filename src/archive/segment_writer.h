// SegmentWriter: makes one finished segment durable in the lake, exactly once, by the protocol
// of docs/design.md ("Archiver / exactly once"):
//   1. intent: IntentKey created with if_none_match (a fresh segment), or, for a redo, the
//      stored intent compared with the rebuilt one (they must be equal: same range, records,
//      object keys and counts);
//   2. `before_objects` (the caller's hook, e.g. day markers);
//   3. objects: hourly objects created with if_none_match; an AlreadyExists means an earlier
//      attempt wrote it, and it is accepted only when identical (same bytes, or - after a libzstd
//      change - the same decompressed content); anything else is DataLoss and nothing is
//      overwritten. Original-layout objects are plain puts (a replayed id overwrites, as in the
//      original, and a redo writes the same bytes again);
//   4. done: DoneKey created with if_none_match (AlreadyExists for the same range is fine).
// Every step is idempotent, so after any failure the whole Write may simply be called again.
//
// Thread-safety: one Write at a time per instance; the store may be shared.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "archive/segment_builder.h"
#include "archive/segment_manifest.h"
#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::archive {

struct SegmentWriteResult {
  // False when another intent with different content already holds this segment's first offset
  // (another archiver instance claimed it): nothing was written; `existing` is that intent.
  bool written = false;
  std::optional<SegmentManifest> existing;
  int64_t objects_written = 0;
  int64_t objects_existing = 0;      // found from an earlier attempt, verified identical
  int64_t objects_same_content = 0;  // of those: same records, different compressed bytes
  int64_t bytes_written = 0;
  bool intent_existed = false;
};

class SegmentWriter {
 public:
  explicit SegmentWriter(lake::ObjectStore* store) : store_(store) {}

  // Writes `segment`. `stored_intent` is set for a redo (the intent found in the lake).
  // Errors: DataLoss when a redo rebuilt a different segment or an existing object or done
  // marker differs (fatal: stop, a person must look); the store's errors otherwise (retriable
  // ones may be retried by calling Write again); the hook's errors.
  StatusOr<SegmentWriteResult> Write(const Segment& segment,
                                     const std::optional<SegmentManifest>& stored_intent,
                                     const std::function<Status()>& before_objects = {});

  // The steps, for tests. PutIntent: nullopt when the intent is now ours (created, or an
  // identical one was there), else the different intent found.
  StatusOr<std::optional<SegmentManifest>> PutIntent(const SegmentManifest& manifest);
  enum class ObjectOutcome : uint8_t { kCreated, kIdentical, kSameContent };
  StatusOr<ObjectOutcome> PutObject(const SegmentObject& object, bool conditional);
  Status PutDone(const SegmentManifest& manifest, const DoneMarker& done);

 private:
  lake::ObjectStore* store_;
};

// Why two manifests of one segment differ, for the DataLoss message ("" when equal).
std::string DescribeManifestDifference(const SegmentManifest& stored,
                                       const SegmentManifest& rebuilt);

}  // namespace pinpipe::archive
