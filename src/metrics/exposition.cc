#include "metrics/exposition.h"

#include <algorithm>
#include <cstdio>

namespace credgate::metrics {

namespace {

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string FormatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

}  // namespace

void Exposition::Family(std::string_view name, std::string_view help, std::string_view type) {
  if (std::find(families_.begin(), families_.end(), name) != families_.end()) return;
  families_.emplace_back(name);
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += help;
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void Exposition::Sample(std::string_view name, std::string_view suffix, const Labels& labels,
                        std::string_view extra_label, std::string_view extra_value,
                        std::string_view value) {
  text_ += name;
  text_ += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    text_ += '{';
    bool first = true;
    auto add = [&](std::string_view label, std::string_view label_value) {
      if (!first) text_ += ',';
      first = false;
      text_ += label;
      text_ += "=\"";
      AppendEscaped(text_, label_value);
      text_ += '"';
    };
    for (const auto& [label, label_value] : labels) add(label, label_value);
    if (!extra_label.empty()) add(extra_label, extra_value);
    text_ += '}';
  }
  text_ += ' ';
  text_ += value;
  text_ += '\n';
}

void Exposition::Counter(std::string_view name, std::string_view help, uint64_t value,
                         const Labels& labels) {
  Family(name, help, "counter");
  Sample(name, "", labels, "", "", std::to_string(value));
}

void Exposition::Gauge(std::string_view name, std::string_view help, double value,
                       const Labels& labels) {
  Family(name, help, "gauge");
  Sample(name, "", labels, "", "", FormatDouble(value));
}

void Exposition::Histogram(std::string_view name, std::string_view help,
                           const HistogramValues& values, const Labels& labels) {
  Family(name, help, "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < values.bounds.size(); ++i) {
    cumulative += i < values.counts.size() ? values.counts[i] : 0;
    Sample(name, "_bucket", labels, "le", FormatDouble(values.bounds[i]),
           std::to_string(cumulative));
  }
  if (values.counts.size() > values.bounds.size()) cumulative += values.counts.back();
  Sample(name, "_bucket", labels, "le", "+Inf", std::to_string(cumulative));
  Sample(name, "_sum", labels, "", "", FormatDouble(values.sum));
  Sample(name, "_count", labels, "", "", std::to_string(cumulative));
}

}  // namespace credgate::metrics
