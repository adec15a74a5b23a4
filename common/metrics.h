// Prometheus metrics in the text exposition format 0.0.4 (what `/metrics` serves).
//
//   metrics::Registry& r = metrics::Registry::Default();
//   auto& requests = r.AddCounterVec("apiserver_request_total", "Requests.", {"verb", "code"});
//   requests.WithLabelValues({"GET", "200"}).Inc();
//   auto& latency = r.AddHistogram("sync_duration_seconds", "Sync latency.",
//                                  metrics::DefaultBuckets());
//   latency.Observe(0.012);
//   std::string text = r.Render();
//
// Thread safety: everything is safe from any thread. Inc/Set/Observe are lock-free
// atomics; WithLabelValues takes a lock, so hot paths keep the returned reference (it
// stays valid as long as the registry).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kubepp::metrics {

class Counter {
 public:
  // `v` must be >= 0: counters only go up.
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }
  void Render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }
  void Render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `buckets` are the upper bounds, strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> buckets);
  void Observe(double v);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  void Render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// 5 ms .. 10 s, as the Prometheus client libraries' default.
std::vector<double> DefaultBuckets();
// `count` bounds: start, start*factor, start*factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// One metric family: a name, a help text, label names and a series per label-value tuple.
class Family {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(type),
        label_names_(std::move(label_names)) {}
  virtual ~Family() = default;
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  void Render(std::string& out) const;

 protected:
  virtual void RenderSeries(std::string& out, const std::vector<std::string>& values,
                            const std::string& labels) const = 0;
  virtual std::vector<std::vector<std::string>> SeriesKeys() const = 0;
  // Aborts when the number of values differs from the number of label names.
  void CheckArity(const std::vector<std::string>& values) const;
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// The series of a family, created on first use of their label values.
template <typename T>
class Vec : public Family {
 public:
  Vec(std::string name, std::string help, Type type, std::vector<std::string> label_names,
      std::vector<double> buckets = {})
      : Family(std::move(name), std::move(help), type, std::move(label_names)),
        buckets_(std::move(buckets)) {}

  // One value per label name, in order.
  T& WithLabelValues(const std::vector<std::string>& values) {
    CheckArity(values);
    std::lock_guard lock(mu_);
    auto& slot = series_[values];
    if (!slot) slot = Make();
    return *slot;
  }

 protected:
  void RenderSeries(std::string& out, const std::vector<std::string>& values,
                    const std::string& labels) const override {
    std::lock_guard lock(mu_);
    series_.at(values)->Render(out, name_, labels);
  }
  std::vector<std::vector<std::string>> SeriesKeys() const override {
    std::lock_guard lock(mu_);
    std::vector<std::vector<std::string>> keys;
    for (const auto& [k, v] : series_) keys.push_back(k);
    return keys;
  }

 private:
  std::unique_ptr<T> Make() const {
    if constexpr (std::is_same_v<T, Histogram>) {
      return std::make_unique<Histogram>(buckets_);
    } else {
      return std::make_unique<T>();
    }
  }
  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

using CounterVec = Vec<Counter>;
using GaugeVec = Vec<Gauge>;
using HistogramVec = Vec<Histogram>;

class Registry {
 public:
  // The process-wide registry that components serve on /metrics.
  static Registry& Default();

  // Registering an existing name again returns the existing family when its type and
  // label names match (so two instances of a component can share metrics); a mismatch
  // is a programming error and aborts.
  Counter& AddCounter(const std::string& name, const std::string& help);
  CounterVec& AddCounterVec(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names);
  Gauge& AddGauge(const std::string& name, const std::string& help);
  GaugeVec& AddGaugeVec(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> buckets);
  HistogramVec& AddHistogramVec(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names,
                                std::vector<double> buckets);

  // Every family in registration order, series sorted by label values.
  std::string Render() const;

 private:
  template <typename T>
  Vec<T>& Add(const std::string& name, const std::string& help, Family::Type type,
              std::vector<std::string> label_names, std::vector<double> buckets);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
  std::map<std::string, Family*> by_name_;
};

// The media type of Render()'s output, for the Content-Type header.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace kubepp::metrics
