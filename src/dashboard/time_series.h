// SeriesStore: the dashboard's in-memory time series, in fixed memory.
//
// The refresher takes one sample of every source per refresh interval: BeginSample(t), then
// Set(series, value) for each value it read. Each series keeps three rolling windows:
//   5m   every sample (capacity 5 min / interval + 1 points),
//   1h   one point per 15 s,
//   24h  one point per 5 min.
// A downsampled point holds, for a counter (a cumulative value such as records_total or a
// histogram bucket), the last value seen in its step, so differences of consecutive points are
// exact at every resolution; for a gauge (a lag), the largest value seen in its step (peaks stay
// visible when zoomed out). A point's time is that of the last sample in its step. A series not
// set in a sample is unknown (NaN) there.
//
// Memory: per series 8 bytes per point of the three windows (~5.4 KB at a 2 s interval), plus
// the times; at most `max_series` series (Set refuses more), so the store has a fixed ceiling.
//
// The readers turn counters into what a chart shows: per-point rates (Rates), the increase over
// a window (Increase), quantiles from histogram buckets (Quantiles), the time a counter last
// moved (LastIncrease). A counter that goes down was reset (its process restarted): the value
// after the reset counts as the increase, as Prometheus' rate() does.
//
// Thread-safety: none; the dashboard's refresher thread owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::dashboard {

enum class Window : int { k5m = 0, k1h = 1, k24h = 2 };
inline constexpr Window kAllWindows[] = {Window::k5m, Window::k1h, Window::k24h};
// "5m", "1h", "24h".
std::string_view WindowName(Window w);
std::optional<Window> ParseWindow(std::string_view text);
// The span a window shows (5 min, 1 h, 24 h).
std::chrono::seconds WindowSpan(Window w);

enum class SeriesKind { kCounter, kGauge };

struct SeriesStoreOptions {
  std::chrono::milliseconds interval{2000};  // the refresh interval: the 5m window's step
  size_t max_series = 1024;
};

class SeriesStore {
 public:
  explicit SeriesStore(SeriesStoreOptions options);

  // Starts a sample taken at `t` (Unix seconds). Times must not go back; a sample at the same
  // time as the last one replaces its values.
  void BeginSample(double t);
  // Sets `series` in the current sample. The kind is fixed by the first Set of a series.
  // `born_at_zero`: when this Set creates the series, it is taken to have been 0 at the previous
  // point of each window (a counter a process creates at its first increment, such as a
  // validation failure of a new field: its first value is its first increase).
  // Errors: ResourceExhausted when the store holds max_series others (nothing is stored);
  // FailedPrecondition before the first BeginSample.
  Status Set(std::string_view series, SeriesKind kind, double value, bool born_at_zero = false);

  // Times of the points of window `w` (oldest first) and the time of the latest sample.
  std::vector<double> Times(Window w) const;
  std::optional<double> now() const;

  // The values of `series` at Times(w) (NaN where unknown; all NaN for an unknown series).
  std::vector<double> Values(std::string_view series, Window w) const;
  // Per point of Times(w): the counter's increase since the previous point divided by the
  // seconds between them; NaN where either point is unknown or for the window's first point
  // when the store has no earlier one.
  std::vector<double> Rates(std::string_view series, Window w) const;
  // Increase of a counter over the points of window `w`, resets counted; nullopt when the series
  // has fewer than two known points there.
  std::optional<double> Increase(std::string_view series, Window w) const;
  // Rate per second over the newest samples covering at most `span` (from the 5m window);
  // nullopt with fewer than two known points.
  std::optional<double> RecentRate(std::string_view series, std::chrono::seconds span) const;
  // The time of the latest point at which the counter increased (searched in every window);
  // nullopt if it never did within the 24h window.
  std::optional<double> LastIncrease(std::string_view series) const;
  // The latest known value of a series, if any (its time in *at).
  std::optional<double> Latest(std::string_view series, double* at = nullptr) const;

  // Per point of Times(w): the q-quantile of the observations made between the previous point
  // and this one, for a histogram stored as one counter series per bucket: `bucket_series` in
  // bound order, +Inf last, `bounds` the finite bounds. NaN where a point saw no observation.
  std::vector<double> Quantiles(std::span<const std::string> bucket_series,
                                std::span<const double> bounds, double q, Window w) const;
  // The q-quantile of the observations over the whole window; nullopt if there were none.
  std::optional<double> WindowQuantile(std::span<const std::string> bucket_series,
                                       std::span<const double> bounds, double q, Window w) const;

  // Names of the series whose name starts with `prefix`, sorted.
  std::vector<std::string> SeriesWithPrefix(std::string_view prefix) const;

  size_t series_count() const { return series_.size(); }
  // Bytes held by the points (the store's fixed part grows with series_count only).
  size_t bytes() const;

 private:
  // One window: a ring of `capacity` points of `step` seconds (0: every sample).
  struct Ring {
    double step = 0;
    size_t capacity = 0;
    size_t size = 0;  // points written, up to capacity
    size_t head = 0;  // index of the newest point
    std::vector<double> times;
    double bucket = -1;  // step number of the newest point
  };
  struct Series {
    SeriesKind kind;
    std::vector<double> values[3];  // per ring, indexed like Ring::times
  };

  // Indexes (into the ring arrays) of the ring's points, oldest first; with `with_previous`,
  // the point before the window's first too when the ring has one (for differences).
  std::vector<size_t> Points(Window w, bool with_previous, size_t* first_in_window) const;
  const Series* Find(std::string_view name) const;

  SeriesStoreOptions options_;
  Ring rings_[3];
  std::map<std::string, Series, std::less<>> series_;
  bool started_ = false;
  double now_ = 0;
};

}  // namespace pinpipe::dashboard
