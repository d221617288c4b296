#include "dashboard/time_series.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/metrics.h"

namespace pinpipe::dashboard {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kStep1h = 15;    // seconds per point of the 1h window
constexpr double kStep24h = 300;  // seconds per point of the 24h window

// The increase from `before` to `after` of a counter; a decrease is a reset, after which the
// counter counted `after` from zero.
double CounterDelta(double before, double after) {
  return after >= before ? after - before : after;
}

}  // namespace

std::string_view WindowName(Window w) {
  switch (w) {
    case Window::k5m: return "5m";
    case Window::k1h: return "1h";
    case Window::k24h: return "24h";
  }
  return "5m";
}

std::optional<Window> ParseWindow(std::string_view text) {
  for (Window w : kAllWindows) {
    if (WindowName(w) == text) return w;
  }
  return std::nullopt;
}

std::chrono::seconds WindowSpan(Window w) {
  switch (w) {
    case Window::k5m: return std::chrono::minutes(5);
    case Window::k1h: return std::chrono::hours(1);
    case Window::k24h: return std::chrono::hours(24);
  }
  return std::chrono::minutes(5);
}

SeriesStore::SeriesStore(SeriesStoreOptions options) : options_(options) {
  const double interval_s =
      std::max(0.001, static_cast<double>(options_.interval.count()) / 1000.0);
  const double steps[3] = {0, kStep1h, kStep24h};
  const double spans[3] = {300, 3600, 86400};
  for (int r = 0; r < 3; ++r) {
    Ring& ring = rings_[r];
    ring.step = steps[r];
    const double per_point = r == 0 ? interval_s : steps[r];
    ring.capacity = static_cast<size_t>(std::ceil(spans[r] / per_point)) + 1;
    ring.times.assign(ring.capacity, kNaN);
  }
}

void SeriesStore::BeginSample(double t) {
  if (started_ && t <= now_) return;  // the same sample again (or a clock step back): merge
  started_ = true;
  now_ = t;
  for (int r = 0; r < 3; ++r) {
    Ring& ring = rings_[r];
    const double bucket = ring.step > 0 ? std::floor(t / ring.step) : t;
    if (ring.size > 0 && bucket == ring.bucket) {
      ring.times[ring.head] = t;
      continue;
    }
    ring.bucket = bucket;
    ring.head = ring.size == 0 ? 0 : (ring.head + 1) % ring.capacity;
    ring.size = std::min(ring.size + 1, ring.capacity);
    ring.times[ring.head] = t;
    for (auto& [name, series] : series_) series.values[r][ring.head] = kNaN;
  }
}

Status SeriesStore::Set(std::string_view name, SeriesKind kind, double value, bool born_at_zero) {
  if (!started_) return FailedPrecondition("SeriesStore::Set before the first BeginSample");
  auto it = series_.find(name);
  if (it == series_.end()) {
    if (series_.size() >= options_.max_series) {
      return ResourceExhausted(fmt::format("time series store full ({} series); '{}' dropped",
                                           options_.max_series, name));
    }
    Series series{kind, {}};
    for (int r = 0; r < 3; ++r) {
      series.values[r].assign(rings_[r].capacity, kNaN);
      if (born_at_zero && rings_[r].size >= 2) {
        series.values[r][(rings_[r].head + rings_[r].capacity - 1) % rings_[r].capacity] = 0;
      }
    }
    it = series_.emplace(std::string(name), std::move(series)).first;
  }
  Series& series = it->second;
  for (int r = 0; r < 3; ++r) {
    double& slot = series.values[r][rings_[r].head];
    if (series.kind == SeriesKind::kGauge && r > 0 && !std::isnan(slot)) {
      slot = std::max(slot, value);
    } else {
      slot = value;
    }
  }
  return Status::Ok();
}

std::optional<double> SeriesStore::now() const {
  if (!started_) return std::nullopt;
  return now_;
}

