#include "batch/dedup_set.h"

#include <bit>
#include <variant>

namespace pinpipe::batch {
namespace {

// Lowercase hex digit values, -1 for every other byte: upper case is not canonical, such keys
// stay text, so "A..." and "a..." stay distinct as PostgreSQL's text UNIQUE keeps them.
struct HexTable {
  int8_t value[256];
  constexpr HexTable() : value() {
    for (int i = 0; i < 256; ++i) value[i] = -1;
    for (int i = 0; i < 10; ++i) value['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) value['a' + i] = static_cast<int8_t>(10 + i);
  }
};
constexpr HexTable kHex;

// 16 hex digits at `p` (positions of `text` listed in `at`) as a 64-bit value; false if any is
// not a lowercase hex digit.
bool HexWord(const char* p, const uint8_t (&at)[16], uint64_t* out) {
  uint64_t w = 0;
  int bad = 0;
  for (uint8_t i : at) {
    const int v = kHex.value[static_cast<unsigned char>(p[i])];
    bad |= v;  // any -1 sets the sign bit
    w = (w << 4) | static_cast<uint64_t>(v & 15);
  }
  *out = w;
  return bad >= 0;
}

uint64_t Mix(uint64_t hi, uint64_t lo) {
  // UUIDs are random already, but `ind` values are small consecutive integers: two multiplies
  // spread both over the table (its index is taken from the high bits, see Slot()).
  return (hi ^ (lo * 0x9E3779B97F4A7C15ULL)) * 0xD6E8FEB86659FD93ULL;
}

}  // namespace

bool ParseCanonicalUuid(std::string_view text, uint64_t* hi, uint64_t* lo) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return false;
  }
  static constexpr uint8_t kHiAt[16] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17};
  static constexpr uint8_t kLoAt[16] = {19, 20, 21, 22, 24, 25, 26, 27,
                                        28, 29, 30, 31, 32, 33, 34, 35};
  return HexWord(text.data(), kHiAt, hi) && HexWord(text.data(), kLoAt, lo);
}

DedupKey DedupKey::Of(const transform::Cell& cell, std::string* scratch) {
  DedupKey key;
  if (const auto* i = std::get_if<int64_t>(&cell)) {
    key.type = DedupKeyType::kInt;
    key.hi = static_cast<uint64_t>(*i);
    return key;
  }
  if (const auto* s = std::get_if<std::string>(&cell)) {
    if (ParseCanonicalUuid(*s, &key.hi, &key.lo)) {
      key.type = DedupKeyType::kUuid;
    } else {
      key.type = DedupKeyType::kText;
      key.text = *s;
    }
    return key;
  }
  if (std::holds_alternative<std::monostate>(cell)) {
    return key;  // NULL: never a duplicate
  }
  // Other types (only a user's transform would dedup on them): their COPY text form.
  transform::Row row;
  row.cells.push_back(cell);
  scratch->clear();
  transform::Transform::AppendCopyLine(row, scratch);
  key.type = DedupKeyType::kText;
  key.text = *scratch;
  return key;
}

bool DedupSet::Flat128::Insert(uint64_t hi, uint64_t lo) {
  if (hi == 0 && lo == 0) {
    const bool inserted = !has_zero_;
    has_zero_ = true;
    return inserted;
  }
  if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = Slot(hi, lo);; i = (i + 1) & mask) {
    Entry& s = slots_[i];
    if (s.hi == hi && s.lo == lo) return false;
    if (s.hi == 0 && s.lo == 0) {
      s.hi = hi;
      s.lo = lo;
      ++size_;
      return true;
    }
  }
}

size_t DedupSet::Flat128::Slot(uint64_t hi, uint64_t lo) const {
  return static_cast<size_t>(Mix(hi, lo) >> shift_);
}

void DedupSet::Flat128::Grow() {
  std::vector<Entry> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Entry{});
  shift_ = 64 - std::countr_zero(slots_.size());
  const size_t mask = slots_.size() - 1;
  for (const Entry& s : old) {
    if (s.hi == 0 && s.lo == 0) continue;
    size_t i = Slot(s.hi, s.lo);
    while (slots_[i].hi != 0 || slots_[i].lo != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

DedupSet::DedupSet() = default;

bool DedupSet::Insert(const DedupKey& key) {
  switch (key.type) {
    case DedupKeyType::kNone: return true;
    case DedupKeyType::kInt: return ints_.Insert(key.hi, 0);
    case DedupKeyType::kUuid: return uuids_.Insert(key.hi, key.lo);
    case DedupKeyType::kText: return texts_.emplace(key.text).second;
  }
  return true;
}

size_t DedupSet::memory_bytes() const {
  size_t text_bytes = texts_.bucket_count() * sizeof(void*);
  for (const std::string& s : texts_) text_bytes += sizeof(s) + 2 * sizeof(void*) + s.capacity();
  return (ints_.capacity() + uuids_.capacity()) * 16 + text_bytes;
}

}  // namespace pinpipe::batch
