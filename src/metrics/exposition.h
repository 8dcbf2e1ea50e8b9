// Exposition: writes metrics in Prometheus' text format (version 0.0.4), one family at a time.
// Each family gets its # HELP and # TYPE lines before its first sample. Label values are
// escaped; metric and label names must already be valid ([a-zA-Z_][a-zA-Z0-9_]*).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate::metrics {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// A histogram's state for writing: counts[i] observations fell at or below bounds[i], and
// counts.back() (one more than bounds) counts the ones above the last bound. Not cumulative.
struct HistogramValues {
  std::span<const double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
};

class Exposition {
 public:
  void Counter(std::string_view name, std::string_view help, uint64_t value,
               const Labels& labels = {});
  void Gauge(std::string_view name, std::string_view help, double value,
             const Labels& labels = {});
  void Histogram(std::string_view name, std::string_view help, const HistogramValues& values,
                 const Labels& labels = {});

  // Returns the text written so far.
  const std::string& text() const { return text_; }

 private:
  void Family(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, std::string_view suffix, const Labels& labels,
              std::string_view extra_label, std::string_view extra_value, std::string_view value);

  std::string text_;
  std::vector<std::string> families_;
};

}  // namespace credgate::metrics
