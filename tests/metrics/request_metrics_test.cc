// RequestMetrics: counts by status class, latency buckets per API and operation, the series
// limit, and recording from several threads.
#include "metrics/request_metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace credgate::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

std::string Render(const RequestMetrics& metrics) {
  Exposition out;
  metrics.Write(out);
  return out.text();
}

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(RequestMetricsTest, CountsByStatusClass) {
  RequestMetrics metrics;
  metrics.Record("github", "get-user", 200, microseconds(300));
  metrics.Record("github", "get-user", 204, microseconds(300));
  metrics.Record("github", "get-user", 503, microseconds(300));
  std::string text = Render(metrics);
  EXPECT_TRUE(Contains(text, "credgate_gateway_requests_total{api=\"github\","
                             "operation=\"get-user\",code=\"2xx\"} 2\n"))
      << text;
  EXPECT_TRUE(Contains(text, "credgate_gateway_requests_total{api=\"github\","
                             "operation=\"get-user\",code=\"5xx\"} 1\n"));
}

TEST(RequestMetricsTest, LatencyFallsInItsBucket) {
  RequestMetrics metrics;
  metrics.Record("a", "o", 200, microseconds(300));   // <= 0.5 ms
  metrics.Record("a", "o", 200, milliseconds(7));     // <= 10 ms
  metrics.Record("a", "o", 200, milliseconds(20000)); // above the last bound
  std::string text = Render(metrics);
  EXPECT_TRUE(Contains(text, "le=\"0.00050000000000000001\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "le=\"0.01\"} 2\n"));
  EXPECT_TRUE(Contains(text, "le=\"10\"} 2\n"));
  EXPECT_TRUE(Contains(text, "le=\"+Inf\"} 3\n"));
  EXPECT_TRUE(Contains(text, "credgate_gateway_request_duration_seconds_count{api=\"a\","
                             "operation=\"o\"} 3\n"));
}

TEST(RequestMetricsTest, SeriesBeyondTheLimitCountAsOther) {
  RequestMetrics metrics;
  for (size_t i = 0; i < RequestMetrics::kMaxSeries + 5; ++i) {
    metrics.Record("api", "op-" + std::to_string(i), 200, microseconds(1));
  }
  std::string text = Render(metrics);
  EXPECT_TRUE(Contains(text, "{api=\"other\",operation=\"other\",code=\"2xx\"} 5\n"));
}

TEST(RequestMetricsTest, ThreadsAddUp) {
  RequestMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) metrics.Record("a", "o", 200, microseconds(1));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(Contains(Render(metrics), "operation=\"o\",code=\"2xx\"} 4000\n"));
}

}  // namespace
}  // namespace credgate::metrics
