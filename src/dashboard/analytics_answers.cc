#include "dashboard/analytics_answers.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>
#include <type_traits>

#include "core/civil_day.h"
#include "core/record_validator.h"

namespace pinpipe::dashboard {
namespace {

// Per (category, country) pair of a query: what the filters and the questions' NULL rules say.
constexpr uint8_t kPairKept = 1;      // the category and country filters keep its posts
constexpr uint8_t kPairCategory = 2;  // category IS NOT NULL
constexpr uint8_t kPairCountry = 4;   // country IS NOT NULL

// The filters resolved against one view.
struct ResolvedFilters {
  bool none = false;  // a filter names a value no post has: nothing matches
  int32_t from = std::numeric_limits<int32_t>::min();
  int32_t to = std::numeric_limits<int32_t>::max();
  bool by_category = false;
  uint32_t category = 0;
  bool by_country = false;
  uint32_t country = 0;
  uint8_t age_group = 0;  // 0: any
  // Per pair id: its category, country and flags.
  std::vector<uint32_t> pair_category, pair_country;
  std::vector<uint8_t> pair_flags;

  bool InDays(int32_t day) const { return day >= from && day <= to; }
};

int32_t DayNumber(std::chrono::sys_days day) {
  return static_cast<int32_t>(day.time_since_epoch().count());
}

ResolvedFilters Resolve(const FactsView& facts, const AnalyticsFilters& filters) {
  ResolvedFilters q;
  if (filters.from) q.from = DayNumber(*filters.from);
  if (filters.to) q.to = DayNumber(*filters.to);
  if (filters.category) {
    auto id = facts.FindCategory(*filters.category);
    q.none |= !id;
    q.by_category = true;
    q.category = id.value_or(kNullId);
  }
  if (filters.country) {
    auto id = facts.FindCountry(*filters.country);
    q.none |= !id;
    q.by_country = true;
    q.country = id.value_or(kNullId);
  }
  if (filters.age_group) {
    auto code = AgeGroupFromLabel(*filters.age_group);
    q.none |= !code;
    q.age_group = code.value_or(0);
  }
  const size_t pairs = facts.pairs.size;
  q.pair_category.resize(pairs);
  q.pair_country.resize(pairs);
  q.pair_flags.resize(pairs);
  for (size_t c = 0; c < facts.pairs.chunks.size(); ++c) {
    const PairChunk& chunk = facts.pairs.chunk(c);
    const size_t n = facts.pairs.CountIn(c);
    for (size_t i = 0; i < n; ++i) {
      const size_t id = c * PairChunk::kCapacity + i;
      const uint32_t category = chunk.category[i], country = chunk.country[i];
      q.pair_category[id] = category;
      q.pair_country[id] = country;
      const bool kept =
          (!q.by_category || category == q.category) && (!q.by_country || country == q.country);
      q.pair_flags[id] =
          static_cast<uint8_t>((kept ? kPairKept : 0) | (category != kNullId ? kPairCategory : 0) |
                               (country != kNullId ? kPairCountry : 0));
    }
  }
  return q;
}

// One thread's share of a pass over the post chunks. The threads of a pass (RunParts) take runs
// of Parallelism::chunks_per_run chunks one after the other from a shared counter, each into its
// own totals (slot `index`), until none is left: a thread that starts late or runs slower (its core
// busy with another process) takes fewer runs, and no thread waits for a fixed share of another. So
// a request that misses the cache waits for about half the pass on two idle cores, and for no
// more than the whole pass on one thread when the other core is busy. Part{} (no counter) is
// every chunk, on the calling thread.
struct Part {
  size_t index = 0;                     // the thread's slot
  std::atomic<size_t>* next = nullptr;  // the next run to take; null: every chunk
  size_t run = 1;                       // chunks per run
};

// The parts of a pass. Parallelism's default posts_per_part keeps a thread's start (~50 us) and
// the merge of the parts' counters small against the pass.
size_t PartsFor(const FactsView& facts, const Parallelism& parallel) {
  constexpr size_t kMaxDefaultParts = 4;
  const size_t most =
      parallel.max_parts != 0
          ? parallel.max_parts
          : std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), kMaxDefaultParts);
  return std::clamp<size_t>(facts.post_count() / std::max<size_t>(1, parallel.posts_per_part), 1,
                            most);
}

// Runs fn(Part) on `count` threads sharing one pass: slot 0 on the calling thread, the others
// each on a thread of their own, and returns when all are done. A slot may get no chunk at all.
template <typename Fn>
void RunParts(size_t count, size_t run, const Fn& fn) {
  std::atomic<size_t> next{0};
  run = std::max<size_t>(1, run);
  std::vector<std::jthread> helpers;
  helpers.reserve(count - 1);
  for (size_t p = 1; p < count; ++p) {
    helpers.emplace_back([&fn, &next, p, run] { fn(Part{p, &next, run}); });
  }
  fn(Part{0, &next, run});
}  // the jthreads join here

// Calls visit(begin, end) for every run of chunks (of `chunks`) that `part` takes; Part{}: one
// run of them all.
template <typename Fn>
void ForEachRun(Part part, size_t chunks, const Fn& visit) {
  if (part.next == nullptr) return visit(0, chunks);
  for (size_t r; (r = part.next->fetch_add(1, std::memory_order_relaxed)) * part.run < chunks;) {
    visit(r * part.run, std::min(chunks, (r + 1) * part.run));
  }
}

