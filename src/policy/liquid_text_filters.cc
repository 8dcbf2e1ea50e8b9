// The Liquid string filters of APIM's set-body, in PascalCase. Each follows DotLiquid's behavior
// where it differs from Ruby Liquid. docs/policies.md lists the remaining differences.
#include <algorithm>
#include <boost/json.hpp>

#include "policy/liquid_filters.h"
#include "policy/liquid_template.h"

namespace credgate::policy::liquid {

namespace json = boost::json;

namespace {

std::string MapAscii(std::string text, bool upper) {
  for (char& c : text) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

Result<json::value> Upcase(const json::value& input, Args) {
  if (input.is_null()) return input;
  return json::value(json::string(MapAscii(ToText(input), true)));
}

Result<json::value> Downcase(const json::value& input, Args) {
  if (input.is_null()) return input;
  return json::value(json::string(MapAscii(ToText(input), false)));
}

Result<json::value> Capitalize(const json::value& input, Args) {
  std::string text = ToText(input);
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') {
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  }
  return json::value(json::string(text));
}

Result<json::value> Concatenate(std::string_view filter, std::string first, std::string second) {
  if (first.size() + second.size() > kMaxRenderBytes) return TooLong(filter);
  return json::value(json::string(first + second));
}

Result<json::value> Append(const json::value& input, Args args) {
  return Concatenate("Append", ToText(input), ToText(args[0]));
}

Result<json::value> Prepend(const json::value& input, Args args) {
  return Concatenate("Prepend", ToText(args[0]), ToText(input));
}

// Replaces the first or every occurrence of `from` in `text`, building the result in one pass so
// that it fails as soon as the result passes kMaxRenderBytes.
Result<json::value> ReplaceText(std::string_view filter, std::string_view text,
                                std::string_view from, std::string_view to, bool all) {
  if (from.empty()) return json::value(json::string(text));
  std::string out;
  size_t start = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, start)) {
    out.append(text.substr(start, at - start));
    out.append(to);
    start = at + from.size();
    if (out.size() > kMaxRenderBytes) return TooLong(filter);
    if (!all) break;
  }
  out.append(text.substr(start));
  if (out.size() > kMaxRenderBytes) return TooLong(filter);
  return json::value(json::string(out));
}

Result<json::value> Replace(const json::value& input, Args args) {
  return ReplaceText("Replace", ToText(input), ToText(args[0]), ArgText(args, 1, ""), true);
}

Result<json::value> ReplaceFirst(const json::value& input, Args args) {
  return ReplaceText("ReplaceFirst", ToText(input), ToText(args[0]), ArgText(args, 1, ""), false);
}

Result<json::value> Remove(const json::value& input, Args args) {
  return ReplaceText("Remove", ToText(input), ToText(args[0]), "", true);
}

Result<json::value> RemoveFirst(const json::value& input, Args args) {
  return ReplaceText("RemoveFirst", ToText(input), ToText(args[0]), "", false);
}

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

Result<json::value> Lstrip(const json::value& input, Args) {
  std::string text = ToText(input);
  size_t start = 0;
  while (start < text.size() && IsWhitespace(text[start])) ++start;
  return json::value(json::string(std::string_view(text).substr(start)));
}

Result<json::value> Rstrip(const json::value& input, Args) {
  std::string text = ToText(input);
  while (!text.empty() && IsWhitespace(text.back())) text.pop_back();
  return json::value(json::string(text));
}

Result<json::value> Strip(const json::value& input, Args args) {
  auto left = Lstrip(input, args);
  return Rstrip(*left, args);
}

Result<json::value> StripNewlines(const json::value& input, Args) {
  std::string text = ToText(input);
  std::erase_if(text, [](char c) { return c == '\r' || c == '\n'; });
  return json::value(json::string(text));
}

Result<json::value> NewlineToBr(const json::value& input, Args) {
  return ReplaceText("NewlineToBr", ToText(input), "\n", "<br />\n", true);
}

Result<json::value> Escape(const json::value& input, Args) {
  if (input.is_null()) return input;
  std::string text = ToText(input);
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&#39;";
        break;
      default:
        escaped += c;
    }
  }
  return json::value(json::string(escaped));
}

