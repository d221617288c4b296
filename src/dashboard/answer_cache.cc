#include "dashboard/answer_cache.h"
#include "core/mutex.h"

#include <algorithm>

namespace pinpipe::dashboard {

AnswerCache::Lookup AnswerCache::Get(const Query& query, Clock::time_point now, Waiter waiter,
                                     std::shared_ptr<const Answer>* answer) {
  core::MutexLock lock(mu_);
  auto it = entries_.find(query.key);
  if (it != entries_.end()) {
    it->second.last_asked = now;
    if (it->second.answer != nullptr) {
      ++stats_.hits;
      *answer = it->second.answer;
      return Lookup::kHit;
    }
    ++stats_.joined;
    it->second.waiters.push_back(std::move(waiter));
    return Lookup::kJoined;
  }
  if (!MakeRoom()) {
    ++stats_.refused;
    return Lookup::kFull;
  }
  Entry entry{query, nullptr, {}, now};
  entry.waiters.push_back(std::move(waiter));
  entries_.emplace(query.key, std::move(entry));
  pending_.push_back(query.key);
  ++stats_.misses;
  lock.Unlock();
  pending_cv_.notify_all();
  return Lookup::kFirstMiss;
}

AnswerCache::Claim AnswerCache::ClaimOnDemand(const Query& query, Clock::time_point now,
                                              uint64_t generation, Waiter waiter,
                                              std::shared_ptr<const Answer>* answer) {
  core::MutexLock lock(mu_);
  auto it = entries_.find(query.key);
  if (it == entries_.end()) {
    if (!MakeRoom()) {
      ++stats_.refused;
      return Claim::kFull;
    }
    it = entries_.emplace(query.key, Entry{query, nullptr, {}, now}).first;
    it->second.on_demand = true;
  }
  Entry& e = it->second;
  e.last_asked = now;
  if (e.computing) {
    ++stats_.joined;
    e.waiters.push_back(std::move(waiter));
    return Claim::kJoined;
  }
  if (e.answer != nullptr && e.generation == generation) {
    ++stats_.hits;
    *answer = e.answer;
    return Claim::kHit;
  }
  ++stats_.misses;
  e.on_demand = true;
  e.computing = true;
  return Claim::kCompute;
}

void AnswerCache::PublishClaimed(const Query& query, uint64_t generation,
                                 const std::shared_ptr<const Answer>& answer) {
  std::vector<Waiter> waiters;
  {
    core::MutexLock lock(mu_);
    auto it = entries_.find(query.key);
    if (it == entries_.end()) return;  // cannot happen: a computing entry is never evicted
    Entry& e = it->second;
    if (e.answer != nullptr) bytes_ -= e.answer->body.size();
    bytes_ += answer->body.size();
    e.answer = answer;
    e.generation = generation;
    e.computing = false;
    waiters.swap(e.waiters);
    FitBytes(query.key);
  }
  for (Waiter& w : waiters) w(answer);
}

AnswerCache::EntryMap::iterator AnswerCache::Evictable(const std::string* keep) {
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = it->second;
    // Someone waits for it, or computes it: never.
    if (e.answer == nullptr || e.computing || !e.waiters.empty()) continue;
    if (keep != nullptr && it->first == *keep) continue;
    if (victim == entries_.end() || e.last_asked < victim->second.last_asked) victim = it;
  }
  return victim;
}

void AnswerCache::Erase(EntryMap::iterator it) {
  bytes_ -= it->second.answer->body.size();
  entries_.erase(it);
}

void AnswerCache::FitBytes(const std::string& keep) {
  while (bytes_ > options_.max_bytes) {
    auto victim = Evictable(&keep);
    if (victim == entries_.end()) return;
    Erase(victim);
  }
}

bool AnswerCache::MakeRoom() {
  if (entries_.size() < options_.max_entries) return true;
  auto victim = Evictable(nullptr);
  if (victim == entries_.end()) return false;
  Erase(victim);
  return true;
}

std::vector<Query> AnswerCache::TakePending() {
  core::MutexLock lock(mu_);
  std::vector<Query> out;
  for (const std::string& key : pending_) {
    auto it = entries_.find(key);
    if (it != entries_.end()) out.push_back(it->second.query);
  }
  pending_.clear();
  return out;
}

std::vector<Query> AnswerCache::LiveQueries(Clock::time_point since) const {
  core::MutexLock lock(mu_);
  std::vector<Query> out;
  for (const auto& [key, entry] : entries_) {
    if (entry.answer != nullptr && !entry.on_demand && entry.last_asked >= since) {
      out.push_back(entry.query);
    }
  }
  return out;
}

void AnswerCache::Publish(const Query& query, const std::shared_ptr<const Answer>& answer) {
  std::vector<Waiter> waiters;
  {
    core::MutexLock lock(mu_);
    auto it = entries_.find(query.key);
    if (it == entries_.end()) return;  // evicted meanwhile: nobody asked for it lately
    if (it->second.answer != nullptr) bytes_ -= it->second.answer->body.size();
    bytes_ += answer->body.size();
    it->second.answer = answer;
    waiters.swap(it->second.waiters);
    FitBytes(query.key);
  }
  for (Waiter& w : waiters) w(answer);
}

void AnswerCache::Evict(Clock::time_point since) {
  core::MutexLock lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.answer != nullptr && !it->second.computing && it->second.last_asked < since) {
      bytes_ -= it->second.answer->body.size();
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

bool AnswerCache::WaitForPending(std::stop_token stop, Clock::time_point until) {
  core::MutexLock lock(mu_);
  return lock.WaitUntil(pending_cv_, stop, until,
                        [this]() REQUIRES(mu_) { return !pending_.empty(); });
}

AnswerCache::Stats AnswerCache::stats() const {
  core::MutexLock lock(mu_);
  Stats s = stats_;
  s.entries = entries_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace pinpipe::dashboard
