// AnswerCache: the dashboard's answers, one per route and parameters (Query::key), shared by every
// client. Request threads only read it; the refresher thread computes and publishes.
//
// Get() on an I/O thread: a cached answer is returned at once (a hit). Otherwise the request
// waits for the first answer of its key: its callback is kept and the key is queued for the
// refresher (a miss); concurrent requests for the same key join the same wait, so one
// computation answers them all (single flight). The refresher takes the queued keys
// (TakePending), computes each once and Publish()es the answer, which calls every waiting
// callback. Each interval it also recomputes every key asked for within `keep_for` (LiveKeys) and
// forgets the others (Evict). Entries are bounded by `max_entries` and their bodies by `max_bytes`
// (least recently asked ready entries go first). A new key when the cache is
// full evicts the least recently asked ready entry; when every entry is still waiting, the
// request is refused (Get returns kFull) rather than growing the cache.
//
// On-demand entries (Claim / PublishClaimed) are for answers computed from in-memory state that
// any thread may read (the analytics engine's immutable snapshot): the refresher never computes
// them, and no request waits behind its steps. Each answer carries the generation of the state
// it was computed from; Claim() returns it while the generation is current (a hit), hands the
// computation to the first request of a new generation (kCompute: that request computes on its
// own thread and calls PublishClaimed), and lets concurrent requests of the same key join that
// computation (kJoined). So a key is computed at most once per generation, however many clients
// ask, and only when asked. An entry being computed or waited for is never evicted.
//
// Thread-safety: every method may be called from any thread; one mutex guards the map, and the
// callbacks are called outside it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "dashboard/routes.h"

namespace pinpipe::dashboard {

struct Answer {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::string generated_at;  // RFC 3339 UTC: when it was computed
};

struct AnswerCacheOptions {
  std::chrono::milliseconds keep_for{60000};  // a key not asked for this long is dropped
  size_t max_entries = 256;
  // Bytes of answer bodies held: past it, the least recently asked ready entries go (answers of
  // /api/analytics run to tens of KB, and a hundred filter combinations a minute are plausible).
  size_t max_bytes = size_t{8} << 20;
};

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Waiter = std::function<void(std::shared_ptr<const Answer>)>;

  explicit AnswerCache(AnswerCacheOptions options) : options_(options) {}

  enum class Lookup { kHit, kJoined, kFirstMiss, kFull };
  // Hit: *answer is set. Joined / FirstMiss: `waiter` will be called with the first answer
  // (FirstMiss: this call queued the key). Full: nothing kept; answer 503.
  Lookup Get(const Query& query, Clock::time_point now, Waiter waiter,
             std::shared_ptr<const Answer>* answer);

  enum class Claim { kHit, kJoined, kCompute, kFull };
  // On-demand lookup at `generation`. Hit: *answer is set. Joined: `waiter` will be called with
  // the answer being computed. Compute: the caller must compute the answer and PublishClaimed
  // it (then answer its own request; its waiter is not kept). Full: nothing kept; answer 503.
  Claim ClaimOnDemand(const Query& query, Clock::time_point now, uint64_t generation, Waiter waiter,
                      std::shared_ptr<const Answer>* answer);
  // After kCompute: stores the answer computed at `generation` and answers the joined waiters.
  void PublishClaimed(const Query& query, uint64_t generation,
                      const std::shared_ptr<const Answer>& answer);

  // Refresher: the queries waiting for a first answer, each once (cleared).
  std::vector<Query> TakePending();
  // Refresher: the queries with an answer asked for at or after `since` (on-demand ones
  // excepted).
  std::vector<Query> LiveQueries(Clock::time_point since) const;
  // Refresher: stores the answer of `query` and answers whoever waits for it.
  void Publish(const Query& query, const std::shared_ptr<const Answer>& answer);
  // Refresher: forgets ready entries not asked for since `since`.
  void Evict(Clock::time_point since);
  // Refresher: sleeps until a key is pending, `until` passes or `stop` is requested. True when
  // a key is pending.
  bool WaitForPending(std::stop_token stop, Clock::time_point until);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;   // first misses (a computation was queued, or claimed on demand)
    uint64_t joined = 0;   // requests that waited for another's computation
    uint64_t refused = 0;  // kFull
    size_t entries = 0;
    size_t bytes = 0;  // answer bodies held
  };
  Stats stats() const;

 private:
  struct Entry {
    Query query;
    std::shared_ptr<const Answer> answer;  // null until the first Publish
    std::vector<Waiter> waiters;
    Clock::time_point last_asked;
    bool on_demand = false;
    bool computing = false;   // on demand: a request is computing it
    uint64_t generation = 0;  // on demand: of `answer`
  };
  // Makes room for one more entry; false when every entry is waiting.
  bool MakeRoom() REQUIRES(mu_);
  // Evicts least recently asked ready entries (not `keep`) while bytes_ > max_bytes.
  void FitBytes(const std::string& keep) REQUIRES(mu_);
  using EntryMap = std::map<std::string, Entry>;
  // The least recently asked entry that has an answer, is not being computed and has no waiter
  // (and is not *keep); end() if none.
  EntryMap::iterator Evictable(const std::string* keep) REQUIRES(mu_);
  // Forgets a ready entry.
  void Erase(EntryMap::iterator it) REQUIRES(mu_);

  const AnswerCacheOptions options_;
  mutable core::Mutex mu_;
  std::condition_variable_any pending_cv_;
  // Guarded by mu_:
  EntryMap entries_ GUARDED_BY(mu_);
  std::vector<std::string> pending_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  Stats stats_ GUARDED_BY(mu_);
};

}  // namespace pinpipe::dashboard