// Calls fn(chunk, count, check_days) for every chunk of posts (of either width) in `part` that
// may hold posts in the query's days; check_days: some of its posts are outside them.
template <typename Fn>
void ForEachPostChunk(const FactsView& facts, const ResolvedFilters& q, Part part, const Fn& fn) {
  if (q.none) return;
  auto run = [&](const auto& view) {
    const size_t chunks = view.chunks.size();
    auto visit = [&](size_t begin, size_t end) {
      for (size_t c = begin; c < end; ++c) {
        const DayRange& days = facts.chunk_days[c];
        if (days.max < q.from || days.min > q.to) continue;
        fn(view.chunk(c), view.CountIn(c), days.min < q.from || days.max > q.to);
      }
    };
    ForEachRun(part, chunks, visit);
  };
  if (facts.wide()) {
    run(facts.wide_posts);
  } else {
    run(facts.posts);
  }
}

// Calls fn(chunk, i) for every post the query keeps.
template <typename Fn>
void ForEachPost(const FactsView& facts, const ResolvedFilters& q, const Fn& fn) {
  const bool by_pair = q.by_category || q.by_country;
  ForEachPostChunk(facts, q, Part{}, [&](const auto& c, size_t n, bool check_days) {
    const uint8_t* flags = q.pair_flags.data();
    for (size_t i = 0; i < n; ++i) {
      if (check_days && !q.InDays(c.day[i])) continue;
      if (by_pair && (flags[c.pair[i]] & kPairKept) == 0) continue;
      if (q.age_group != 0 && AgeGroupOf(c.codes[i]) != q.age_group) continue;
      fn(c, i);
    }
  });
}

// ---- Medians ----
// percentile_cont(0.5) needs the values of rank floor(f) and ceil(f), f = 0.5 * (n - 1), of
// each group (Q5: age group, Q7: join year, Q8: both). The first pass counts the values of
// every (join year code 0-6, age group code 0-4) cell in a histogram over an order-preserving
// bucket of the value; a group's histogram is the sum of its cells'. The two ranks fall in one
// or two buckets; the second pass collects the values of just those buckets, and a selection
// among them gives the exact values.
constexpr size_t kJoinCodes = kJoinYearLast - kJoinYearFirst + 2;  // 0 (none) and the years
constexpr size_t kGroupCodes = kAgeGroups + 1;                     // 0 (none) and the groups
constexpr size_t kCells = kJoinCodes * kGroupCodes;
inline size_t CellOf(uint16_t codes) { return JoinYearOf(codes) * kGroupCodes + AgeGroupOf(codes); }

// Buckets of a magnitude x in [0, 2^31]: exact below 64, then 32 per power of two (the top 6
// significant bits), like a small floating-point number.
constexpr uint32_t kMagnitudes = 64 + 25 * 32 + 1;  // up to 2^31
inline uint32_t MagnitudeBucket(uint32_t x) {
  if (x < 64) return x;
  const auto e = static_cast<uint32_t>(std::bit_width(x)) - 1;  // 6..31
  return 64 + (e - 6) * 32 + ((x >> (e - 5)) & 31);
}
// Order-preserving: v < w implies Bucket(v) <= Bucket(w).
constexpr size_t kBuckets = 2 * kMagnitudes;
inline uint32_t Bucket(int32_t v) {
  if (v >= 0) return kMagnitudes + MagnitudeBucket(static_cast<uint32_t>(v));
  return kMagnitudes - 1 - MagnitudeBucket(static_cast<uint32_t>(-(int64_t{v} + 1)));
}

// percentile_cont(0.5) of n values whose ranks floor(f) and ceil(f) are `first` and `second`,
// with PostgreSQL's arithmetic (orderedsetaggs.c: first + (f - floor(f)) * (second - first),
// f = 0.5 * (n - 1), in float8).
double PercentileCont(size_t n, int32_t first, int32_t second) {
  const double f = 0.5 * static_cast<double>(n - 1);
  const double lo = std::floor(f);
  if (lo == std::ceil(f)) return first;
  return first + (f - lo) * (static_cast<double>(second) - static_cast<double>(first));
}

// The median groups: Q5's 4, Q7's 6, Q8's 24, each a set of cells.
constexpr size_t kQ5Groups = kAgeGroups;
constexpr size_t kQ7Groups = kJoinCodes - 1;
constexpr size_t kMedianGroups = kQ5Groups + kQ7Groups + kQ7Groups * kAgeGroups;
size_t Q5Group(size_t group) { return group - 1; }
size_t Q7Group(size_t join) { return kQ5Groups + join - 1; }
size_t Q8Group(size_t join, size_t group) {
  return kQ5Groups + kQ7Groups + (join - 1) * kAgeGroups + group - 1;
}

struct MedianGroup {
  size_t n = 0;
  uint32_t lo_bucket = 0, hi_bucket = 0;      // the buckets of ranks floor(f) and ceil(f)
  size_t lo_rank = 0;                         // rank floor(f) among the values of lo_bucket
  std::vector<int32_t> lo_values, hi_values;  // hi_values: only when hi_bucket != lo_bucket
  double median = 0;
};

// What one pass over the posts gathers for every question but Q6.
struct PostTotals {
  std::vector<uint32_t> per_pair;  // Q1
  // Q2 and Q4: per post year code (0-5) or age group code (0-4) and category, one row of
  // categories + 1 counters each (the last for a NULL category). Codes 0 and NULL categories
  // are counted too, and left out when read: the hot loop has no branch for them.
  size_t row = 0;
  std::vector<uint32_t> by_year_category;
  std::vector<uint32_t> by_group_category;
  // Q3: the most followers per pair, and posts that were at their pair's top when seen (a
  // superset of the final top posts, compacted as it grows).
  struct TopPost {
    uint32_t pair, poster;
    int32_t followers;
  };
  std::vector<int64_t> top_followers;
  std::vector<TopPost> top_posts;
  // Per pair: the last post added to top_posts. The same poster at the same count again (a
  // poster's many posts at the top, common in real data) is not added again: Q3 wants each
  // (country, poster) once, and the repeats made top_posts, and Q3's sort, thousands long.
  std::vector<TopPost> last_top;
  size_t compact_at = 4096;
  std::vector<uint32_t> histograms;  // cell * kBuckets + bucket
  std::array<MedianGroup, kMedianGroups> groups;
};

