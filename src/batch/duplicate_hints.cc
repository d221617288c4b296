#include "batch/duplicate_hints.h"

#include "core/check.h"

namespace pinpipe::batch {

DuplicateHints::DuplicateHints(int slots_log2)
    : slots_log2_(slots_log2),
      mask_((size_t{1} << slots_log2) - 1),
      slots_(static_cast<Entry*>(std::calloc(size_t{1} << slots_log2, sizeof(Entry)))) {
  PINPIPE_CHECK(slots_log2 >= 4 && slots_log2 < 40) << "DuplicateHints: slots_log2 " << slots_log2;
  PINPIPE_CHECK(slots_ != nullptr) << "DuplicateHints: out of memory";
}

bool DuplicateHints::SeenBefore(const DedupKey& key) {
  uint64_t hi = key.hi;
  uint64_t lo = key.lo;
  if (key.type == DedupKeyType::kInt) {
    // lo = 1 keeps integer keys away from the empty marker. They never meet UUIDs: one table
    // has one dedup column, integer (kInt keys) or text (kUuid/kText keys).
    lo = 1;
  } else if (key.type != DedupKeyType::kUuid) {
    return false;
  } else if (hi == 0 && lo == 0) {
    const bool seen = has_zero_uuid_;
    has_zero_uuid_ = true;
    return seen;
  }
  const uint64_t hash = (hi ^ (lo * 0x9E3779B97F4A7C15ULL)) * 0xD6E8FEB86659FD93ULL;
  const size_t home = static_cast<size_t>(hash >> (64 - slots_log2_));
  for (int p = 0; p < kProbes; ++p) {
    Entry& e = slots_[(home + static_cast<size_t>(p)) & mask_];
    if (e.hi == hi && e.lo == lo) return true;
    if (e.hi == 0 && e.lo == 0) {
      e = Entry{hi, lo};
      return false;
    }
  }
  return false;  // no room near its home: not hinted
}

}  // namespace pinpipe::batch
