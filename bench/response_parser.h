// ResponseParser: the HTTP/1.1 response framing that bench/open_loop.cc needs to know where a
// response on a keep-alive connection ends. Header-only, standard library only.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>

// Incremental parser of one HTTP/1.1 response with Content-Length or chunked framing.
class ResponseParser {
 public:
  enum class State { kIncomplete, kComplete, kInvalid };

  void Reset() {
    buffer_.clear();
    status_ = 0;
  }
  int status() const { return status_; }

  State Feed(const char* data, size_t size) {
    buffer_.append(data, size);
    const size_t header_end = buffer_.find("\r\n\r\n");
    if (header_end == std::string::npos) return State::kIncomplete;
    if (buffer_.size() < 12 || buffer_.compare(0, 5, "HTTP/") != 0) return State::kInvalid;
    status_ = std::atoi(buffer_.c_str() + 9);
    const std::string_view head(buffer_.data(), header_end);
    const size_t body_start = header_end + 4;
    const std::string length = HeaderValue(head, "content-length");
    if (!length.empty()) {
      const size_t body_size = std::strtoull(length.c_str(), nullptr, 10);
      return buffer_.size() >= body_start + body_size ? State::kComplete : State::kIncomplete;
    }
    if (HeaderValue(head, "transfer-encoding").find("chunked") != std::string::npos) {
      return ChunkedComplete(body_start);
    }
    // 204 and 304 have no body. Other framings (1xx, read to close) are not supported.
    return status_ == 204 || status_ == 304 ? State::kComplete : State::kInvalid;
  }

 private:
  static std::string HeaderValue(std::string_view head, std::string_view name) {
    size_t line_start = head.find("\r\n");
    while (line_start != std::string_view::npos) {
      line_start += 2;
      const size_t line_end = std::min(head.find("\r\n", line_start), head.size());
      const std::string_view line = head.substr(line_start, line_end - line_start);
      const size_t colon = line.find(':');
      const auto same_letter = [](char lower, char other) {
        return lower == std::tolower(static_cast<unsigned char>(other));
      };
      if (colon == name.size() && std::equal(name.begin(), name.end(), line.begin(), same_letter)) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        std::string lowered(value);
        for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return lowered;
      }
      if (line_end >= head.size()) break;
      line_start = line_end;
    }
    return {};
  }

  State ChunkedComplete(size_t position) const {
    while (true) {
      const size_t line_end = buffer_.find("\r\n", position);
      if (line_end == std::string::npos) return State::kIncomplete;
      const size_t chunk = std::strtoull(buffer_.c_str() + position, nullptr, 16);
      if (chunk == 0) {
        // The last chunk is followed by optional trailers and an empty line.
        return buffer_.find("\r\n\r\n", line_end) != std::string::npos ||
                       buffer_.compare(line_end, 4, "\r\n\r\n") == 0
                   ? State::kComplete
                   : State::kIncomplete;
      }
      position = line_end + 2 + chunk + 2;
      if (position > buffer_.size()) return State::kIncomplete;
    }
  }

  std::string buffer_;
  int status_ = 0;
};
