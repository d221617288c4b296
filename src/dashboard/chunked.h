// Building blocks of the analytics engine's in-memory facts (post_facts.h): fixed-size chunks
// shared between one writer and many readers, a string dictionary, and a flat hash index.
//
// ChunkedTable<Chunk> is an append-only sequence of elements stored in fixed-capacity chunks
// (a Chunk is a struct of arrays of Chunk::kCapacity elements each). The writer appends and
// mutates; View() hands readers an immutable ChunkedView that shares the chunks. Readers never
// block the writer and never see a change after their view was taken:
//   * appends go in place into the last chunk, beyond the size of every view already handed
//     out (readers read only below their view's size, so these are different memory locations);
//   * a mutation of an element of a chunk that a view may hold copies the chunk first (copy on
//     write, per chunk: a poll that resolves a few posts copies one or two chunks, not the
//     table).
// Dictionary interns strings (writer) into ids 0, 1, ... and gives readers a DictView of
// id -> string_view, whose bytes live in arena blocks the view keeps alive.
// FlatIndex is an open-addressing table of ids by hash (4 bytes per slot, load <= 1/2 unless
// the owner trades lookup probes for memory with a higher bound), for the writer's lookups (the
// keys live elsewhere, looked up through callbacks).
//
// Thread-safety: the writer-side classes (ChunkedTable, Dictionary, FlatIndex) are used by one
// thread; views are immutable and may be read by any number of threads, also while the writer
// goes on. Publishing a view to other threads needs a synchronising hand-over (the engine's
// mutex around its shared_ptr<const Snapshot>).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/check.h"

namespace pinpipe::dashboard {

template <typename Chunk>
struct ChunkedView {
  std::vector<std::shared_ptr<const Chunk>> chunks;
  size_t size = 0;

  // Elements in chunk c.
  size_t CountIn(size_t c) const { return std::min(Chunk::kCapacity, size - c * Chunk::kCapacity); }
  const Chunk& chunk(size_t c) const { return *chunks[c]; }
  // Chunk and offset of element i.
  std::pair<const Chunk*, size_t> At(size_t i) const {
    return {chunks[i / Chunk::kCapacity].get(), i % Chunk::kCapacity};
  }
};

template <typename Chunk>
class ChunkedTable {
 public:
  size_t size() const { return size_; }
  size_t chunk_count() const { return slots_.size(); }
  size_t bytes() const { return slots_.size() * sizeof(Chunk); }

  // Room for one more element (zero-initialised); returns its chunk and offset.
  std::pair<Chunk*, size_t> Append() {
    const size_t offset = size_ % Chunk::kCapacity;
    if (offset == 0) slots_.push_back(Slot{std::make_shared<Chunk>(), false});
    ++size_;
    return {slots_.back().chunk.get(), offset};
  }

  // Element i for writing: its chunk is copied first when a view may hold it.
  std::pair<Chunk*, size_t> Mutable(size_t i) {
    PINPIPE_CHECK(i < size_) << i << " >= " << size_;
    Slot& slot = slots_[i / Chunk::kCapacity];
    if (slot.shared) {
      slot.chunk = std::make_shared<Chunk>(*slot.chunk);
      slot.shared = false;
    }
    return {slot.chunk.get(), i % Chunk::kCapacity};
  }

  // Element i for reading (writer side).
  std::pair<const Chunk*, size_t> At(size_t i) const {
    return {slots_[i / Chunk::kCapacity].chunk.get(), i % Chunk::kCapacity};
  }

  // An immutable view of the table as it is now; every chunk counts as shared from now on.
  ChunkedView<Chunk> View() {
    ChunkedView<Chunk> view;
    view.chunks.reserve(slots_.size());
    for (Slot& slot : slots_) {
      slot.shared = true;
      view.chunks.push_back(slot.chunk);
    }
    view.size = size_;
    return view;
  }

  // Drops every chunk (views keep theirs alive until they go).
  void Clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    size_ = 0;
  }

 private:
  struct Slot {
    std::shared_ptr<Chunk> chunk;
    bool shared = false;  // some view may hold it: copy before mutating
  };
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Ids by hash, keys elsewhere. Slots hold id + 1 (0 = empty).
class FlatIndex {
 public:
  // Grows when more than max_load_eighths / 8 of the slots would be used (1..7).
  explicit FlatIndex(unsigned max_load_eighths = 4) : max_load_eighths_(max_load_eighths) {
    PINPIPE_CHECK(max_load_eighths >= 1 && max_load_eighths <= 7) << max_load_eighths;
  }

  // The id among those stored with `hash` that `equal(id)` accepts.
  template <typename Equal>
  std::optional<uint32_t> Find(uint64_t hash, const Equal& equal) const {
    if (slots_.empty()) return std::nullopt;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const uint32_t slot = slots_[i];
      if (slot == 0) return std::nullopt;
      if (equal(slot - 1)) return slot - 1;
    }
  }

  // Adds `id` (not present yet) under `hash`; `hash_of(id)` gives the hash of any stored id
  // when the table grows.
  template <typename HashOf>
  void Insert(uint64_t hash, uint32_t id, const HashOf& hash_of) {
    if ((count_ + 1) * 8 > slots_.size() * max_load_eighths_) Grow(hash_of);
    Place(hash, id);
    ++count_;
  }

  size_t bytes() const { return slots_.size() * sizeof(uint32_t); }
  void Clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    count_ = 0;
  }

 private:
  void Place(uint64_t hash, uint32_t id) {
    const size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = id + 1;
  }
  template <typename HashOf>
  void Grow(const HashOf& hash_of) {
    std::vector<uint32_t> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), 0);
    for (uint32_t slot : old) {
      if (slot != 0) Place(hash_of(slot - 1), slot - 1);
    }
  }

  std::vector<uint32_t> slots_;  // size 0 or a power of two
  size_t count_ = 0;
  size_t max_load_eighths_;
};

struct NameChunk {
  static constexpr size_t kCapacity = size_t{1} << 10;
  std::string_view name[kCapacity];
};

// Readers' id -> string.
struct DictView {
  ChunkedView<NameChunk> names;
  std::vector<std::shared_ptr<const char[]>> arena;  // keeps the bytes of `names` alive

  size_t size() const { return names.size; }
  std::string_view operator[](uint32_t id) const {
    auto [chunk, at] = names.At(id);
    return chunk->name[at];
  }
};

class Dictionary {
 public:
  static constexpr size_t kArenaBlock = size_t{16} << 10;

  // The id of `text`, added when new.
  uint32_t Intern(std::string_view text);
  std::optional<uint32_t> Find(std::string_view text) const;
  std::string_view Name(uint32_t id) const {
    auto [chunk, at] = names_.At(id);
    return chunk->name[at];
  }
  size_t size() const { return names_.size(); }
  size_t bytes() const { return names_.bytes() + arena_bytes_ + index_.bytes(); }
  DictView View();
  void Clear();

 private:
  static uint64_t Hash(std::string_view text);

  ChunkedTable<NameChunk> names_;
  std::vector<std::shared_ptr<char[]>> arena_;
  size_t arena_used_ = 0;        // bytes used in arena_.back()
  size_t arena_block_size_ = 0;  // capacity of arena_.back()
  size_t arena_bytes_ = 0;
  FlatIndex index_;
};

}  // namespace pinpipe::dashboard