std::vector<size_t> SeriesStore::Points(Window w, bool with_previous,
                                        size_t* first_in_window) const {
  const Ring& ring = rings_[static_cast<int>(w)];
  std::vector<size_t> out;
  *first_in_window = 0;
  if (ring.size == 0) return out;
  const double since = now_ - static_cast<double>(WindowSpan(w).count());
  const size_t oldest = (ring.head + ring.capacity - ring.size + 1) % ring.capacity;
  out.reserve(ring.size);
  for (size_t k = 0; k < ring.size; ++k) {
    const size_t i = (oldest + k) % ring.capacity;
    if (ring.times[i] > since) {
      if (out.empty() && with_previous && k > 0) {
        out.push_back((i + ring.capacity - 1) % ring.capacity);
        *first_in_window = 1;
      }
      out.push_back(i);
    }
  }
  return out;
}

const SeriesStore::Series* SeriesStore::Find(std::string_view name) const {
  auto it = series_.find(name);
  return it == series_.end() ? nullptr : &it->second;
}

std::vector<double> SeriesStore::Times(Window w) const {
  size_t first = 0;
  std::vector<size_t> points = Points(w, false, &first);
  std::vector<double> out;
  out.reserve(points.size());
  for (size_t i : points) out.push_back(rings_[static_cast<int>(w)].times[i]);
  return out;
}

std::vector<double> SeriesStore::Values(std::string_view name, Window w) const {
  size_t first = 0;
  std::vector<size_t> points = Points(w, false, &first);
  std::vector<double> out(points.size(), kNaN);
  if (const Series* s = Find(name)) {
    for (size_t k = 0; k < points.size(); ++k) out[k] = s->values[static_cast<int>(w)][points[k]];
  }
  return out;
}

std::vector<double> SeriesStore::Rates(std::string_view name, Window w) const {
  size_t first = 0;
  std::vector<size_t> points = Points(w, true, &first);
  std::vector<double> out(points.size() - first, kNaN);
  const Series* s = Find(name);
  if (s == nullptr) return out;
  const int r = static_cast<int>(w);
  for (size_t k = std::max<size_t>(first, 1); k < points.size(); ++k) {
    const double v = s->values[r][points[k]];
    const double p = s->values[r][points[k - 1]];
    const double dt = rings_[r].times[points[k]] - rings_[r].times[points[k - 1]];
    if (std::isnan(v) || std::isnan(p) || !(dt > 0)) continue;
    out[k - first] = CounterDelta(p, v) / dt;
  }
  return out;
}

std::optional<double> SeriesStore::Increase(std::string_view name, Window w) const {
  const Series* s = Find(name);
  if (s == nullptr) return std::nullopt;
  size_t first = 0;
  std::vector<size_t> points = Points(w, true, &first);
  const int r = static_cast<int>(w);
  double total = 0;
  std::optional<double> previous;
  int known = 0;
  for (size_t i : points) {
    const double v = s->values[r][i];
    if (std::isnan(v)) continue;
    if (previous) total += CounterDelta(*previous, v);
    previous = v;
    ++known;
  }
  if (known < 2) return std::nullopt;
  return total;
}

std::optional<double> SeriesStore::RecentRate(std::string_view name,
                                              std::chrono::seconds span) const {
  const Series* s = Find(name);
  if (s == nullptr) return std::nullopt;
  size_t first = 0;
  std::vector<size_t> points = Points(Window::k5m, false, &first);
  const double since = now_ - static_cast<double>(span.count());
  double total = 0;
  std::optional<double> previous;
  double t_first = 0, t_last = 0;
  for (size_t i : points) {
    const double t = rings_[0].times[i];
    const double v = s->values[0][i];
    if (t < since || std::isnan(v)) continue;
    if (previous) {
      total += CounterDelta(*previous, v);
    } else {
      t_first = t;
    }
    previous = v;
    t_last = t;
  }
  if (!previous || !(t_last > t_first)) return std::nullopt;
  return total / (t_last - t_first);
}

std::optional<double> SeriesStore::LastIncrease(std::string_view name) const {
  const Series* s = Find(name);
  if (s == nullptr) return std::nullopt;
  for (Window w : kAllWindows) {
    size_t first = 0;
    std::vector<size_t> points = Points(w, true, &first);
    const int r = static_cast<int>(w);
    // Newest first: the later of two known points where the value went up (or was reset to a
    // non-zero count).
    std::optional<size_t> later;
    for (size_t k = points.size(); k-- > 0;) {
      const double v = s->values[r][points[k]];
      if (std::isnan(v)) continue;
      if (later && CounterDelta(v, s->values[r][*later]) > 0) return rings_[r].times[*later];
      later = points[k];
    }
  }
  return std::nullopt;
}

