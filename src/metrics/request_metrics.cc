#include "metrics/request_metrics.h"

#include <algorithm>

namespace credgate::metrics {

namespace {

std::atomic<uint64_t> next_instance_id{1};

struct ThreadIndex {
  uint64_t owner = 0;
  std::string key;  // Reused for every lookup, so a lookup allocates nothing once warm.
  std::unordered_map<std::string, void*> series;
};

thread_local ThreadIndex thread_index;

constexpr std::string_view kStatusClasses[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

}  // namespace

RequestMetrics::RequestMetrics() : id_(next_instance_id.fetch_add(1)) {}
RequestMetrics::~RequestMetrics() = default;

RequestMetrics::Series& RequestMetrics::Find(std::string_view api, std::string_view operation) {
  ThreadIndex& index = thread_index;
  if (index.owner != id_) {
    index.series.clear();
    index.owner = id_;
  }
  index.key.assign(api);
  index.key += '\n';
  index.key += operation;
  if (auto it = index.series.find(index.key); it != index.series.end()) {
    return *static_cast<Series*>(it->second);
  }
  std::lock_guard lock(mutex_);
  auto it = series_.find(index.key);
  if (it == series_.end()) {
    if (series_.size() >= kMaxSeries) {
      index.key = "other\nother";
      it = series_.find(index.key);
    }
    if (it == series_.end()) {
      auto series = std::make_unique<Series>();
      size_t newline = index.key.find('\n');
      series->api = index.key.substr(0, newline);
      series->operation = index.key.substr(newline + 1);
      it = series_.emplace(index.key, std::move(series)).first;
    }
  }
  index.series.emplace(index.key, it->second.get());
  return *it->second;
}

void RequestMetrics::Record(std::string_view api, std::string_view operation, int status,
                            std::chrono::nanoseconds duration) {
  Series& series = Find(api, operation);
  const double seconds = std::chrono::duration<double>(duration).count();
  size_t bucket = std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds) -
                  kBoundsSeconds.begin();
  series.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  series.sum_nanoseconds.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, duration.count())),
                                   std::memory_order_relaxed);
  size_t status_class = status >= 100 && status <= 599 ? static_cast<size_t>(status / 100) : 0;
  series.by_class[status_class].fetch_add(1, std::memory_order_relaxed);
}

void RequestMetrics::Write(Exposition& out) const {
  std::lock_guard lock(mutex_);
  for (const auto& [key, series] : series_) {
    for (size_t i = 0; i < series->by_class.size(); ++i) {
      uint64_t count = series->by_class[i].load(std::memory_order_relaxed);
      if (count == 0) continue;
      out.Counter("credgate_gateway_requests_total",
                  "Gateway requests by API, operation and status class", count,
                  {{"api", series->api}, {"operation", series->operation},
                   {"code", kStatusClasses[i]}});
    }
  }
  for (const auto& [key, series] : series_) {
    HistogramValues values;
    values.bounds = kBoundsSeconds;
    for (const auto& bucket : series->buckets) {
      values.counts.push_back(bucket.load(std::memory_order_relaxed));
    }
    values.sum = static_cast<double>(series->sum_nanoseconds.load(std::memory_order_relaxed)) /
                 1e9;
    out.Histogram("credgate_gateway_request_duration_seconds",
                  "Time from a request's arrival to the end of its response", values,
                  {{"api", series->api}, {"operation", series->operation}});
  }
}

}  // namespace credgate::metrics