constexpr int64_t kNoFollowers = std::numeric_limits<int64_t>::min();

void CompactTopPosts(PostTotals* t) {
  std::erase_if(t->top_posts, [&](const PostTotals::TopPost& p) {
    return p.followers < t->top_followers[p.pair];
  });
  t->compact_at = std::max<size_t>(4096, 2 * t->top_posts.size());
}

// Off the hot loop's path: the loop keeps its pointers in registers.
[[gnu::noinline]] void AddTopPost(PostTotals* t, uint32_t pair, uint32_t poster,
                                  int32_t followers) {
  PostTotals::TopPost& last = t->last_top[pair];
  if (last.poster == poster && last.followers == followers) return;
  last = {pair, poster, followers};
  t->top_posts.push_back({pair, poster, followers});
  if (t->top_posts.size() >= t->compact_at) CompactTopPosts(t);
}

// The smallest value whose bucket is at least b, and the largest whose bucket is at most b.
int32_t LowestOfBucket(uint32_t b) {
  int64_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (Bucket(static_cast<int32_t>(mid)) >= b) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return static_cast<int32_t>(lo);
}
int32_t HighestOfBucket(uint32_t b) {
  int64_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (Bucket(static_cast<int32_t>(mid)) <= b) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return static_cast<int32_t>(lo);
}

// The buckets of ranks floor(f) and ceil(f) of every group, from the cells' histograms.
void LocateMedians(PostTotals* t) {
  std::array<std::vector<size_t>, kMedianGroups> cells;
  for (size_t join = 0; join < kJoinCodes; ++join) {
    for (size_t group = 0; group < kGroupCodes; ++group) {
      const size_t cell = join * kGroupCodes + group;
      if (group != 0) cells[Q5Group(group)].push_back(cell);
      if (join != 0) cells[Q7Group(join)].push_back(cell);
      if (join != 0 && group != 0) cells[Q8Group(join, group)].push_back(cell);
    }
  }
  for (size_t g = 0; g < kMedianGroups; ++g) {
    MedianGroup& m = t->groups[g];
    for (size_t cell : cells[g]) {
      const uint32_t* h = t->histograms.data() + cell * kBuckets;
      m.n += std::accumulate(h, h + kBuckets, size_t{0});
    }
    if (m.n == 0) continue;
    const size_t lo = (m.n - 1) / 2, hi = m.n / 2;  // floor(f), ceil(f)
    size_t before = 0;                              // values in the buckets below b
    bool found_lo = false;
    for (uint32_t b = 0; b < kBuckets; ++b) {
      size_t in = 0;
      for (size_t cell : cells[g]) in += t->histograms[cell * kBuckets + b];
      if (!found_lo && lo < before + in) {
        m.lo_bucket = b;
        m.lo_rank = lo - before;
        found_lo = true;
      }
      if (hi < before + in) {
        m.hi_bucket = b;
        break;
      }
      before += in;
    }
  }
}

// The questions to answer (bit q of mask: Question q).
struct Want {
  uint32_t mask = 0;
  bool Has(Question q) const { return (mask >> static_cast<unsigned>(q)) & 1u; }
};

const TableSpec& Spec(size_t index) { return AnalyticsTables()[index]; }

std::vector<Cell> Row(std::initializer_list<Cell> cells) { return std::vector<Cell>(cells); }

// Sizes and zeroes the counters of `t` for one pass.
void InitTotals(const FactsView& facts, bool medians, PostTotals* t) {
  const size_t pairs = facts.pairs.size, categories = facts.categories.size();
  t->per_pair.assign(pairs, 0);
  t->row = categories + 1;
  t->by_year_category.assign((kPostYearLast - kPostYearFirst + 2) * t->row, 0);
  t->by_group_category.assign(kGroupCodes * t->row, 0);
  t->top_followers.assign(pairs, kNoFollowers);
  t->last_top.assign(pairs, PostTotals::TopPost{0, kNullId, 0});
  if (medians) t->histograms.assign(kCells * kBuckets, 0);
}

// The first pass over the posts of one part: counters, the top posts, and the histograms of the
// median cells (when `medians`). The counters of `totals` are sized by the caller (slot 0) or
// here at the part's first chunk (a helper that gets no chunk leaves them empty, and adds
// nothing when merged).
void CountPosts(const FactsView& facts, const ResolvedFilters& q, bool medians,
                const std::vector<uint32_t>& pair_column, Part part, PostTotals* totals) {
  PostTotals& t = *totals;
  const size_t row = facts.categories.size() + 1;
  ForEachPostChunk(facts, q, part, [&](const auto& c, size_t n, bool check_days) {
    using Chunk = std::remove_cvref_t<decltype(c)>;
    if (t.row == 0) InitTotals(facts, medians, &t);
    const uint8_t* flags = q.pair_flags.data();
    uint32_t* per_pair = t.per_pair.data();
    uint32_t* by_year = t.by_year_category.data();
    uint32_t* by_group = t.by_group_category.data();
    int64_t* top_followers = t.top_followers.data();
    uint32_t* histograms = t.histograms.data();
    for (size_t i = 0; i < n; ++i) {
      if (check_days && !q.InDays(c.day[i])) continue;
      const auto pair = c.pair[i];
      const uint8_t pair_flags = flags[pair];
      if ((pair_flags & kPairKept) == 0) continue;
      const uint16_t codes = c.codes[i];
      const uint8_t group = AgeGroupOf(codes);
      if (q.age_group != 0 && group != q.age_group) continue;
      ++per_pair[pair];
      const uint32_t column = pair_column[pair];
      ++by_year[PostYearOf(codes) * row + column];
      ++by_group[group * row + column];
      if ((codes & kFollowerNull) != 0) continue;
      const int32_t followers = c.follower[i];
      if (followers >= top_followers[pair] && c.poster[i] != Chunk::kNullPoster &&
          (pair_flags & kPairCountry) != 0) {
        top_followers[pair] = followers;
        AddTopPost(&t, pair, c.poster[i], followers);
      }
      // Cell 0 (no join year, no age group) is counted too and belongs to no group.
      if (medians) ++histograms[CellOf(codes) * kBuckets + Bucket(followers)];
    }
  });
}

