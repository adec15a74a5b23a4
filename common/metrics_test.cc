#include "common/metrics.h"

#include <catch2/catch.hpp>
#include <thread>

namespace kubepp::metrics {
namespace {

TEST_CASE("metrics: counter and gauge render with HELP and TYPE") {
  Registry r;
  auto& c = r.AddCounter("jobs_total", "Jobs done.\nSecond line \\ here.");
  c.Inc();
  c.Inc(2.5);
  auto& g = r.AddGauge("queue_depth", "Depth.");
  g.Set(7);
  g.Dec();
  CHECK(r.Render() ==
        "# HELP jobs_total Jobs done.\\nSecond line \\\\ here.\n"
        "# TYPE jobs_total counter\n"
        "jobs_total 3.5\n"
        "# HELP queue_depth Depth.\n"
        "# TYPE queue_depth gauge\n"
        "queue_depth 6\n");
}

TEST_CASE("metrics: labelled series are sorted and escaped; empty vecs are omitted") {
  Registry r;
  auto& v = r.AddCounterVec("req_total", "Requests.", {"verb", "code"});
  r.AddGaugeVec("unused", "Never set.", {"x"});
  v.WithLabelValues({"PUT", "409"}).Inc();
  v.WithLabelValues({"GET", "200"}).Inc(3);
  v.WithLabelValues({"GET", "say \"hi\"\n"}).Inc();
  CHECK(r.Render() ==
        "# HELP req_total Requests.\n"
        "# TYPE req_total counter\n"
        "req_total{verb=\"GET\",code=\"200\"} 3\n"
        "req_total{verb=\"GET\",code=\"say \\\"hi\\\"\\n\"} 1\n"
        "req_total{verb=\"PUT\",code=\"409\"} 1\n");
}

TEST_CASE("metrics: histogram buckets are cumulative with +Inf, sum and count") {
  Registry r;
  auto& h = r.AddHistogramVec("lat_seconds", "Latency.", {"op"}, {0.1, 1});
  auto& s = h.WithLabelValues({"get"});
  s.Observe(0.05);
  s.Observe(0.1);  // upper bounds are inclusive
  s.Observe(0.5);
  s.Observe(3);
  CHECK(s.Count() == 4);
  CHECK(r.Render() ==
        "# HELP lat_seconds Latency.\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
        "lat_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
        "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
        "lat_seconds_sum{op=\"get\"} 3.65\n"
        "lat_seconds_count{op=\"get\"} 4\n");
}

TEST_CASE("metrics: re-registering the same family returns it") {
  Registry r;
  auto& a = r.AddCounterVec("x_total", "X.", {"a"});
  auto& b = r.AddCounterVec("x_total", "X.", {"a"});
  CHECK(&a == &b);
  CHECK(ExponentialBuckets(1, 2, 3) == std::vector<double>{1, 2, 4});
}

TEST_CASE("metrics: concurrent increments are not lost") {
  Registry r;
  auto& v = r.AddCounterVec("n_total", "N.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) v.WithLabelValues({"x"}).Inc();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(v.WithLabelValues({"x"}).Value() == 40000);
}

}  // namespace
}  // namespace kubepp::metrics