// Removes HTML tags, comments, and script and style elements with their content.
Result<json::value> StripHtml(const json::value& input, Args) {
  std::string text = ToText(input);
  std::string lower = MapAscii(text, false);
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '<') {
      out += text[i++];
      continue;
    }
    std::string_view rest = std::string_view(lower).substr(i);
    size_t end = std::string::npos;
    if (rest.starts_with("<!--")) {
      end = lower.find("-->", i);
      end = end == std::string::npos ? end : end + 3;
    } else if (rest.starts_with("<script") || rest.starts_with("<style")) {
      std::string close = rest.starts_with("<script") ? "</script>" : "</style>";
      end = lower.find(close, i);
      end = end == std::string::npos ? end : end + close.size();
    } else {
      end = text.find('>', i);
      end = end == std::string::npos ? end : end + 1;
    }
    if (end == std::string::npos) {
      out += text.substr(i);
      break;
    }
    i = end;
  }
  return json::value(json::string(out));
}

// Encodes as .NET's WebUtility.UrlEncode does: a space becomes '+', and every byte other than
// letters, digits and - _ . ! * ( ) becomes %XX with upper-case hex digits.
Result<json::value> UrlEncode(const json::value& input, Args) {
  if (input.is_null()) return input;
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : ToText(input)) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-_.!*()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return json::value(json::string(out));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<json::value> UrlDecode(const json::value& input, Args) {
  if (input.is_null()) return input;
  std::string text = ToText(input);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return json::value(json::string(out));
}

Result<json::value> Truncate(const json::value& input, Args args) {
  if (input.is_null()) return input;
  std::string text = ToText(input);
  int64_t length = args.empty() ? 50 : IntegerArgument(args[0], 50);
  std::string ellipsis = ArgText(args, 1, "...");
  if (length < 0 || static_cast<size_t>(length) >= text.size()) {
    return json::value(json::string(text));
  }
  int64_t keep = std::max<int64_t>(0, length - static_cast<int64_t>(ellipsis.size()));
  return json::value(json::string(text.substr(0, static_cast<size_t>(keep)) + ellipsis));
}

Result<json::value> TruncateWords(const json::value& input, Args args) {
  if (input.is_null()) return input;
  std::string text = ToText(input);
  int64_t words = args.empty() ? 15 : IntegerArgument(args[0], 15);
  words = std::max<int64_t>(words, 1);
  std::string ellipsis = ArgText(args, 1, "...");
  std::vector<std::string_view> parts;
  std::string_view rest = text;
  while (true) {
    size_t start = 0;
    while (start < rest.size() && IsWhitespace(rest[start])) ++start;
    if (start == rest.size()) break;
    size_t end = start;
    while (end < rest.size() && !IsWhitespace(rest[end])) ++end;
    parts.push_back(rest.substr(start, end - start));
    rest.remove_prefix(end);
  }
  if (static_cast<int64_t>(parts.size()) <= words) return json::value(json::string(text));
  std::string out;
  for (int64_t i = 0; i < words; ++i) {
    if (i > 0) out += ' ';
    out += parts[static_cast<size_t>(i)];
  }
  return json::value(json::string(out + ellipsis));
}

constexpr FilterSpec kTextFilters[] = {
    {"Append", 1, 1, Append},
    {"Capitalize", 0, 0, Capitalize},
    {"Downcase", 0, 0, Downcase},
    {"Escape", 0, 0, Escape},
    {"H", 0, 0, Escape},
    {"Lstrip", 0, 0, Lstrip},
    {"NewlineToBr", 0, 0, NewlineToBr},
    {"Prepend", 1, 1, Prepend},
    {"Remove", 1, 1, Remove},
    {"RemoveFirst", 1, 1, RemoveFirst},
    {"Replace", 1, 2, Replace},
    {"ReplaceFirst", 1, 2, ReplaceFirst},
    {"Rstrip", 0, 0, Rstrip},
    {"Strip", 0, 0, Strip},
    {"StripHtml", 0, 0, StripHtml},
    {"StripNewlines", 0, 0, StripNewlines},
    {"Truncate", 0, 2, Truncate},
    {"TruncateWords", 0, 2, TruncateWords},
    {"Upcase", 0, 0, Upcase},
    {"UrlDecode", 0, 0, UrlDecode},
    {"UrlEncode", 0, 0, UrlEncode},
};

}  // namespace

std::span<const FilterSpec> TextFilters() { return kTextFilters; }

}  // namespace credgate::policy::liquid