void AddCounts(const std::vector<uint32_t>& from, std::vector<uint32_t>* into) {
  for (size_t i = 0; i < from.size(); ++i) (*into)[i] += from[i];
}

// Adds the first pass of another part into `t`. A post at its pair's top overall is at the top
// of its part's pair too, so the parts' top posts together hold every final top post.
void MergeTotals(const PostTotals& part, PostTotals* t) {
  AddCounts(part.per_pair, &t->per_pair);
  AddCounts(part.by_year_category, &t->by_year_category);
  AddCounts(part.by_group_category, &t->by_group_category);
  AddCounts(part.histograms, &t->histograms);
  for (size_t pair = 0; pair < part.top_followers.size(); ++pair) {
    t->top_followers[pair] = std::max(t->top_followers[pair], part.top_followers[pair]);
  }
  t->top_posts.insert(t->top_posts.end(), part.top_posts.begin(), part.top_posts.end());
}

// Per median cell: the (bucket, destination) pairs of the groups it belongs to, and the range
// of values of those buckets. A destination is a slot: 2 * group for the values of the group's
// lo_bucket, 2 * group + 1 for those of its hi_bucket.
struct CellTargets {
  struct Target {
    uint32_t bucket;
    uint32_t slot;
  };
  uint32_t min = std::numeric_limits<uint32_t>::max(), max = 0;
  int32_t lowest = 0, highest = -1;  // the values of buckets min..max (none when empty)
  size_t count = 0;
  std::array<Target, 6> targets;
  void Add(uint32_t bucket, uint32_t slot) {
    targets[count++] = {bucket, slot};
    min = std::min(min, bucket);
    max = std::max(max, bucket);
  }
};
using Slots = std::array<std::vector<int32_t>, 2 * kMedianGroups>;

// The second pass over the posts of one part: the values of the median buckets, into `slots`.
void CollectMedianValues(const FactsView& facts, const ResolvedFilters& q,
                         const std::array<CellTargets, kCells>& cell_targets, Part part,
                         Slots* slots) {
  // The hot part of cell_targets: a value v is in a cell's range when
  // uint64(v - start) <= width (one well-predicted branch; no value is in an empty range).
  struct Range {
    int64_t start = int64_t{1} << 40;
    uint64_t width = 0;
  };
  std::array<Range, kCells> ranges;
  for (size_t cell = 0; cell < kCells; ++cell) {
    const CellTargets& targets = cell_targets[cell];
    if (targets.count == 0) continue;
    ranges[cell] = {targets.lowest,
                    static_cast<uint64_t>(int64_t{targets.highest} - targets.lowest)};
  }
  // Few values fall in a cell's range: test that first, the filters only for those.
  const bool by_pair = q.by_category || q.by_country;
  ForEachPostChunk(facts, q, part, [&](const auto& c, size_t n, bool check_days) {
    const uint8_t* flags = q.pair_flags.data();
    for (size_t i = 0; i < n; ++i) {
      const uint16_t codes = c.codes[i];
      const size_t cell = CellOf(codes);
      const int32_t followers = c.follower[i];
      if (static_cast<uint64_t>(followers - ranges[cell].start) > ranges[cell].width) continue;
      if ((codes & kFollowerNull) != 0) continue;
      if (check_days && !q.InDays(c.day[i])) continue;
      if (by_pair && (flags[c.pair[i]] & kPairKept) == 0) continue;
      if (q.age_group != 0 && AgeGroupOf(codes) != q.age_group) continue;
      const CellTargets& targets = cell_targets[cell];
      const uint32_t bucket = Bucket(followers);
      for (size_t k = 0; k < targets.count; ++k) {
        if (targets.targets[k].bucket == bucket)
          (*slots)[targets.targets[k].slot].push_back(followers);
      }
    }
  });
}

