#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace pinpipe::core {
namespace {

void AppendNumber(double v, std::string* out) {
  if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  // fmt's shortest round-trip form prints 0.0001 rather than to_chars' 1e-04.
  fmt::format_to(std::back_inserter(*out), "{}", v);
}

// Label values are escaped as the exposition format requires: backslash, quote, newline.
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  const std::string& extra_name, const std::string& extra_value, std::string* out) {
  if (names.empty() && extra_name.empty()) return;
  *out += '{';
  bool first = true;
  auto add = [&](const std::string& n, const std::string& v) {
    if (!first) *out += ',';
    first = false;
    *out += n;
    *out += "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') {
        *out += '\\';
        *out += c;
      } else if (c == '\n') {
        *out += "\\n";
      } else {
        *out += c;
      }
    }
    *out += '"';
  };
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) add(names[i], values[i]);
  if (!extra_name.empty()) add(extra_name, extra_value);
  *out += '}';
}

void AppendHeader(const std::string& name, const std::string& help, const char* type,
                  std::string* out) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<int64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                 bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<int64_t>(std::llround(value * 1e6)), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.bounds = bounds_;
  int64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

double Histogram::Quantile(double q) const {
  Snapshot s = Take();
  std::vector<double> cumulative(s.cumulative.begin(), s.cumulative.end());
  return BucketQuantile(s.bounds, cumulative, q).value_or(0);
}

std::optional<double> BucketQuantile(std::span<const double> bounds,
                                     std::span<const double> cumulative, double q) {
  if (cumulative.size() != bounds.size() + 1) return std::nullopt;
  const double total = cumulative.back();
  if (!(total > 0)) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * total;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (cumulative[i] < rank) continue;
    if (i == bounds.size()) {
      if (bounds.empty()) return std::nullopt;
      return bounds.back();
    }
    const double lo = i == 0 ? 0 : bounds[i - 1];
    const double below = i == 0 ? 0 : cumulative[i - 1];
    const double in_bucket = cumulative[i] - below;
    const double frac = in_bucket > 0 ? (rank - below) / in_bucket : 1;
    return lo + (bounds[i] - lo) * frac;
  }
  return bounds.empty() ? std::nullopt : std::optional<double>(bounds.back());
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

Counter* CounterFamily::With(const std::vector<std::string>& label_values) {
  MutexLock lock(mu_);
  auto& cell = cells_[label_values];
  if (!cell) cell = std::make_unique<Counter>();
  return cell.get();
}

int64_t CounterFamily::Sum(const std::vector<std::string>& label_values) const {
  MutexLock lock(mu_);
  int64_t total = 0;
  for (const auto& [labels, cell] : cells_) {
    bool match = true;
    for (size_t i = 0; i < label_values.size() && i < labels.size(); ++i) {
      if (!label_values[i].empty() && label_values[i] != labels[i]) match = false;
    }
    if (match) total += cell->value();
  }
  return total;
}

void CounterFamily::Render(std::string* out) const {
  AppendHeader(name_, help_, "counter", out);
  MutexLock lock(mu_);
  for (const auto& [labels, cell] : cells_) {
    *out += name_;
    AppendLabels(label_names_, labels, "", "", out);
    *out += ' ';
    *out += std::to_string(cell->value());
    *out += '\n';
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

Histogram* HistogramFamily::With(const std::vector<std::string>& label_values) {
  MutexLock lock(mu_);
  auto& cell = cells_[label_values];
  if (!cell) cell = std::make_unique<Histogram>(bounds_);
  return cell.get();
}

void HistogramFamily::Render(std::string* out) const {
  AppendHeader(name_, help_, "histogram", out);
  MutexLock lock(mu_);
  for (const auto& [labels, cell] : cells_) {
    Histogram::Snapshot s = cell->Take();
    for (size_t i = 0; i < s.cumulative.size(); ++i) {
      std::string le;
      if (i < s.bounds.size()) {
        AppendNumber(s.bounds[i], &le);
      } else {
        le = "+Inf";
      }
      *out += name_ + "_bucket";
      AppendLabels(label_names_, labels, "le", le, out);
      *out += ' ' + std::to_string(s.cumulative[i]) + '\n';
    }
    *out += name_ + "_sum";
    AppendLabels(label_names_, labels, "", "", out);
    *out += ' ';
    AppendNumber(s.sum, out);
    *out += '\n' + name_ + "_count";
    AppendLabels(label_names_, labels, "", "", out);
    *out += ' ' + std::to_string(s.count) + '\n';
  }
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void GaugeFamily::Replace(std::vector<Sample> samples) {
  MutexLock lock(mu_);
  samples_ = std::move(samples);
}

void GaugeFamily::Render(std::string* out) const {
  AppendHeader(name_, help_, "gauge", out);
  MutexLock lock(mu_);
  for (const Sample& s : samples_) {
    *out += name_;
    AppendLabels(label_names_, s.label_values, "", "", out);
    *out += ' ';
    AppendNumber(s.value, out);
    *out += '\n';
  }
}

CounterFamily* Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  MutexLock lock(mu_);
  counters_.push_back(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
  return counters_.back().get();
}

HistogramFamily* Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds) {
  MutexLock lock(mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::move(name), std::move(help), std::move(label_names), std::move(bounds)));
  return histograms_.back().get();
}

void Registry::AddGauge(std::string name, std::string help, std::function<double()> read) {
  MutexLock lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read), "gauge", nullptr});
}

GaugeFamily* Registry::AddGaugeFamily(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  auto family = std::make_unique<GaugeFamily>(name, help, std::move(label_names));
  GaugeFamily* out = family.get();
  MutexLock lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), nullptr, "gauge", std::move(family)});
  return out;
}

void Registry::AddCounterFunction(std::string name, std::string help,
                                  std::function<double()> read) {
  MutexLock lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read), "counter", nullptr});
}

std::string Registry::Render() const {
  std::string out;
  MutexLock lock(mu_);
  for (const auto& c : counters_) c->Render(&out);
  for (const auto& h : histograms_) h->Render(&out);
  for (const auto& g : gauges_) {
    if (g.family) {
      g.family->Render(&out);
      continue;
    }
    AppendHeader(g.name, g.help, g.type, &out);
    out += g.name + ' ';
    AppendNumber(g.read(), &out);
    out += '\n';
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace pinpipe::core
