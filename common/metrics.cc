#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kubepp::metrics {
namespace {

void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, res.ptr);
  }
}

void AppendEscaped(std::string& out, const std::string& s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `name{labels}` or `name` when there are none.
void AppendSeriesName(std::string& out, const std::string& name, const std::string& labels) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
}

void AppendSample(std::string& out, const std::string& name, const std::string& labels,
                  double v) {
  AppendSeriesName(out, name, labels);
  out += ' ';
  AppendNumber(out, v);
  out += '\n';
}

const char* TypeName(Family::Type t) {
  switch (t) {
    case Family::Type::kCounter: return "counter";
    case Family::Type::kGauge: return "gauge";
    case Family::Type::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

void Counter::Render(std::string& out, const std::string& name, const std::string& labels) const {
  AppendSample(out, name, labels, Value());
}

void Gauge::Render(std::string& out, const std::string& name, const std::string& labels) const {
  AppendSample(out, name, labels, Value());
}

Histogram::Histogram(std::vector<double> buckets)
    : bounds_(std::move(buckets)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i + 1 < bounds_.size(); ++i) {
    if (!(bounds_[i] < bounds_[i + 1])) {
      std::fprintf(stderr, "metrics: histogram buckets must increase\n");
      std::abort();
    }
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  // Bucket bounds are inclusive upper bounds ("le").
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Render(std::string& out, const std::string& name,
                       const std::string& labels) const {
  std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    std::string le = sep + "le=\"";
    if (i < bounds_.size()) {
      AppendNumber(le, bounds_[i]);
    } else {
      le += "+Inf";
    }
    le += '"';
    AppendSample(out, name + "_bucket", le, static_cast<double>(cumulative));
  }
  AppendSample(out, name + "_sum", labels, Sum());
  // The +Inf bucket and _count must agree even while Observe runs concurrently.
  AppendSample(out, name + "_count", labels, static_cast<double>(cumulative));
}

std::vector<double> DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

void Family::CheckArity(const std::vector<std::string>& values) const {
  if (values.size() != label_names_.size()) {
    std::fprintf(stderr, "metrics: %s has %zu labels, got %zu values\n", name_.c_str(),
                 label_names_.size(), values.size());
    std::abort();
  }
}

void Family::Render(std::string& out) const {
  auto keys = SeriesKeys();
  if (keys.empty()) return;
  out += "# HELP " + name_ + ' ';
  AppendEscaped(out, help_, false);
  out += "\n# TYPE " + name_ + ' ' + TypeName(type_) + '\n';
  for (const auto& values : keys) {
    std::string labels;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) labels += ',';
      labels += label_names_[i] + "=\"";
      AppendEscaped(labels, values[i], true);
      labels += '"';
    }
    RenderSeries(out, values, labels);
  }
}

Registry& Registry::Default() {
  static Registry* registry = new Registry();
  return *registry;
}

template <typename T>
Vec<T>& Registry::Add(const std::string& name, const std::string& help, Family::Type type,
                      std::vector<std::string> label_names, std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    auto* existing = dynamic_cast<Vec<T>*>(it->second);
    if (existing == nullptr || existing->type() != type ||
        existing->label_names() != label_names) {
      std::fprintf(stderr, "metrics: %s registered twice with different shapes\n",
                   name.c_str());
      std::abort();
    }
    return *existing;
  }
  auto family = std::make_unique<Vec<T>>(name, help, type, std::move(label_names),
                                         std::move(buckets));
  auto* ptr = family.get();
  families_.push_back(std::move(family));
  by_name_[name] = ptr;
  return *ptr;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help) {
  return AddCounterVec(name, help, {}).WithLabelValues({});
}

CounterVec& Registry::AddCounterVec(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  return Add<Counter>(name, help, Family::Type::kCounter, std::move(label_names), {});
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeVec(name, help, {}).WithLabelValues({});
}

GaugeVec& Registry::AddGaugeVec(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, Family::Type::kGauge, std::move(label_names), {});
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> buckets) {
  return AddHistogramVec(name, help, {}, std::move(buckets)).WithLabelValues({});
}

HistogramVec& Registry::AddHistogramVec(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> buckets) {
  return Add<Histogram>(name, help, Family::Type::kHistogram, std::move(label_names),
                        std::move(buckets));
}

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) f->Render(out);
  return out;
}

}  // namespace kubepp::metrics