PostTotals GatherPosts(const FactsView& facts, const ResolvedFilters& q, Want want, size_t parts,
                       size_t run) {
  const bool medians =
      want.Has(Question::kQ5) || want.Has(Question::kQ7) || want.Has(Question::kQ8);
  // Per pair: its category's column in the rows of Q2 and Q4.
  const size_t pairs = facts.pairs.size, categories = facts.categories.size();
  std::vector<uint32_t> pair_column(pairs);
  for (size_t pair = 0; pair < pairs; ++pair) {
    pair_column[pair] = q.pair_category[pair] == kNullId ? static_cast<uint32_t>(categories)
                                                         : q.pair_category[pair];
  }
  std::vector<PostTotals> partial(parts);
  InitTotals(facts, medians, &partial[0]);
  RunParts(parts, run, [&](Part part) {
    CountPosts(facts, q, medians, pair_column, part, &partial[part.index]);
  });
  PostTotals t = std::move(partial[0]);
  for (size_t p = 1; p < parts; ++p) MergeTotals(partial[p], &t);
  partial.clear();
  if (!medians) return t;
  LocateMedians(&t);
  std::array<CellTargets, kCells> cell_targets;
  for (size_t join = 0; join < kJoinCodes; ++join) {
    for (size_t group = 0; group < kGroupCodes; ++group) {
      const size_t cell = join * kGroupCodes + group;
      auto add = [&](size_t g) {
        MedianGroup& m = t.groups[g];
        if (m.n == 0) return;
        cell_targets[cell].Add(m.lo_bucket, static_cast<uint32_t>(2 * g));
        if (m.hi_bucket != m.lo_bucket) {
          cell_targets[cell].Add(m.hi_bucket, static_cast<uint32_t>(2 * g + 1));
        }
      };
      if (group != 0) add(Q5Group(group));
      if (join != 0) add(Q7Group(join));
      if (join != 0 && group != 0) add(Q8Group(join, group));
      CellTargets& targets = cell_targets[cell];
      if (targets.count != 0) {
        targets.lowest = LowestOfBucket(targets.min);
        targets.highest = HighestOfBucket(targets.max);
      }
    }
  }
  std::vector<Slots> slots(parts);
  RunParts(parts, run, [&](Part part) {
    CollectMedianValues(facts, q, cell_targets, part, &slots[part.index]);
  });
  for (size_t g = 0; g < kMedianGroups; ++g) {
    MedianGroup& m = t.groups[g];
    for (const Slots& s : slots) {
      m.lo_values.insert(m.lo_values.end(), s[2 * g].begin(), s[2 * g].end());
      m.hi_values.insert(m.hi_values.end(), s[2 * g + 1].begin(), s[2 * g + 1].end());
    }
  }
  slots.clear();
  for (MedianGroup& m : t.groups) {
    if (m.n == 0) continue;
    std::vector<int32_t>& v = m.lo_values;
    const auto at = v.begin() + static_cast<ptrdiff_t>(m.lo_rank);
    std::nth_element(v.begin(), at, v.end());
    const int32_t first = *at;
    int32_t second = first;
    if (m.n % 2 == 0) {
      // Rank ceil(f) = floor(f) + 1: the next value in the same bucket (the minimum of those
      // after the selected one) or the smallest of the next bucket.
      second = m.hi_bucket == m.lo_bucket
                   ? *std::min_element(at + 1, v.end())
                   : *std::min_element(m.hi_values.begin(), m.hi_values.end());
    }
    m.median = PercentileCont(m.n, first, second);
    v = {};
    m.hi_values = {};
  }
  return t;
}

// Q1: most popular category per country.
void Q1(const FactsView& facts, const ResolvedFilters& q, const PostTotals& t,
        std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(0);
  const size_t countries = facts.countries.size();
  std::vector<int64_t> best(countries, 0);
  std::vector<std::array<uint32_t, 2>> winners;  // (country, category)
  for (int round = 0; round < 2; ++round) {
    for (size_t pair = 0; pair < t.per_pair.size(); ++pair) {
      const int64_t n = t.per_pair[pair];
      if (n == 0 ||
          (q.pair_flags[pair] & (kPairCategory | kPairCountry)) != (kPairCategory | kPairCountry)) {
        continue;
      }
      const uint32_t country = q.pair_country[pair];
      if (round == 0) {
        best[country] = std::max(best[country], n);
      } else if (n == best[country]) {
        winners.push_back({country, q.pair_category[pair]});
      }
    }
  }
  std::sort(winners.begin(), winners.end(), [&](const auto& a, const auto& b) {
    const std::string_view ca = facts.countries[a[0]], cb = facts.countries[b[0]];
    if (ca != cb) return ca < cb;
    return facts.categories[a[1]] < facts.categories[b[1]];
  });
  for (const auto& [country, category] : winners) {
    table.rows.push_back(
        Row({facts.countries[country], facts.categories[category], best[country]}));
  }
}

// Q2: posts per category and post year, and the top category per year.
void Q2(const FactsView& facts, const PostTotals& t, std::vector<AnswerTable>* out) {
  constexpr size_t kYears = kPostYearLast - kPostYearFirst + 1;
  const size_t categories = facts.categories.size();
  // Both tables first: a reference taken before the second emplace_back would dangle.
  out->resize(out->size() + 2);
  AnswerTable& all = (*out)[out->size() - 2];
  all.spec = &Spec(1);
  AnswerTable& top = out->back();
  top.spec = &Spec(2);
  for (size_t y = 0; y < kYears; ++y) {
    const int64_t year = kPostYearFirst + static_cast<int64_t>(y);
    const uint32_t* row = t.by_year_category.data() + (y + 1) * t.row;
    const uint32_t best = categories == 0 ? 0 : *std::max_element(row, row + categories);
    for (uint32_t category : facts.categories_sorted) {
      const int64_t n = row[category];
      if (n == 0) continue;
      all.rows.push_back(Row({year, facts.categories[category], n}));
      if (n == best) top.rows.push_back(Row({year, facts.categories[category], n}));
    }
  }
}

// Q3: the posters with the most followers per country, and the country (or countries) of the
// overall top.
void Q3(const FactsView& facts, const ResolvedFilters& q, const PostTotals& t,
        std::vector<AnswerTable>* out) {
  std::vector<int64_t> best(facts.countries.size(), kNoFollowers);
  for (size_t pair = 0; pair < t.top_followers.size(); ++pair) {
    if (t.top_followers[pair] == kNoFollowers) continue;
    int64_t& b = best[q.pair_country[pair]];
    b = std::max(b, t.top_followers[pair]);
  }
  std::vector<std::array<uint32_t, 2>> winners;  // (country, poster), one per post at the top
  for (const PostTotals::TopPost& p : t.top_posts) {
    const uint32_t country = q.pair_country[p.pair];
    if (p.followers == best[country]) winners.push_back({country, p.poster});
  }
  // Each (country, poster) once (ids name their text one to one), then in the order of the texts.
  std::sort(winners.begin(), winners.end());
  winners.erase(std::unique(winners.begin(), winners.end()), winners.end());
  std::sort(winners.begin(), winners.end(), [&](const auto& a, const auto& b) {
    const std::string_view ca = facts.countries[a[0]], cb = facts.countries[b[0]];
    if (ca != cb) return ca < cb;
    return facts.posters[a[1]] < facts.posters[b[1]];
  });
  out->resize(out->size() + 2);
  AnswerTable& per_country = (*out)[out->size() - 2];
  per_country.spec = &Spec(3);
  AnswerTable& top = out->back();
  top.spec = &Spec(4);
  int64_t overall = kNoFollowers;
  for (const auto& [country, poster] : winners) overall = std::max(overall, best[country]);
  for (const auto& [country, poster] : winners) {
    per_country.rows.push_back(
        Row({facts.countries[country], facts.posters[poster], best[country]}));
    if (best[country] == overall) {
      top.rows.push_back(Row({facts.countries[country], facts.posters[poster], best[country]}));
    }
  }
}

