// DuplicateHints: lets a cleaning worker skip formatting rows that are certainly duplicates.
//
// Replayed posts make most records of a day duplicates (the emulator samples ~11,000 source
// posts with replacement), and formatting a row as CSV, JSON and COPY text costs more than
// cleaning it. Only the committer decides "first occurrence wins" (it sees rows in key order),
// but a worker can know for sure that a row is NOT first: when it has itself seen the same key
// before. A worker claims objects in increasing order (ReorderBuffer::Claim) and reads each
// object's lines in order, so everything it saw before is at an earlier position in the commit
// order. The committer's DedupSet stays the authority; the hints only avoid work (with N workers
// a key is formatted at most N times instead of once per occurrence).
//
// The hints may forget: a fixed table of 2^slots_log2 slots (16 bytes each; 2^18 = 4 MiB, pages
// touched only as slots fill), a few probes per key; a key that finds no slot is simply not
// hinted. Only exact keys are stored (integers and canonical UUIDs; other text is never hinted),
// so a hint is never wrong. One per worker: not thread-safe, no locks.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "batch/dedup_set.h"

namespace pinpipe::batch {

class DuplicateHints {
 public:
  explicit DuplicateHints(int slots_log2 = 18);

  // True when this worker has seen `key` before (the row is a duplicate); else remembers the key
  // when there is room near its slot, and answers false.
  bool SeenBefore(const DedupKey& key);

 private:
  struct Entry {
    uint64_t hi;
    uint64_t lo;  // kInt keys store lo = 1 (their lo is 0), so that (0, 0) can mark "empty"
  };
  struct Free {
    void operator()(Entry* p) const { std::free(p); }
  };
  static constexpr int kProbes = 8;

  const int slots_log2_;
  const size_t mask_;
  std::unique_ptr<Entry[], Free> slots_;  // calloc'ed: untouched pages cost no memory
  bool has_zero_uuid_ = false;            // the all-zero UUID, which looks like an empty slot
};

}  // namespace pinpipe::batch
