// Exposition against Prometheus' text format: one HELP and TYPE per family, escaped label
// values, and cumulative histogram buckets ending in +Inf.
#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <array>

namespace credgate::metrics {
namespace {

TEST(ExpositionTest, CounterFamilyHasOneHeader) {
  Exposition out;
  out.Counter("x_total", "Things", 3, {{"reason", "A"}});
  out.Counter("x_total", "Things", 4, {{"reason", "B"}});
  EXPECT_EQ(out.text(),
            "# HELP x_total Things\n# TYPE x_total counter\n"
            "x_total{reason=\"A\"} 3\nx_total{reason=\"B\"} 4\n");
}

TEST(ExpositionTest, LabelValuesAreEscaped) {
  Exposition out;
  out.Gauge("g", "G", 1, {{"path", "a\"b\\c\nd"}});
  EXPECT_NE(out.text().find("g{path=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << out.text();
}

TEST(ExpositionTest, HistogramBucketsAreCumulative) {
  static constexpr std::array<double, 2> kBounds = {0.1, 1};
  HistogramValues values;
  values.bounds = kBounds;
  values.counts = {2, 3, 1};
  values.sum = 2.5;
  Exposition out;
  out.Histogram("h_seconds", "H", values, {{"api", "a"}});
  EXPECT_EQ(out.text(),
            "# HELP h_seconds H\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{api=\"a\",le=\"0.10000000000000001\"} 2\n"
            "h_seconds_bucket{api=\"a\",le=\"1\"} 5\n"
            "h_seconds_bucket{api=\"a\",le=\"+Inf\"} 6\n"
            "h_seconds_sum{api=\"a\"} 2.5\n"
            "h_seconds_count{api=\"a\"} 6\n");
}

}  // namespace
}  // namespace credgate::metrics