// Q4: most popular category per age group.
void Q4(const FactsView& facts, const PostTotals& t, std::vector<AnswerTable>* out) {
  const size_t categories = facts.categories.size();
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(5);
  for (uint8_t g = 1; g <= kAgeGroups; ++g) {
    const uint32_t* row = t.by_group_category.data() + g * t.row;
    const uint32_t best = categories == 0 ? 0 : *std::max_element(row, row + categories);
    if (best == 0) continue;
    for (uint32_t category : facts.categories_sorted) {
      if (row[category] == best) {
        table.rows.push_back(Row({AgeGroupLabel(g), facts.categories[category], int64_t{best}}));
      }
    }
  }
}

// Q5: median follower_count per age group.
void Q5(const PostTotals& t, std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(6);
  for (uint8_t g = 1; g <= kAgeGroups; ++g) {
    const MedianGroup& m = t.groups[Q5Group(g)];
    if (m.n == 0) continue;
    table.rows.push_back(Row({AgeGroupLabel(g), m.median, static_cast<int64_t>(m.n)}));
  }
}

// The inds of a set of posts, for "the user has a post there" (Q6): a bitmap over the inds'
// range when that is small, else an open-addressing hash set (at most half full, linear
// probing) behind a bitmap of hashed inds (16 bits per ind, at most 256 KiB) that turns most
// absent inds away with one access. Q6 asks it once per user record, and most are absent: a
// sorted list's binary search over the ~80,000 inds of one category cost 15 ms per million user
// records; the hash set alone (1 MiB, out of the L2 cache) 10 ms.
class IndSet {
 public:
  explicit IndSet(const std::vector<int32_t>& inds) {
    if (inds.empty()) return;
    const auto [lo, hi] = std::minmax_element(inds.begin(), inds.end());
    min_ = *lo;
    const uint64_t range = static_cast<uint64_t>(int64_t{*hi} - int64_t{*lo}) + 1;
    if (range <= std::max<uint64_t>(uint64_t{1} << 23, 64 * uint64_t{inds.size()})) {
      bits_.assign((range + 63) / 64, 0);
      for (int32_t ind : inds) {
        const auto at = static_cast<uint64_t>(int64_t{ind} - min_);
        bits_[at / 64] |= uint64_t{1} << (at % 64);
      }
      range_ = range;
      return;
    }
    const size_t slots = std::bit_ceil(std::max<size_t>(16, 2 * inds.size()));
    shift_ = 64 - std::countr_zero(slots);
    slots_.assign(slots, kEmpty);
    const size_t filter_bits = std::min<size_t>(size_t{1} << 21, std::bit_ceil(16 * inds.size()));
    filter_mask_ = filter_bits - 1;
    filter_.assign(filter_bits / 64, 0);
    for (int32_t ind : inds) {
      const size_t f = FilterBit(ind);
      filter_[f / 64] |= uint64_t{1} << (f % 64);
    }
    for (int32_t ind : inds) {
      if (ind == kEmpty) {
        has_empty_value_ = true;
        continue;
      }
      for (size_t at = Slot(ind);; at = (at + 1) & (slots - 1)) {
        if (slots_[at] == ind) break;
        if (slots_[at] == kEmpty) {
          slots_[at] = ind;
          break;
        }
      }
    }
  }
  bool Contains(int32_t ind) const {
    if (range_ != 0) {
      const int64_t at = int64_t{ind} - min_;
      if (at < 0 || static_cast<uint64_t>(at) >= range_) return false;
      return (bits_[static_cast<uint64_t>(at) / 64] >> (static_cast<uint64_t>(at) % 64)) & 1;
    }
    if (slots_.empty()) return false;
    if (const size_t f = FilterBit(ind); ((filter_[f / 64] >> (f % 64)) & 1) == 0) return false;
    if (ind == kEmpty) return has_empty_value_;
    for (size_t at = Slot(ind);; at = (at + 1) & (slots_.size() - 1)) {
      if (slots_[at] == ind) return true;
      if (slots_[at] == kEmpty) return false;
    }
  }

