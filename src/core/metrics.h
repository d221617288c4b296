// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text format.
//
// A Registry owns metric families; a family hands out cells for label values. Cells are stable
// (never freed while the registry lives), so hot paths may look a cell up once and keep the
// pointer. Increments are lock-free atomics; label lookups take a mutex (cache the cell where the
// rate matters). Thread-safety: everything here is safe to use from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/mutex.h"

namespace pinpipe::core {

class Counter {
 public:
  void Inc(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Snapshot: cumulative counts per bound (+Inf last), sum and count.
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<int64_t> cumulative;
    double sum = 0;
    int64_t count = 0;
  };
  Snapshot Take() const;
  // Estimated quantile q in [0,1] by linear interpolation inside the bucket (for summaries).
  double Quantile(double q) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> counts_;  // bounds_.size() + 1 (the +Inf bucket)
  std::atomic<int64_t> sum_micros_{0};              // sum kept in millionths, lock-free
  std::atomic<int64_t> count_{0};
};

// A family of counters that differ by label values.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  Counter* With(const std::vector<std::string>& label_values);
  void Render(std::string* out) const;
  // Sum over all cells whose labels match `label_values` where those are non-empty.
  int64_t Sum(const std::vector<std::string>& label_values) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Counter>> cells_ GUARDED_BY(mu_);
};

class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  Histogram* With(const std::vector<std::string>& label_values);
  void Render(std::string* out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Histogram>> cells_ GUARDED_BY(mu_);
};

// A family of gauges that differ by label values, set by their owner as a whole (e.g. a lag per
// partition refreshed once a second): Replace() swaps in the new samples, so a cell that is not
// in them (a partition no longer held) leaves the exposition. Samples render in the order given.
class GaugeFamily {
 public:
  struct Sample {
    std::vector<std::string> label_values;
    double value = 0;
  };
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);
  void Replace(std::vector<Sample> samples);
  void Render(std::string* out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable Mutex mu_;
  std::vector<Sample> samples_ GUARDED_BY(mu_);
};

class Registry {
 public:
  CounterFamily* AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  HistogramFamily* AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds);
  // A gauge whose value is read when rendering (e.g. a queue depth owned elsewhere).
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  // A counter kept elsewhere (e.g. an atomic of the HTTP server), read when rendering; `read`
  // must never decrease.
  void AddCounterFunction(std::string name, std::string help, std::function<double()> read);
  // Labeled gauges set by their owner (see GaugeFamily). Rendered among the gauges above, in
  // the order all of them were added.
  GaugeFamily* AddGaugeFamily(std::string name, std::string help,
                              std::vector<std::string> label_names);

  // The whole registry in Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
    const char* type = "gauge";           // or "counter" (AddCounterFunction)
    std::unique_ptr<GaugeFamily> family;  // AddGaugeFamily: rendered by the family instead
  };
  mutable Mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<HistogramFamily>> histograms_ GUARDED_BY(mu_);
  std::vector<Gauge> gauges_ GUARDED_BY(mu_);
};

// Latency buckets in seconds from 100 us to 10 s, for request and produce latencies.
std::vector<double> LatencyBuckets();

// The q-quantile (q in [0,1]) of a histogram given as cumulative counts per bucket, by
// Prometheus' histogram_quantile rule: the first bucket whose cumulative count reaches q * total,
// with linear interpolation inside it (its lower bound is the previous bound, 0 for the first);
// when that is the +Inf bucket, the largest finite bound. `bounds` are the finite upper bounds in
// increasing order; `cumulative` has one more entry (the +Inf bucket, the total) and must not
// decrease. nullopt when the total is 0 (no observations) or the shapes do not fit. Used by
// Histogram::Quantile and by readers of scraped histograms (the dashboard), so both agree.
std::optional<double> BucketQuantile(std::span<const double> bounds,
                                     std::span<const double> cumulative, double q);

}  // namespace pinpipe::core
