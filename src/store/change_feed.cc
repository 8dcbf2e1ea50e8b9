// The notification payload of a StoreChange is one line of space-separated fields:
//
//   P <version> <kind> <key>   kResourcePut
//   D <key>                    kTreeDeleted
//   T <version> <key>          kTokensPut
//   X <key>                    kTokensDeleted
//   R                          kResync
//
// Kinds and keys are percent-encoded: every byte outside '!'..'~', and '%' itself, becomes %XX
// with upper-case hex digits, so a field never contains a space and the payload is plain ASCII
// whatever bytes the key holds. Versions are decimal.
#include "store/change_feed.h"

#include <charconv>
#include <vector>

namespace credgate::store {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

void AppendEscaped(std::string& out, std::string_view text) {
  for (unsigned char byte : text) {
    if (byte > ' ' && byte <= '~' && byte != '%') {
      out.push_back(static_cast<char>(byte));
    } else {
      out.push_back('%');
      out.push_back(kHexDigits[byte >> 4]);
      out.push_back(kHexDigits[byte & 0x0F]);
    }
  }
}

int HexValue(char digit) {
  if (digit >= '0' && digit <= '9') return digit - '0';
  if (digit >= 'A' && digit <= 'F') return digit - 'A' + 10;
  return -1;
}

Error InvalidPayload(std::string_view payload, std::string_view reason) {
  constexpr size_t kShown = 80;
  std::string shown(payload.substr(0, kShown));
  if (payload.size() > kShown) shown += "...";
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid store change notification '" + shown + "': " + std::string(reason));
}

Result<std::string> Unescape(std::string_view field, std::string_view payload) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out.push_back(field[i]);
      continue;
    }
    if (i + 2 >= field.size()) {
      return InvalidPayload(payload, "a '%' escape needs two hex digits");
    }
    int high = HexValue(field[i + 1]);
    int low = HexValue(field[i + 2]);
    if (high < 0 || low < 0) {
      return InvalidPayload(payload, "a '%' escape needs two upper-case hex digits");
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

Result<int64_t> ParseVersion(std::string_view field, std::string_view payload) {
  int64_t version = 0;
  auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), version);
  if (field.empty() || error != std::errc() || end != field.data() + field.size()) {
    return InvalidPayload(payload, "the version is not a decimal integer");
  }
  return version;
}

std::vector<std::string_view> SplitFields(std::string_view payload) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t space = payload.find(' ', start);
    if (space == std::string_view::npos) {
      fields.push_back(payload.substr(start));
      return fields;
    }
    fields.push_back(payload.substr(start, space - start));
    start = space + 1;
  }
}

// Fills the fields of `change` that its type carries.
Status ParseFields(const std::vector<std::string_view>& fields, std::string_view payload,
                   StoreChange& change) {
  auto expect_count = [&](size_t count) -> Status {
    if (fields.size() == count) return OkStatus();
    return InvalidPayload(payload, "expected " + std::to_string(count) + " fields, found " +
                                       std::to_string(fields.size()));
  };
  const std::string_view type = fields[0];
  if (type == "R") {
    change.type = StoreChange::Type::kResync;
    return expect_count(1);
  }
  if (type == "D" || type == "X") {
    change.type = type == "D" ? StoreChange::Type::kTreeDeleted : StoreChange::Type::kTokensDeleted;
    CREDGATE_RETURN_IF_ERROR(expect_count(2));
    auto key = Unescape(fields[1], payload);
    if (!key.ok()) return key.error();
    change.key = std::move(*key);
    return OkStatus();
  }
  if (type == "T") {
    change.type = StoreChange::Type::kTokensPut;
    CREDGATE_RETURN_IF_ERROR(expect_count(3));
    auto version = ParseVersion(fields[1], payload);
    if (!version.ok()) return version.error();
    auto key = Unescape(fields[2], payload);
    if (!key.ok()) return key.error();
    change.version = *version;
    change.key = std::move(*key);
    return OkStatus();
  }
  if (type == "P") {
    change.type = StoreChange::Type::kResourcePut;
    CREDGATE_RETURN_IF_ERROR(expect_count(4));
    auto version = ParseVersion(fields[1], payload);
    if (!version.ok()) return version.error();
    auto kind = Unescape(fields[2], payload);
    if (!kind.ok()) return kind.error();
    auto key = Unescape(fields[3], payload);
    if (!key.ok()) return key.error();
    change.version = *version;
    change.kind = std::move(*kind);
    change.key = std::move(*key);
    return OkStatus();
  }
  return InvalidPayload(payload, "unknown change type '" + std::string(type) + "'");
}

}  // namespace

std::string EncodeStoreChange(const StoreChange& change) {
  std::string out;
  switch (change.type) {
    case StoreChange::Type::kResourcePut:
      out = "P " + std::to_string(change.version) + " ";
      AppendEscaped(out, change.kind);
      out.push_back(' ');
      AppendEscaped(out, change.key);
      break;
    case StoreChange::Type::kTreeDeleted:
      out = "D ";
      AppendEscaped(out, change.key);
      break;
    case StoreChange::Type::kTokensPut:
      out = "T " + std::to_string(change.version) + " ";
      AppendEscaped(out, change.key);
      break;
    case StoreChange::Type::kTokensDeleted:
      out = "X ";
      AppendEscaped(out, change.key);
      break;
    case StoreChange::Type::kResync:
      out = "R";
      break;
  }
  return out;
}

Result<StoreChange> ParseStoreChange(std::string_view payload) {
  StoreChange change;
  CREDGATE_RETURN_IF_ERROR(ParseFields(SplitFields(payload), payload, change));
  // Only the canonical form is accepted (upper-case escapes, no needless escapes, no leading
  // zeros or '+'), so that one change has exactly one payload.
  if (EncodeStoreChange(change) != payload) {
    return InvalidPayload(payload, "not in the canonical form that EncodeStoreChange writes");
  }
  return change;
}

}  // namespace credgate::store