 private:
  static constexpr int32_t kEmpty = std::numeric_limits<int32_t>::min();
  size_t Slot(int32_t ind) const {  // Fibonacci hashing: the top bits of the product
    return static_cast<size_t>(
        (static_cast<uint64_t>(static_cast<uint32_t>(ind)) * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  size_t FilterBit(int32_t ind) const {  // another hash: the low bits of another product
    return static_cast<size_t>(
               static_cast<uint64_t>(static_cast<uint32_t>(ind)) * 0xD6E8FEB86659FD93ull >> 20) &
           filter_mask_;
  }

  int64_t min_ = 0;
  uint64_t range_ = 0;  // 0: slots_ (or empty)
  std::vector<uint64_t> filter_;
  size_t filter_mask_ = 0;
  std::vector<uint64_t> bits_;
  int shift_ = 64;
  std::vector<int32_t> slots_;
  bool has_empty_value_ = false;  // kEmpty itself is among the inds
};

// Q6: people (distinct first_name, last_name, age, date_joined) among the user records, per
// join year. Filters: dt and age group on the user record; category and country keep the users
// with a post (any day) in that category and country.
void Q6(const FactsView& facts, const ResolvedFilters& q, size_t parts, size_t run,
        std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(7);
  if (q.none) return;
  std::optional<IndSet> with_post;
  if (q.by_category || q.by_country) {
    std::vector<int32_t> inds;
    auto scan = [&](const auto& view) {
      for (size_t c = 0; c < view.chunks.size(); ++c) {
        const auto& chunk = view.chunk(c);
        const size_t n = view.CountIn(c);
        for (size_t i = 0; i < n; ++i) {
          if ((chunk.codes[i] & kIndNull) != 0) continue;
          if ((q.pair_flags[chunk.pair[i]] & kPairKept) == 0) continue;
          inds.push_back(chunk.ind[i]);
        }
      }
    };
    if (facts.wide()) {
      scan(facts.wide_posts);
    } else {
      scan(facts.posts);
    }
    with_post.emplace(inds);
  }
  // The people counted, as a bitmap over person ids: one per thread sharing the pass over the
  // user records (runs of chunks, as the posts' passes), OR-ed, then counted per join year.
  const size_t words = (facts.persons.size + 63) / 64;
  std::vector<std::vector<uint64_t>> seen(std::max<size_t>(1, parts));
  RunParts(seen.size(), run, [&](Part part) {
    std::vector<uint64_t>& mine = seen[part.index];
    mine.assign(words, 0);
    ForEachRun(part, facts.users.chunks.size(), [&](size_t begin, size_t end) {
      for (size_t c = begin; c < end; ++c) {
        const UserChunk& chunk = facts.users.chunk(c);
        const size_t n = facts.users.CountIn(c);
        for (size_t i = 0; i < n; ++i) {
          if (!q.InDays(chunk.day[i])) continue;
          const uint32_t person = chunk.person[i];
          uint64_t& word = mine[person / 64];
          const uint64_t bit = uint64_t{1} << (person % 64);
          // Counted already (the age group is the person's own, so it passed): no lookups.
          if ((word & bit) != 0) continue;
          if (q.age_group != 0 && AgeGroupOf(facts.PersonCodes(person)) != q.age_group) continue;
          if (with_post && !with_post->Contains(chunk.ind[i])) continue;
          word |= bit;
        }
      }
    });
  });
  for (size_t p = 1; p < seen.size(); ++p) {
    for (size_t w = 0; w < words; ++w) seen[0][w] |= seen[p][w];
  }
  constexpr size_t kYears = kJoinYearLast - kJoinYearFirst + 1;
  std::array<int64_t, kYears> people{};
  for (size_t w = 0; w < words; ++w) {
    for (uint64_t bits = seen[0][w]; bits != 0; bits &= bits - 1) {
      const auto person =
          static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
      ++people[JoinYearOf(facts.PersonCodes(person)) - 1u];
    }
  }
  for (size_t y = 0; y < kYears; ++y) {
    if (people[y] == 0) continue;
    table.rows.push_back(Row({int64_t{kJoinYearFirst} + static_cast<int64_t>(y), people[y]}));
  }
}

// Q7: median follower_count per join year.
void Q7(const PostTotals& t, std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(8);
  for (size_t y = 1; y <= kQ7Groups; ++y) {
    const MedianGroup& m = t.groups[Q7Group(y)];
    if (m.n == 0) continue;
    table.rows.push_back(Row({int64_t{kJoinYearFirst} + static_cast<int64_t>(y - 1), m.median,
                              static_cast<int64_t>(m.n)}));
  }
}

// Q8: median follower_count per join year and age group.
void Q8(const PostTotals& t, std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(9);
  for (size_t y = 1; y <= kQ7Groups; ++y) {
    for (uint8_t g = 1; g <= kAgeGroups; ++g) {
      const MedianGroup& m = t.groups[Q8Group(y, g)];
      if (m.n == 0) continue;
      table.rows.push_back(Row({int64_t{kJoinYearFirst} + static_cast<int64_t>(y - 1),
                                AgeGroupLabel(g), m.median, static_cast<int64_t>(m.n)}));
    }
  }
}

std::vector<AnswerTable> Compute(const FactsView& facts, const AnalyticsFilters& filters, Want want,
                                 const Parallelism& parallel) {
  const size_t parts = PartsFor(facts, parallel);
  const ResolvedFilters q = Resolve(facts, filters);
  std::vector<AnswerTable> out;
  out.reserve(AnalyticsTables().size());
  const bool posts = (want.mask & ~(1u << static_cast<unsigned>(Question::kQ6))) != 0;
  // The passes one after the other, each shared by the threads (Part): the posts', then Q6's
  // over the user records.
  std::vector<AnswerTable> q6;
  PostTotals t;
  if (posts) t = GatherPosts(facts, q, want, parts, parallel.chunks_per_run);
  if (want.Has(Question::kQ6)) Q6(facts, q, parts, parallel.chunks_per_run, &q6);
  if (want.Has(Question::kQ1)) Q1(facts, q, t, &out);
  if (want.Has(Question::kQ2)) Q2(facts, t, &out);
  if (want.Has(Question::kQ3)) Q3(facts, q, t, &out);
  if (want.Has(Question::kQ4)) Q4(facts, t, &out);
  if (want.Has(Question::kQ5)) Q5(t, &out);
  if (want.Has(Question::kQ6)) out.push_back(std::move(q6.front()));
  if (want.Has(Question::kQ7)) Q7(t, &out);
  if (want.Has(Question::kQ8)) Q8(t, &out);
  return out;
}

void AppendCell(const Cell& cell, std::string* out) {
  char digits[32];
  if (std::holds_alternative<std::monostate>(cell)) {
    *out += "null";
  } else if (const auto* i = std::get_if<int64_t>(&cell)) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), *i);
    out->append(digits, end);
  } else if (const auto* d = std::get_if<double>(&cell)) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), *d);
    out->append(digits, end);
  } else {
    core::AppendJsonString(std::get<std::string_view>(cell), out);
  }
}

