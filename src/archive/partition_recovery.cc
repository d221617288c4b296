#include "archive/partition_recovery.h"

#include <map>

#include <fmt/format.h>

#include "archive/archive_layout.h"

namespace pinpipe::archive {

StatusOr<PartitionRecovery> RecoverPartition(lake::ObjectStore* store, const std::string& group,
                                             const std::string& topic, int32_t partition) {
  const std::string prefix = ManifestPrefix(group, topic, partition);
  ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> listing, store->List(prefix));
  struct Pair {
    bool intent = false;
    bool done = false;
  };
  std::map<int64_t, Pair> segments;
  for (const lake::ObjectInfo& info : listing) {
    auto name = ParseManifestName(std::string_view(info.key).substr(prefix.size()));
    if (!name) continue;  // not ours (a stray file): ignored
    Pair& p = segments[name->first];
    (name->done ? p.done : p.intent) = true;
  }
  PartitionRecovery out;
  for (const auto& [first, p] : segments) {
    if (p.done) out.done_firsts.push_back(first);
  }
  if (segments.empty()) return out;
  const auto& [first, last] = *segments.rbegin();
  if (last.done) {
    const std::string key =
        DoneKey(group, topic, kafka::Partition{partition}, kafka::Offset{first});
    ASSIGN_OR_RETURN(std::string body, store->Get(key));
    auto done = DoneMarker::Parse(body);
    if (!done.ok()) {
      return DataLoss(
          fmt::format("done marker {} is unreadable: {}", key, done.status().ToString()));
    }
    out.next = done->end;
    return out;
  }
  const std::string key =
      IntentKey(group, topic, kafka::Partition{partition}, kafka::Offset{first});
  ASSIGN_OR_RETURN(std::string body, store->Get(key));
  auto intent = SegmentManifest::Parse(body);
  if (!intent.ok()) {
    return DataLoss(fmt::format("intent {} is unreadable: {}", key, intent.status().ToString()));
  }
  if (intent->topic != topic || intent->partition != partition || intent->first != first) {
    return DataLoss(fmt::format("intent {} describes {}[{}] at {}", key, intent->topic,
                                intent->partition, intent->first));
  }
  out.next = intent->first;
  out.pending = std::move(*intent);
  return out;
}

StatusOr<size_t> PruneManifests(lake::ObjectStore* store, const std::string& group,
                                const std::string& topic, int32_t partition,
                                const std::vector<int64_t>& done_firsts, size_t keep,
                                size_t max_deletes) {
  if (keep < 1) keep = 1;
  if (done_firsts.size() <= keep) return size_t{0};
  const size_t excess = done_firsts.size() - keep;
  size_t pruned = 0;
  size_t deletes = 0;
  for (size_t i = 0; i < excess && deletes + 2 <= max_deletes; ++i) {
    // Intent first: a crash in between leaves a lone done marker, which recovery understands.
    RETURN_IF_ERROR(store->Delete(
        IntentKey(group, topic, kafka::Partition{partition}, kafka::Offset{done_firsts[i]})));
    RETURN_IF_ERROR(store->Delete(
        DoneKey(group, topic, kafka::Partition{partition}, kafka::Offset{done_firsts[i]})));
    deletes += 2;
    ++pruned;
  }
  return pruned;
}

}  // namespace pinpipe::archive