std::optional<double> SeriesStore::Latest(std::string_view name, double* at) const {
  const Series* s = Find(name);
  if (s == nullptr) return std::nullopt;
  size_t first = 0;
  std::vector<size_t> points = Points(Window::k5m, false, &first);
  for (size_t k = points.size(); k-- > 0;) {
    const double v = s->values[0][points[k]];
    if (std::isnan(v)) continue;
    if (at != nullptr) *at = rings_[0].times[points[k]];
    return v;
  }
  return std::nullopt;
}

std::vector<double> SeriesStore::Quantiles(std::span<const std::string> bucket_series,
                                           std::span<const double> bounds, double q,
                                           Window w) const {
  size_t first = 0;
  std::vector<size_t> points = Points(w, true, &first);
  std::vector<double> out(points.size() - first, kNaN);
  std::vector<const Series*> buckets;
  for (const std::string& name : bucket_series) {
    const Series* s = Find(name);
    if (s == nullptr) return out;
    buckets.push_back(s);
  }
  if (buckets.empty() || buckets.size() != bounds.size() + 1) return out;
  const int r = static_cast<int>(w);
  std::vector<double> deltas(buckets.size());
  for (size_t k = std::max<size_t>(first, 1); k < points.size(); ++k) {
    // A reset shows in the total (+Inf bucket): then every bucket counted from zero.
    const double total_before = buckets.back()->values[r][points[k - 1]];
    const double total_after = buckets.back()->values[r][points[k]];
    const bool reset = total_after < total_before;
    bool known = true;
    for (size_t b = 0; b < buckets.size(); ++b) {
      const double before = buckets[b]->values[r][points[k - 1]];
      const double after = buckets[b]->values[r][points[k]];
      if (std::isnan(before) || std::isnan(after)) {
        known = false;
        break;
      }
      deltas[b] = reset ? after : std::max(0.0, after - before);
    }
    if (!known) continue;
    // Cumulative per bucket must not decrease (a scrape in the middle of an update could).
    for (size_t b = 1; b < deltas.size(); ++b) deltas[b] = std::max(deltas[b], deltas[b - 1]);
    if (std::optional<double> v = core::BucketQuantile(bounds, deltas, q)) out[k - first] = *v;
  }
  return out;
}

std::optional<double> SeriesStore::WindowQuantile(std::span<const std::string> bucket_series,
                                                  std::span<const double> bounds, double q,
                                                  Window w) const {
  std::vector<const Series*> buckets;
  for (const std::string& name : bucket_series) {
    const Series* s = Find(name);
    if (s == nullptr) return std::nullopt;
    buckets.push_back(s);
  }
  if (buckets.empty() || buckets.size() != bounds.size() + 1) return std::nullopt;
  size_t first = 0;
  std::vector<size_t> points = Points(w, true, &first);
  const int r = static_cast<int>(w);
  std::vector<double> sums(buckets.size(), 0);
  std::optional<size_t> previous;
  for (size_t i : points) {
    bool known = true;
    for (const Series* s : buckets) known = known && !std::isnan(s->values[r][i]);
    if (!known) continue;
    if (previous) {
      const bool reset = buckets.back()->values[r][i] < buckets.back()->values[r][*previous];
      for (size_t b = 0; b < buckets.size(); ++b) {
        const double before = buckets[b]->values[r][*previous];
        const double after = buckets[b]->values[r][i];
        sums[b] += reset ? after : std::max(0.0, after - before);
      }
    }
    previous = i;
  }
  for (size_t b = 1; b < sums.size(); ++b) sums[b] = std::max(sums[b], sums[b - 1]);
  return core::BucketQuantile(bounds, sums, q);
}

std::vector<std::string> SeriesStore::SeriesWithPrefix(std::string_view prefix) const {
  std::vector<std::string> out;
  for (auto it = series_.lower_bound(prefix); it != series_.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) break;
    out.push_back(it->first);
  }
  return out;
}

size_t SeriesStore::bytes() const {
  size_t per_series = 0;
  size_t times = 0;
  for (const Ring& ring : rings_) {
    per_series += ring.capacity * sizeof(double);
    times += ring.capacity * sizeof(double);
  }
  return times + series_.size() * per_series;
}

}  // namespace pinpipe::dashboard
