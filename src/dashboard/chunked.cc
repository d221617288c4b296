#include "dashboard/chunked.h"

#include <functional>

namespace pinpipe::dashboard {

uint64_t Dictionary::Hash(std::string_view text) { return std::hash<std::string_view>{}(text); }

std::optional<uint32_t> Dictionary::Find(std::string_view text) const {
  return index_.Find(Hash(text), [&](uint32_t id) { return Name(id) == text; });
}

uint32_t Dictionary::Intern(std::string_view text) {
  const uint64_t hash = Hash(text);
  if (auto found = index_.Find(hash, [&](uint32_t id) { return Name(id) == text; })) {
    return *found;
  }
  // The bytes go to the current arena block, or a new one (a string longer than a block gets a
  // block of its own size). Blocks never move, so views may point into them.
  if (arena_.empty() || arena_block_size_ - arena_used_ < text.size()) {
    arena_block_size_ = std::max(kArenaBlock, text.size());
    arena_.push_back(std::make_shared<char[]>(arena_block_size_));
    arena_used_ = 0;
    arena_bytes_ += arena_block_size_;
  }
  char* at = arena_.back().get() + arena_used_;
  if (!text.empty()) std::memcpy(at, text.data(), text.size());
  arena_used_ += text.size();
  const auto id = static_cast<uint32_t>(names_.size());
  auto [chunk, offset] = names_.Append();
  chunk->name[offset] = std::string_view(at, text.size());
  index_.Insert(hash, id, [&](uint32_t other) { return Hash(Name(other)); });
  return id;
}

DictView Dictionary::View() {
  DictView view;
  view.names = names_.View();
  view.arena.assign(arena_.begin(), arena_.end());
  return view;
}

void Dictionary::Clear() {
  names_.Clear();
  arena_.clear();
  arena_.shrink_to_fit();
  arena_used_ = 0;
  arena_block_size_ = 0;
  arena_bytes_ = 0;
  index_.Clear();
}

}  // namespace pinpipe::dashboard