void AppendDay(std::optional<int32_t> day, std::string* out) {
  if (day) {
    core::AppendJsonString(core::DateOfDay(*day), out);
  } else {
    *out += "null";
  }
}

}  // namespace

const std::vector<TableSpec>& AnalyticsTables() {
  static const std::vector<TableSpec> tables = {
      {"q1_popular_category_by_country",
       "Most popular category per country",
       {"country", "category", "category_count"}},
      {"q2_posts_by_category_and_year",
       "Posts per category and year (2018-2022)",
       {"post_year", "category", "category_count"}},
      {"q2_top_category_by_year",
       "Top category per year (2018-2022)",
       {"post_year", "category", "category_count"}},
      {"q3_top_poster_by_country",
       "Poster with the most followers per country",
       {"country", "poster_name", "follower_count"}},
      {"q3_top_country",
       "Country of the poster with the most followers",
       {"country", "poster_name", "follower_count"}},
      {"q4_popular_category_by_age_group",
       "Most popular category per age group",
       {"age_group", "category", "category_count"}},
      {"q5_median_follower_count_by_age_group",
       "Median follower count per age group",
       {"age_group", "median_follower_count", "posts"}},
      {"q6_users_joined_by_year",
       "Users joined per year (2015-2020)",
       {"join_year", "number_users_joined"}},
      {"q7_median_follower_count_by_join_year",
       "Median follower count by joining year",
       {"join_year", "median_follower_count", "posts"}},
      {"q8_median_follower_count_by_join_year_and_age_group",
       "Median follower count by joining year and age group",
       {"join_year", "age_group", "median_follower_count", "posts"}},
  };
  return tables;
}

std::vector<AnswerTable> ComputeQuestion(const FactsView& facts, const AnalyticsFilters& filters,
                                         Question question, const Parallelism& parallel) {
  return Compute(facts, filters, Want{1u << static_cast<unsigned>(question)}, parallel);
}

std::vector<AnswerTable> ComputeAnalytics(const FactsView& facts, const AnalyticsFilters& filters,
                                          const Parallelism& parallel) {
  return Compute(facts, filters, Want{(1u << std::size(kAllQuestions)) - 1}, parallel);
}

std::vector<PinDay> ComputePinDays(const FactsView& facts, const AnalyticsFilters& filters) {
  std::vector<PinDay> out;
  const ResolvedFilters q = Resolve(facts, filters);
  if (q.none || !facts.min_day) return out;
  const int32_t first = *facts.min_day;
  std::vector<std::array<int64_t, 2>> counts(static_cast<size_t>(*facts.max_day - first) + 1,
                                             {0, 0});
  ForEachPost(facts, q, [&](const auto& c, size_t i) {
    ++counts[static_cast<size_t>(c.day[i] - first)][(c.codes[i] & kBatchLayer) != 0 ? 0 : 1];
  });
  for (size_t d = 0; d < counts.size(); ++d) {
    if (counts[d][0] == 0 && counts[d][1] == 0) continue;
    out.push_back(PinDay{first + static_cast<int32_t>(d), counts[d][0], counts[d][1]});
  }
  return out;
}

void AppendTablesJson(const std::vector<AnswerTable>& tables, std::string* out) {
  *out += '[';
  for (size_t t = 0; t < tables.size(); ++t) {
    const AnswerTable& table = tables[t];
    if (t > 0) *out += ',';
    *out += "{\"id\":";
    core::AppendJsonString(table.spec->id, out);
    *out += ",\"title\":";
    core::AppendJsonString(table.spec->title, out);
    *out += ",\"columns\":[";
    for (size_t c = 0; c < table.spec->columns.size(); ++c) {
      if (c > 0) *out += ',';
      core::AppendJsonString(table.spec->columns[c], out);
    }
    *out += "],\"rows\":[";
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (r > 0) *out += ',';
      *out += '[';
      for (size_t c = 0; c < table.rows[r].size(); ++c) {
        if (c > 0) *out += ',';
        AppendCell(table.rows[r][c], out);
      }
      *out += ']';
    }
    *out += "]}";
  }
  *out += ']';
}

void AppendPinDaysJson(const std::vector<PinDay>& days, std::string* out) {
  *out += '[';
  for (size_t i = 0; i < days.size(); ++i) {
    if (i > 0) *out += ',';
    *out += "{\"dt\":";
    AppendDay(days[i].day, out);
    *out += ",\"batch\":" + std::to_string(days[i].batch);
    *out += ",\"speed\":" + std::to_string(days[i].speed) + "}";
  }
  *out += ']';
}

void AppendFiltersJson(const FactsView& facts, std::string* out) {
  auto names = [&](const DictView& dict, const std::vector<uint32_t>& sorted) {
    *out += '[';
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i > 0) *out += ',';
      core::AppendJsonString(dict[sorted[i]], out);
    }
    *out += ']';
  };
  *out += "{\"categories\":";
  names(facts.categories, facts.categories_sorted);
  *out += ",\"countries\":";
  names(facts.countries, facts.countries_sorted);
  *out += ",\"age_groups\":[";
  for (uint8_t g = 1; g <= kAgeGroups; ++g) {
    if (g > 1) *out += ',';
    core::AppendJsonString(AgeGroupLabel(g), out);
  }
  *out += "],\"days\":{\"min\":";
  AppendDay(facts.min_day, out);
  *out += ",\"max\":";
  AppendDay(facts.max_day, out);
  *out += "}}";
}

std::string CellText(const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) return "NULL";
  if (const auto* s = std::get_if<std::string_view>(&cell)) return std::string(*s);
  std::string out;
  AppendCell(cell, &out);
  return out;
}

}  // namespace pinpipe::dashboard
