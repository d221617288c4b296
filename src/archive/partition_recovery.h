// Partition recovery: where the archiver resumes a partition, read from the manifests in the lake
// (the only place the archiver keeps offsets; Kafka commits are for lag tools only).
//
// Segments of a partition form a chain: an intent is only written after the previous segment's
// done marker, and if_none_match lets exactly one intent exist per first offset. So only the
// segment with the highest first offset can lack its done marker, and it decides:
//   done (or only the done marker left): resume at its end;
//   intent without done: redo exactly that segment (re-read [first, end) and rebuild it);
//   no manifests: nothing archived yet, start at the beginning of the partition.
// PruneManifests deletes the oldest done segments' manifests beyond a retention count so that
// listing them at every assignment stays cheap. Thread-safe (stateless; the store is).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/segment_manifest.h"
#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::archive {

struct PartitionRecovery {
  std::optional<int64_t> next;             // resume here (nullopt: from the beginning)
  std::optional<SegmentManifest> pending;  // an intent without done marker: redo it first
  std::vector<int64_t> done_firsts;        // first offsets of done segments, ascending
};

// Errors: the store's (List/Get); DataLoss when the deciding manifest is unreadable.
StatusOr<PartitionRecovery> RecoverPartition(lake::ObjectStore* store, const std::string& group,
                                             const std::string& topic, int32_t partition);

// Deletes the manifests of the oldest done segments so that at most `keep` remain, at most
// `max_deletes` objects per call. Returns how many segments were pruned. Deleting is safe: the
// newest done segment is always kept, and recovery reads only the newest.
StatusOr<size_t> PruneManifests(lake::ObjectStore* store, const std::string& group,
                                const std::string& topic, int32_t partition,
                                const std::vector<int64_t>& done_firsts, size_t keep,
                                size_t max_deletes);

}  // namespace pinpipe::archive
