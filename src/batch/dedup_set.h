// DedupKey and DedupSet: the values of a table's dedup column seen so far in one day, kept
// exactly (no hashing away of information, so two different keys never collide) but compactly,
// because the set grows with the day's distinct keys:
//   * integer cells (geo and user `ind`)        -> 16 bytes in an open-addressing table;
//   * text in canonical lowercase UUID form      -> its 128 bits, 16 bytes (pin `unique_id`:
//                                                   the transform lowers every uuid field);
//   * any other text (e.g. an upper-case UUID from a user's string field) -> the exact string;
//   * other column types (a user's transform)   -> their text form, as text, tagged by type.
// A table slot costs 16 bytes at a load factor of 0.35-0.7, so about 23-46 bytes per distinct
// key: 10 million distinct pins per day need about 300 MiB at most. NULL is never a duplicate
// (like NULLs under a SQL UNIQUE constraint, which is what the speed layer relies on).
// Equality is byte equality of the cleaned value, as PostgreSQL's text UNIQUE index decides.
// Not thread-safe (the committer owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "transform/transform.h"

namespace pinpipe::batch {

enum class DedupKeyType : uint8_t { kNone, kInt, kUuid, kText };

struct DedupKey {
  DedupKeyType type = DedupKeyType::kNone;
  uint64_t hi = 0;        // kInt: the value; kUuid: the first 64 bits
  uint64_t lo = 0;        // kUuid: the last 64 bits
  std::string_view text;  // kText: the exact bytes (points into the cell or a scratch buffer)

  // The key of a cell. Text that is not held by the cell itself (a non-text, non-integer cell) is
  // written to `scratch`, which must outlive the key.
  static DedupKey Of(const transform::Cell& cell, std::string* scratch);
};

// "0123abcd-..." (36 characters, lowercase hex, hyphens at 8, 13, 18, 23) as 128 bits.
bool ParseCanonicalUuid(std::string_view text, uint64_t* hi, uint64_t* lo);

class DedupSet {
 public:
  DedupSet();
  // True when `key` was not in the set (it is now); false for a duplicate. kNone: always true.
  bool Insert(const DedupKey& key);
  size_t size() const { return ints_.size() + uuids_.size() + texts_.size(); }
  // Bytes held by the tables, roughly (for the memory documentation and tests).
  size_t memory_bytes() const;

 private:
  // An open-addressing set of 128-bit values with linear probing.
  class Flat128 {
   public:
    bool Insert(uint64_t hi, uint64_t lo);
    size_t size() const { return size_ + (has_zero_ ? 1 : 0); }
    size_t capacity() const { return slots_.size(); }

   private:
    void Grow();
    size_t Slot(uint64_t hi, uint64_t lo) const;  // home slot: the hash's top bits
    struct Entry {
      uint64_t hi = 0;
      uint64_t lo = 0;
    };
    std::vector<Entry> slots_;  // (0, 0) marks an empty slot; the key (0, 0) is has_zero_
    int shift_ = 64;            // 64 - log2(slots_.size())
    size_t size_ = 0;
    bool has_zero_ = false;
  };

  Flat128 ints_;
  Flat128 uuids_;
  std::unordered_set<std::string> texts_;
};

}  // namespace pinpipe::batch
