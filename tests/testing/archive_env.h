// Helpers for the archiver's integration tests: records with unique ids, reading an archive back
// (every object decompressed), and "has the archiver caught up" from the lake's manifests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::testing {

// A lowercase UUID that is a function of `i` (distinct for distinct i).
std::string UuidFor(int64_t i);
// Valid records whose ids (pin unique_id, geo/user ind) are unique per `i`.
std::string ArchivePinRecord(int64_t i);
std::string ArchiveGeoRecord(int64_t ind, const std::string& timestamp);
std::string ArchiveUserRecord(int64_t ind, const std::string& date_joined);
// "YYYY-MM-DD HH:MM:SS" (UTC) of an epoch time in milliseconds.
std::string RecordTime(int64_t epoch_ms);
int64_t NowMs();

struct ArchivedLine {
  std::string key;   // the object it was read from
  std::string line;  // without the newline
};

// Every line of every "*.jsonl.zst" object under "<topic>/". Errors: the store's, DataLoss for
// an object that is not valid zstd.
StatusOr<std::vector<ArchivedLine>> ReadArchivedLines(lake::ObjectStore* store,
                                                      const std::string& topic);

// How often each id occurs among `lines` ("unique_id" string or "ind" integer field; lines
// without one count under "<no id>").
std::map<std::string, int> IdCounts(const std::vector<ArchivedLine>& lines,
                                    const std::string& field);

// True when every partition of every topic is archived up to its high watermark: the newest
// manifest is done and ends there. `detail` says which partition is behind.
StatusOr<bool> ArchiveCaughtUp(lake::ObjectStore* store, const std::string& brokers,
                               const std::string& group, const std::vector<std::string>& topics,
                               std::string* detail = nullptr);

// For every partition of `topics`: the done segments tile [first offset, high watermark) with no
// gap and no overlap, and there is no intent without done marker. "" when so, else the problem.
std::string CheckLedger(lake::ObjectStore* store, const std::string& brokers,
                        const std::string& group, const std::vector<std::string>& topics);

// Done markers under _archiver/<group>/ (a progress measure).
int64_t DoneSegments(lake::ObjectStore* store, const std::string& group);

}  // namespace pinpipe::testing
